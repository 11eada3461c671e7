"""Hostile input against the dossier API, the dashboard and every place where input could
become a file path: SQL injection gets the same answer as any unknown value and leaves the
tables as they were; `../`, absolute paths and `%2e%2e` never reach a file."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.content.content_model import ContentError
from bot.scheduler import campaign_overview
from bot.scheduler.campaign_files import load_campaign, load_context
from bot.storage import dossier_records, feedback_records
from bot.storage.database import TABLES
from bot.storage.sql import Store, is_postgres
from tests.conftest import PROJECT, Service
from tests.dashboard import PASSWORD, OfficerClient, add_officer, file_ticket

TOKEN = "hostile-token"
CODE = "000.00.24.H26-251120-0042"
UPDATE = {
    "procedure": "Đăng ký khai sinh",
    "applicant_name": "Nguyễn Văn An",
    "phone": "0912345678",
    "status": "received",
    "occurred_at": "2026-11-20T08:00:00+07:00",
}
SQL = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "admin'--",
    "x'; DROP TABLE dossiers; --",
    "1; DELETE FROM officers",
    '" OR ""="',
    "') UNION SELECT name, sql FROM sqlite_master --",
]
TRAVERSAL = [
    "../../../../etc/passwd",
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "..\\..\\..\\etc\\passwd",
    "....//....//etc/passwd",
]
# What a file read by mistake would show: a system file, the service's own code, its secret.
LEAKS = (b"root:x:0:0", b"class Settings", b"CITIZENBOT_SECRET_KEY", b"-----BEGIN")


@pytest.fixture
async def service(start_service) -> Service:
    return await start_service(api_token=TOKEN)


def _schema_and_rows(db: Store) -> dict[str, object]:
    """Every table's definition and row count (audit entries and sessions aside: signing in
    and failing to are recorded on purpose)."""
    if is_postgres(db):
        tables = db.conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() ORDER BY 1, 2"
        ).fetchall()
        tables += db.conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " ORDER BY 1"
        ).fetchall()
        integrity = "ok"  # PostgreSQL checks its pages itself; SQLite is asked below
    else:
        tables = db.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name"
        ).fetchall()
        (integrity,) = db.conn.execute("PRAGMA integrity_check").fetchone()
    counts = {
        name: db.conn.execute(f"SELECT COUNT(*) FROM {name}").fetchone()[0]
        for name in TABLES
        if name not in ("audit_log", "officer_sessions")
    }
    officers = db.conn.execute(
        "SELECT username, password_hash, roles FROM officers ORDER BY id"
    ).fetchall()
    return {"tables": tables, "counts": counts, "officers": officers, "integrity": integrity}


async def snapshot(service: Service) -> dict[str, object]:
    return await service.database.run(_schema_and_rows)


async def put(service: Service, raw_code: str, body: object, token: str = TOKEN):
    """PUT with the code exactly as given (already percent-encoded where it should be)."""
    async with service.http.put(
        f"{service.url}/api/dossiers/{raw_code}",
        data=json.dumps(body).encode(),  # ASCII escapes: lone surrogates too
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    ) as resp:
        return resp.status, await resp.json()


async def raw_request(service: Service, method: str, target: str, headers: str = "") -> bytes:
    """An HTTP/1.1 request with `target` sent byte for byte: no client normalises the `..`
    or decodes the `%2e` first."""
    reader, writer = await asyncio.open_connection(service.settings.host, service.settings.port)
    writer.write(
        f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n{headers}"
        "Content-Length: 0\r\n\r\n".encode()
    )
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    await writer.wait_closed()
    return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# SQL injection


async def test_sql_in_a_dossier_code_gets_the_answer_of_any_malformed_code(
    service: Service,
) -> None:
    assert (await put(service, CODE, UPDATE))[0] == 201
    before = await snapshot(service)
    expected = await put(service, "not-a-code", UPDATE)
    assert expected[0] == 422 and expected[1]["field"] == "code"
    for attempt in SQL + [f"{CODE}' OR '1'='1", f"{CODE}; DROP TABLE dossiers"]:
        assert await put(service, quote(attempt, safe=""), UPDATE) == expected, attempt
    assert await snapshot(service) == before


async def test_sql_in_dossier_fields_is_stored_as_plain_text(service: Service) -> None:
    before = await snapshot(service)
    hostile = {
        **UPDATE,
        "procedure": SQL[3],
        "applicant_name": "Robert'); DROP TABLE officers; --",
        "status": "rejected",
        "detail": {"reason": SQL[6]},
    }
    assert (await put(service, CODE, hostile))[0] == 201
    stored = await service.database.run(dossier_records.get, CODE)
    assert stored["procedure"] == SQL[3]
    assert stored["detail"] == {"reason": SQL[6]}
    after = await snapshot(service)
    assert after["tables"] == before["tables"] and after["officers"] == before["officers"]
    assert after["integrity"] == "ok"


async def test_sql_in_a_dossier_status_or_phone_is_refused_by_name(service: Service) -> None:
    before = await snapshot(service)
    for field in ("status", "phone", "occurred_at"):
        for attempt in SQL:
            status, body = await put(service, CODE, {**UPDATE, field: attempt})
            assert (status, body["field"]) == (422, field), (field, attempt)
    assert await snapshot(service) == before


async def test_sql_in_the_sign_in_form_is_just_a_wrong_name(service: Service) -> None:
    await add_officer(service, "admin", "admin")
    before = await snapshot(service)
    officer = OfficerClient(service)
    wrong = await officer.login("khong-co-ai", "sai-mat-khau")
    assert wrong[0] == 401 and "Sai tên đăng nhập hoặc mật khẩu" in wrong[1]
    # 4 tries and 1 above: under the per-address limit of 10 failed sign-ins
    for username, password in [
        (SQL[0], SQL[0]),
        (SQL[2], "x"),
        ("admin' --", "x"),
        ("admin", SQL[1]),
    ]:
        status, page = await officer.login(username, password)
        assert (status, "Sai tên đăng nhập hoặc mật khẩu" in page) == (401, True), username
        assert "citizenbot_officer" not in {c.key for c in officer.http.cookie_jar}
    after = await snapshot(service)
    assert after["tables"] == before["tables"] and after["officers"] == before["officers"]
    # the real account still works, and its one wrong password did not lock it
    assert (await officer.login("admin", PASSWORD))[0] == 200
    await officer.close()


async def test_sql_in_the_dashboards_query_parameters_is_an_unknown_value(
    service: Service,
) -> None:
    await file_ticket(service, "u-hostile", "Đèn đường trước nhà văn hoá thôn bị hỏng.")
    await add_officer(service, "admin", "admin")
    officer = OfficerClient(service)
    await officer.login("admin")
    before = await snapshot(service)
    assert "<table>" in (await officer.get("/admin/audit?action=login"))[1]  # the control

    async def page(path: str) -> tuple[int, str]:
        status, text = await officer.get(path)
        # the CSRF token and the clock differ between two renderings of the same page
        return status, re.sub(r'value="[^"]{20,}"|\d{2}/\d{2}/\d{4} \d{2}:\d{2}', "", text)

    for attempt in SQL:
        value = quote(attempt, safe="")
        assert await page(f"/admin/feedback?status={value}") == await page(
            "/admin/feedback?status=khong-co"
        )
        # the audit log shows the entries of that action: none
        status, text = await page(f"/admin/audit?action={value}")
        assert status == 200 and "<table>" not in text
        for path in (
            f"/admin/reports?start={value}",
            f"/admin/reports/export.csv?end={value}",
            f"/admin/reports/monthly?month={value}",
        ):
            assert (await officer.get(path))[0] == 400, path
        for path in (f"/admin/feedback/{value}", f"/admin/handovers/{value}"):
            assert (await officer.get(path))[0] == 404, path
    after = await snapshot(service)
    assert after["tables"] == before["tables"] and after["counts"] == before["counts"]
    assert len(await service.database.run(feedback_records.queue)) == 1
    await officer.close()


async def test_a_ticket_number_too_large_for_sqlite_is_not_found(service: Service) -> None:
    await add_officer(service, "admin", "admin")
    officer = OfficerClient(service)
    await officer.login("admin")
    for number in ("99999999999999999999", "-99999999999999999999", "9" * 5000):
        assert (await officer.get(f"/admin/feedback/{number}"))[0] == 404
        assert (await officer.get(f"/admin/handovers/{number}"))[0] == 404
    await officer.close()


# Path traversal


@pytest.mark.parametrize("attempt", TRAVERSAL)
async def test_traversal_in_a_url_path_reaches_no_file(service: Service, attempt: str) -> None:
    assert status_of(await raw_request(service, "GET", "/healthz")) == 200  # the control
    for prefix in ("/", "/sandbox/", "/admin/", "/openapi.yaml/", "/healthz/", "/webhook/"):
        for method in ("GET", "POST"):
            answer = await raw_request(service, method, prefix + attempt)
            assert status_of(answer) in (303, 400, 401, 403, 404, 405), (method, prefix, answer)
            assert not any(leak in answer for leak in LEAKS), (method, prefix)


@pytest.mark.parametrize("attempt", TRAVERSAL)
async def test_traversal_as_a_dossier_code_is_a_malformed_code(
    service: Service, attempt: str
) -> None:
    answer = await raw_request(
        service, "PUT", "/api/dossiers/" + attempt, f"Authorization: Bearer {TOKEN}\r\n"
    )
    assert status_of(answer) in (404, 422), answer
    assert not any(leak in answer for leak in LEAKS)


async def test_traversal_reaches_no_file_behind_a_session_either(service: Service) -> None:
    await add_officer(service, "admin", "admin")
    officer = OfficerClient(service)
    await officer.login("admin")
    for attempt in TRAVERSAL:
        for path in (
            f"/admin/feedback/{attempt}",
            f"/admin/handovers/{attempt}",
            f"/admin/reports/export.csv?start={attempt}",
            f"/admin/reports/export.xlsx?end={attempt}",
            f"/admin/reports/monthly?month={attempt}",
            f"/admin/audit?action={attempt}",
        ):
            status, text = await officer.get(path)
            assert status in (200, 400, 404), (path, status)
            assert not any(leak.decode() in text for leak in LEAKS), path
    await officer.close()


async def test_an_export_is_named_from_its_dates_only(service: Service) -> None:
    await add_officer(service, "admin", "admin")
    officer = OfficerClient(service)
    await officer.login("admin")
    url = f"{service.url}/admin/reports/export.csv?start=2026-11-01&end=2026-11-20"
    async with officer.http.get(url) as resp:
        disposition = resp.headers["Content-Disposition"]
    await officer.close()
    assert disposition == 'attachment; filename="bao-cao-2026-11-01-2026-11-20.csv"'


async def test_a_signed_event_cannot_name_a_file(service: Service) -> None:
    """Zalo's attachments carry links; the service stores and shows them, never opens them."""
    event = service.event("u-traversal", "user_send_image")
    event["message"]["attachments"] = [
        {"type": "image", "payload": {"url": path}} for path in ("file:///etc/passwd", TRAVERSAL[0])
    ]
    assert (await service.post_event(event)).status == 200
    await service.settle()
    sent = json.dumps(await service.messages("u-traversal"), ensure_ascii=False)
    assert "root:x:0:0" not in sent


