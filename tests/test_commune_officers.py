"""A commune's officers see only their commune; a province officer sees every commune."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from bot.admin import report_figures
from bot.admin.auth import SESSION_COOKIE
from bot.dossiers.dossier_model import parse_update
from bot.local_time import TIMEZONE
from bot.storage import (
    Database,
    dossier_records,
    feedback_records,
    handover_records,
    officer_accounts,
)
from bot.storage.secret import load_or_create
from bot.web.app import COMMUNES
from tests.conftest import Service, run_cli
from tests.dashboard import PASSWORD, OfficerClient
from tests.test_communes import post_to_commune, replies_in_commune, with_communes

TICKET_B = "Đèn đường trước nhà văn hoá thôn Bắc hỏng đã hai tuần."
DOSSIER_B = "000.00.24.H26-251120-0777"
APPLICANT_B = "Lê Thị Cúc"
HASH = officer_accounts.hash_password(PASSWORD)


async def _service_with_two_communes(start_service, tmp_path: Path) -> Service:
    """Communes xa-a and xa-b; in xa-b a ticket and a dossier."""
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111", "xa-b": "0209 222"})
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert service.app is not None
    commune_b = service.app[COMMUNES].get("xa-b")
    assert commune_b is not None
    database_b = commune_b.services.database
    await database_b.run(feedback_records.create, "u-b", "other", TICKET_B, None, 5)
    update = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": APPLICANT_B,
        "phone": "0912345678",
        "status": "received",
        "occurred_at": "2026-11-20T08:00:00+07:00",
    }
    secret = load_or_create(commune_b.services.settings.data_dir)
    await database_b.run(dossier_records.ingest, parse_update(DOSSIER_B, update, secret), "api")
    return service


async def _officer_of(service: Service, commune: str, username: str, *roles: str) -> None:
    assert service.app is not None
    opened = service.app[COMMUNES].get(commune)
    database = opened.services.database if opened is not None else service.database
    await database.run(officer_accounts.create, username, username.title(), HASH, list(roles))


@pytest.fixture
async def two_communes(start_service, tmp_path: Path) -> Service:
    return await _service_with_two_communes(start_service, tmp_path)


async def test_an_officer_of_one_commune_cannot_see_anothers_tickets_or_dossiers(
    two_communes: Service,
) -> None:
    service = two_communes
    await _officer_of(service, "xa-a", "hoa", "admin")
    officer = OfficerClient(service)
    try:
        status, _ = await officer.login("xa-a/hoa")
        assert status == 200
        for path in ("/admin/feedback", "/admin/dossiers", "/admin/reports"):
            status, page = await officer.get(f"{path}?commune=xa-b")
            assert status == 403, path
            assert TICKET_B not in page and DOSSIER_B not in page
        for path in (
            "/admin/feedback",
            "/admin/feedback/1",
            "/admin/dossiers",
            "/admin/reports/export.csv",
            "/admin/handovers",
            "/admin/audit",
        ):
            status, page = await officer.get(path)
            assert status in (200, 404), (path, status)
            assert TICKET_B not in page and DOSSIER_B not in page and APPLICANT_B not in page
        # Searching for commune B's dossier finds nothing (the page repeats only the query).
        status, page = await officer.get(f"/admin/dossiers?q={DOSSIER_B}")
        assert status == 200 and APPLICANT_B not in page and "Đăng ký khai sinh" not in page
        assert (await officer.get("/admin/province"))[0] == 403
    finally:
        await officer.close()


async def test_an_officer_of_a_commune_sees_its_own_tickets_and_dossiers(
    two_communes: Service,
) -> None:
    service = two_communes
    await _officer_of(service, "xa-b", "lan", "admin")
    officer = OfficerClient(service)
    try:
        assert (await officer.login("xa-b/lan"))[0] == 200
        assert TICKET_B in (await officer.get("/admin/feedback/1"))[1]
        assert DOSSIER_B in (await officer.get("/admin/dossiers"))[1]
    finally:
        await officer.close()


async def test_a_default_officer_without_the_province_role_cannot_see_a_commune(
    two_communes: Service,
) -> None:
    service = two_communes
    await _officer_of(service, "", "quantri", "admin")
    officer = OfficerClient(service)
    try:
        assert (await officer.login("quantri"))[0] == 200
        assert (await officer.get("/admin/feedback/1?commune=xa-b"))[0] == 403
        assert (await officer.get("/admin/province"))[0] == 403
    finally:
        await officer.close()


async def test_a_province_officer_sees_every_commune_and_the_province_report(
    two_communes: Service,
) -> None:
    service = two_communes
    await _officer_of(service, "", "tinh", "province", "feedback_handler")
    officer = OfficerClient(service)
    try:
        assert (await officer.login("tinh"))[0] == 200
        status, page = await officer.get("/admin/feedback/1?commune=xa-b")
        assert status == 200 and TICKET_B in page and "· Xã xa-b</span>" in page
        # The commune chosen holds for the next pages, until `?commune=` goes back.
        assert TICKET_B in (await officer.get("/admin/feedback"))[1]
        assert TICKET_B not in (await officer.get("/admin/feedback?commune="))[1]
        status, page = await officer.get("/admin/province")
        assert status == 200
        assert "Xã xa-a" in page and "Xã xa-b" in page and "Toàn tỉnh" in page
    finally:
        await officer.close()


async def test_the_province_report_sums_the_communes_figures(two_communes: Service) -> None:
    service = two_communes
    assert service.app is not None
    day = dt.datetime.now(TIMEZONE).date()  # the commune's day: after 17:00 UTC it is tomorrow
    reports = []
    for slug in ("xa-a", "xa-b"):
        commune = service.app[COMMUNES].get(slug)
        assert commune is not None
        reports.append(await report_figures.build(commune.services.database, None, day, day))
    total = report_figures.combined(reports, day, day)
    assert total.feedback_received == 1 == sum(r.feedback_received for r in reports)


async def test_an_officer_is_added_to_a_commune_by_the_cli(two_communes: Service) -> None:
    service = two_communes
    out = await run_cli(
        "officer",
        "add",
        "mai",
        "--commune",
        "xa-b",
        "--role",
        "feedback_handler",
        "--password-stdin",
        env=service.environment(),
        stdin=PASSWORD + "\n",
    )
    assert "xa-b/mai" in out
    officer = OfficerClient(service)
    try:
        assert (await officer.login("xa-b/mai"))[0] == 200
        assert TICKET_B in (await officer.get("/admin/feedback"))[1]
    finally:
        await officer.close()


async def test_a_session_of_one_commune_does_not_open_another(two_communes: Service) -> None:
    service = two_communes
    await _officer_of(service, "xa-a", "hoa", "admin")
    officer = OfficerClient(service)
    try:
        await officer.login("xa-a/hoa")
        [cookie] = [c for c in officer.http.cookie_jar if c.key == SESSION_COOKIE]
        commune, token = cookie.value.split("/", 1)
        assert commune == "xa-a"
        forged = {SESSION_COOKIE: f"xa-b/{token}"}
        async with service.http.get(
            f"{service.url}/admin/feedback", cookies=forged, allow_redirects=False
        ) as resp:
            assert resp.status == 303 and resp.headers["Location"].startswith("/admin/login")
    finally:
        await officer.close()


async def test_an_unknown_commune_at_sign_in_is_a_wrong_name(two_communes: Service) -> None:
    officer = OfficerClient(two_communes)
    try:
        status, page = await officer.login("xa-khong-co/hoa")
        assert status == 401 and "Sai tên đăng nhập hoặc mật khẩu." in page
    finally:
        await officer.close()


async def test_a_communes_officer_answers_its_citizen_through_its_own_oa(
    two_communes: Service,
) -> None:
    service = two_communes
    assert service.app is not None
    commune_a = service.app[COMMUNES].get("xa-a")
    assert commune_a is not None
    assert await post_to_commune(service, "xa-a", "u-can-bo", "/request_human") == 200
    await service.app[COMMUNES].drain()
    now = dt.datetime.now(dt.timezone.utc)
    queue = await commune_a.services.database.run(
        handover_records.queue, now, dt.timedelta(hours=1)
    )
    [handover] = [row for row in queue if row["user_id"] == "u-can-bo"]
    await _officer_of(service, "xa-a", "truc", "feedback_handler")
    officer = OfficerClient(service)
    try:
        await officer.login("xa-a/truc")
        await officer.get(f"/admin/handovers/{handover['id']}")
        answer = "Chị mang CCCD tới xã A."
        await officer.post(f"/admin/handovers/{handover['id']}/reply", {"text": answer})
    finally:
        await officer.close()
    assert answer in await replies_in_commune(service, "xa-a", "u-can-bo")
    assert await service.messages("u-can-bo") == []  # nothing through the default OA


async def test_a_communes_admin_cannot_make_a_province_officer(two_communes: Service) -> None:
    service = two_communes
    await _officer_of(service, "xa-a", "hoa", "admin")
    officer = OfficerClient(service)
    try:
        await officer.login("xa-a/hoa")
        status, page = await officer.get("/admin/officers")
        assert status == 200 and 'value="province"' not in page
        form = {"username": "gia", "password": PASSWORD, "roles": "province"}
        status, page = await officer.post("/admin/officers", form)
        assert status == 400 and "not a role in this commune: province" in page
    finally:
        await officer.close()


async def test_a_report_counts_the_intents_of_its_own_communes_conversations(
    tmp_path: Path,
) -> None:
    tracker = tmp_path / "tracker.db"
    with sqlite3.connect(tracker) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT,"
            " timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"
        )
        now = dt.datetime.now(dt.timezone.utc)
        conversations = {"u-1": "greet", "xa-a:u-1": "ask_office_info", "xa-ab:u-2": "goodbye"}
        conversations["xa-a-b:u-3"] = "thank"
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name)"
            " VALUES (?, 'user', ?, ?)",
            [(sender, now.timestamp(), intent) for sender, intent in conversations.items()],
        )
    database = Database(tmp_path / "citizenbot.db")
    await database.open()
    try:
        day = now.astimezone(TIMEZONE).date()
        found = {}
        for commune in ("", "xa-a", "xa-ab", "xa-a-b"):
            report = await report_figures.build(database, tracker, day, day, now, commune)
            found[commune] = dict(report.top_intents)
    finally:
        await database.close()
    assert found == {
        "": {"greet": 1},
        "xa-a": {"ask_office_info": 1},
        "xa-ab": {"goodbye": 1},
        "xa-a-b": {"thank": 1},
    }
