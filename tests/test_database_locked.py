"""Another process holds var/citizenbot.db (an import, an officer's sqlite3 shell, a backup)
while webhooks arrive: readers never block the service (WAL), a writer's lock is waited
for, and a lock held beyond the busy timeout gets 503 so that Zalo retries."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from bot.conversation.user_queues import UserQueues
from bot.storage import inbox
from bot.web.app import WORKER
from bot.zalo.events import ZaloEvent, parse_event
from tests.conftest import Service, texts
from tests.engines import ON_POSTGRES

# The SQLite file's write lock held by another process; PostgreSQL locks rows, not the file.
sqlite_file_lock = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's file lock")

# Opens the database in another process, takes a lock and holds it, then lets go.
LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute(sys.argv[2])
conn.execute("SELECT count(*) FROM inbox").fetchone()
print("holding", flush=True)
time.sleep(float(sys.argv[3]))
conn.execute("COMMIT")
print("released", flush=True)
"""


async def hold(database: Path, begin: str, seconds: float) -> asyncio.subprocess.Process:
    """Start a process holding `begin`'s lock for `seconds`; returns once it holds it."""
    holder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LOCK_HOLDER,
        str(database),
        begin,
        str(seconds),
        stdout=asyncio.subprocess.PIPE,
    )
    assert holder.stdout is not None
    assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"holding\n"
    return holder


async def released(holder: asyncio.subprocess.Process) -> bool:
    assert holder.stdout is not None
    line = await asyncio.wait_for(holder.stdout.readline(), 30)
    return line == b"released\n" and await holder.wait() == 0


async def post_all(service: Service, events: list[dict]) -> tuple[list[int], float]:
    """POST every event at once, as Zalo does in a busy minute; statuses and seconds taken."""
    started = time.monotonic()
    answers = await asyncio.gather(*(service.post_event(event) for event in events))
    return [answer.status for answer in answers], time.monotonic() - started


async def assert_each_answered_once(service: Service, events: list[dict]) -> None:
    await service.settle()
    for event in events:
        assert await service.database.run(inbox.status_of, event["message"]["msg_id"]) == "done"
    for user_id in {event["sender"]["id"] for event in events}:
        asked = sum(event["sender"]["id"] == user_id for event in events)
        assert len(await service.messages(user_id)) == asked


@sqlite_file_lock
async def test_a_long_reader_does_not_delay_webhooks(service: Service) -> None:
    reader = await hold(service.settings.database_path, "BEGIN", 3)
    events = [service.event(f"u-read-{n % 4}", text="/greet") for n in range(8)]
    statuses, seconds = await post_all(service, events)
    assert statuses == [200] * 8
    assert seconds < 2 and reader.returncode is None  # answered while the reader held on
    await assert_each_answered_once(service, events)
    assert await released(reader)


@sqlite_file_lock
async def test_writes_wait_for_a_writer_holding_the_lock_and_nothing_is_lost(
    service: Service,
) -> None:
    assert service.settings.database_busy_timeout_seconds > 3
    writer = await hold(service.settings.database_path, "BEGIN IMMEDIATE", 3)
    events = [service.event(f"u-write-{n % 4}", text="/greet") for n in range(8)]
    statuses, seconds = await post_all(service, events)
    assert statuses == [200] * 8
    assert seconds > 2  # each event was written only once the lock was released
    assert await released(writer)
    await assert_each_answered_once(service, events)


@sqlite_file_lock
async def test_a_lock_held_beyond_the_busy_timeout_gets_503_and_the_retry_is_answered(
    start_service,
) -> None:
    service: Service = await start_service(database_busy_timeout_seconds=0.5)
    writer = await hold(service.settings.database_path, "BEGIN IMMEDIATE", 3)
    events = [service.event(f"u-stuck-{n}", text="/greet") for n in range(3)]
    statuses, _ = await post_all(service, events)
    assert statuses == [503] * 3  # not 500: Zalo retries, and the log says why
    assert await released(writer)
    # Zalo's retry carries the same body; now it is recorded and answered, once.
    statuses, _ = await post_all(service, events)
    assert statuses == [200] * 3
    await assert_each_answered_once(service, events)


@sqlite_file_lock
async def test_events_that_meet_a_lock_while_processed_are_answered_in_order_once_it_goes(
    start_service,
) -> None:
    """Recorded and acknowledged, then another process holds the write lock past the busy
    timeout while they are processed: tried again with backoff, answered without a restart,
    the user's second message after the first."""
    service: Service = await start_service(database_busy_timeout_seconds=0.5)
    events = [parse_event(service.event("u-locked-later", text=t)) for t in ("/greet", "/thank")]
    for event in events:  # what the webhook does before it answers 200
        await service.database.run(
            inbox.record, event.key, event.name, event.user_id, event.timestamp_ms, event.payload
        )
    writer = await hold(service.settings.database_path, "BEGIN IMMEDIATE", 3)
    for event in events:
        service.app[WORKER].submit(event)
    assert await released(writer)
    await service.settle()
    for event in events:
        assert await service.database.run(inbox.status_of, event.key) == "done"
    replies = texts(await service.messages("u-locked-later"))
    assert len(replies) == 2, replies
    assert replies[0].startswith("Xin chào") and replies[1].startswith("Dạ không có gì")


async def test_a_permanent_error_fails_the_event_once_while_a_passing_one_is_retried() -> None:
    failures = {
        "locked": [sqlite3.OperationalError("database is locked")] * 2,
        "io": [sqlite3.OperationalError("disk I/O error")],
        "bug": [sqlite3.IntegrityError("UNIQUE constraint failed: inbox.key")],
    }
    tries: list[str] = []

    async def handle(event: ZaloEvent) -> None:
        tries.append(event.key)
        if failures[event.key]:
            raise failures[event.key].pop()

    queues = UserQueues(handle, storage_retry_seconds=(0.01, 0.02))
    queues.start()
    for key in ("locked", "io", "bug"):
        queues.submit(ZaloEvent("user_send_text", key, "u-one", 1, {}))
    await queues.drain()
    assert tries == ["locked", "locked", "locked", "io", "io", "bug"]  # in order, one user
    assert (queues.stats.processed, queues.stats.failed) == (3, 1)
