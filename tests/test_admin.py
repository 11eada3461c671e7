"""The officers' dashboard: sign-in, roles, CSRF, lockout, audit log, pages and exports."""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import html
import io
import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

from bot.admin import report_figures, status_page
from bot.content.admin_texts import TEXTS as ADMIN_TEXTS
from bot.content.content_model import Locality
from bot.content.loader import load_library
from bot.dossiers.dossier_model import parse_update
from bot.local_time import TIMEZONE
from bot.storage import audit, campaign_records, dossier_records, feedback_records, ratings
from bot.storage.secret import load_or_create
from tests.conftest import PROJECT, Service, texts
from tests.dashboard import PAGES, PASSWORD, OfficerClient, add_officer, file_ticket

DESCRIPTION = "Cổng dịch vụ công báo lỗi khi tôi nộp hồ sơ đăng ký tạm trú tối qua."


async def _audit_actions(service: Service) -> list[tuple[str, str]]:
    entries = await service.database.run(audit.recent)
    return [(e["officer"], e["action"]) for e in reversed(entries)]


async def test_pages_need_a_session_and_send_the_officer_to_sign_in(service: Service) -> None:
    async with service.http.get(f"{service.url}/admin/feedback", allow_redirects=False) as resp:
        assert resp.status == 303
        assert resp.headers["Location"].startswith("/admin/login?next=")


async def test_signing_in_opens_the_officers_first_page_and_is_audited(service: Service) -> None:
    await add_officer(service, "phananh", "feedback_handler")
    officer = OfficerClient(service)
    status, page = await officer.login("phananh")
    await officer.close()
    assert status == 200 and "Phản ánh, kiến nghị" in page and "Đăng xuất" in page
    assert ("phananh", "login") in await _audit_actions(service)


async def test_session_cookie_is_httponly_and_samesite_strict(service: Service) -> None:
    await add_officer(service, "cookie", "feedback_handler")
    officer = OfficerClient(service)
    await officer.get("/admin/login")
    form = {"csrf": officer.csrf, "username": "cookie", "password": PASSWORD}
    async with officer.http.post(
        f"{service.url}/admin/login", data=form, allow_redirects=False
    ) as resp:
        cookie = resp.cookies["citizenbot_officer"]
    await officer.close()
    assert cookie["httponly"] and cookie["samesite"] == "Strict"


async def test_a_content_editor_cannot_answer_tickets(service: Service) -> None:
    ticket = await file_ticket(service, "u-role", DESCRIPTION)
    before = len(await service.messages("u-role"))
    await add_officer(service, "bientap", "content_editor")
    editor = OfficerClient(service)
    await editor.login("bientap")
    assert (await editor.get("/admin/content"))[0] == 200
    assert (await editor.get(f"/admin/feedback/{ticket['id']}"))[0] == 403
    status, page = await editor.post(
        f"/admin/feedback/{ticket['id']}/answer", {"answer": "Không được gửi."}
    )
    await editor.close()
    assert status == 403 and "không có quyền" in page
    assert (await service.database.run(feedback_records.get, ticket["id"]))["status"] == "received"
    assert len(await service.messages("u-role")) == before
    assert ("bientap", "forbidden") in await _audit_actions(service)


