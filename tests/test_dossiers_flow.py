"""Dossiers end to end over loopback: the ingest API, look-up in the chat, subscription and
notifications through the sandbox, exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dossiers.ingest import DossierApi
from bot.storage import Database, dossier_records, outbox, reminder_records, sql, users
from tests.conftest import Service, button_titles, project_library, texts
from tests.engines import ON_POSTGRES
from tests.test_database_locked import hold, released
from tests.test_scheduler import until

TOKEN = "one-stop-token"
CODE = "000.00.24.H26-251120-0042"
RECEIVED = {
    "procedure": "Đăng ký khai sinh",
    "applicant_name": "Nguyễn Văn An",
    "phone": "0912345678",
    "status": "received",
    "occurred_at": "2026-11-20T08:00:00+07:00",
}
PICKUP = dt.date.today() + dt.timedelta(days=10)  # always ahead, whatever day the tests run
READY = {
    **RECEIVED,
    "status": "result_ready",
    "occurred_at": "2026-11-22T10:00:00+07:00",
    "detail": {"pickup_place": "Bộ phận Một cửa xã", "pickup_date": PICKUP.isoformat()},
}


@pytest.fixture
async def service(start_service) -> Service:
    return await start_service(api_token=TOKEN, notification_interval_seconds=0.2)


async def put(service: Service, code: str, body: dict, token: str = TOKEN):
    async with service.http.put(
        f"{service.url}/api/dossiers/{code}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return resp.status, await resp.json()


async def look_up(service: Service, user: str, code: str, digits: str) -> list[str]:
    before = len(await service.messages(user))
    for text in ("/check_dossier_status", code, digits):
        await service.say(user, text)
    await service.settle()
    return texts(await service.messages(user))[before:]


async def wait_for_count(service: Service, user: str, count: int) -> list[dict]:
    for _ in range(100):
        found = await service.messages(user)
        if len(found) >= count:
            return found
        await service.settle()
        await asyncio.sleep(0.05)
    return await service.messages(user)


async def test_the_api_needs_the_bearer_token(service: Service) -> None:
    assert (await put(service, CODE, RECEIVED, token="wrong"))[0] == 401


async def test_the_api_answers_422_naming_the_field(service: Service) -> None:
    status, body = await put(service, CODE, {**RECEIVED, "status": "need_documents"})
    assert (status, body["field"]) == (422, "detail.missing")
    status, body = await put(service, "not-a-code", RECEIVED)
    assert (status, body["field"]) == (422, "code")


async def test_the_api_is_idempotent(service: Service) -> None:
    assert (await put(service, CODE, RECEIVED))[0] == 201
    status, body = await put(service, CODE, RECEIVED)
    assert (status, body["changed"]) == (200, False)


async def test_owner_looks_up_subscribes_and_gets_exactly_one_notification(
    service: Service,
) -> None:
    await put(service, CODE, RECEIVED)
    replies = await look_up(service, "u-owner", CODE, "5678")
    assert replies[-1].startswith("Nguyễn V. A. – Hồ sơ 000.00.24.H26-251120-0042 đã được tiếp")
    last = (await service.messages("u-owner"))[-1]
    assert button_titles(last) == ["Báo khi có kết quả"]
    await service.say("u-owner", f'/subscribe_dossier{{"dossier_code": "{CODE}"}}')
    await service.settle()
    assert "Đã đăng ký" in texts(await service.messages("u-owner"))[-1]
    count = len(await service.messages("u-owner"))

    await put(service, CODE, READY)
    await put(service, CODE, READY)  # the one-stop system sends the same update again
    found = await wait_for_count(service, "u-owner", count + 1)
    notification = texts(found)[count:]
    assert len(notification) == 1
    assert "đã có kết quả" in notification[0] and PICKUP.strftime("%d/%m/%Y") in notification[0]

    async def settled() -> bool:  # the notifier records the send just after Zalo took it
        [record] = await service.database.run(dossier_records.notifications, CODE)
        return record["status"] != "pending"

    await until(settled)
    [record] = await service.database.run(dossier_records.notifications, CODE)
    assert (record["status"], record["channel"]) == ("sent", "consultation")
    # and the scheduler will remind them the day before the result can be collected
    [reminder] = await service.database.run(reminder_records.scheduled_for_user, "u-owner")
    day_before = PICKUP - dt.timedelta(days=1)
    assert reminder["remind_at"].startswith(f"{day_before.isoformat()}T08:00")


async def test_wrong_digits_reveal_nothing_and_match_the_unknown_code_answer(
    service: Service,
) -> None:
    await put(service, CODE, RECEIVED)
    wrong_owner = await look_up(service, "u-stranger", CODE, "1111")
    unknown_code = await look_up(service, "u-prober", "G22.39-250715-0001", "1111")
    # The replies differ only in echoing the code the citizen typed.
    assert [t.replace(CODE, "<code>") for t in wrong_owner] == [
        t.replace("G22.39-250715-0001", "<code>") for t in unknown_code
    ]
    joined = " ".join(wrong_owner)
    assert "Nguyễn" not in joined and "tiếp nhận" not in joined and "khai sinh" not in joined


async def test_repeated_misses_lock_the_look_up(service: Service) -> None:
    await put(service, CODE, RECEIVED)
    await look_up(service, "u-guesser", CODE, "0001")
    for digits in ("0002", "0003", "0004", "0005"):
        await service.say("u-guesser", digits)
    await service.settle()
    assert "tạm khóa 1 giờ" in texts(await service.messages("u-guesser"))[-1]
    replies = await look_up(service, "u-guesser", CODE, "5678")  # even the right digits now
    assert any("tạm khóa 1 giờ" in reply for reply in replies)
    assert not any("Nguyễn" in reply or "tiếp nhận" in reply for reply in replies)


async def test_a_citizen_without_the_code_is_told_where_to_find_it(service: Service) -> None:
    for text in ("hồ sơ của tôi đến đâu rồi", "tôi không nhớ mã"):
        await service.say("u-no-code", text)
    await service.settle()
    last = texts(await service.messages("u-no-code"))[-1]
    assert "giấy biên nhận" in last
    assert project_library().locality.values["hotline"] in last


async def test_asking_to_be_told_during_the_look_up_keeps_it_going(service: Service) -> None:
    # "báo cho cháu khi có kết quả" at the code or the digits stopped the look-up
    await put(service, CODE, RECEIVED)
    user = "u-tell-me"
    await service.say(user, "hồ sơ của cháu đến đâu rồi")
    await service.settle()
    before = len(await service.messages(user))
    await service.say(user, "báo cho cháu khi có kết quả nhé")
    await service.settle()
    replies = texts(await service.messages(user))[before:]
    assert "cần tìm đúng hồ sơ" in replies[0]
    assert "mã hồ sơ" in replies[-1] and "dừng tra cứu" not in " ".join(replies)
    for text in (CODE, "khi nào xong thì nhắn cho cháu"):
        await service.say(user, text)
    await service.settle()
    assert "4 số cuối" in texts(await service.messages(user))[-1]
    await service.say(user, "5678")
    await service.settle()
    last = (await service.messages(user))[-1]
    assert texts([last])[0].startswith("Nguyễn V. A. – Hồ sơ")
    assert button_titles(last) == ["Báo khi có kết quả"]


async def test_crash_between_send_and_record_sends_nothing_twice(start_service) -> None:
    # The embedded sandbox listens only once the restarted service does; a first round of
    # notifications sent before that is retried after this pause (30 s by default).
    service = await start_service(notification_retry_seconds=0.2)
    await put(service, CODE, RECEIVED)
    await service.stop()
    database = Database.from_settings(service.settings)
    await database.open()
    for user in ("u-sent-before-crash", "u-still-pending"):
        await database.run(users.interacted, user)
        await database.run(dossier_records.subscribe, CODE, user)
    from bot.dossiers.dossier_model import parse_update
    from bot.storage.secret import load_or_create

    update = parse_update(CODE, READY, load_or_create(service.settings.data_dir))
    await database.run(dossier_records.ingest, update, "api")
    pending = await database.run(dossier_records.pending_notifications)
    crashed = next(n for n in pending if n["user_id"] == "u-sent-before-crash")
    # Zalo accepted this one and the outbox recorded it; the process died before the
    # notification itself was marked.
    await database.run(outbox.begin, crashed["idempotency_key"], crashed["user_id"], "cs", {})
    await database.run(outbox.settle, crashed["idempotency_key"], "sent", 1)
    await database.close()

    await service.start()
    await wait_for_count(service, "u-still-pending", 1)
    assert len(await service.messages("u-still-pending")) == 1
    assert await service.messages("u-sent-before-crash") == []
    # The message reaches the sandbox a moment before its notification is marked sent.
    expected = {"u-sent-before-crash": "sent", "u-still-pending": "sent"}
    for _ in range(100):
        records = {
            n["user_id"]: n["status"]
            for n in await service.database.run(dossier_records.notifications, CODE)
        }
        if records == expected:
            break
        await asyncio.sleep(0.05)
    assert records == expected


async def test_a_phone_shared_through_the_oa_form_proves_the_owner(service: Service) -> None:
    await put(service, CODE, RECEIVED)
    shared = service.event("u-shared", "user_submit_info", "+84 912 345 678")
    assert (await service.post_event(shared)).status == 200
    await service.settle()
    for text in ("/check_dossier_status", CODE):
        await service.say("u-shared", text)
    await service.settle()
    replies = texts(await service.messages("u-shared"))
    assert replies[-1].startswith("Nguyễn V. A. – Hồ sơ")
    assert not any("4 số cuối" in reply for reply in replies)  # never asked for the digits
    stored = await service.database.run(lambda db: sql.rows(db, "SELECT * FROM user_shared_phones"))
    assert "912345678" not in str(stored)  # only the keyed hash is kept


async def test_a_different_shared_phone_still_asks_for_the_digits(service: Service) -> None:
    await put(service, CODE, RECEIVED)
    await service.post_event(service.event("u-other-phone", "user_submit_info", "0999999999"))
    await service.settle()
    for text in ("/check_dossier_status", CODE):
        await service.say("u-other-phone", text)
    await service.settle()
    assert "4 số cuối" in texts(await service.messages("u-other-phone"))[-1]


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")
async def test_a_locked_database_answers_503_with_retry_after_and_the_retry_is_taken(
    start_service,
) -> None:
    service = await start_service(api_token=TOKEN, database_busy_timeout_seconds=0.5)
    writer = await hold(service.settings.database_path, "BEGIN IMMEDIATE", 3)
    async with service.http.put(
        f"{service.url}/api/dossiers/{CODE}",
        json=RECEIVED,
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as resp:
        assert resp.status == 503
        assert int(resp.headers["Retry-After"]) >= 1
        assert "error" in await resp.json()
    assert await released(writer)
    assert (await put(service, CODE, RECEIVED))[0] == 201


class UnwritableDatabase:
    """A database whose disk fails every write."""

    async def run(self, function, *args):
        raise sqlite3.OperationalError("disk I/O error")


async def test_a_disk_error_answers_503_with_retry_after() -> None:
    app = web.Application()
    DossierApi(UnwritableDatabase(), TOKEN, b"secret", lambda: None).register(app)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        resp = await client.put(
            f"/api/dossiers/{CODE}", json=RECEIVED, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert resp.status == 503 and int(resp.headers["Retry-After"]) >= 1
