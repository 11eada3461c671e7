"""What every dashboard page shares: the service's parts, the signed-in officer, who may
see which page, the page frame, audit entries and pushes to citizens."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NoReturn

from aiohttp import web

from bot.admin.html import STYLE, Html, h, join
from bot.content import Library, LiveContent
from bot.content.render import Reply
from bot.content.watcher import ContentWatcher
from bot.settings import Settings
from bot.storage import Database, audit, dossier_records, handover_records
from bot.storage.officer_accounts import Officer
from bot.storage.sql import Store
from bot.storage.tracker_reader import TrackerDatabase
from bot.zalo import message_shapes
from bot.zalo.sender import Sender

# Who may use each part (an admin may use everything). Each entry's name is a key of
# content/admin.yml.
FEEDBACK = ("feedback_handler",)
CONTENT = ("content_editor",)
DOSSIERS = ("dossier_operator",)
ANYONE = ("content_editor", "dossier_operator", "feedback_handler")
ADMIN_ONLY: tuple[str, ...] = ()
# Sees every commune of the deployment and the province's figures (bot/admin/commune_scope.py).
PROVINCE = "province"

NAV = (
    ("/admin/feedback", "site.menu.feedback", FEEDBACK),
    ("/admin/handovers", "site.menu.handovers", FEEDBACK),
    ("/admin/reports", "site.menu.reports", ANYONE),
    ("/admin/content", "site.menu.content", CONTENT),
    ("/admin/campaigns", "site.menu.campaigns", CONTENT),
    ("/admin/dossiers", "site.menu.dossiers", DOSSIERS),
    ("/admin/officers", "site.menu.officers", ADMIN_ONLY),
    ("/admin/audit", "site.menu.audit", ADMIN_ONLY),
    ("/admin/province", "site.menu.province", (PROVINCE,)),
)


# What waits for an officer behind a menu entry, shown as a count beside it: the count's
# explanation (a tooltip, by its key in content/admin.yml) and how it is counted.
def _new_tickets(db: Store, settings: Settings) -> int:
    return db.conn.execute(
        "SELECT COUNT(*) FROM feedback_tickets WHERE status = 'received'"
    ).fetchone()[0]


def _citizens_waiting(db: Store, settings: Settings) -> int:
    timeout = dt.timedelta(minutes=settings.handover_timeout_minutes)
    handover_records.expire_stale(db, dt.datetime.now(dt.timezone.utc), timeout)
    return db.conn.execute("SELECT COUNT(*) FROM handovers WHERE status = 'waiting'").fetchone()[0]


def _notifications_in_trouble(db: Store, settings: Settings) -> int:
    counts = dossier_records.notification_counts(db)
    return counts["stuck"] + counts["failed"]


MENU_COUNTS: dict[str, tuple[str, Callable[[Store, Settings], int]]] = {
    "/admin/feedback": ("site.counts.feedback", _new_tickets),
    "/admin/handovers": ("site.counts.handovers", _citizens_waiting),
    "/admin/dossiers": ("site.counts.dossiers", _notifications_in_trouble),
}

# Set on the request by the session middleware (auth.py).
OFFICER = "citizenbot.officer"
CSRF = "citizenbot.csrf"
COUNTS = "citizenbot.menu_counts"
HOME = "citizenbot.home_commune"  # an Admin: where the officer's account and session live
VIEWED = "citizenbot.viewed_commune"  # an Admin: the commune whose data the page shows
STYLESHEET = "/admin/style.css"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Admin:
    settings: Settings
    database: Database
    sender: Sender
    content: LiveContent
    watcher: ContentWatcher
    tracker_database: TrackerDatabase | None
    commune: str = ""  # whose data this is (bot/communes/); "" the default commune

    @property
    def library(self) -> Library:
        """The live content (its wording and the labels of content/admin.yml)."""
        return self.content.library

    async def audit(
        self, request: web.Request, action: str, target: str = "", detail: str = ""
    ) -> None:
        officer = request.get(OFFICER)
        name = officer.username if officer else "-"
        await self.database.run(audit.record, name, action, target, detail, request.remote)

    async def menu_counts(self, officer: Officer) -> dict[str, int]:
        """The counts beside the menu entries this officer may open."""
        visible = [href for href, _, roles in NAV if href in MENU_COUNTS and officer.can(*roles)]

        def count(db: Store) -> dict[str, int]:
            return {href: MENU_COUNTS[href][1](db, self.settings) for href in visible}

        return await self.database.run(count)

    async def push(self, user_id: str, replies: list[Reply], key: str) -> str:
        """Send `replies` to a citizen through the Sender; the delivery status
        ("sent", or the first that was not)."""
        statuses = []
        zalo_messages = [m for r in replies for m in message_shapes.with_buttons(r.text, r.buttons)]
        for n, message in enumerate(zalo_messages, 1):
            result = await self.sender.push(user_id, message, f"{key}:{n}")
            statuses.append(result.delivery.status)
        return next((s for s in statuses if s not in ("sent", "duplicate")), "sent")


ADMIN = web.AppKey("admin", Admin)


def admin_of(request: web.Request) -> Admin:
    """The parts of the commune the request is about (bot/admin/commune_scope.py): the
    signed-in officer's own, or the one a province officer looks at; else the default's."""
    return request.get(VIEWED) or request.config_dict[ADMIN]


def home_of(request: web.Request) -> Admin:
    """The parts of the commune where the signed-in officer's account lives."""
    return request.get(HOME) or request.config_dict[ADMIN]