@pytest.mark.parametrize("image", ["../../etc/passwd", "/etc/passwd", "file:///etc/passwd"])
def test_a_campaign_image_must_be_a_web_link_never_a_file(tmp_path: Path, image: str) -> None:
    content = tmp_path / "content"
    (content / "campaigns").mkdir(parents=True)
    for name in ("locality.yml", "ui.yml"):
        (content / name).write_text((PROJECT / "content" / name).read_text(encoding="utf-8"))
    source = (PROJECT / "content" / "campaigns" / "vneid-muc-2.yml").read_text(encoding="utf-8")
    body = source.split("  buttons:")[0] + f'  image: "{image}"\n'
    path = content / "campaigns" / "bad.yml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ContentError, match="must be an http"):
        load_campaign(path, *load_context(content))


@pytest.mark.parametrize("campaign_id", ["../guides/khai-sinh", "/etc/passwd", TRAVERSAL[2]])
async def test_a_campaign_is_found_by_its_id_never_by_a_path(
    service: Service, campaign_id: str
) -> None:
    with pytest.raises(campaign_overview.UnknownCampaign, match="no valid campaign"):
        await campaign_overview.campaign_preview(service.settings, service.database, campaign_id)


# Malformed bodies that used to crash a handler (500)


async def test_a_pickup_date_in_year_one_does_not_hold_up_other_notifications(
    start_service,
) -> None:
    """The day before 0001-01-01 does not exist: scheduling that reminder failed after the
    message was sent, and the notification stayed first in the queue for ever."""
    service = await start_service(api_token=TOKEN, notification_interval_seconds=0.1)
    other = CODE.replace("0042", "0043")
    for user, code in (("u-year-one", CODE), ("u-next", other)):
        await service.say(user, "xin chào")
        assert (await put(service, code, UPDATE))[0] == 201
        await service.database.run(dossier_records.subscribe, code, user)
    await service.settle()
    ready = {**UPDATE, "status": "result_ready", "occurred_at": "2026-11-21T08:00:00+07:00"}
    year_one = {**ready, "detail": {"pickup_place": "Một cửa", "pickup_date": "0001-01-01"}}
    assert (await put(service, CODE, year_one))[0] == 200
    next_week = {**ready, "detail": {"pickup_place": "Một cửa", "pickup_date": "2026-11-30"}}
    assert (await put(service, other, next_week))[0] == 200

    async def statuses() -> dict[str, list[str]]:
        return {
            code: [
                n["status"] for n in await service.database.run(dossier_records.notifications, code)
            ]
            for code in (CODE, other)
        }

    for _ in range(100):
        if "pending" not in str(await statuses()):
            break
        await asyncio.sleep(0.1)
    assert await statuses() == {CODE: ["sent"], other: ["sent"]}


