"""The dossier operator's page: find a dossier by its code, see its status in words, who
follows it and whether each notification reached them; stuck and failed notifications
first. Labels come from content/ui.yml (`admin_dossiers`); no user id, hash or key shown."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.admin.html import Html, badge, h, join, link, local_time, table
from bot.admin.site import DOSSIERS, admin_of, page, requires
from bot.dossiers.model import normalise_code
from bot.storage import dossiers

LONGEST_QUERY = 60
# The badge colour of each notification state (`stuck` is a pending one past its time).
BADGE_KINDS = {"sent": "green", "stuck": "amber", "failed": "red"}


@requires(*DOSSIERS)
async def dossiers_page(request: web.Request) -> web.Response:
    library = admin_of(request).library
    words = library.ui["admin_dossiers"]
    no_data = library.admin_text("site.no_data")
    query = request.query.get("q", "").strip()[:LONGEST_QUERY]
    database = admin_of(request).database
    health = await database.run(dossiers.notification_health)
    found = await database.run(dossiers.officer_list, query)
    parts = [_counts(words, health.counts), _search(words, query)]
    if health.problems:
        parts.append(_problems(words, health.problems, no_data))
    parts.append(_list(words, query, found, no_data))
    code = normalise_code(query)
    if any(dossier["code"] == code for dossier in found):
        history = await database.run(dossiers.officer_history, code)
        parts.append(_history(words, code, history, no_data))
    return page(request, words["title"], join(parts))


def _counts(words: dict[str, Any], counts: dict[str, int]) -> Html:
    cards = [
        h(
            '<div class="card"><div class="num">{num}</div><div class="label">{label}</div></div>',
            num=badge(str(counts[name]), "red")
            if counts[name] and name != "pending"
            else counts[name],
            label=words["counts"][name],
        )
        for name in ("pending", "stuck", "failed")
    ]
    return h('<div class="cards">{cards}</div>', cards=join(cards))


def _search(words: dict[str, Any], query: str) -> Html:
    return h(
        '<form method="get" action="/admin/dossiers" class="search">'
        '<label for="q">{label}</label><input id="q" name="q" value="{query}" '
        'placeholder="{placeholder}" maxlength="{longest}" size="34"> '
        '<button type="submit">{button}</button> {all}</form>',
        label=words["search_label"],
        query=query,
        placeholder=words["search_placeholder"],
        longest=LONGEST_QUERY,
        button=words["search_button"],
        all=link("/admin/dossiers", words["show_all"]) if query else "",
    )


def _problems(words: dict[str, Any], problems: list[dict[str, Any]], no_data: str) -> Html:
    columns = words["problem_columns"]
    rows = [
        [
            _code_link(row["code"]),
            words["statuses"][row["dossier_status"]],
            _badge(words, row),
            words["attempts"].format(count=row["attempts"]),
            local_time(row["created_at"]),
            local_time(row["next_attempt_at"]) if row["status"] == "pending" else "",
        ]
        for row in problems
    ]
    return h(
        "<h2>{title}</h2><p>{help}</p>{rows}",
        title=words["problems"],
        help=words["problems_help"],
        rows=table([columns[k] for k in columns], rows, ["overdue"] * len(rows), empty=no_data),
    )


def _list(words: dict[str, Any], query: str, found: list[dict[str, Any]], no_data: str) -> Html:
    if not found:
        empty = words["not_found"].format(query=query) if query else words["empty"]
        return h('<p class="empty">{text}</p>', text=empty)
    columns = words["columns"]
    rows = [
        [
            _code_link(dossier["code"]),
            dossier["procedure"],
            dossier["applicant_masked"],
            words["statuses"][dossier["status"]],
            local_time(dossier["status_at"]),
            dossier["followers"],
            _badges(words, dossier["notifications"]),
        ]
        for dossier in found
    ]
    flagged = ["overdue" if _troubled(d["notifications"]) else "" for d in found]
    return h(
        "<h2>{title}</h2>{rows}",
        title=words["found"].format(query=query) if query else words["latest"],
        rows=table([columns[k] for k in columns], rows, flagged, empty=no_data),
    )


def _history(words: dict[str, Any], code: str, history: list[dict[str, Any]], no_data: str) -> Html:
    columns = words["history_columns"]
    rows = [
        [
            local_time(change["occurred_at"]),
            words["statuses"][change["status"]],
            _badges(words, change["notifications"]),
        ]
        for change in history
    ]
    flagged = ["overdue" if _troubled(c["notifications"]) else "" for c in history]
    return h(
        "<h2>{title}</h2>{rows}",
        title=words["history"].format(code=code),
        rows=table([columns[k] for k in columns], rows, flagged, empty=no_data),
    )


def _code_link(code: str) -> Html:
    """A code on one line (its dashes would let it break), leading to its history."""
    return h('<a href="/admin/dossiers?q={code}" class="nowrap">{code}</a>', code=code)


def _state(notification: dict[str, Any]) -> str:
    return "stuck" if dossiers.is_stuck(notification) else notification["status"]


def _troubled(notifications: list[dict[str, Any]]) -> bool:
    return any(_state(n) in ("stuck", "failed") for n in notifications)


def _badge(words: dict[str, Any], notification: dict[str, Any]) -> Html:
    state = _state(notification)
    return badge(words["notification_statuses"][state], BADGE_KINDS.get(state, ""))


def _badges(words: dict[str, Any], notifications: list[dict[str, Any]]) -> Html | str:
    if not notifications:
        return words["no_notification"]
    return join((_badge(words, n) for n in notifications), " ")


def routes() -> list[web.RouteDef]:
    return [web.get("/dossiers", dossiers_page)]
