"""The web server: the aiohttp application, its metrics, request limits and OpenAPI description."""
