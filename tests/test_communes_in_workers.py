"""Communes with worker processes (CITIZENBOT_WORKERS=2): `citizenbot run` as its own process,
the default commune's OA on a Zalo sandbox outside the service, each added commune's on the
service's embedded sandbox; each commune's citizens answered by the worker of their shard
with the commune's own locality, a commune added while the service runs included."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest_asyncio

from bot.conversation.worker_pool import WorkerPool, commune_woken
from bot.storage.inbox import shard_of
from bot.zalo.events import ZaloEvent
from tests.conftest import free_port, run_cli
from tests.external_zalo import ExternalZalo, ServiceProcess, post_webhook, signed
from tests.test_communes import (
    QUESTION,
    content_copy,
    post_to_commune,
    wait_for_reply,
    with_communes,
    write_locality,
)

WORKERS = 2
DEFAULT_HOTLINE = "0000 000 000"  # content/locality.yml's


@dataclass
class RunningService:
    """What the commune tests' helpers reach a service by (tests/test_communes.py)."""

    http: aiohttp.ClientSession
    url: str


@dataclass
class ServiceWithWorkers:
    process: ServiceProcess
    service: RunningService
    zalo: ExternalZalo  # the default commune's OA


StartWithWorkers = Callable[[Path, Path], Awaitable[ServiceWithWorkers]]


@pytest_asyncio.fixture
async def start_with_workers(
    model_dir: Path, tmp_path: Path, database_url_for
) -> AsyncIterator[StartWithWorkers]:
    """Start `citizenbot run` with two worker processes on a content folder and a data
    folder (on PostgreSQL when the tests run there: a schema per commune); stopped (SIGTERM,
    exit 0) after the test."""
    started: list[ServiceWithWorkers] = []
    zalo = ExternalZalo()
    await zalo.start()

    async def start(content: Path, data_dir: Path) -> ServiceWithWorkers:
        env = {
            **zalo.env(),
            "CITIZENBOT_WORKERS": str(WORKERS),
            "CITIZENBOT_CONTENT_DIR": str(content),
            "CITIZENBOT_DATABASE_URL": database_url_for(data_dir / "citizenbot.db"),
        }
        process = ServiceProcess(free_port(), data_dir, env, tmp_path / "service.log")
        zalo.sandbox.webhook_url = f"{process.url}/webhook/zalo"
        await process.start()
        http = aiohttp.ClientSession()
        started.append(ServiceWithWorkers(process, RunningService(http, process.url), zalo))
        await _workers_ready(http, process.url)
        return started[-1]

    try:
        yield start
        for running in started:
            assert await running.process.terminate() == 0
            log = running.process.log()
            assert "Traceback" not in log, log[-3000:]
    finally:
        for running in started:
            running.process.kill()
            await running.service.http.close()
        await zalo.stop()


async def _workers_ready(http: aiohttp.ClientSession, url: str, seconds: float = 300) -> None:
    """Until both worker processes have loaded their model."""
    for _ in range(int(seconds * 10)):
        async with http.get(f"{url}/healthz") as resp:
            health = await resp.json()
        if health["workers"]["ready"] == WORKERS:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the workers did not get ready: {health}")


def citizens_of_each_shard(prefix: str) -> list[str]:
    """One user id in each worker's shard: every worker process answers."""
    names = (f"{prefix}-{n}" for n in itertools.count())
    return [next(u for u in names if shard_of(u, WORKERS) == s) for s in range(WORKERS)]


async def test_with_worker_processes_each_commune_answers_with_its_own_hotline(
    start_with_workers: StartWithWorkers, tmp_path: Path
) -> None:
    hotlines = {"xa-dong": "0209 555 001", "xa-tay": "0209 555 002"}
    content, data_dir = await with_communes(tmp_path, hotlines)
    running = await start_with_workers(content, data_dir)
    service, zalo = running.service, running.zalo
    citizens = citizens_of_each_shard("citizen")
    for slug in hotlines:
        for user_id in citizens:
            assert await post_to_commune(service, slug, user_id, QUESTION) == 200
    for user_id in citizens:
        event = signed(zalo.text_event(user_id, QUESTION))
        assert await post_webhook(service.http, service.url, *event) == 200
    for slug, hotline in hotlines.items():
        for user_id in citizens:
            reply = await wait_for_reply(service, slug, user_id, seconds=180)
            assert hotline in reply, (slug, user_id, reply)
            assert "0209 555" not in reply.replace(hotline, ""), (slug, reply)
            assert DEFAULT_HOTLINE not in reply, (slug, reply)
    for user_id in citizens:
        for _ in range(1800):
            if zalo.messages(user_id):
                break
            await asyncio.sleep(0.1)
        reply = "\n".join(m["message"].get("text", "") for m in zalo.messages(user_id))
        assert DEFAULT_HOTLINE in reply and "0209 555" not in reply, (user_id, reply)


async def test_with_worker_processes_a_commune_added_while_running_is_served(
    start_with_workers: StartWithWorkers, tmp_path: Path, database_url_for
) -> None:
    content = content_copy(tmp_path)
    data_dir = tmp_path / "var"
    running = await start_with_workers(content, data_dir)
    service = running.service
    assert await post_to_commune(service, "phuong-moi", "u-1", QUESTION) == 404
    env = {
        "CITIZENBOT_DATA_DIR": str(data_dir),
        "CITIZENBOT_CONTENT_DIR": str(content),
        "CITIZENBOT_DATABASE_URL": database_url_for(data_dir / "citizenbot.db"),
    }
    out = await run_cli("commune", "add", "phuong-moi", env=env)
    assert "/webhook/zalo/phuong-moi" in out
    write_locality(content, "phuong-moi", "0209 777 001")
    for user_id in citizens_of_each_shard("u"):
        assert await post_to_commune(service, "phuong-moi", user_id, QUESTION) == 200
        reply = await wait_for_reply(service, "phuong-moi", user_id, seconds=180)
        assert "0209 777 001" in reply, (user_id, reply)


async def test_a_communes_wake_up_that_finds_the_workers_pair_full_reaches_it_later() -> None:
    """Else its event would wait in the commune's inbox until the commune's next event."""
    pool = WorkerPool(1, grace_seconds=1)
    slot = pool.slots[0]
    slot.channel, workers_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    slot.channel.setblocking(False)
    workers_end.setblocking(False)
    event = ZaloEvent("user_send_text", "k", "citizen", 0, {})
    try:
        for _ in range(100_000):  # the worker is busy: its unread wake-ups fill the pair
            pool.submit(event, "xa-dong")
            if slot.owed:
                break
        pool.submit(event, "xa-tay")
        woken: set[str] = set()
        for _ in range(100):
            try:
                while True:  # the worker reads its wake-ups; room again on the pair
                    woken.add(commune_woken(workers_end.recv(256)))
            except BlockingIOError:
                pass
            if "xa-tay" in woken and not slot.owed:
                break
            await asyncio.sleep(0.01)
        assert woken == {"xa-dong", "xa-tay"}
        assert not slot.owed
    finally:
        asyncio.get_running_loop().remove_writer(slot.channel.fileno())
        slot.channel.close()
        workers_end.close()
