"""Which commune's data a dashboard request may see (bot/communes/).

A commune's officers have their accounts in the commune's own database and sign in as
`<commune>/<username>`; their session cookie names the commune, and every page they open is
built from that commune's parts only, so they cannot reach another commune's data: asking for
one (`?commune=…`) is refused with 403. An officer of the default commune with the `province`
role may look at any commune (`?commune=<slug>`, remembered in a cookie; `?commune=` goes back)
and at the province's figures (bot/admin/province_page.py).
"""

from __future__ import annotations

from aiohttp import web

from bot.admin.site import ADMIN, PROVINCE, Admin
from bot.communes.commune_config import CommuneError
from bot.communes.registry import COMMUNES
from bot.content import ContentError
from bot.storage.officer_accounts import Officer

VIEW_COOKIE = "citizenbot_commune"
QUERY = "commune"
SEPARATOR = "/"  # in `<commune>/<username>` and in the session cookie; never in a username


def split(value: str) -> tuple[str, str]:
    """`xa-a/hoa` → ("xa-a", "hoa"); a name or token of the default commune → ("", it)."""
    commune, separator, rest = value.partition(SEPARATOR)
    return (commune, rest) if separator else ("", value)


def session_cookie(commune: str, token: str) -> str:
    return f"{commune}{SEPARATOR}{token}" if commune else token


async def admin_for(request: web.Request, commune: str) -> Admin | None:
    """The dashboard's parts for `commune` ("" the default); None when it is not served."""
    default = request.config_dict[ADMIN]
    if not commune:
        return default
    communes = request.config_dict.get(COMMUNES)
    if communes is None:
        return None
    try:
        opened = await communes.open(commune)
    except (CommuneError, ContentError):
        return None
    services = opened.services
    return Admin(
        services.settings,
        services.database,
        opened.sender,
        services.content,
        opened.watcher,
        default.tracker_database,
        commune,
    )


def communes_of(request: web.Request) -> list[str]:
    """The communes served besides the default."""
    communes = request.config_dict.get(COMMUNES)
    return communes.slugs if communes is not None else []


async def viewed(request: web.Request, officer: Officer, home: Admin) -> Admin | None:
    """The commune the page is about: the officer's own unless a province officer (see
    site.sees_province) asks for another; None when the officer may not see the commune
    asked for (or it is unknown)."""
    province = home.commune == "" and PROVINCE in officer.roles
    asked = request.query.get(QUERY)
    if asked is None and province:
        asked = request.cookies.get(VIEW_COOKIE)
    if asked is None or asked == home.commune:
        return home
    if not province:
        return None
    return await admin_for(request, asked)


def remember_view(request: web.Request, response: web.StreamResponse) -> None:
    """A province officer's `?commune=` holds for the next pages too."""
    asked = request.query.get(QUERY)
    if asked is None:
        return
    if asked:
        response.set_cookie(VIEW_COOKIE, asked, path="/admin", httponly=True, samesite="Strict")
    else:
        response.del_cookie(VIEW_COOKIE, path="/admin")
