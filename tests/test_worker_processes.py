"""`citizenbot run` with two worker processes (CITIZENBOT_WORKERS=2), against a Zalo sandbox
outside the service: SIGKILL one worker in the middle of a burst; the web server's process
keeps acknowledging, starts the worker again, and every event is answered exactly once, each
citizen's replies in the order their events were acknowledged."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp

from bot.brain.training import current_model
from bot.conversation.worker_process import WORKER_NICENESS
from bot.storage.inbox import shard_of
from tests.conftest import free_port
from tests.external_zalo import (
    ExternalZalo,
    ServiceProcess,
    assert_answered_exactly_once,
    post_webhook,
    rows,
    saying_answered,
    signed,
    wait_until_everything_is_processed,
)
from tests.test_kill_mid_burst import SAYINGS, USERS, burst
from tests.test_queue_bound import parse_metrics

WORKERS = 2
KILLED = 0  # the shard whose worker is killed


async def _health(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(f"{url}/healthz") as resp:
        return resp.status, await resp.json()


async def _answered(zalo: ExternalZalo, user_ids: list[str], seconds: float = 240) -> None:
    """Until each user has had one reply (both workers have loaded their model)."""
    for _ in range(int(seconds * 10)):
        if all(zalo.messages(user_id) for user_id in user_ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the workers did not answer the warm-up events")


async def test_sigkill_of_a_worker_mid_burst_answers_every_event_once_in_order(
    model_dir: Path, tmp_path: Path, database_url_for
) -> None:
    zalo = ExternalZalo()
    await zalo.start()
    port = free_port()
    zalo.sandbox.webhook_url = f"http://127.0.0.1:{port}/webhook/zalo"
    path = tmp_path / "var" / "citizenbot.db"
    database = database_url_for(path) or path  # PostgreSQL's URL, or the SQLite file
    env = {**zalo.env(), "CITIZENBOT_WORKERS": str(WORKERS)}
    env["CITIZENBOT_DATABASE_URL"] = database_url_for(path)
    service = ServiceProcess(port, tmp_path / "var", env, tmp_path / "service.log")
    try:
        await service.start()
        async with aiohttp.ClientSession() as http:
            # One citizen of each shard first: both models loaded, the token pair stored.
            names = (f"u-warm-up-{n}" for n in itertools.count())
            warm_up = [next(u for u in names if shard_of(u, WORKERS) == s) for s in range(WORKERS)]
            for user_id in warm_up:
                body = signed(zalo.text_event(user_id, "/greet"))
                assert await post_webhook(http, service.url, *body) == 200
            await _answered(zalo, warm_up)
            status, health = await _health(http, service.url)
            assert status == 200 and health["workers"]["ready"] == WORKERS, health
            killed_pid = health["workers"]["pids"][KILLED]

            events = burst(zalo, "u-worker", seed=14)
            bodies = [signed(event) for event in events]
            statuses: list[int | None] = [None] * len(events)
            replies_at_kill: list[int] = []

            async def send(n: int) -> None:
                await asyncio.sleep(n * 0.02)  # ~50 events/s: the burst outlasts the kill
                statuses[n] = await post_webhook(http, service.url, *bodies[n])
                # Mid-burst on both sides: events still arriving, replies still going out.
                half_acknowledged = sum(s == 200 for s in statuses) >= len(events) // 2
                replied = zalo.delivered() - len(warm_up)
                if not replies_at_kill and half_acknowledged and replied > 10:
                    replies_at_kill.append(replied)
                    os.kill(killed_pid, signal.SIGKILL)

            await asyncio.gather(*(send(n) for n in range(len(events))))
            # Replies on the wire at the kill: the killed worker's stay pending for its successor.
            [(in_doubt,)] = rows(database, "SELECT count(*) FROM outbox WHERE status = 'pending'")
            # The web server's process acknowledged every event, the kill notwithstanding.
            assert statuses == [200] * len(events)
            assert replies_at_kill and 0 < replies_at_kill[0] < len(events)
            await wait_until_everything_is_processed(
                database, len(events) + len(warm_up), seconds=240
            )
            status, health = await _health(http, service.url)
            assert status == 200 and health["workers"]["ready"] == WORKERS, health
            assert health["workers"]["restarts"] == 1
            assert health["workers"]["pids"][KILLED] != killed_pid
        assert await service.terminate() == 0
    finally:
        service.kill()
        await zalo.stop()

    assert_answered_exactly_once(zalo, database, events, SAYINGS)
    [(found_in_history,)] = rows(
        database, "SELECT count(*) FROM outbox WHERE status = 'sent' AND attempts = 0"
    )
    # Each citizen's replies come in the order the service acknowledged their events.
    acknowledged: dict[str, list[str]] = {}
    for user_id, payload in rows(
        database, "SELECT user_id, payload FROM inbox ORDER BY received_at, rowid"
    ):
        acknowledged.setdefault(user_id, []).append(json.loads(payload)["message"]["text"])
    for user in range(USERS):
        user_id = f"u-worker-{user}"
        answered = [saying_answered(m, SAYINGS) for m in zalo.messages(user_id)]
        assert answered == acknowledged[user_id], user_id
    # The killed worker's shard was served by it, then by the worker started in its place.
    claimants = {
        claimant
        for user_id, claimant in rows(database, "SELECT user_id, claimed_by FROM inbox")
        if shard_of(user_id, WORKERS) == KILLED
    }
    assert {claimant.rsplit(":", 1)[1] for claimant in claimants} >= {str(killed_pid)}
    assert len(claimants) == 2, claimants
    log = service.log()
    assert f"worker {KILLED} (pid {killed_pid}) ended" in log
    for shard in range(WORKERS):  # SIGTERM: each worker finished and exited cleanly
        assert f"worker {shard} stopped (exit code 0)" in log
    assert "Traceback" not in log
    print(
        f"worker kill mid-burst: {replies_at_kill[0]} of {len(events)} replies before the kill,"
        f" {in_doubt} in flight, {found_in_history} found in Zalo's history"
    )


async def test_workers_that_keep_dying_are_restarted_and_fail_the_health_check(
    model_dir: Path, tmp_path: Path, database_url_for
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / current_model(model_dir).name).write_bytes(os.urandom(64 * 1024))
    zalo = ExternalZalo()
    await zalo.start()
    port = free_port()
    path = tmp_path / "var" / "citizenbot.db"
    env = {**zalo.env(), "CITIZENBOT_WORKERS": str(WORKERS), "CITIZENBOT_MODEL_DIR": str(models)}
    env["CITIZENBOT_DATABASE_URL"] = database_url_for(path)
    service = ServiceProcess(port, tmp_path / "var", env, tmp_path / "service.log")
    try:
        await service.start()  # the web server's process loads no model: 200 at first
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):
                status, health = await _health(http, service.url)
                if len(health["workers"]["failing"]) == WORKERS:
                    break
                await asyncio.sleep(0.1)
            # Each worker died at once three times in a row: restarted, and reported.
            assert status == 503 and health["status"] == "failing", health
            assert health["workers"]["failing"] == list(range(WORKERS))
            assert health["workers"]["restarts"] >= 2 * WORKERS
            # Events are still acknowledged: they wait in the inbox for a usable model.
            event = signed(zalo.text_event("u-waits", "/greet"))
            assert await post_webhook(http, service.url, *event) == 200
        assert await service.terminate() == 0
    finally:
        service.kill()
        await zalo.stop()
    database = database_url_for(path) or path
    assert rows(database, "SELECT status FROM inbox") == [("pending",)]
    log = service.log()
    for shard in range(WORKERS):
        assert f"worker {shard} cannot start: the model" in log
        assert f"worker {shard} (pid" in log and "restarting it in 1 s" in log
    assert "Traceback" not in log


def _running(pid: int) -> bool:
    """Whether `pid` is a process still running (not gone, not a zombie left to reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


async def test_workers_stop_at_once_when_the_web_servers_process_is_killed(
    model_dir: Path, tmp_path: Path
) -> None:
    """Else a restarted service's workers would share the shards with the orphans."""
    port = free_port()
    env = {"CITIZENBOT_WORKERS": str(WORKERS)}
    service = ServiceProcess(port, tmp_path / "var", env, tmp_path / "service.log")
    try:
        await service.start()
        async with aiohttp.ClientSession() as http:
            for _ in range(2400):
                status, health = await _health(http, service.url)
                if health["workers"]["ready"] == WORKERS:
                    break
                await asyncio.sleep(0.1)
        assert health["workers"]["ready"] == WORKERS, health
        pids = health["workers"]["pids"]
        # Workers yield the CPU to the web server's acknowledgements.
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert [os.getpriority(os.PRIO_PROCESS, pid) for pid in pids] == [
            min(ours + WORKER_NICENESS, 19)
        ] * WORKERS
        service.kill()
        assert await service.wait() == -signal.SIGKILL
        for _ in range(100):
            if not any(_running(pid) for pid in pids):
                break
            await asyncio.sleep(0.1)
        assert not any(_running(pid) for pid in pids)
    finally:
        service.kill()
    assert "the web server's process is gone" in service.log()


async def test_metrics_show_each_shards_backlog_and_each_worker_from_the_web_servers_process(
    model_dir: Path, tmp_path: Path
) -> None:
    """The queues are the workers': /metrics reads the backlog from the inbox by shard."""
    models = tmp_path / "models"
    models.mkdir()
    (models / current_model(model_dir).name).write_bytes(os.urandom(64 * 1024))
    zalo = ExternalZalo()
    await zalo.start()
    env = {**zalo.env(), "CITIZENBOT_WORKERS": str(WORKERS), "CITIZENBOT_MODEL_DIR": str(models)}
    service = ServiceProcess(free_port(), tmp_path / "var", env, tmp_path / "service.log")
    names = (f"u-backlog-{n}" for n in itertools.count())
    citizens = [next(u for u in names if shard_of(u, WORKERS) == s) for s in range(WORKERS)]
    sent = {citizens[0]: 3, citizens[1]: 1}
    try:
        await service.start()
        async with aiohttp.ClientSession() as http:
            for user_id, count in sent.items():
                for n in range(count):
                    event = signed(zalo.text_event(user_id, f"/greet {n}"))
                    assert await post_webhook(http, service.url, *event) == 200
            for _ in range(600):  # each worker died at once (no usable model) and restarted
                status, health = await _health(http, service.url)
                if health["workers"]["restarts"] >= WORKERS:
                    break
                await asyncio.sleep(0.1)
            async with http.get(f"{service.url}/metrics") as resp:
                metrics = parse_metrics(await resp.text())
        assert await service.terminate() == 0
    finally:
        service.kill()
        await zalo.stop()
    # The events wait in the inbox, each shard's own, while no worker can take them.
    for shard, user_id in enumerate(citizens):
        waiting = metrics[f'citizenbot_inbox_waiting_events{{shard="{shard}"}}']
        claimed = metrics[f'citizenbot_inbox_claimed_events{{shard="{shard}"}}']
        assert (waiting, claimed) == (sent[user_id], 0), shard
        assert metrics[f'citizenbot_worker_ready{{worker="{shard}"}}'] == 0
    assert metrics["citizenbot_inbox_pending_events"] == sum(sent.values())
    restarts = [
        metrics[f'citizenbot_worker_restarts_total{{worker="{s}"}}'] for s in range(WORKERS)
    ]
    assert sum(restarts) >= health["workers"]["restarts"] >= WORKERS
    # The queue counters of the web server's process, which holds no queue, are left out.
    assert "citizenbot_queued_events" not in metrics
    assert "citizenbot_events_processed_total" not in metrics