async def test_a_post_without_the_sessions_csrf_token_is_rejected(service: Service) -> None:
    ticket = await file_ticket(service, "u-csrf", DESCRIPTION)
    await add_officer(service, "xuly", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("xuly")
    path = f"/admin/feedback/{ticket['id']}/answer"
    forged, _ = await officer.post(path, {"answer": "Giả mạo."}, csrf="not-the-token")
    missing, _ = await officer.post(path, {"answer": "Giả mạo."}, csrf="")
    await officer.close()
    assert (forged, missing) == (403, 403)
    assert (await service.database.run(feedback_records.get, ticket["id"]))["status"] == "received"
    assert (await _audit_actions(service)).count(("xuly", "csrf_rejected")) == 2


async def test_sign_in_without_the_forms_csrf_token_is_rejected(service: Service) -> None:
    await add_officer(service, "nocsrf", "admin")
    form = {"username": "nocsrf", "password": PASSWORD, "csrf": "guess"}
    async with service.http.post(f"{service.url}/admin/login", data=form) as resp:
        assert resp.status == 403


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(
    service: Service,
) -> None:
    await add_officer(service, "quen", "feedback_handler")
    officer = OfficerClient(service)
    for _ in range(5):
        status, page = await officer.login("quen", "sai-mat-khau-roi")
        assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu" in page
    status, page = await officer.login("quen")
    await officer.close()
    assert status == 401 and "tạm khoá" in page
    actions = await _audit_actions(service)
    assert actions.count(("quen", "login_failed")) == 5
    assert ("quen", "account_locked") in actions and ("quen", "login_refused_locked") in actions
    assert ("quen", "login") not in actions


async def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(service: Service) -> None:
    officer = OfficerClient(service)
    status, page = await officer.login("khong-co-ai")
    await officer.close()
    assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu" in page


async def test_every_officer_action_is_in_the_audit_log(service: Service) -> None:
    ticket = await file_ticket(service, "u-audit", DESCRIPTION)
    await add_officer(service, "ghilog", "admin")
    officer = OfficerClient(service)
    await officer.login("ghilog")
    base = f"/admin/feedback/{ticket['id']}"
    await officer.get(base)
    await officer.post(f"{base}/take", {})
    await officer.post(f"{base}/answer", {"answer": "Đã sửa lỗi cổng."})
    await officer.post(f"{base}/close", {})
    await officer.get("/admin/reports/export.csv")
    status, page = await officer.get("/admin/audit")
    await officer.get("/admin/feedback")
    await officer.post("/admin/logout", {})
    await officer.close()
    assert status == 200 and "Trả lời phản ánh" in page
    actions = [a for who, a in await _audit_actions(service) if who == "ghilog"]
    assert actions == [
        "login",
        "feedback_taken",
        "feedback_answered",
        "feedback_closed",
        "report_exported",
        "logout",
    ]
    [answered] = [e for e in await service.database.run(audit.recent, 10, "feedback_answered")]
    assert (answered["target"], answered["detail"]) == (
        feedback_records.number(ticket["id"]),
        "Zalo: đã gửi",
    )


async def test_admin_adds_an_officer_who_can_then_sign_in(service: Service) -> None:
    await add_officer(service, "quantri", "admin")
    admin = OfficerClient(service)
    await admin.login("quantri")
    await admin.get("/admin/officers")
    status, _ = await admin.post(
        "/admin/officers",
        {
            "username": "moi",
            "display_name": "Cán bộ Mới",
            "password": "mot-mat-khau-moi",
            "roles": "dossier_operator",
        },
    )
    short, page = await admin.post(
        "/admin/officers", {"username": "ngan", "password": "ngan", "roles": "admin"}
    )
    await admin.close()
    assert status == 200 and short == 400 and "10 characters" in page
    newcomer = OfficerClient(service)
    status, page = await newcomer.login("moi", "mot-mat-khau-moi")
    await newcomer.close()
    assert status == 200 and 'href="/admin/dossiers"' in page
    assert 'href="/admin/feedback"' not in page


async def test_citizen_can_only_be_reached_from_dashboard_pages_it_may_see(
    service: Service,
) -> None:
    await add_officer(service, "hoso", "dossier_operator")
    officer = OfficerClient(service)
    await officer.login("hoso")
    codes = {
        path: (await officer.get(path))[0]
        for path in (
            "/admin/dossiers",
            "/admin/reports",
            "/admin/campaigns",
            "/admin/handovers",
            "/admin/officers",
            "/admin/audit",
        )
    }
    await officer.close()
    assert codes == {
        "/admin/dossiers": 200,
        "/admin/reports": 200,
        "/admin/campaigns": 403,
        "/admin/handovers": 403,
        "/admin/officers": 403,
        "/admin/audit": 403,
    }


async def test_status_pages_render_whatever_tables_exist(service: Service) -> None:
    await add_officer(service, "xem", "admin")
    officer = OfficerClient(service)
    await officer.login("xem")
    pages = {
        path: await officer.get(path)
        for path in (
            "/admin/content",
            "/admin/campaigns",
            "/admin/dossiers",
            "/admin/reports/monthly",
        )
    }
    await officer.close()
    assert all(status == 200 for status, _ in pages.values())
    assert "Lần tải gần nhất" in pages["/admin/content"][1]
    assert "Báo cáo tháng" in pages["/admin/reports/monthly"][1]
    assert "Vận động đăng ký VNeID mức 2" in pages["/admin/campaigns"][1]


async def test_report_page_and_exports_count_citizens_feedback_and_satisfaction(
    service: Service,
) -> None:
    await file_ticket(service, "u-report", DESCRIPTION)
    await service.say("u-report-2", "/greet")
    await service.settle()
    await service.database.run(ratings.record, "u-report-2", "satisfied", "guide:khai-sinh")
    await service.database.run(ratings.record, "u-report", "unsatisfied", "service")
    await add_officer(service, "baocao", "content_editor")
    officer = OfficerClient(service)
    await officer.login("baocao")
    status, page = await officer.get("/admin/reports")
    async with officer.http.get(f"{service.url}/admin/reports/export.csv") as resp:
        csv_text = (await resp.read()).decode("utf-8")
    async with officer.http.get(f"{service.url}/admin/reports/export.xlsx") as resp:
        assert "attachment" in resp.headers["Content-Disposition"]
        book = load_workbook(io.BytesIO(await resp.read()))
    await officer.close()
    assert status == 200 and "<svg" in page and "Tỷ lệ hài lòng" in page
    assert csv_text.startswith("\ufeff")
    assert "Số người dân được hướng dẫn,2" in csv_text
    assert '"Phản ánh, kiến nghị nhận được",1' in csv_text
    assert 'Tỷ lệ hài lòng,"50,0%"' in csv_text
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)}
    assert summary["Số người dân được hướng dẫn"] == 2
    assert book.sheetnames == ["Tổng hợp", "Theo ngày", "Ý định"]


