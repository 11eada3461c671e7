"""The officers' dashboard under /admin: server-rendered pages for feedback, handovers,
reports, content status, campaigns, dossiers, accounts and the audit log."""

from __future__ import annotations

from aiohttp import web

from bot.admin import (
    account_page,
    auth,
    campaign_page,
    dossier_page,
    feedback_page,
    handover_page,
    province_page,
    report_page,
    security_headers,
    status_page,
)
from bot.admin.site import ADMIN, FEEDBACK, OFFICER, STYLESHEET, Admin, stylesheet
from bot.content.watcher import ContentWatcher
from bot.services import Services
from bot.storage.tracker_reader import TrackerDatabase


async def home(request: web.Request) -> web.Response:
    """Feedback handlers start at their queue, everyone else at the reports."""
    target = "/admin/feedback" if request[OFFICER].can(*FEEDBACK) else "/admin/reports"
    raise web.HTTPSeeOther(target)


def register(
    app: web.Application,
    services: Services,
    watcher: ContentWatcher,
    tracker_database: TrackerDatabase | None,
) -> None:
    """Add the dashboard's routes under /admin (every page but sign-in and the stylesheet
    needs a session) and the security headers on its answers. Other communes' officers use
    the same dashboard, each seeing only their own commune (bot/admin/commune_scope.py)."""
    assert services.sender is not None, "the dashboard sends officers' answers"
    app[ADMIN] = Admin(
        services.settings,
        services.database,
        services.sender,
        services.content,
        watcher,
        tracker_database,
    )
    security_headers.register(app)
    app.router.add_get(STYLESHEET, stylesheet)
    app.router.add_get(auth.LOGIN_PATH, auth.login_page)
    app.router.add_post(auth.LOGIN_PATH, auth.login)
    pages = [web.post("/logout", auth.logout), web.get("/", home), web.get("", home)]
    for module in (
        feedback_page,
        handover_page,
        report_page,
        status_page,
        dossier_page,
        campaign_page,
        account_page,
        province_page,
    ):
        pages.extend(module.routes())
    for route in pages:
        app.router.add_route(route.method, "/admin" + route.path, auth.signed_in(route.handler))
