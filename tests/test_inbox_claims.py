"""The inbox as worker processes share it: a citizen's shard, claims, and taking over the
claims of a worker that died."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.storage import inbox
from bot.storage.database import open_store
from bot.storage.inbox_wakeups import InboxWakeups
from bot.storage.sql import Store
from tests.conftest import PROJECT

USERS = [f"u-{n}" for n in range(40)]


@pytest.fixture
def db(tmp_path: Path, database_url_for) -> Iterator[Store]:
    path = tmp_path / "citizenbot.db"
    store = open_store(path, database_url_for(path))
    yield store
    store.conn.close()  # PostgreSQL's session ends with the test


def _record(db: Store, *users: str) -> None:
    for n, user_id in enumerate(users):
        key = f"{user_id}-{n}"
        inbox.record(db, key, "user_send_text", user_id, n, {"key": key, "user": user_id})


def test_a_citizen_falls_in_the_same_shard_in_every_process() -> None:
    """Python's hash() is salted per process; the shard must not be."""
    script = (
        "import sys; from bot.storage.inbox import shard_of;"
        " print([shard_of(u, 3) for u in sys.argv[1:]])"
    )
    shards = [
        subprocess.run(
            [sys.executable, "-c", script, *USERS],
            cwd=PROJECT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert shards[0] == shards[1] == f"{[inbox.shard_of(u, 3) for u in USERS]}\n"
    assert set(inbox.shard_of(u, 3) for u in USERS) == {0, 1, 2}  # and they spread


def test_a_worker_claims_its_shards_pending_events_oldest_first(db: Store) -> None:
    _record(db, *USERS)
    mine = [u for u in USERS if inbox.shard_of(u, 2) == 0]
    claimed = inbox.claim(db, 0, 2, "worker-0")
    assert [event["user"] for event in claimed] == mine
    inbox.finish(db, claimed[0]["key"])
    # Read again (after an overload): what it holds and has not finished.
    assert [event["user"] for event in inbox.claim(db, 0, 2, "worker-0")] == mine[1:]


def test_an_event_claimed_by_a_live_worker_is_not_claimed_by_another(db: Store) -> None:
    _record(db, *USERS)
    assert inbox.claim(db, 1, 2, "worker-1:100")
    assert inbox.claim(db, 1, 2, "worker-1:200") == []


def test_the_worker_started_in_a_dead_ones_place_takes_over_its_claims(db: Store) -> None:
    _record(db, *USERS)
    held = inbox.claim(db, 1, 2, "worker-1:100")
    inbox.finish(db, held[0]["key"])
    assert inbox.take_over(db, 1, 2, "worker-1:200") == len(held) - 1
    assert inbox.claim(db, 1, 2, "worker-1:200") == held[1:]


def test_a_woken_worker_claims_only_what_no_worker_has_claimed(db: Store) -> None:
    _record(db, *USERS[:20])
    held = inbox.claim(db, 0, 2, "worker-0")
    _record(db, *USERS[20:])
    new = inbox.claim_new(db, 0, 2, "worker-0")
    assert [event["user"] for event in new] == [u for u in USERS[20:] if inbox.shard_of(u, 2) == 0]
    assert inbox.claim_new(db, 0, 2, "worker-0") == []
    assert inbox.claim(db, 0, 2, "worker-0") == held + new  # all it holds, oldest first


# A worker process woken again and again: claims what no process holds, prints what it got.
CLAIMER = """
import json, sys, time
from pathlib import Path
from bot.storage import inbox
from bot.storage.database import open_store
db = open_store(Path(sys.argv[1]), sys.argv[2])
got, idle = [], 0
while idle < 40:
    new = inbox.claim_new(db, 0, 1, sys.argv[3])
    got += [event["key"] for event in new]
    idle = 0 if new else idle + 1
    time.sleep(0.005)
print(json.dumps(got))
"""


def test_processes_claiming_at_once_get_each_event_exactly_once(
    tmp_path: Path, database_url_for
) -> None:
    """On PostgreSQL each claim locks only its rows (FOR UPDATE SKIP LOCKED); on SQLite it
    holds the write lock. Either way no event is claimed twice or left out."""
    path = tmp_path / "citizenbot.db"
    url = database_url_for(path)
    db = open_store(path, url)
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), url, f"worker-{n}"],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(3)
    ]
    keys = [f"e-{n}" for n in range(300)]
    for n, key in enumerate(keys):
        inbox.record(db, key, "user_send_text", f"u-{n % 7}", n, {"key": key})
    claimed = [json.loads(claimer.communicate(timeout=120)[0]) for claimer in claimers]
    assert sorted(key for got in claimed for key in got) == sorted(keys)
    assert all(got == sorted(got, key=keys.index) for got in claimed)  # oldest first


# Several instances on one PostgreSQL database: claims are leases, a citizen's events in order.


