"""The inbox as worker processes share it: a citizen's shard, claims, and taking over the
claims of a worker that died."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.storage import inbox
from bot.storage.database import open_store
from bot.storage.sql import Store
from tests.conftest import PROJECT

USERS = [f"u-{n}" for n in range(40)]


@pytest.fixture
def db(tmp_path: Path, database_url_for) -> Store:
    path = tmp_path / "citizenbot.db"
    return open_store(path, database_url_for(path))


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
