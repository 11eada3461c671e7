"""The worker processes of `citizenbot run` when CITIZENBOT_WORKERS > 1, seen from the web
server's process, which stays light: it records each event in the inbox, acknowledges it,
and wakes the worker whose shard the citizen falls in (bot/conversation/worker_process.py).
Each worker has a socket pair with this process: a message this way is a wake-up naming the
commune whose inbox holds the event (`@` and its slug, `@` alone the default commune: a worker
serves its shard of every commune's citizens), a byte back says the worker has loaded its model
and handles events; its end closing means this process is gone. The pair keeps each message
whole (SOCK_SEQPACKET); a wake-up that finds it full is sent as soon as it has room again.

A worker that dies is started again (logged); the new one takes over its shard's pending
events, so what the dead one left unfinished is handled once: a reply it may have sent
already is recognised by its outbox key (bot/zalo/client.py). One process per shard at a
time: the new one starts only after the old one is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
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
# A wake-up message begins with it (never empty: an empty read is the pair's end).
WAKE_UP = b"@"


@dataclass
class WorkerSlot:
    index: int
    process: asyncio.subprocess.Process | None = None
    channel: socket.socket | None = None  # this process's end of the worker's socket pair
    # Communes whose wake-up found the pair full: sent once it has room (each once).
    owed: set[str] = field(default_factory=set)
    ready: bool = False  # its model loaded, handling events
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

    def submit(self, event: ZaloEvent, commune: str = "") -> None:
        """The webhook of `commune` ("" the default) recorded `event`: wake the worker of its
        citizen's shard to read that commune's inbox."""
        slot = self._slots[shard_of(event.user_id, len(self._slots))]
        if slot.channel is None:
            return  # being restarted: the new worker reads every inbox when it starts
        if slot.owed:  # wake-ups already wait for room: this one after them
            slot.owed.add(commune)
            return
        try:
            slot.channel.send(wake_up(commune))
        except BlockingIOError:  # full of wake-ups the worker has not read yet
            slot.owed.add(commune)
            asyncio.get_running_loop().add_writer(slot.channel.fileno(), self._send_owed, slot)
        except OSError:
            pass  # the worker just died: its successor reads every inbox when it starts

    def _send_owed(self, slot: WorkerSlot) -> None:
        """The pair has room again: the wake-ups that found it full."""
        assert slot.channel is not None
        while slot.owed:
            commune = next(iter(slot.owed))
            try:
                slot.channel.send(wake_up(commune))
            except BlockingIOError:
                return  # called again when there is room
            except OSError:
                slot.owed.clear()  # the worker died: its successor reads every inbox
                break
            slot.owed.discard(commune)
        asyncio.get_running_loop().remove_writer(slot.channel.fileno())

    @property
    def slots(self) -> tuple[WorkerSlot, ...]:
        """Each worker's state, for /metrics (read, never changed, outside this class)."""
        return tuple(self._slots)

    def health(self) -> dict[str, Any]:
        """For /healthz: how many workers run, and whether that is as it should be."""
        alive = sum(slot.alive for slot in self._slots)
        failing = [s.index for s in self._slots if s.quick_deaths >= FAILING_AFTER_QUICK_DEATHS]
        return {
            "count": len(self._slots),
            "alive": alive,
            "ready": sum(slot.alive and slot.ready for slot in self._slots),
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
        channel, workers_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            slot.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.conversation.worker_process",
                str(slot.index),
                str(len(self._slots)),
                str(workers_end.fileno()),
                str(self._grace_seconds),
                stdin=asyncio.subprocess.DEVNULL,
                pass_fds=(workers_end.fileno(),),
            )
        except BaseException:
            channel.close()
            raise
        finally:
            workers_end.close()  # the worker holds it now: the pair closes when either ends
        channel.setblocking(False)
        slot.channel = channel
        slot.owed.clear()  # the new worker reads every commune's inbox when it starts
        slot.ready = False
        slot.started_at = time.monotonic()
        asyncio.get_running_loop().add_reader(channel.fileno(), self._heard_from, slot)
        log.info("worker %d started (pid %d)", slot.index, slot.process.pid)

    def _heard_from(self, slot: WorkerSlot) -> None:
        """The worker's byte back: its model is loaded. (Its end closing: it died, which
        `_supervise` sees.)"""
        assert slot.channel is not None
        try:
            said = slot.channel.recv(16)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            said = b""
        if said:
            slot.ready = True
        else:
            asyncio.get_running_loop().remove_reader(slot.channel.fileno())

    async def _supervise(self, slot: WorkerSlot) -> None:
        """Wait for the worker to end; unless stopping, start it again."""
        while True:
            assert slot.process is not None
            code = await slot.process.wait()
            if slot.channel is not None:
                asyncio.get_running_loop().remove_reader(slot.channel.fileno())
                asyncio.get_running_loop().remove_writer(slot.channel.fileno())
                slot.channel.close()
                slot.channel = None
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


def wake_up(commune: str) -> bytes:
    """The message that wakes a worker for `commune`'s inbox ("" the default commune's)."""
    return WAKE_UP + commune.encode()


def commune_woken(message: bytes) -> str:
    """The commune a wake-up message names ("" the default commune)."""
    return message.removeprefix(WAKE_UP).decode()


def _restart_wait(slot: WorkerSlot) -> float:
    """None after a worker that ran a while; 1 s, 2 s… after quick deaths in a row."""
    if not slot.quick_deaths:
        return 0.0
    return min(2.0 ** (slot.quick_deaths - 1), LONGEST_RESTART_WAIT)
