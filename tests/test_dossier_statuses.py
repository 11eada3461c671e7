"""Every status the one-stop system can report reads as whole sentences, in the chat and
as a notification: each placeholder filled, the commune's own details included."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.content.loader import load_library
from bot.dossiers.dossier_model import STATUSES
from bot.storage import dossier_records, users
from tests.conftest import PROJECT, Service, texts
from tests.test_dossiers_flow import CODE, RECEIVED, TOKEN, look_up, put, wait_for_count
from tests.test_scheduler import until

PICKUP = dt.date.today() + dt.timedelta(days=10)
DETAILS = {
    "received": {},
    "processing": {},
    "need_documents": {"missing": "bản sao giấy chứng nhận kết hôn"},
    "result_ready": {"pickup_place": "Bộ phận Một cửa xã", "pickup_date": PICKUP.isoformat()},
    "returned": {},
    "rejected": {"reason": "người yêu cầu đã rút hồ sơ"},
}
LOCALITY = load_library(PROJECT / "content").locality.values


def update(status: str, occurred_at: str = "2026-11-21T09:00:00+07:00") -> dict:
    return {**RECEIVED, "status": status, "occurred_at": occurred_at, "detail": DETAILS[status]}


def assert_whole(text: str, status: str) -> None:
    """The code, the details and the commune's data are in; no placeholder is left."""
    assert "{" not in text and "}" not in text, text
    assert CODE in text, text
    shown = dict(DETAILS[status])
    if "pickup_date" in shown:
        shown["pickup_date"] = PICKUP.strftime("%d/%m/%Y")
    assert all(value in text for value in shown.values()), text
    if status in ("need_documents", "rejected"):
        assert LOCALITY["one_stop_desk"] in text, text


def test_every_status_has_a_case_here() -> None:
    assert set(DETAILS) == set(STATUSES)


@pytest.fixture
async def service(start_service) -> Service:
    return await start_service(api_token=TOKEN, notification_interval_seconds=0.2)


@pytest.mark.parametrize("status", list(DETAILS))
async def test_the_owner_reads_every_status_in_the_chat(service: Service, status: str) -> None:
    assert (await put(service, CODE, update(status)))[0] == 201
    replies = await look_up(service, "u-owner", CODE, "5678")
    assert replies[-1].startswith(f"Nguyễn V. A. – Hồ sơ {CODE}")
    assert_whole(replies[-1], status)


@pytest.mark.parametrize("status", list(DETAILS))
async def test_a_follower_is_told_every_status(service: Service, status: str) -> None:
    await put(service, CODE, RECEIVED)
    await service.database.run(users.interacted, "u-follower")  # within Zalo's 7-day window
    await service.database.run(
        dossier_records.verify, CODE, "u-follower", "5678", None, dt.datetime.now(dt.timezone.utc)
    )
    await service.database.run(dossier_records.subscribe, CODE, "u-follower")
    await put(service, CODE, update(status, "2026-11-22T10:00:00+07:00"))
    [notification] = texts(await wait_for_count(service, "u-follower", 1))
    assert_whole(notification, status)

    async def sent() -> bool:
        [record] = await service.database.run(dossier_records.notifications, CODE)
        return record["status"] == "sent"

    await until(sent)
