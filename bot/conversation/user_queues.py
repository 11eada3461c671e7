"""One worker per user with pending events: a user's messages are handled in order,
different users concurrently, at most `max_concurrent` at a time.

The bound matters: processing is CPU-bound (Rasa) and shares the event loop with the
webhook, so hundreds of runnable handlers would delay every acknowledgement behind them.

Memory is bounded too. Every event is on disk (the inbox) before it reaches this queue,
so beyond `max_queued` events an event is simply left there, already acknowledged, and
read back oldest first as the queue drains. Once one event waits in the inbox every later
one waits behind it, so a user's messages still come out in the order they arrived.

An event whose handling meets a passing storage failure (another process's lock held past
the busy timeout, a disk I/O error) is tried again after a growing pause, its user's later
events waiting behind it; only another error sets it aside as failed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.logs import REQUEST_ID
from bot.storage.database import is_temporary
from bot.zalo.events import ZaloEvent

log = logging.getLogger(__name__)

# At most one "queue full" warning in this many seconds, however long the overload.
WARN_EVERY_SECONDS = 60.0
# Keys handled lately: an event read back from the inbox may be handled before the
# webhook's own hand-over of it arrives here; this keeps it from being handled twice.
RECENT_KEYS = 1024
# Pauses before trying an event again after a passing storage failure: doubled each time,
# up to the last; as long as the failure lasts (a restart would only start over).
STORAGE_RETRY_SECONDS = (0.5, 30.0)


@dataclass
class QueueStats:
    """Counters since the start, for /metrics."""

    processed: int = 0  # events handled (failed ones included)
    failed: int = 0
    deferred: int = 0  # events left waiting in the inbox because the queue was full
    bound_reached: int = 0  # times the queue filled up: once per overload


async def _nothing_waiting(limit: int) -> list[ZaloEvent]:
    return []


class UserQueues:
    def __init__(
        self,
        handle: Callable[[ZaloEvent], Awaitable[None]],
        max_concurrent: int = 4,
        max_queued: int = 5000,
        load_pending: Callable[[int], Awaitable[list[ZaloEvent]]] = _nothing_waiting,
        storage_retry_seconds: tuple[float, float] = STORAGE_RETRY_SECONDS,
    ) -> None:
        self._handle = handle
        self._storage_retry_seconds = storage_retry_seconds
        self._slots = asyncio.Semaphore(max_concurrent)
        self.max_queued = max_queued
        # The inbox's pending events, oldest first, at most `limit` of them.
        self._load_pending = load_pending
        self._queues: dict[str, deque[ZaloEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._ready = asyncio.Event()
        self._held: set[str] = set()  # keys queued or being handled
        self._waiting = 0  # queued, not started yet
        self._recent: dict[str, None] = {}
        # True while events may be waiting in the inbox: new ones then wait behind them.
        self.overflowing = False
        self._arrived_while_reading = False
        self._resuming: asyncio.Task[None] | None = None
        self.stats = QueueStats()
        self._warned_at = -math.inf
        self._episode_warned = False
        self._episode_deferred = 0

    def start(self) -> None:
        """Begin processing; events submitted before this wait (e.g. while the model loads)."""
        self._ready.set()

    def submit(self, event: ZaloEvent) -> None:
        """An event just recorded in the inbox: queue it, or leave it there when full."""
        if event.key in self._held or event.key in self._recent:
            return  # already read back from the inbox (and maybe handled) meanwhile
        if self.overflowing or len(self._held) >= self.max_queued:
            self._defer()
            return
        self._enqueue(event)

    @property
    def pending(self) -> int:
        """Events queued and not started yet."""
        return self._waiting

    @property
    def held(self) -> int:
        """Events in memory: queued or being handled (what `max_queued` bounds)."""
        return len(self._held)

    async def resume_pending(self) -> int:
        """Queue the events waiting in the inbox, oldest first, up to the bound; at the start
        (events acknowledged before the last stop) and each time the queue has drained
        after an overload. Returns how many were queued."""
        self.overflowing = True  # until the inbox is known to hold nothing more
        queued = 0
        while True:
            self._arrived_while_reading = False
            if len(self._held) >= self.max_queued:
                return queued
            waiting = await self._load_pending(self.max_queued)
            for event in waiting:
                if event.key in self._held or event.key in self._recent:
                    continue
                if len(self._held) >= self.max_queued:
                    return queued  # full again: the rest is read after the next drain
                self._enqueue(event)
                queued += 1
            if len(waiting) == self.max_queued:
                return queued  # there may be more: read again as the queue drains
            if not self._arrived_while_reading:
                self._overflow_over()
                return queued
            # An event was left in the inbox while we read it: read again so it queues
            # in its turn, behind the ones just queued.

    def read_inbox(self) -> None:
        """Events another process recorded wait in the inbox (several instances on
        PostgreSQL): read them in as after an overload, up to the bound now and the rest as
        the queue drains."""
        self.overflowing = True
        self._arrived_while_reading = True  # a read under way reads once more
        if self._resuming is None:
            self._resuming = asyncio.create_task(self._resume(), name="resume-from-inbox")

    async def drain(self) -> None:
        """Wait until every submitted event has been handled, those left waiting in the
        inbox by an overload included (graceful shutdown, tests)."""
        while self._workers or self._resuming is not None:
            tasks: list[asyncio.Task] = list(self._workers.values())
            if self._resuming is not None:
                tasks.append(self._resuming)
            await asyncio.gather(*tasks, return_exceptions=True)

    def _enqueue(self, event: ZaloEvent) -> None:
        user = event.user_id or ""
        self._held.add(event.key)
        self._waiting += 1
        self._queues.setdefault(user, deque()).append(event)
        if user not in self._workers:
            self._workers[user] = asyncio.create_task(self._drain(user), name=f"user-{user}")

    async def _drain(self, user: str) -> None:
        await self._ready.wait()
        queue = self._queues[user]
        try:
            while queue:
                async with self._slots:
                    event = queue.popleft()
                    self._waiting -= 1
                    done = await self._attempt(event)
                pause, longest = self._storage_retry_seconds
                while not done:  # the slot is free for other users meanwhile
                    await asyncio.sleep(pause)
                    pause = min(2 * pause, longest)
                    async with self._slots:
                        done = await self._attempt(event)
                self._handled(event.key)
        finally:
            for event in queue:  # only when cancelled: they stay pending in the inbox
                self._held.discard(event.key)
                self._waiting -= 1
            del self._queues[user]
            del self._workers[user]

    async def _attempt(self, event: ZaloEvent) -> bool:
        """Handle `event`; False when the storage failed for a moment (try again later)."""
        REQUEST_ID.set(event.request_id)
        try:
            await self._handle(event)
        except Exception as exc:
            if is_temporary(exc):
                log.warning(
                    "event %s: storage unavailable (%s); tried again shortly", event.request_id, exc
                )
                return False
            self.stats.failed += 1
            log.exception("event %s failed", event.request_id)
        return True

    def _handled(self, key: str) -> None:
        self._held.discard(key)
        self._recent[key] = None
        if len(self._recent) > RECENT_KEYS:
            del self._recent[next(iter(self._recent))]
        self.stats.processed += 1
        self._resume_when_drained()

    def _defer(self) -> None:
        self.stats.deferred += 1
        self._episode_deferred += 1
        self._arrived_while_reading = True
        if not self.overflowing:
            self.overflowing = True
            self.stats.bound_reached += 1
            self._episode_deferred = 1
            self._warn_full()
        self._resume_when_drained()

    def _resume_when_drained(self) -> None:
        """Half empty (not merely one free place): read the inbox in batches, not per event."""
        if self.overflowing and self._resuming is None and len(self._held) <= self.max_queued // 2:
            self._resuming = asyncio.create_task(self._resume(), name="resume-from-inbox")

    async def _resume(self) -> None:
        try:
            await self.resume_pending()
        except Exception:
            # Nothing is lost (the events are on disk); the next event handled or
            # arriving tries again, and a restart reads them all.
            log.exception("could not read waiting events back from the inbox")
        finally:
            self._resuming = None

    def _warn_full(self) -> None:
        now = time.monotonic()
        self._episode_warned = now - self._warned_at >= WARN_EVERY_SECONDS
        if not self._episode_warned:
            return
        self._warned_at = now
        log.warning(
            "event queue full (bound %d, CITIZENBOT_MAX_QUEUED_EVENTS): new events are "
            "acknowledged and wait in the inbox until it drains; bound reached %d times so far",
            self.max_queued,
            self.stats.bound_reached,
        )

    def _overflow_over(self) -> None:
        if self.overflowing and self._episode_warned:
            log.info(
                "event queue below its bound again: the %d events that waited in the inbox "
                "are queued",
                self._episode_deferred,
            )
        self.overflowing = False
        self._episode_warned = False
        self._episode_deferred = 0