async def test_report_reads_top_intents_and_fallback_rate_from_the_tracker_store(
    service: Service, tmp_path: Path
) -> None:
    tracker = tmp_path / "tracker.db"
    now = dt.datetime.now(dt.timezone.utc).timestamp()
    with sqlite3.connect(tracker) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
            " timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"
        )
        rows = ["proc_birth_registration"] * 3 + ["nlu_fallback", "EXTERNAL_follow", "greet"]
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name) VALUES (?,?,?,?)",
            [("u", "user", now, intent) for intent in rows],
        )
    today = dt.datetime.now(TIMEZONE).date()
    report = await report_figures.build(service.database, tracker, today, today)
    assert report.top_intents[0] == ("proc_birth_registration", 3)
    assert report.user_turns == 5 and report.fallback_rate == 0.2


async def test_officer_add_command_creates_the_first_account(service: Service) -> None:
    env = {**os.environ, "CITIZENBOT_DATA_DIR": str(service.settings.data_dir)}
    env["CITIZENBOT_DATABASE_URL"] = service.settings.database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "officer",
        "add",
        "dautien",
        "--role",
        "admin",
        "--name",
        "Quản trị viên",
        "--password-stdin",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT,
        env=env,
    )
    out, err = await process.communicate(b"mat-khau-dau-tien\n")
    assert process.returncode == 0, err.decode()
    assert "dautien added" in out.decode()
    officer = OfficerClient(service)
    status, page = await officer.login("dautien", "mat-khau-dau-tien")
    await officer.close()
    assert status == 200 and "Quản trị viên" in page


async def test_a_rating_button_is_recorded_with_what_was_rated(service: Service) -> None:
    payload = '/rate_service{"rating": "very_satisfied", "rating_subject": "ticket:PA-00007"}'
    await service.say("u-rate", payload)
    await service.settle()
    [rating] = await service.database.run(ratings.for_user, "u-rate")
    assert (rating["score"], rating["subject"]) == ("very_satisfied", "ticket:PA-00007")
    assert "Cảm ơn" in texts(await service.messages("u-rate"))[-1]


async def test_what_citizens_write_is_shown_as_text_never_as_markup(service: Service) -> None:
    ticket = await file_ticket(
        service, "u-xss", '<script>alert("x")</script> cổng dịch vụ công bị lỗi'
    )
    await add_officer(service, "xss", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("xss")
    _, page = await officer.get(f"/admin/feedback/{ticket['id']}")
    await officer.close()
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


# --- what an officer reads: Vietnamese labels, local dates, counts, warnings --------------


def test_every_domain_intent_and_the_fallback_have_an_officers_label() -> None:
    domain = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))
    intents = {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}
    labels = load_library(PROJECT / "content").admin["intent_labels"]
    missing = sorted(intent for intent in intents | {"nlu_fallback"} if not labels.get(intent))
    assert missing == []
    assert all(labels[intent] != intent for intent in intents)


