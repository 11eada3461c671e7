"""Per-client-address limits on the dossier API (/api/) and the dashboard (/admin): 429 with
Retry-After beyond them.

Two limits per area: all requests (generous: the one-stop system pushes hundreds of
updates a second), and failed authentications, a wrong bearer token or a wrong password
(an answer 401), which are few for anyone but a guesser. Once the failures are used up,
every request from that address is refused until the window has passed, the right token
included, so guessing gains nothing by mixing in good requests.

With CITIZENBOT_REDIS_URL the counts are shared by every service process behind the load
balancer (bot/conversation/rate_limit.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.admin.site import admin_of, error_box, page
from bot.conversation.rate_limit import RateLimit, SharedRateLimit, Verdict, rate_limit
from bot.settings import Settings

log = logging.getLogger(__name__)

AREAS = ("api", "admin")


def area_of(path: str) -> str | None:
    if path.startswith("/api/"):
        return "api"
    if path == "/admin" or path.startswith("/admin/"):
        return "admin"
    return None


def client_address(request: web.Request, trusted_proxies: frozenset[str]) -> str:
    """The peer's address, or behind a trusted reverse proxy the nearest address in
    X-Forwarded-For that is not one of those proxies (the rest could be forged)."""
    remote = request.remote or "-"
    if remote not in trusted_proxies:
        return remote
    hops = [
        hop.strip()
        for value in request.headers.getall("X-Forwarded-For", [])
        for hop in value.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return remote


@dataclass
class AreaLimits:
    requests: RateLimit | SharedRateLimit
    auth_failures: RateLimit | SharedRateLimit


class RequestLimits:
    def __init__(self, settings: Settings) -> None:
        def limit(rate: tuple[int, float], name: str) -> RateLimit | SharedRateLimit:
            return rate_limit(rate, settings.redis_url, name)

        self.areas = {
            area: AreaLimits(
                limit(requests, f"{area}-requests"),
                limit(settings.auth_failure_limit, f"{area}-auth-failures"),
            )
            for area, requests in (
                ("api", settings.api_request_limit),
                ("admin", settings.admin_request_limit),
            )
        }
        self._trusted = frozenset(settings.trusted_proxies)

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Tests move time forward without sleeping (in-memory limits)."""
        for limits in self.areas.values():
            limits.requests.clock = limits.auth_failures.clock = clock

    def register(self, app: web.Application) -> None:
        app.middlewares.append(self.middleware)
        app.on_cleanup.append(lambda _app: self.close())

    async def close(self) -> None:
        """Close the connections of limits shared in Redis."""
        for limits in self.areas.values():
            for shared in (limits.requests, limits.auth_failures):
                if isinstance(shared, SharedRateLimit):
                    await shared.close()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        area = area_of(request.path)
        if area is None:
            return await handler(request)
        limits = self.areas[area]
        client = client_address(request, self._trusted)
        verdict = await limits.auth_failures.check(client)
        if not verdict.allowed:
            return self._refuse(request, area, client, verdict, "auth_failures")
        verdict = await limits.requests.hit(client)
        if not verdict.allowed:
            return self._refuse(request, area, client, verdict, "requests")
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 401:
                await limits.auth_failures.charge(client)
            raise
        if response.status == 401:
            await limits.auth_failures.charge(client)
        return response

    def _refuse(
        self, request: web.Request, area: str, client: str, verdict: Verdict, reason: str
    ) -> web.Response:
        seconds = verdict.retry_after_seconds
        if verdict.first_refusal:  # one line per address and window, not one per request
            log.warning(
                "%s: too many %s from %s; answering 429 for about %d s",
                area,
                "failed authentications" if reason == "auth_failures" else "requests",
                client,
                seconds,
            )
        headers = {"Retry-After": str(seconds)}
        if area == "api":
            what = (
                "too many requests with a wrong bearer token"
                if reason == "auth_failures"
                else "too many requests"
            )
            return web.json_response(
                {
                    "error": f"{what} from this address; retry after {seconds} s",
                    "retry_after": seconds,
                },
                status=429,
                headers=headers,
            )
        text = admin_of(request).library.admin_text
        key = (
            "limits.too_many_failed_logins"
            if reason == "auth_failures"
            else "limits.too_many_requests"
        )
        body = error_box(text(key, seconds=seconds))
        response = page(request, text("limits.title"), body, status=429)
        response.headers.update(headers)
        return response
