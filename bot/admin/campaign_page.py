"""The campaigns page: every campaign file (title, on or off, next sending, errors) and
the latest runs with what happened to their messages, counted by outcome."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from aiohttp import web

from bot.admin.html import badge, h, join, table
from bot.admin.labels import label
from bot.admin.site import CONTENT, admin_of, error_box, page, requires
from bot.content import Library
from bot.local_time import TIMEZONE, local_time
from bot.scheduler.campaign_files import Campaign, load_all
from bot.storage.sql import Store, rows

RUNS_SHOWN = 30


def _runs(db: Store) -> tuple[list[dict[str, Any]], dict[int, dict[str, int]]]:
    """The latest runs, and for each the number of messages by delivery status."""
    runs = rows(db, "SELECT * FROM campaign_runs ORDER BY id DESC LIMIT ?", (RUNS_SHOWN,))
    outcomes: dict[int, dict[str, int]] = {run["id"]: {} for run in runs}
    if runs:
        counted = db.conn.execute(
            "SELECT run_id, status, COUNT(*) FROM campaign_deliveries WHERE run_id >= ?"
            " GROUP BY run_id, status",
            (runs[-1]["id"],),
        )
        for run_id, status, count in counted:
            if run_id in outcomes:
                outcomes[run_id][status] = count
    return runs, outcomes


def _campaign_rows(library: Library, campaigns: dict[str, Campaign]) -> list[list[object]]:
    now = dt.datetime.now(TIMEZONE)
    rows: list[list[object]] = []
    for campaign in sorted(campaigns.values(), key=lambda c: c.id):
        upcoming = campaign.schedule.next_runs(now, 1) if campaign.enabled else []
        rows.append(
            [
                campaign.title,
                campaign.id,
                badge(library.admin_text("campaigns.enabled"), "green")
                if campaign.enabled
                else badge(library.admin_text("campaigns.disabled")),
                local_time(upcoming[0]) if upcoming else "–",
            ]
        )
    return rows


def _outcome(library: Library, counts: dict[str, int]) -> str:
    if not counts:
        return "–"
    return " · ".join(
        f"{label(library, 'campaign_delivery_statuses', s)}: {n}" for s, n in counts.items()
    )


@requires(*CONTENT)
async def campaigns(request: web.Request) -> web.Response:
    admin = admin_of(request)
    content = admin.content
    loaded, errors = await asyncio.to_thread(load_all, content.directory, content.overlay)
    runs, outcomes = await admin.database.run(_runs)
    titles = {campaign.id: campaign.title for campaign in loaded.values()}
    text = admin.library.admin_text
    body = h(
        "{errors}{campaigns}<h2>{runs_title}</h2>{runs}",
        errors=join(error_box(text("campaigns.file_error", error=error)) for error in errors),
        campaigns=table(
            [
                text("campaigns.columns.campaign"),
                text("campaigns.columns.file"),
                text("campaigns.columns.status"),
                text("campaigns.columns.next_run"),
            ],
            _campaign_rows(admin.library, loaded),
            empty=text("site.no_data"),
        ),
        runs_title=text("campaigns.runs_title"),
        runs=table(
            [
                text("campaigns.runs.number"),
                text("campaigns.runs.campaign"),
                text("campaigns.runs.started"),
                text("campaigns.runs.finished"),
                text("campaigns.runs.status"),
                text("campaigns.runs.outcome"),
            ],
            [
                [
                    f"#{run['id']}",
                    titles.get(run["campaign_id"], run["campaign_id"]),
                    local_time(run["started_at"]),
                    local_time(run["finished_at"])
                    or (
                        text("campaigns.resumes_at", at=local_time(run["resume_at"]))
                        if run["resume_at"]
                        else ""
                    ),
                    label(admin.library, "campaign_run_statuses", run["status"]),
                    _outcome(admin.library, outcomes[run["id"]]),
                ]
                for run in runs
            ],
            empty=text("site.no_data"),
        ),
    )
    return page(request, text("campaigns.title"), body)


def routes() -> list[web.RouteDef]:
    return [web.get("/campaigns", campaigns)]
