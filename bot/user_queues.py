"""One worker per user with pending events: a user's messages are handled in order,
different users concurrently, at most `max_concurrent` at a time.

The bound matters: processing is CPU-bound (Rasa) and shares the event loop with the
webhook, so hundreds of runnable handlers would delay every acknowledgement behind them.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.logs import REQUEST_ID
from bot.zalo.events import ZaloEvent

log = logging.getLogger(__name__)


class UserQueues:
    def __init__(
        self, handle: Callable[[ZaloEvent], Awaitable[None]], max_concurrent: int = 4
    ) -> None:
        self._handle = handle
        self._slots = asyncio.Semaphore(max_concurrent)
        self._queues: dict[str, deque[ZaloEvent]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._ready = asyncio.Event()

    def start(self) -> None:
        """Begin processing; events submitted before this wait (e.g. while the model loads)."""
        self._ready.set()

    def submit(self, event: ZaloEvent) -> None:
        user = event.user_id or ""
        self._queues.setdefault(user, deque()).append(event)
        if user not in self._workers:
            self._workers[user] = asyncio.create_task(self._drain(user), name=f"user-{user}")

    @property
    def pending(self) -> int:
        return sum(len(queue) for queue in self._queues.values())

    async def _drain(self, user: str) -> None:
        await self._ready.wait()
        queue = self._queues[user]
        try:
            while queue:
                async with self._slots:
                    event = queue.popleft()
                    REQUEST_ID.set(event.key)
                    try:
                        await self._handle(event)
                    except Exception:
                        log.exception("event %s failed", event.key)
        finally:
            del self._queues[user]
            del self._workers[user]

    async def drain(self) -> None:
        """Wait until every submitted event has been handled (graceful shutdown, tests)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)
