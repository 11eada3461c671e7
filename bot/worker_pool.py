"""The worker processes of `citizenbot run` when CITIZENBOT_WORKERS > 1, seen from the web
server's process, which stays light: it records each event in the inbox, acknowledges it,
and wakes the worker whose shard the citizen falls in (bot/worker_process.py).

A worker that dies is started again (logged); the new one takes over its shard's pending
events, so what the dead one left unfinished is handled once: a reply it may have sent
already is recognised by its outbox key (bot/zalo/client.py). One process per shard at a
time: the new one starts only after the old one is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any

from bot.storage.inbox import shard_of
from bot.zalo.events import ZaloEvent

log = logging.getLogger(__name__)
# A worker that dies sooner than this after its start died "quickly": each quick death in a
# row doubles the wait before the next start (1 s, 2 s… 30 s), and from the third one
# /healthz fails (a broken model or database: someone must look).
QUICK_DEATH_SECONDS = 60.0
LONGEST_RESTART_WAIT = 30.0
FAILING_AFTER_QUICK_DEATHS = 3
# Beyond the workers' own grace period, how long a worker may take to exit before a kill.
EXIT_MARGIN_SECONDS = 10.0


@dataclass
class WorkerSlot:
    index: int
    process: asyncio.subprocess.Process | None = None
    wake_fd: int | None = None  # the write end of its wake-up pipe
    started_at: float = 0.0
    restarts: int = 0
    quick_deaths: int = 0  # in a row

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None


class WorkerPool:
    def __init__(self, count: int, grace_seconds: float) -> None:
        self._grace_seconds = grace_seconds
        self._slots = [WorkerSlot(index) for index in range(count)]
        self._stopping = asyncio.Event()
        self._supervisors: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every worker; each keeps being restarted until `stop`."""
        for slot in self._slots:
            await self._spawn(slot)
            self._supervisors.append(
                asyncio.create_task(self._supervise(slot), name=f"worker-{slot.index}")
            )

    def submit(self, event: ZaloEvent) -> None:
        """The webhook recorded `event`: wake the worker of its citizen's shard."""
        slot = self._slots[shard_of(event.user_id, len(self._slots))]
        if slot.wake_fd is None:
            return  # being restarted: the new worker reads the inbox when it starts
        try:
            os.write(slot.wake_fd, b"\x01")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups the worker has not read yet: it will read
        except BrokenPipeError:
            pass  # the worker just died: its successor reads the inbox when it starts

    def health(self) -> dict[str, Any]:
        """For /healthz: how many workers run, and whether that is as it should be."""
        alive = sum(slot.alive for slot in self._slots)
        failing = [s.index for s in self._slots if s.quick_deaths >= FAILING_AFTER_QUICK_DEATHS]
        return {
            "count": len(self._slots),
            "alive": alive,
            "restarting": len(self._slots) - alive,
            "failing": failing,
            "restarts": sum(slot.restarts for slot in self._slots),
            "pids": [
                slot.process.pid if slot.alive and slot.process else None for slot in self._slots
            ],
        }

    @property
    def healthy(self) -> bool:
        """Every worker alive or being restarted, none dying as soon as it starts."""
        return not self._stopping.is_set() and not self.health()["failing"]

    async def stop(self) -> None:
        """SIGTERM to every worker (each finishes what it claimed, up to the grace period),
        then wait for them; one still running after that is killed."""
        self._stopping.set()
        for slot in self._slots:
            if slot.alive:
                assert slot.process is not None
                slot.process.send_signal(signal.SIGTERM)
        supervisors = asyncio.gather(*self._supervisors, return_exceptions=True)
        try:
            await asyncio.wait_for(
                asyncio.shield(supervisors), self._grace_seconds + EXIT_MARGIN_SECONDS
            )
        except asyncio.TimeoutError:
            for slot in self._slots:
                if slot.alive:
                    assert slot.process is not None
                    log.error("worker %d did not stop in time; killed", slot.index)
                    slot.process.kill()
            await supervisors

    async def _spawn(self, slot: WorkerSlot) -> None:
        read_fd, write_fd = os.pipe()
        try:
            slot.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.worker_process",
                str(slot.index),
                str(len(self._slots)),
                str(read_fd),
                str(self._grace_seconds),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(read_fd,),
            )
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)  # the worker's end: the pipe closes when either side ends
        os.set_blocking(write_fd, False)
        slot.wake_fd = write_fd
        slot.started_at = time.monotonic()
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    async def _supervise(self, slot: WorkerSlot) -> None:
        """Wait for the worker to end; unless stopping, start it again."""
        while True:
            assert slot.process is not None
            code = await slot.process.wait()
            if slot.wake_fd is not None:
                os.close(slot.wake_fd)
                slot.wake_fd = None
            if self._stopping.is_set():
                log.info("worker %d stopped (exit code %d)", slot.index, code)
                return
            lived = time.monotonic() - slot.started_at
            slot.quick_deaths = slot.quick_deaths + 1 if lived < QUICK_DEATH_SECONDS else 0
            log.error(
                "worker %d (pid %d) ended after %.0f s (exit code %d); restarting it in %g s;"
                " its unfinished events follow",
                slot.index,
                slot.process.pid,
                lived,
                code,
                _restart_wait(slot),
            )
            while True:
                if await self._stopped_within(_restart_wait(slot)):
                    return
                slot.restarts += 1
                try:
                    await self._spawn(slot)
                    break
                except OSError:  # out of memory or processes: try again, later each time
                    log.exception("worker %d could not be started", slot.index)
                    slot.quick_deaths += 1

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait `seconds`, or less if `stop` is called meanwhile; whether it was."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()


def _restart_wait(slot: WorkerSlot) -> float:
    """None after a worker that ran a while; 1 s, 2 s… after quick deaths in a row."""
    if not slot.quick_deaths:
        return 0.0
    return min(2.0 ** (slot.quick_deaths - 1), LONGEST_RESTART_WAIT)
