"""The report page (any date range, charts, CSV and XLSX export) and the monthly report
a commune attaches to its own report."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable

from aiohttp import web

from bot.admin import report_figures
from bot.admin.html import Html, bar_chart, h, hbar_chart, join, link, table
from bot.admin.labels import label
from bot.admin.site import ANYONE, admin_of, page, requires
from bot.content import Library
from bot.local_time import TIMEZONE, local_date, local_range, parse_local_date
from bot.storage.ratings import SCORES


def intent_labels(library: Library) -> Callable[[str], str]:
    """How officers read an intent's name (content/admin.yml)."""
    return functools.partial(label, library, "intent_labels")


def _date(raw: str, default: dt.date, text: Callable[..., str]) -> dt.date:
    try:
        return parse_local_date(raw) if raw.strip() else default
    except ValueError:
        raise web.HTTPBadRequest(text=text("reports.bad_date", raw=repr(raw))) from None


def date_range(request: web.Request) -> tuple[dt.date, dt.date]:
    """?start=&end= (commune dates), by default the month so far."""
    text = admin_of(request).library.admin_text
    today = dt.datetime.now(TIMEZONE).date()
    start = _date(request.query.get("start", ""), today.replace(day=1), text)
    end = _date(request.query.get("end", ""), today, text)
    if end < start or (end - start).days > 366:
        raise web.HTTPBadRequest(text=text("reports.bad_range"))
    return start, end


async def _build(request: web.Request, start: dt.date, end: dt.date) -> report_figures.Report:
    admin = admin_of(request)
    return await report_figures.build(
        admin.database, admin.tracker_database, start, end, commune=admin.commune
    )


def _cards(library: Library, report: report_figures.Report) -> Html:
    return join(
        h(
            '<div class="card"><div class="num">{value}</div>'
            '<div class="label">{label}</div></div>',
            value=value if value != "" else "–",
            label=library.admin_text(key),
        )
        for key, value in report.summary()
    )


def _charts(library: Library, report: report_figures.Report) -> Html:
    text = library.admin_text
    no_data = text("site.no_data")
    choices = library.ui["satisfaction_choices"]  # the words citizens tapped
    ratings = [(choices.get(s, s), report.ratings.get(s, 0)) for s in SCORES]
    feedback = [
        (text("reports.feedback.received"), report.feedback_received),
        (text("reports.feedback.answered"), report.feedback_answered),
        (text("reports.feedback.overdue"), report.feedback_overdue),
    ]
    sends = [
        (text("reports.sends.notifications"), report.notifications_delivered),
        (text("reports.sends.campaign_messages"), report.campaign_messages_delivered),
        (text("reports.sends.officer_messages"), report.officer_messages_delivered),
    ]
    return h(
        '{citizens}<div class="grid">{incoming}{outgoing}</div>'
        '<div class="grid">{intents}<div>{ratings}{feedback}{sends}</div></div>',
        citizens=bar_chart(
            text("reports.charts.citizens"),
            [(f"{day.day:%d/%m}", day.citizens) for day in report.days],
        ),
        incoming=bar_chart(
            text("reports.charts.incoming"),
            [(f"{day.day:%d/%m}", day.messages_in) for day in report.days],
        ),
        outgoing=bar_chart(
            text("reports.charts.outgoing"),
            [(f"{day.day:%d/%m}", day.messages_out) for day in report.days],
        ),
        intents=hbar_chart(
            text("reports.charts.intents"),
            [(intent_labels(library)(intent), count) for intent, count in report.top_intents],
            empty=no_data,
        ),
        ratings=hbar_chart(text("reports.charts.ratings"), ratings, empty=no_data),
        feedback=hbar_chart(text("reports.charts.feedback"), feedback, empty=no_data),
        sends=hbar_chart(text("reports.charts.sends"), sends, empty=no_data),
    )