async def test_reports_list_intents_by_their_vietnamese_labels(service: Service) -> None:
    # The report lists the ten intents asked most; the conversations store is shared by the
    # session's tests, so these two are asked often enough to be among them whatever ran
    # before (asked once, they fell out when some other test files ran first).
    for n in range(30):
        for text in ("/nlu_fallback", "/check_dossier_status"):
            await service.say(f"u-intents-{n}", text)
    await service.settle()
    await add_officer(service, "nhan", "content_editor")
    officer = OfficerClient(service)
    await officer.login("nhan")
    _, page = await officer.get("/admin/reports")
    _, csv_text = await officer.get("/admin/reports/export.csv")
    await officer.close()
    for shown in (page, csv_text):
        assert "Trợ lý chưa hiểu câu hỏi" in shown and "Tra cứu tình trạng hồ sơ" in shown
    assert "nlu_fallback" not in page and "check_dossier_status" not in page


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _visible_text(page: str) -> str:
    """What the officer reads: the text between tags (links may carry ISO dates)."""
    return re.sub(r"<[^>]*>", " ", page)


async def test_every_page_shows_dates_as_dd_mm_yyyy_in_commune_time(service: Service) -> None:
    ticket = await file_ticket(service, "u-dates", DESCRIPTION)
    await service.say("u-dates-2", "/request_human")
    await service.settle()
    await service.database.run(
        campaign_records.record_missed, "vneid-muc-2", "2026-11-30T01:30:00.000+00:00"
    )
    await add_officer(service, "ngay", "admin")
    officer = OfficerClient(service)
    await officer.login("ngay")
    await officer.get("/admin/reports/export.csv")
    assert ticket["id"] == 1
    paths = list(PAGES)
    pages = {path: _visible_text((await officer.get(path))[1]) for path in paths}
    _, csv_text = await officer.get("/admin/reports/export.csv")
    await officer.close()
    assert {path: ISO_DAY.findall(text) for path, text in pages.items()} == dict.fromkeys(paths, [])
    assert not ISO_DAY.search(csv_text)
    created = dt.datetime.fromisoformat(ticket["created_at"]).astimezone(TIMEZONE)
    assert f"{created:%d/%m/%Y %H:%M}" in pages["/admin/feedback"]
    assert "30/11/2026 08:30" in pages["/admin/campaigns"]  # 01:30 UTC is 08:30 in Hà Nội


