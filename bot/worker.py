"""Event processing on its own thread and event loop.

Rasa runs long synchronous stretches (NLU graph, tracker store) on whatever loop calls
it. Kept off the webhook's loop, they cannot delay an acknowledgement by more than the
interpreter's thread switch interval, and Zalo always gets its answer in time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from typing import Any

import aiohttp

from bot.brain import Brain
from bot.conversation import Conversations
from bot.rate_limit import RateLimit
from bot.settings import Settings
from bot.storage import Database, inbox
from bot.user_queues import UserQueues
from bot.zalo.client import ZaloClient
from bot.zalo.events import ZaloEvent, parse_event
from bot.zalo.push import Pusher

log = logging.getLogger(__name__)


class ProcessingWorker:
    def __init__(self, settings: Settings, database: Database, brain: Brain) -> None:
        self._settings = settings
        self._database = database
        self._brain = brain
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="processing", daemon=True
        )
        self._session: aiohttp.ClientSession | None = None
        self.queues: UserQueues | None = None
        # The process's only Zalo client: refresh tokens are single-use, so a second client
        # refreshing at the same time would burn the token. Use them through `call`.
        self.client: ZaloClient | None = None
        self.pusher: Pusher | None = None
        self.conversations: Conversations | None = None  # what each event does
        # Messages per citizen; read by the metrics, its clock replaced by tests.
        self.message_limit = RateLimit(*settings.user_message_limit)

    async def start(self) -> None:
        """Start the thread, then resume events acknowledged before the last stop."""
        self._thread.start()
        recovered = await self.call(self._start())
        if recovered:
            log.info("resumed %d events acknowledged before the last stop", recovered)
        if self.queues is not None and self.queues.overflowing:
            log.warning(
                "more events wait in the inbox than the queue holds (%d); they follow as it drains",
                self.queues.max_queued,
            )

    async def _start(self) -> int:
        self._session = aiohttp.ClientSession()
        self.client = client = ZaloClient(self._settings, self._database, self._session)
        self.pusher = Pusher(self._database, client)
        self.conversations = conversations = Conversations(
            self._database,
            client,
            self._brain,
            dt.timedelta(minutes=self._settings.handover_timeout_minutes),
            self.message_limit,
        )
        self.queues = UserQueues(
            conversations.handle,
            self._settings.max_concurrent_events,
            self._settings.max_queued_events,
            self._waiting_events,
        )
        recovered = await self.queues.resume_pending()
        self.queues.start()
        return recovered

    async def _waiting_events(self, limit: int) -> list[ZaloEvent]:
        """Events acknowledged and still pending in the inbox, oldest first."""
        return [parse_event(payload) for payload in await self._database.run(inbox.pending, limit)]

    def submit(self, event: ZaloEvent) -> None:
        """Called from the webhook's loop: hand the event over, thread-safely."""
        assert self.queues is not None, "ProcessingWorker.start() was not awaited"
        self._loop.call_soon_threadsafe(self.queues.submit, event)

    @property
    def pending(self) -> int:
        return self.queues.pending if self.queues else 0

    async def drain(self) -> None:
        """Wait until every submitted event has been handled."""
        if self.queues is not None:
            await self.call(self.queues.drain())

    async def stop(self, grace_seconds: float) -> None:
        """Finish in-flight work (up to the grace period), then stop the thread."""
        if not self._thread.is_alive():
            return
        try:
            await asyncio.wait_for(self.drain(), grace_seconds)
        except asyncio.TimeoutError:
            log.warning(
                "shutdown: %d events left pending; they resume at the next start", self.pending
            )
        if self._session is not None:
            await self.call(self._session.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        await asyncio.get_running_loop().run_in_executor(None, self._thread.join)

    async def call(self, coroutine: Any) -> Any:
        """Run `coroutine` on the worker's loop (e.g. `worker.call(worker.pusher.push(...))`)
        from any other loop, and wait for its result."""
        if not self._thread.is_alive():
            coroutine.close()
            raise RuntimeError("the processing worker is not running")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return await asyncio.wrap_future(future)
