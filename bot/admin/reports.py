"""The report page (any date range, charts, CSV and XLSX export) and the monthly report
a commune attaches to its own report."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Callable

from aiohttp import web

from bot import reports
from bot.admin.html import Html, bar_chart, h, hbar_chart, join, link, table
from bot.admin.labels import label
from bot.admin.site import ANYONE, admin_of, page, requires
from bot.content import Library
from bot.local_time import TIMEZONE, local_date, local_range, parse_local_date
from bot.storage.ratings import SCORES


def intent_labels(library: Library) -> Callable[[str], str]:
    """How officers read an intent's name (content/admin.yml)."""
    return functools.partial(label, library, "intent_labels")


def _date(raw: str, default: dt.date) -> dt.date:
    try:
        return parse_local_date(raw) if raw.strip() else default
    except ValueError:
        raise web.HTTPBadRequest(text=f"Ngày không hợp lệ: {raw!r} (dạng 23/11/2026).") from None


def _range(request: web.Request) -> tuple[dt.date, dt.date]:
    """?start=&end= (commune dates), by default the month so far."""
    today = dt.datetime.now(TIMEZONE).date()
    start = _date(request.query.get("start", ""), today.replace(day=1))
    end = _date(request.query.get("end", ""), today)
    if end < start or (end - start).days > 366:
        raise web.HTTPBadRequest(text="Khoảng ngày không hợp lệ (tối đa một năm).")
    return start, end


async def _build(request: web.Request, start: dt.date, end: dt.date) -> reports.Report:
    admin = admin_of(request)
    return await reports.build(admin.database, admin.tracker_path, start, end)


def _cards(report: reports.Report) -> Html:
    return join(
        h(
            '<div class="card"><div class="num">{value}</div>'
            '<div class="label">{label}</div></div>',
            value=value if value != "" else "–",
            label=label,
        )
        for _key, label, value in report.summary()
    )


def _charts(library: Library, report: reports.Report) -> Html:
    choices = library.ui["satisfaction_choices"]  # the words citizens tapped
    ratings = [(choices.get(s, s), report.ratings.get(s, 0)) for s in SCORES]
    feedback = [
        ("Nhận được", report.feedback_received),
        ("Đã trả lời", report.feedback_answered),
        ("Quá hạn", report.feedback_overdue),
    ]
    sends = [
        ("Thông báo hồ sơ, nhắc hẹn", report.notifications_delivered),
        ("Tin chiến dịch", report.campaign_messages_delivered),
        ("Tin cán bộ", report.officer_messages_delivered),
    ]
    return h(
        '{citizens}<div class="grid">{incoming}{outgoing}</div>'
        '<div class="grid">{intents}<div>{ratings}{feedback}{sends}</div></div>',
        citizens=bar_chart(
            "Người dân nhắn tin mỗi ngày (số cuộc hội thoại)",
            [(f"{day.day:%d/%m}", day.citizens) for day in report.days],
        ),
        incoming=bar_chart(
            "Tin nhắn người dân gửi mỗi ngày",
            [(f"{day.day:%d/%m}", day.messages_in) for day in report.days],
        ),
        outgoing=bar_chart(
            "Tin nhắn xã gửi mỗi ngày",
            [(f"{day.day:%d/%m}", day.messages_out) for day in report.days],
        ),
        intents=hbar_chart(
            "Người dân hỏi nhiều nhất",
            [(intent_labels(library)(intent), count) for intent, count in report.top_intents],
        ),
        ratings=hbar_chart("Mức độ hài lòng", ratings),
        feedback=hbar_chart("Phản ánh, kiến nghị", feedback),
        sends=hbar_chart("Tin đã gửi tới người dân", sends),
    )


@requires(*ANYONE)
async def report_page(request: web.Request) -> web.Response:
    start, end = _range(request)
    report = await _build(request, start, end)
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    body = h(
        '<form method="get" action="/admin/reports" class="card noprint">'
        '<label class="choice" for="start">Từ ngày</label>{start} '
        '<label class="choice" for="end">đến ngày</label>{end} '
        '<button type="submit">Xem</button> '
        "{csv} · {xlsx} · {monthly}</form>"
        '<div class="cards">{cards}</div>{charts}',
        start=_day_field("start", start),
        end=_day_field("end", end),
        csv=link(f"/admin/reports/export.csv?{query}", "Tải CSV"),
        xlsx=link(f"/admin/reports/export.xlsx?{query}", "Tải Excel (XLSX)"),
        monthly=link(f"/admin/reports/monthly?month={start:%Y-%m}", f"Báo cáo tháng {start:%m/%Y}"),
        cards=_cards(report),
        charts=_charts(admin_of(request).library, report),
    )
    return page(request, f"Báo cáo từ {local_date(start)} đến {local_date(end)}", body)


def _day_field(name: str, day: dt.date) -> Html:
    """A day typed as the commune writes it (a date picker would show the browser's own
    format, mm/dd/yyyy in an English browser)."""
    return h(
        '<input id="{name}" name="{name}" value="{value}" size="10" inputmode="numeric"'
        ' placeholder="dd/mm/yyyy" pattern="[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}"'
        ' title="Ngày/tháng/năm, ví dụ 23/11/2026">',
        name=name,
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
    start, end = _range(request)
    report = await _build(request, start, end)
    await admin_of(request).audit(request, "report_exported", local_range(start, end), "CSV")
    data = reports.to_csv(report, intent_labels(admin_of(request).library))
    response = _download(data, "text/csv", f"bao-cao-{start}-{end}.csv")
    response.charset = "utf-8"
    return response


@requires(*ANYONE)
async def export_xlsx(request: web.Request) -> web.Response:
    start, end = _range(request)
    report = await _build(request, start, end)
    data = await asyncio.get_running_loop().run_in_executor(
        None, reports.to_xlsx, report, intent_labels(admin_of(request).library)
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
    raw = request.query.get("month", "") or dt.datetime.now(TIMEZONE).strftime("%Y-%m")
    try:
        start = dt.date.fromisoformat(f"{raw}-01")
    except ValueError:
        raise web.HTTPBadRequest(text=f"Tháng không hợp lệ: {raw!r} (dạng 2026-11).") from None
    end = (start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    report = await _build(request, start, end)
    library = admin_of(request).library
    commune = library.locality.values.get("name", "")
    query = f"start={start.isoformat()}&end={end.isoformat()}"
    body = h(
        '<p class="noprint">{xlsx} · In trang này (Ctrl+P) để lưu PDF.</p>'
        "<p><b>{commune}</b><br>Kết quả hỗ trợ người dân qua trợ lý Zalo của xã, "
        "tháng {month}.</p>{summary}<h2>Theo ngày</h2>{days}{charts}",
        xlsx=link(f"/admin/reports/export.xlsx?{query}", "Tải Excel (XLSX)"),
        commune=commune,
        month=start.strftime("%m/%Y"),
        summary=table(["Chỉ tiêu", "Số liệu"], [[label, v] for _k, label, v in report.summary()]),
        days=table(*_split(reports.daily_rows(report))),
        charts=_charts(library, report),
    )
    return page(request, f"Báo cáo tháng {start:%m/%Y}", body)


def _split(rows: list[list[object]]) -> tuple[list[str], list[list[object]]]:
    return [str(cell) for cell in rows[0]], rows[1:]


def routes() -> list[web.RouteDef]:
    return [
        web.get("/reports", report_page),
        web.get("/reports/export.csv", export_csv),
        web.get("/reports/export.xlsx", export_xlsx),
        web.get("/reports/monthly", monthly),
    ]