async def test_json_nested_deeper_than_python_recurses_is_refused_not_a_crash(
    service: Service,
) -> None:
    deep = b"[" * 100_000
    async with service.http.put(
        f"{service.url}/api/dossiers/{CODE}",
        data=deep,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:
        assert (resp.status, (await resp.json())["field"]) == (422, "body")
    async with service.http.post(f"{service.url}/webhook/zalo", data=deep) as resp:
        assert resp.status == 400


async def test_lone_surrogates_in_dossier_texts_are_refused_by_name(service: Service) -> None:
    """JSON may escape half a UTF-16 pair ("\\ud800"); SQLite cannot store it."""
    rejected = {**UPDATE, "status": "rejected", "detail": {"reason": "x"}}
    for field, body in [
        ("procedure", {**UPDATE, "procedure": "Khai sinh \ud800"}),
        ("applicant_name", {**UPDATE, "applicant_name": "\udc00 An"}),
        ("detail.reason", {**rejected, "detail": {"reason": "\ud83d"}}),
    ]:
        status, answer = await put(service, CODE, body)
        assert (status, answer["field"]) == (422, field)
    assert await service.database.run(dossier_records.get, CODE) is None


async def test_overlong_dossier_texts_are_refused_by_name(service: Service) -> None:
    for field, body in [
        ("procedure", {**UPDATE, "procedure": "x" * 301}),
        ("applicant_name", {**UPDATE, "applicant_name": "x" * 201}),
        ("detail.reason", {**UPDATE, "status": "rejected", "detail": {"reason": "x" * 1001}}),
    ]:
        status, answer = await put(service, CODE, body)
        assert (status, answer["field"]) == (422, field)


async def test_a_signed_event_whose_timestamp_is_not_ascii_digits_is_refused(
    service: Service,
) -> None:
    """ "²" passes str.isdigit() but not int(): it used to be a 500."""
    for timestamp in ("²", "١٧١٧٠٦١٨٣٩٦٥٩"):
        event = {**service.event("u-digits", text="xin chào"), "timestamp": timestamp}
        assert (await service.post_event(event)).status == 400


async def test_a_signed_event_with_a_lone_surrogate_or_a_huge_timestamp_gets_400(
    service: Service,
) -> None:
    """Both used to be a 500: SQLite cannot store "\\ud800", and a 400-digit timestamp
    overflows a float."""
    surrogate = service.event("\ud800", text="xin chào")
    huge = {**service.event("u-huge-time", text="xin chào"), "timestamp": "1" * 400}
    for event in (surrogate, huge):
        resp = await service.post_event(event, raw=json.dumps(event).encode())  # "\\ud800" escaped
        assert resp.status == 400
        assert (await resp.json())["message"]
    await service.settle()
    assert (
        await service.database.run(
            lambda db: db.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
        )
        == 0
    )
