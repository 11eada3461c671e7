"""Read-only page: the live content (last reload, errors, sample data left). Dossiers and
campaigns have their own pages (dossiers.py, campaigns.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.admin.html import h, local_time, table
from bot.admin.site import CONTENT, admin_of, page, requires
from bot.content.content_model import Locality
from bot.local_time import local_date


def holds_sample_data(locality: Locality) -> bool:
    """content/locality.yml is still the shipped sample: its `sample: true` marker is
    there, or its hotline has no digit but 0 (the sample's "0000 000 000")."""
    marked = locality.values.get("sample", "").lower() == "true"
    digits = "".join(c for c in locality.values.get("hotline", "") if c.isdigit())
    return marked or not digits.strip("0")


@requires(*CONTENT)
async def content_status(request: web.Request) -> web.Response:
    admin = admin_of(request)
    status, library = admin.watcher.status, admin.library
    text = library.admin_text
    facts = [
        [text("status.loaded_at"), local_time(status.loaded_at)],
        [text("status.loads"), status.loads],
        [text("status.guides"), status.guides],
        [
            text("status.last_error"),
            text("status.error_at", error=status.last_error, at=local_time(status.last_error_at))
            if status.last_error
            else text("status.no_error"),
        ],
        [
            text("status.retrain"),
            text("status.retrain_needed") if status.retrain_needed else text("status.no_retrain"),
        ],
    ]
    guides = sorted(library.guides.values(), key=lambda g: g.last_reviewed)
    body = h(
        "{sample}{error}{facts}<h2>{guides_title}</h2>{guides}",
        sample=h('<p class="warning">{w}</p>', w=text("status.sample_warning"))
        if holds_sample_data(library.locality)
        else "",
        error=h('<p class="error">{e}</p>', e=status.last_error) if status.last_error else "",
        facts=table(["", ""], facts, empty=text("site.no_data")),
        guides_title=text("status.guides_title"),
        guides=table(
            [
                text("status.columns.guide"),
                text("status.columns.file"),
                text("status.columns.reviewed"),
                text("status.columns.steps"),
                text("status.columns.faqs"),
            ],
            [
                [
                    g.title,
                    Path(g.source_file).name,
                    local_date(g.last_reviewed),
                    len(g.steps),
                    len(g.faqs),
                ]
                for g in guides
            ],
            empty=text("site.no_data"),
        ),
    )
    return page(request, text("status.title"), body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/content", content_status),
    ]
