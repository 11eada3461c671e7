"""Test support for the officers' dashboard: accounts, a signed-in browser-like client, and
a citizen who files a feedback ticket through the chat."""

from __future__ import annotations

import re

import aiohttp

from bot.storage import feedback_records, officer_accounts
from tests.conftest import Service

PASSWORD = "mat-khau-du-dai"
# Every page an officer opens (with the first ticket and the first handover).
PAGES = (
    "/admin/feedback",
    "/admin/feedback/1",
    "/admin/handovers",
    "/admin/handovers/1",
    "/admin/reports",
    "/admin/reports/monthly",
    "/admin/content",
    "/admin/campaigns",
    "/admin/dossiers",
    "/admin/officers",
    "/admin/audit",
)
_HASH = officer_accounts.hash_password(PASSWORD)  # once: scrypt is slow on purpose
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


async def add_officer(service: Service, username: str, *roles: str) -> None:
    await service.database.run(
        officer_accounts.create, username, username.title(), _HASH, list(roles)
    )


class OfficerClient:
    """Speaks to /admin as a browser does: cookies, forms, CSRF tokens from the pages."""

    def __init__(self, service: Service) -> None:
        self.url = service.url
        # unsafe: keep cookies for an IP-address host (the loopback test server)
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.http.get(self.url + path) as resp:
            text = await resp.text()
            if found := CSRF_FIELD.search(text):
                self.csrf = found.group(1)
            return resp.status, text

    async def post(self, path: str, data: dict, csrf: str | None = None) -> tuple[int, str]:
        form = {"csrf": self.csrf if csrf is None else csrf, **data}
        async with self.http.post(self.url + path, data=form) as resp:
            text = await resp.text()
            if found := CSRF_FIELD.search(text):
                self.csrf = found.group(1)
            return resp.status, text

    async def login(self, username: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/admin/login")
        return await self.post("/admin/login", {"username": username, "password": password})

    async def close(self) -> None:
        await self.http.close()


async def file_ticket(service: Service, user_id: str, description: str) -> dict:
    """A citizen sends feedback through the chat form; the ticket as stored."""
    for text in ("/give_feedback", "Thái độ cán bộ", description, "Không có ảnh"):
        await service.say(user_id, text)
        await service.settle()
    [ticket] = [
        t for t in await service.database.run(feedback_records.queue) if t["user_id"] == user_id
    ]
    return ticket
