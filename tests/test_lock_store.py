"""With Redis, Rasa's lock store serialises one conversation's turns across processes."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

from rasa.core.lock_store import InMemoryLockStore

from bot.brain.lock_store import AtomicRedisLockStore, lock_store
from tests.conftest import PROJECT

# One process's turns on one conversation: each writes when it starts and when it ends.
TAKE_TURNS = """
import asyncio, os, sys, time
from bot.brain.lock_store import lock_store

async def main(url, log):
    store = lock_store(url)
    for _ in range(5):
        async with store.lock("u-shared", wait_time_in_seconds=0.02):
            with open(log, "a") as out:
                out.write(f"start {os.getpid()} {time.time()}\\n")
            await asyncio.sleep(0.1)
            with open(log, "a") as out:
                out.write(f"end {os.getpid()} {time.time()}\\n")

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_the_lock_store_is_in_memory_without_redis() -> None:
    assert isinstance(lock_store(""), InMemoryLockStore)


def test_tickets_asked_for_at_once_by_many_processes_are_all_different(redis_url: str) -> None:
    stores = [AtomicRedisLockStore(redis_url) for _ in range(20)]  # a connection each
    start = threading.Barrier(len(stores))
    tickets: list[int] = []

    def ask(store: AtomicRedisLockStore) -> None:
        start.wait()
        tickets.append(store.issue_ticket("u-busy"))

    threads = [threading.Thread(target=ask, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(tickets) == list(range(len(stores)))


async def test_two_processes_take_turns_on_one_conversation(redis_url: str, tmp_path: Path) -> None:
    log = tmp_path / "turns.log"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", TAKE_TURNS, redis_url, str(log), cwd=PROJECT
        )
        for _ in range(2)
    ]
    assert [await process.wait() for process in processes] == [0, 0]
    lines = [line.split() for line in log.read_text().splitlines()]
    assert len(lines) == 20 and len({pid for _, pid, _ in lines}) == 2
    # Ordered by time, the turns never overlap: each start follows the previous turn's end.
    ordered = sorted(lines, key=lambda line: float(line[2]))
    assert [kind for kind, _, _ in ordered] == ["start", "end"] * 10
    assert all(ordered[i][1] == ordered[i + 1][1] for i in range(0, 20, 2))


async def test_a_turn_killed_midway_holds_the_conversation_only_until_its_ticket_expires(
    redis_url: str,
) -> None:
    killed = AtomicRedisLockStore(redis_url)
    killed.issue_ticket("u-killed", lock_lifetime=1)  # taken, then never given back
    began = time.monotonic()
    async with AtomicRedisLockStore(redis_url).lock("u-killed", wait_time_in_seconds=0.05):
        waited = time.monotonic() - began
    assert 0.9 < waited < 3
    assert killed.get_lock("u-killed") is None  # the key went with the last ticket