def requires(*roles: str) -> Callable[[Handler], Handler]:
    """Refuse the page (403) to an officer who has none of `roles` and is not an admin."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: web.Request) -> web.StreamResponse:
            if not request[OFFICER].can(*roles):
                return await forbidden(request)
            return await handler(request)

        return checked

    return decorate


def sees_province(request: web.Request) -> bool:
    """The province role counts only for accounts of the default commune (the deployment's)."""
    officer = request.get(OFFICER)
    return officer is not None and home_of(request).commune == "" and PROVINCE in officer.roles


def may_open(request: web.Request, href: str, roles: tuple[str, ...]) -> bool:
    """Whether the signed-in officer may open a menu entry."""
    if roles == (PROVINCE,):
        return sees_province(request)
    return request[OFFICER].can(*roles)


async def forbidden(request: web.Request) -> web.Response:
    """403, recorded in the audit log of the officer's own commune."""
    await home_of(request).audit(request, "forbidden", request.path_qs)
    text = admin_of(request).library.admin_text
    body = h('<p class="error">{text}</p>', text=text("site.forbidden"))
    return page(request, text("site.forbidden_title"), body, status=403)


def page(request: web.Request, title: str, body: Html, status: int = 200) -> web.Response:
    """The frame around every page: navigation by role, who is signed in, sign-out."""
    officer = request.get(OFFICER)
    header = Html("")
    if officer is not None:
        text = admin_of(request).library.admin_text
        counts = request.get(COUNTS, {})
        links = join(
            h(
                '<a href="{href}" class="{css}">{label}{count}</a>',
                href=href,
                css="current" if request.path.startswith(href) else "",
                label=text(key),
                count=_count(
                    counts.get(href, 0), text(MENU_COUNTS[href][0]) if href in counts else ""
                ),
            )
            for href, key, roles in NAV
            if may_open(request, href, roles)
        )
        header = h(
            '<header><span class="brand">{brand}</span>{links}'
            '<span class="who">{name} <form method="post" action="/admin/logout" class="inline">'
            '<input type="hidden" name="csrf" value="{csrf}">'
            '<button type="submit" class="secondary">{logout}</button></form></span></header>',
            brand=_brand(request),
            logout=text("site.logout"),
            links=links,
            name=officer.display_name,
            csrf=request[CSRF],
        )
    document = h(
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<title>{title}</title><link rel="stylesheet" href="{style}"></head>'
        "<body>{header}<main><h1>{title}</h1>{body}</main></body></html>",
        title=title,
        style=STYLESHEET,
        header=header,
        body=body,
    )
    return web.Response(text=document, content_type="text/html", status=status)


def _brand(request: web.Request) -> str:
    """The dashboard's name; with several communes (bot/admin/commune_scope.py), followed by
    the name of the commune whose data the page shows."""
    admin = admin_of(request)
    brand = admin.library.admin_text("site.brand")
    if admin.commune or sees_province(request):
        return f"{brand} · {admin.library.locality.values.get('name', admin.commune)}"
    return brand


def _count(number: int, meaning: str) -> Html:
    """A menu entry's count, when something waits there."""
    if not number:
        return Html("")
    return h('<span class="count" title="{n} {meaning}">{n}</span>', n=number, meaning=meaning)


async def stylesheet(request: web.Request) -> web.Response:
    """The dashboard's one stylesheet (public: the sign-in page uses it too)."""
    return web.Response(
        text=STYLE, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
    )


def see_other(location: str) -> NoReturn:
    """After a POST: go to a page with GET (the browser's Back does not resubmit)."""
    raise web.HTTPSeeOther(location)


def int_param(request: web.Request, name: str) -> int:
    """A row id from the path; 404 for anything else, numbers beyond SQLite's 64-bit
    integers too (they made the query raise)."""
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise web.HTTPNotFound()
    return int(raw)


def error_box(text: str) -> Html:
    return h('<p class="error">{text}</p>', text=text)


def notice_box(text: str) -> Html:
    return h('<p class="notice">{text}</p>', text=text)
