"""Security headers on every dashboard page and API answer: the pages load nothing but
their own stylesheet, run no script, and may not be framed (clickjacking) nor leak their
address (ticket numbers, search terms) to another site."""

from __future__ import annotations

from aiohttp import web

# Every page is server-rendered HTML with one stylesheet and inline SVG charts: no script,
# no inline style, no image or font from elsewhere, forms only to this service.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
PROTECTED = ("/admin", "/api/")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Set on every response under /admin and /api/, redirects and errors included."""
    if request.path.startswith(PROTECTED):
        response.headers.update(SECURITY_HEADERS)


def register(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