def test_a_claim_not_renewed_for_the_lease_is_taken_over_by_another_instance(
    postgres_url: str,
) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, *USERS[:5])
    held = inbox.claim(db, 0, 1, "a:1/worker-0/1:1", lease_seconds=30)
    assert inbox.claim(db, 0, 1, "b:2/worker-0/1:2", lease_seconds=30) == []
    # Instance a died 30 s ago (b's lease reckoning moves past a's claims).
    db.conn.execute("UPDATE inbox SET claimed_at = '2000-01-01T00:00:00.000+00:00'")
    assert inbox.claim(db, 0, 1, "b:2/worker-0/1:2", lease_seconds=30) == held


def test_a_renewed_claim_stays_with_its_instance(postgres_url: str) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, *USERS[:5])
    held = inbox.claim(db, 0, 1, "a:1/worker-0/1:1", lease_seconds=0.2)
    time.sleep(0.3)
    assert inbox.renew(db, "a:1/worker-0/1:1") == len(held)
    assert inbox.claim_new(db, 0, 1, "b:2/worker-0/1:2", lease_seconds=0.2) == []


def test_a_citizens_later_event_waits_while_another_instance_holds_their_earlier_one(
    postgres_url: str,
) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, "u-1")
    first = inbox.claim_new(db, 0, 1, "a:1/worker-0/1:1")
    inbox.record(db, "u-1-second", "user_send_text", "u-1", 9, {"key": "u-1-second"})
    _record(db, "u-2")
    # b may take u-2's event, never u-1's second while a holds u-1's first.
    assert [e["key"] for e in inbox.claim_new(db, 0, 1, "b:2/worker-0/1:2")] == ["u-2-0"]
    assert [e["key"] for e in inbox.claim_new(db, 0, 1, "a:1/worker-0/1:1")] == ["u-1-second"]
    assert [e["key"] for e in first] == ["u-1-0"]


def test_one_claim_takes_a_citizens_whole_backlog_in_order(postgres_url: str) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, "u-1", "u-1", "u-2", "u-1")
    claimed = inbox.claim_new(db, 0, 1, "a:1/worker-0/1:1")
    assert [e["key"] for e in claimed] == ["u-1-0", "u-1-1", "u-2-2", "u-1-3"]


def test_the_restarted_worker_takes_over_only_its_own_instances_claims(
    postgres_url: str,
) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, *USERS[:4])
    inbox.claim(db, 0, 1, "a:1/worker-0/1:10")
    _record(db, *USERS[4:8])
    inbox.claim(db, 0, 1, "b:2/worker-0/1:20")
    assert inbox.take_over(db, 0, 1, "a:1/worker-0/1:11") == 4


async def test_an_event_recorded_by_one_instance_wakes_the_others_at_once(
    postgres_url: str,
) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    woken = asyncio.Event()
    wakeups = InboxWakeups(postgres_url, woken.set)
    await wakeups.start()
    try:
        _record(db, "u-1")
        await asyncio.wait_for(woken.wait(), 5)  # not the second of the next look
    finally:
        wakeups.stop()


def test_instances_starting_at_once_all_open_the_database(postgres_url: str) -> None:
    """Each creates the claims' indexes if missing: one at a time, or one of them fails."""
    with ThreadPoolExecutor(6) as pool:
        stores = list(pool.map(lambda _: open_store(Path("unused.db"), postgres_url), range(6)))
    assert len(stores) == 6


def test_a_claim_takes_no_more_than_its_limit_and_leaves_the_rest_to_other_instances(
    postgres_url: str,
) -> None:
    """A backlog is shared by how fast each instance answers, not held by the first to look."""
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, *USERS[:10])
    first = inbox.claim(db, 0, 1, "a:1/worker-0/1:1", limit=4)
    assert [e["key"] for e in first] == [f"{u}-{n}" for n, u in enumerate(USERS[:4])]
    assert len(inbox.claim(db, 0, 1, "b:2/worker-0/1:2", limit=4)) == 4
    inbox.finish(db, first[0]["key"])
    again = inbox.claim(db, 0, 1, "a:1/worker-0/1:1", limit=4)  # what it holds, topped up
    assert [e["key"] for e in again] == [e["key"] for e in first[1:]] + ["u-8-8"]


def test_a_limited_claim_still_takes_a_citizens_events_in_order(postgres_url: str) -> None:
    db = open_store(Path("unused.db"), postgres_url)
    _record(db, "u-1", "u-1", "u-2", "u-1")
    claimed = inbox.claim(db, 0, 1, "a:1/worker-0/1:1", limit=3)
    assert [e["key"] for e in claimed] == ["u-1-0", "u-1-1", "u-2-2"]
    # u-1's last waits for a: b may not answer it before a has answered u-1's earlier ones.
    assert inbox.claim(db, 0, 1, "b:2/worker-0/1:2", limit=3) == []