@requires(*ANYONE)
async def report_page(request: web.Request) -> web.Response:
    start, end = date_range(request)
    report = await _build(request, start, end)
    library = admin_of(request).library
    text = library.admin_text
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    body = h(
        '<form method="get" action="/admin/reports" class="card noprint">'
        '<label class="choice" for="start">{from_day}</label>{start} '
        '<label class="choice" for="end">{to_day}</label>{end} '
        '<button type="submit">{show}</button> '
        "{csv} · {xlsx} · {monthly}</form>"
        '<div class="cards">{cards}</div>{charts}',
        from_day=text("reports.from_day"),
        to_day=text("reports.to_day"),
        show=text("reports.show"),
        start=_day_field("start", start, text),
        end=_day_field("end", end, text),
        csv=link(f"/admin/reports/export.csv?{query}", text("reports.download_csv")),
        xlsx=link(f"/admin/reports/export.xlsx?{query}", text("reports.download_xlsx")),
        monthly=link(
            f"/admin/reports/monthly?month={start:%Y-%m}",
            text("reports.monthly_title", month=f"{start:%m/%Y}"),
        ),
        cards=_cards(library, report),
        charts=_charts(library, report),
    )
    title = text("reports.title", start=local_date(start), end=local_date(end))
    return page(request, title, body)


def _day_field(name: str, day: dt.date, text: Callable[..., str]) -> Html:
    """A day typed as the commune writes it (a date picker would show the browser's own
    format, mm/dd/yyyy in an English browser)."""
    return h(
        '<input id="{name}" name="{name}" value="{value}" size="10" inputmode="numeric"'
        ' placeholder="dd/mm/yyyy" pattern="[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}"'
        ' title="{hint}">',
        name=name,
        hint=text("reports.day_hint"),
        value=local_date(day),
    )


def _download(data: bytes, content_type: str, filename: str) -> web.Response:
    return web.Response(
        body=data,
        content_type=content_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@requires(*ANYONE)
async def export_csv(request: web.Request) -> web.Response:
    start, end = date_range(request)
    report = await _build(request, start, end)
    await admin_of(request).audit(request, "report_exported", local_range(start, end), "CSV")
    library = admin_of(request).library
    data = report_figures.to_csv(report, library.admin_text, intent_labels(library))
    response = _download(data, "text/csv", f"bao-cao-{start}-{end}.csv")
    response.charset = "utf-8"
    return response


@requires(*ANYONE)
async def export_xlsx(request: web.Request) -> web.Response:
    start, end = date_range(request)
    report = await _build(request, start, end)
    library = admin_of(request).library
    data = await asyncio.get_running_loop().run_in_executor(
        None, report_figures.to_xlsx, report, library.admin_text, intent_labels(library)
    )
    await admin_of(request).audit(request, "report_exported", local_range(start, end), "XLSX")
    return _download(
        data,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"bao-cao-{start}-{end}.xlsx",
    )


@requires(*ANYONE)
async def monthly(request: web.Request) -> web.Response:
    """One month, laid out to print (or save as PDF) and attach to the commune's report."""
    library = admin_of(request).library
    text = library.admin_text
    raw = request.query.get("month", "") or dt.datetime.now(TIMEZONE).strftime("%Y-%m")
    try:
        start = dt.date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise web.HTTPBadRequest(text=text("reports.bad_month", raw=repr(raw))) from None
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    report = await _build(request, start, end)
    commune = library.locality.values.get("name", "")
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    body = h(
        '<p class="noprint">{xlsx} · {print_hint}</p>'
        "<p><b>{commune}</b><br>{intro}</p>{summary}<h2>{by_day}</h2>{days}{charts}",
        xlsx=link(f"/admin/reports/export.xlsx?{query}", text("reports.download_xlsx")),
        print_hint=text("reports.print_hint"),
        commune=commune,
        intro=text("reports.monthly_intro", month=start.strftime("%m/%Y")),
        by_day=text("reports.by_day"),
        summary=table(
            [text("reports.columns.figure"), text("reports.columns.value")],
            [[text(key), value] for key, value in report.summary()],
            empty=text("site.no_data"),
        ),
        days=table(*_split(report_figures.daily_rows(report, text)), empty=text("site.no_data")),
        charts=_charts(library, report),
    )
    return page(request, text("reports.monthly_title", month=f"{start:%m/%Y}"), body)


def _split(rows: list[list[object]]) -> tuple[list[str], list[list[object]]]:
    return [str(cell) for cell in rows[0]], rows[1:]


def routes() -> list[web.RouteDef]:
    return [
        web.get("/reports", report_page),
        web.get("/reports/export.csv", export_csv),
        web.get("/reports/export.xlsx", export_xlsx),
        web.get("/reports/monthly", monthly),
    ]