async def test_the_menu_counts_new_tickets_and_citizens_waiting_for_an_officer(
    service: Service,
) -> None:
    first = await file_ticket(service, "u-count", DESCRIPTION)
    await file_ticket(service, "u-count-2", DESCRIPTION)
    await service.say("u-count-3", "/request_human")
    await service.settle()
    await add_officer(service, "dem", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("dem")
    _, before = await officer.get("/admin/reports")
    await officer.post(f"/admin/feedback/{first['id']}/take", {})
    _, after = await officer.get("/admin/reports")
    await officer.close()

    def count(page: str, href: str) -> str:
        found = re.search(rf'<a href="{href}"[^>]*>[^<]*(<span class="count"[^>]*>(\d+)<)?', page)
        assert found, href
        return found.group(2) or ""

    assert (count(before, "/admin/feedback"), count(before, "/admin/handovers")) == ("2", "1")
    assert (count(after, "/admin/feedback"), count(after, "/admin/handovers")) == ("1", "1")


async def test_the_content_page_warns_while_locality_holds_sample_data(service: Service) -> None:
    await add_officer(service, "mau", "content_editor")
    officer = OfficerClient(service)
    await officer.login("mau")
    _, page = await officer.get("/admin/content")
    await officer.close()
    assert "vẫn là dữ liệu mẫu" in page and "sample: false" in page


def test_locality_with_the_commune_own_data_is_not_taken_for_the_sample() -> None:
    shipped = load_library(PROJECT / "content").locality.values
    real = {**shipped, "sample": "False", "hotline": "0236 3821 000"}
    assert status_page.holds_sample_data(Locality(shipped))
    assert not status_page.holds_sample_data(Locality(real))
    # The marker removed but the sample hotline left in place: still the sample.
    assert status_page.holds_sample_data(Locality({**real, "hotline": "0000 000 000 (số mẫu)"}))


async def test_every_dashboard_and_api_answer_carries_the_security_headers(
    service: Service,
) -> None:
    ticket = await file_ticket(service, "u-headers", DESCRIPTION)
    await service.say("u-headers", "/request_human")
    await service.settle()
    await add_officer(service, "antoan", "admin")
    officer = OfficerClient(service)
    await officer.login("antoan")
    assert service.app is not None
    ids = {"ticket_id": str(ticket["id"]), "handover_id": "1"}
    paths = [
        route.resource.canonical.format(**ids)
        for route in service.app.router.routes()
        if route.method == "GET" and route.resource.canonical.startswith("/admin")
    ]
    answers = {}
    for path in [*paths, "/admin/feedback/999999", "/admin", "/admin/login?next=/admin/"]:
        async with officer.http.get(service.url + path, allow_redirects=False) as resp:
            answers[path] = (resp.headers, await resp.read())
    async with officer.http.post(service.url + "/admin/logout", allow_redirects=False) as resp:
        answers["POST /admin/logout"] = (resp.headers, b"")
    async with service.http.put(service.url + "/api/dossiers/X-1", json={}) as resp:
        answers["PUT /api/dossiers/X-1"] = (resp.headers, b"")
    await officer.close()
    assert len(paths) >= 15
    for where, (headers, body) in answers.items():
        assert headers.get("X-Frame-Options") == "DENY", where
        assert headers.get("Referrer-Policy") in ("no-referrer", "same-origin"), where
        assert headers.get("X-Content-Type-Options") == "nosniff", where
        policy = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in policy and "unsafe-inline" not in policy, where
        assert b"<script" not in body and b" style=" not in body and b"<style" not in body, where


# --- the dossier operator's page --------------------------------------------------------

DOSSIER_CODE = "000.00.24.H26-251120-0042"
OTHER_DOSSIER = "G22.39-250715-0001"
FOLLOWERS = ("u-follower-sent", "u-follower-failed", "u-follower-stuck")


async def dossiers_with_notifications(service: Service) -> None:
    """Two dossiers; the first has three followers told of its last change: one notification
    sent, one failed, one stuck (pending 10 minutes past its due time, waiting to retry)."""
    secret = load_or_create(service.settings.data_dir)
    first = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": "Nguyễn Văn An",
        "phone": "0912345678",
        "status": "received",
        "occurred_at": "2026-11-20T08:00:00+07:00",
    }
    other = {**first, "procedure": "Chứng thực bản sao", "applicant_name": "Trần Thị Bình"}
    await service.database.run(
        dossier_records.ingest, parse_update(OTHER_DOSSIER, other, secret), "api"
    )
    await service.database.run(
        dossier_records.ingest, parse_update(DOSSIER_CODE, first, secret), "api"
    )
    for user in FOLLOWERS:
        await service.database.run(dossier_records.subscribe, DOSSIER_CODE, user)
    change = {**first, "status": "processing", "occurred_at": "2026-11-21T14:05:00+07:00"}
    await service.database.run(
        dossier_records.ingest, parse_update(DOSSIER_CODE, change, secret), "api"
    )
    keys = {
        n["user_id"]: n["idempotency_key"]
        for n in await service.database.run(dossier_records.notifications, DOSSIER_CODE)
    }
    later = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)).isoformat()
    settle = dossier_records.settle_notification
    await service.database.run(settle, keys["u-follower-sent"], "sent", "consultation", None)
    await service.database.run(settle, keys["u-follower-failed"], "failed", "consultation", -201)
    await service.database.run(settle, keys["u-follower-stuck"], "pending", None, -32, later)
    long_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)).isoformat()
    await service.database.run(
        lambda db: db.conn.execute(
            "UPDATE dossier_notifications SET created_at = ? WHERE idempotency_key = ?",
            (long_ago, keys["u-follower-stuck"]),
        )
    )


@pytest.fixture
async def quiet_service(start_service) -> Service:
    """No notification round after the start: the test sets each notification's state.
    A dossier operator, "hoso", may sign in."""
    service = await start_service(notification_interval_seconds=3600)
    await add_officer(service, "hoso", "dossier_operator")
    return service


async def dossier_page(service: Service, query: str = "") -> str:
    officer = OfficerClient(service)
    await officer.login("hoso")
    status, page = await officer.get("/admin/dossiers" + (f"?q={query}" if query else ""))
    await officer.close()
    assert status == 200
    return page


async def test_the_dossier_page_lists_dossiers_as_an_officer_reads_them(
    quiet_service: Service,
) -> None:
    await dossiers_with_notifications(quiet_service)
    page = await dossier_page(quiet_service)
    for shown in (
        DOSSIER_CODE, "Đăng ký khai sinh", "Nguyễn V. A.", "Đang giải quyết",
        "21/11/2026 14:05", OTHER_DOSSIER, "Trần T. B.", "Đã tiếp nhận",
        "Đã gửi", "Gửi không được", "Bị kẹt", "Người dân theo dõi",
    ):  # fmt: skip
        assert shown in page, shown
    assert "<td>3</td>" in page  # three citizens follow the first dossier


