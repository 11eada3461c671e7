"""The province's report: each commune's headline figures and their sum, for officers of the
default commune with the `province` role (bot/admin/commune_scope.py)."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.admin import commune_scope, report_figures
from bot.admin.html import h, link, table
from bot.admin.report_page import date_range
from bot.admin.site import Admin, forbidden, home_of, page, sees_province
from bot.local_time import local_date


async def _report(admin: Admin, start: dt.date, end: dt.date) -> report_figures.Report:
    return await report_figures.build(
        admin.database, admin.tracker_database, start, end, commune=admin.commune
    )


async def province_page(request: web.Request) -> web.StreamResponse:
    if not sees_province(request):
        return await forbidden(request)
    start, end = date_range(request)
    default = home_of(request)
    communes = [default]
    for slug in commune_scope.communes_of(request):
        if (admin := await commune_scope.admin_for(request, slug)) is not None:
            communes.append(admin)
    reports = [await _report(admin, start, end) for admin in communes]
    total = report_figures.combined(reports, start, end)
    text = default.library.admin_text
    keys = [key for key, _ in total.summary()]
    rows = [
        [
            link(f"/admin/reports?commune={admin.commune}", admin.library.locality.values["name"]),
            *(value for _, value in report.summary()),
        ]
        for admin, report in zip(communes, reports, strict=True)
    ]
    rows.append([text("province.total"), *(value for _, value in total.summary())])
    body = h(
        "<p>{intro}</p>{table}",
        intro=text("province.intro", communes=len(communes)),
        table=table(
            [text("province.commune"), *(text(key) for key in keys)],
            rows,
            empty=text("site.no_data"),
        ),
    )
    title = text("province.title", start=local_date(start), end=local_date(end))
    await default.audit(request, "province_report", f"{start}..{end}")
    return page(request, title, body)


def routes() -> list[web.RouteDef]:
    return [web.get("/province", province_page)]
