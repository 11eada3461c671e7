"""Notifications to followers: one that keeps failing is retried with a growing pause, set
aside as failed after the last attempt, counted on /healthz, and never holds another back."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.dossiers.dossier_model import parse_update
from bot.dossiers.notifier import MAX_ATTEMPTS, RETRY_CAP_SECONDS, retry_delay
from bot.storage import dossier_records, users
from bot.storage.secret import load_or_create
from tests.conftest import Service, texts
from tests.test_dossiers_flow import CODE, RECEIVED, TOKEN, put, wait_for_count
from tests.test_scheduler import until

OTHER_CODE = "G22.39-250715-0001"


@pytest.fixture
async def service(start_service) -> Service:
    return await start_service(
        api_token=TOKEN, notification_interval_seconds=0.05, notification_retry_seconds=0.01
    )


async def follow(service: Service, code: str, user: str) -> None:
    await service.database.run(users.interacted, user)  # within Zalo's 7-day window
    await service.database.run(dossier_records.subscribe, code, user)


async def healthz(service: Service) -> dict:
    async with service.http.get(f"{service.url}/healthz") as resp:
        return (await resp.json())["notifications"]


def test_the_pause_doubles_up_to_a_cap() -> None:
    assert [retry_delay(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_delay(20, 30) == RETRY_CAP_SECONDS


async def test_a_notification_that_always_fails_holds_no_other_back(service: Service) -> None:
    await put(service, CODE, RECEIVED)
    await put(service, OTHER_CODE, RECEIVED)
    await follow(service, CODE, "u-broken")
    await follow(service, OTHER_CODE, "u-waiting")
    # An update that can never be put in words (its detail lacks what the text needs): its
    # notification fails at every attempt, and it is the oldest one pending.
    secret = load_or_create(service.settings.data_dir)
    received = parse_update(CODE, RECEIVED, secret)
    broken = dataclasses.replace(
        received, status="need_documents", detail={}, occurred_at="2026-11-21T08:00:00+07:00"
    )
    await service.database.run(dossier_records.ingest, broken, "api")
    started = time.monotonic()
    ready = {
        **RECEIVED,
        "status": "processing",
        "occurred_at": "2026-11-21T09:00:00+07:00",
    }
    await put(service, OTHER_CODE, ready)

    [told] = texts(await wait_for_count(service, "u-waiting", 1))
    assert OTHER_CODE in told and time.monotonic() - started < 5

    async def given_up() -> bool:
        [record] = await service.database.run(dossier_records.notifications, CODE)
        return record["status"] == "failed"

    await until(given_up)
    [record] = await service.database.run(dossier_records.notifications, CODE)
    assert record["attempts"] == MAX_ATTEMPTS
    assert await service.messages("u-broken") == []
    assert await healthz(service) == {"pending": 0, "stuck": 0, "failed": 1}