async def test_the_dossier_page_flags_stuck_and_failed_notifications(
    quiet_service: Service,
) -> None:
    await dossiers_with_notifications(quiet_service)
    page = await dossier_page(quiet_service)
    assert "Thông báo cần xem" in page
    problems = page.split("Thông báo cần xem")[1].split("</table>")[0]
    assert problems.count('<tr class="overdue">') == 2
    assert "Gửi không được" in problems and "Bị kẹt" in problems and "Đã gửi" not in problems
    cards = page.split('<div class="cards">')[1].split("</div></div></div>")[0]
    assert 'badge red">1</span>' in cards  # one stuck, one failed, flagged


async def test_the_dossier_page_shows_no_user_id_hash_key_or_utc_time(
    quiet_service: Service,
) -> None:
    await dossiers_with_notifications(quiet_service)
    page = await dossier_page(quiet_service, DOSSIER_CODE)
    assert not any(user in page for user in FOLLOWERS)
    assert not re.search(r"[0-9a-f]{32}", page)  # keyed hashes, update keys
    for internal in ("dossier:", "+00:00", "+07:00", "processing", "received", "consultation"):
        assert internal not in page, internal
    for english in ("phone_hash", "applicant_masked", "idempotency_key", "status_at"):
        assert english not in page, english


async def test_searching_a_code_shows_that_dossier_and_its_history(
    quiet_service: Service,
) -> None:
    await dossiers_with_notifications(quiet_service)
    page = await dossier_page(quiet_service, DOSSIER_CODE.lower())
    assert OTHER_DOSSIER not in page
    history = page.split(f"Diễn biến hồ sơ {DOSSIER_CODE}")[1]
    assert "20/11/2026 08:00" in history and "21/11/2026 14:05" in history
    assert "Chưa có thông báo" in history  # nobody followed it when it was received
    partial = await dossier_page(quiet_service, "H26-251120")
    assert DOSSIER_CODE in partial and OTHER_DOSSIER not in partial
    assert "Diễn biến" not in partial


async def test_a_search_with_no_match_says_so(quiet_service: Service) -> None:
    page = await dossier_page(quiet_service, "999%_")
    assert 'Không có hồ sơ nào có mã chứa "999%_"' in html.unescape(page)


async def test_the_menu_counts_stuck_and_failed_dossier_notifications(
    quiet_service: Service,
) -> None:
    await dossiers_with_notifications(quiet_service)
    officer = OfficerClient(quiet_service)
    await officer.login("hoso")
    _, page = await officer.get("/admin/reports")
    await officer.close()
    found = re.search(r'<a href="/admin/dossiers"[^>]*>[^<]*<span class="count"[^>]*>(\d+)<', page)
    assert found is not None and found.group(1) == "2"  # one stuck, one failed


# The code that words what officers read: the dashboard, its 429 page, and the refusals
# of a feedback ticket's changes (worded by the dashboard).
DASHBOARD_CODE = [*(PROJECT / "bot" / "admin").glob("*.py"), PROJECT / "bot/web/request_limits.py"]
OFFICER_FACING_CODE = [*DASHBOARD_CODE, PROJECT / "bot/storage/feedback_records.py"]


def test_every_dashboard_text_the_code_reads_is_declared_for_the_content_check() -> None:
    """The keys written in the dashboard's code are exactly those the loader checks in
    content/admin.yml, so a text an officer deletes is caught before a page needs it."""
    sections = {key.split(".")[0] for key in ADMIN_TEXTS}
    key = re.compile(rf"^({'|'.join(sections)})\.[a-z_]+(\.[a-z_]+)*$")
    read = {
        node.value
        for source in DASHBOARD_CODE
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and key.match(node.value)
    }
    assert read == set(ADMIN_TEXTS)


def test_no_officer_facing_vietnamese_is_left_in_the_dashboard_code() -> None:
    """Wording lives in content/admin.yml; Vietnamese stays only in comments and docstrings."""
    vietnamese = re.compile("[\u00c0-\u1ef9]")
    found = []
    for source in OFFICER_FACING_CODE:
        tree = ast.parse(source.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        found += [
            f"{source.name}:{node.lineno}: {node.value}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and vietnamese.search(node.value)
        ]
    assert found == []
