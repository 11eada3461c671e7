"""The dossier operator's page: find a dossier by its code, see its status in words, who
follows it and whether each notification reached them; stuck and failed notifications
first. Wording comes from content/admin.yml (`dossiers`, `dossier_statuses`,
`dossier_notification_statuses`); no user id, hash or key shown."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.admin.html import Html, badge, h, join, link, local_time, table
from bot.admin.labels import label
from bot.admin.site import DOSSIERS, admin_of, page, requires
from bot.content import Library
from bot.dossiers.dossier_model import normalise_code
from bot.storage import dossier_records

LONGEST_QUERY = 60
# The badge colour of each notification state (`stuck` is a pending one past its time).
BADGE_KINDS = {"sent": "green", "stuck": "amber", "failed": "red"}


@requires(*DOSSIERS)
async def dossiers_page(request: web.Request) -> web.Response:
    library = admin_of(request).library
    query = request.query.get("q", "").strip()[:LONGEST_QUERY]
    database = admin_of(request).database
    health = await database.run(dossier_records.notification_health)
    found = await database.run(dossier_records.officer_list, query)
    parts = [_counts(library, health.counts), _search(library, query)]
    if health.problems:
        parts.append(_problems(library, health.problems))
    parts.append(_list(library, query, found))
    code = normalise_code(query)
    if any(dossier["code"] == code for dossier in found):
        history = await database.run(dossier_records.officer_history, code)
        parts.append(_history(library, code, history))
    return page(request, library.admin_text("dossiers.title"), join(parts))


def _counts(library: Library, counts: dict[str, int]) -> Html:
    cards = [
        h(
            '<div class="card"><div class="num">{num}</div><div class="label">{label}</div></div>',
            num=badge(str(counts[name]), "red")
            if counts[name] and name != "pending"
            else counts[name],
            label=library.admin_text(key),
        )
        for name, key in (
            ("pending", "dossiers.counts.pending"),
            ("stuck", "dossiers.counts.stuck"),
            ("failed", "dossiers.counts.failed"),
        )
    ]
    return h('<div class="cards">{cards}</div>', cards=join(cards))


def _search(library: Library, query: str) -> Html:
    text = library.admin_text
    return h(
        '<form method="get" action="/admin/dossiers" class="search">'
        '<label for="q">{label}</label><input id="q" name="q" value="{query}" '
        'placeholder="{placeholder}" maxlength="{longest}" size="34"> '
        '<button type="submit">{button}</button> {all}</form>',
        label=text("dossiers.search_label"),
        query=query,
        placeholder=text("dossiers.search_placeholder"),
        longest=LONGEST_QUERY,
        button=text("dossiers.search_button"),
        all=link("/admin/dossiers", text("dossiers.show_all")) if query else "",
    )


def _problems(library: Library, problems: list[dict[str, Any]]) -> Html:
    text = library.admin_text
    rows = [
        [
            _code_link(row["code"]),
            label(library, "dossier_statuses", row["dossier_status"]),
            _badge(library, row),
            text("dossiers.attempts", count=row["attempts"]),
            local_time(row["created_at"]),
            local_time(row["next_attempt_at"]) if row["status"] == "pending" else "",
        ]
        for row in problems
    ]
    columns = [
        text("dossiers.problem_columns.code"),
        text("dossiers.problem_columns.status"),
        text("dossiers.problem_columns.notification"),
        text("dossiers.problem_columns.attempts"),
        text("dossiers.problem_columns.created_at"),
        text("dossiers.problem_columns.next_attempt_at"),
    ]
    return h(
        "<h2>{title}</h2><p>{help}</p>{rows}",
        title=text("dossiers.problems"),
        help=text("dossiers.problems_help"),
        rows=table(columns, rows, ["overdue"] * len(rows), empty=text("site.no_data")),
    )


def _list(library: Library, query: str, found: list[dict[str, Any]]) -> Html:
    text = library.admin_text
    if not found:
        empty = text("dossiers.not_found", query=query) if query else text("dossiers.empty")
        return h('<p class="empty">{text}</p>', text=empty)
    rows = [
        [
            _code_link(dossier["code"]),
            dossier["procedure"],
            dossier["applicant_masked"],
            label(library, "dossier_statuses", dossier["status"]),
            local_time(dossier["status_at"]),
            dossier["followers"],
            _badges(library, dossier["notifications"]),
        ]
        for dossier in found
    ]
    columns = [
        text("dossiers.columns.code"),
        text("dossiers.columns.procedure"),
        text("dossiers.columns.applicant"),
        text("dossiers.columns.status"),
        text("dossiers.columns.status_at"),
        text("dossiers.columns.followers"),
        text("dossiers.columns.notifications"),
    ]
    flagged = ["overdue" if _troubled(d["notifications"]) else "" for d in found]
    return h(
        "<h2>{title}</h2>{rows}",
        title=text("dossiers.found", query=query) if query else text("dossiers.latest"),
        rows=table(columns, rows, flagged, empty=text("site.no_data")),
    )


def _history(library: Library, code: str, history: list[dict[str, Any]]) -> Html:
    text = library.admin_text
    rows = [
        [
            local_time(change["occurred_at"]),
            label(library, "dossier_statuses", change["status"]),
            _badges(library, change["notifications"]),
        ]
        for change in history
    ]
    columns = [
        text("dossiers.history_columns.occurred_at"),
        text("dossiers.history_columns.status"),
        text("dossiers.history_columns.notifications"),
    ]
    flagged = ["overdue" if _troubled(c["notifications"]) else "" for c in history]
    return h(
        "<h2>{title}</h2>{rows}",
        title=text("dossiers.history", code=code),
        rows=table(columns, rows, flagged, empty=text("site.no_data")),
    )


def _code_link(code: str) -> Html:
    """A code on one line (its dashes would let it break), leading to its history."""
    return h('<a href="/admin/dossiers?q={code}" class="nowrap">{code}</a>', code=code)


def _state(notification: dict[str, Any]) -> str:
    return "stuck" if dossier_records.is_stuck(notification) else notification["status"]


def _troubled(notifications: list[dict[str, Any]]) -> bool:
    return any(_state(n) in ("stuck", "failed") for n in notifications)


def _badge(library: Library, notification: dict[str, Any]) -> Html:
    state = _state(notification)
    shown = label(library, "dossier_notification_statuses", state)
    return badge(shown, BADGE_KINDS.get(state, ""))


def _badges(library: Library, notifications: list[dict[str, Any]]) -> Html | str:
    if not notifications:
        return library.admin_text("dossiers.no_notification")
    return join((_badge(library, n) for n in notifications), " ")


def routes() -> list[web.RouteDef]:
    return [web.get("/dossiers", dossiers_page)]
