"""Event processing on the processing loop (bot/conversation/processing_loop.py), one citizen
at a time.

Events acknowledged by the webhook are handed over here and handled off the webhook's loop,
so Rasa's long synchronous stretches never delay an acknowledgement. In a worker process
(bot/conversation/worker_process.py) the same worker handles one shard of the citizens,
claiming their events from the inbox when the web server's process wakes it.

On PostgreSQL, where several instances may share the inbox, every worker claims before it
handles (one shard of one when CITIZENBOT_WORKERS=1): the webhook's hand-over becomes a
wake-up of the claim, as does another instance's notice (bot/storage/inbox_wakeups.py); the
claims are renewed while the worker lives, and a claim round runs every second all the same,
for notices lost and for what a dead instance left behind. A worker there holds at most
CLAIMS_PER_SLOT events per concurrent slot and claims more as it answers: a backlog stays in
the inbox for whichever instance has room, not with the one that woke first (which left the
other idle), and renewing claims touches a few rows, not the backlog.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from dataclasses import dataclass, field

from bot.brain.agent import Brain
from bot.conversation.event_handler import Conversations
from bot.conversation.processing_loop import ProcessingLoop
from bot.conversation.rate_limit import rate_limit
from bot.conversation.user_queues import UserQueues
from bot.services import Services
from bot.storage import inbox
from bot.storage.inbox_wakeups import InboxWakeups
from bot.zalo.events import ZaloEvent, parse_event
from bot.zalo.sender import Sender

log = logging.getLogger(__name__)
# On PostgreSQL: a claim round this often, for events other instances received.
POLL_SECONDS = 1.0
# On PostgreSQL: claimed events held per concurrent slot (CITIZENBOT_MAX_CONCURRENT_EVENTS);
# more are claimed once half have been answered, so the slots never wait for a claim.
CLAIMS_PER_SLOT = 3


def this_instance() -> str:
    """This `citizenbot run` among the instances sharing a database: machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class Shard:
    """The citizens one worker process handles: those whose user id hashes to `index`."""

    index: int
    count: int
    instance: str = field(default_factory=this_instance)  # the web server's process's

    @property
    def claimant(self) -> str:
        """Who holds the shard's claims in the inbox: this process (bot/storage/inbox.py)."""
        return f"{self.instance}/worker-{self.index}/{self.count}:{os.getpid()}"


class ProcessingWorker:
    def __init__(
        self,
        services: Services,
        sender: Sender,
        processing: ProcessingLoop,
        brain: Brain,
        shard: Shard | None = None,  # None: every event, handed over by `submit`
    ) -> None:
        self._services = services
        self._sender = sender
        self._processing = processing
        self._brain = brain
        # PostgreSQL: other instances may share the inbox, so even one worker claims.
        self._leased = bool(services.database.url)
        self._shard = Shard(0, 1) if shard is None and self._leased else shard
        self._lease_seconds = services.settings.claim_lease_seconds
        self._polling: asyncio.Task[None] | None = None
        self._wakeups = InboxWakeups(services.database.url, self._woken) if self._leased else None
        self._wake_pending = False  # woken while claiming: claim once more
        self._intake: asyncio.Task[None] | None = None
        self.queues: UserQueues | None = None
        self.conversations: Conversations | None = None  # what each event does
        # Messages per citizen (in Redis, shared across machines, when given); read by the
        # metrics, its clock replaced by tests.
        settings = services.settings
        self.message_limit = rate_limit(
            settings.user_message_limit, settings.redis_url, "citizen-messages"
        )

    async def start(self) -> None:
        """Resume events acknowledged before the last stop (the processing loop runs and the
        Sender is open)."""
        recovered = await self._processing.call(self._start())
        if recovered:
            log.info("resumed %d events acknowledged before the last stop", recovered)
        if self.queues is not None and self.queues.overflowing:
            log.warning(
                "more events wait in the inbox than the queue holds (%d); they follow as it drains",
                self.queues.max_queued,
            )

    async def _start(self) -> int:
        settings = self._services.settings
        self.conversations = conversations = Conversations(
            self._services.database,
            self._sender.client,
            self._brain,
            self._services.content,
            dt.timedelta(minutes=settings.handover_timeout_minutes),
            self.message_limit,
            self._services.commune,
        )
        self.queues = UserQueues(
            conversations.handle,
            settings.max_concurrent_events,
            # Leased: the claims held, the rest in the inbox for any instance (see above).
            min(
                max(1, CLAIMS_PER_SLOT * settings.max_concurrent_events), settings.max_queued_events
            )
            if self._leased
            else settings.max_queued_events,
            self._waiting_events,
        )
        if self._shard is not None:
            shard = self._shard
            taken = await self._services.database.run(
                inbox.take_over, shard.index, shard.count, shard.claimant
            )
            log.info(
                "worker %d of %d: took over %d pending events of its shard",
                shard.index,
                shard.count,
                taken,
            )
        recovered = await self.queues.resume_pending()
        self.queues.start()
        if self._wakeups is not None:
            await self._wakeups.start()
            self._polling = asyncio.create_task(self._poll(), name="claim-poll")
        return recovered

    async def _poll(self) -> None:
        """PostgreSQL: renew this worker's claims now and then, and claim every second what
        other instances received (or left behind when they died)."""
        assert self._shard is not None
        claimant = self._shard.claimant
        renewed_at = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            now = asyncio.get_running_loop().time()
            if now - renewed_at >= self._lease_seconds / 3:
                try:
                    await self._services.database.run(inbox.renew, claimant)
                    renewed_at = now
                except Exception:
                    log.exception("could not renew this worker's claims; trying again")
            self._woken()

    async def _waiting_events(self, limit: int) -> list[ZaloEvent]:
        """Events acknowledged and still pending in the inbox, oldest first (in a worker
        process: its shard's, claimed)."""
        database = self._services.database
        if self._shard is None:
            payloads = await database.run(inbox.pending, limit)
        else:
            shard = self._shard
            payloads = await database.run(
                inbox.claim,
                shard.index,
                shard.count,
                shard.claimant,
                limit,
                self._lease_seconds,
            )
        return [parse_event(payload) for payload in payloads]

    def wake(self) -> None:
        """Called from another thread: the inbox holds new events of this worker's shard."""
        self._processing.call_soon(self._woken)

    def _woken(self) -> None:
        if self._leased:
            assert self.queues is not None
            self.queues.read_inbox()  # claims what it has room for (`_waiting_events`)
            return
        self._wake_pending = True
        if self._intake is None:
            self._intake = asyncio.create_task(self._take_new_events(), name="claim-new")

    async def _take_new_events(self) -> None:
        """SQLite's worker processes: claim the shard's new events and queue them, as the
        webhook's hand-over does in one process (a full queue leaves them in the inbox, read
        back in order as it drains); wake-ups meanwhile are answered by one more claim."""
        assert self._shard is not None and self.queues is not None
        shard = self._shard
        try:
            while self._wake_pending:
                self._wake_pending = False
                try:
                    payloads = await self._services.database.run(
                        inbox.claim_new,
                        shard.index,
                        shard.count,
                        shard.claimant,
                        self._lease_seconds,
                    )
                except Exception:
                    log.exception("could not claim new events; trying again in a second")
                    self._wake_pending = True
                    await asyncio.sleep(1.0)
                    continue
                for payload in payloads:
                    self.queues.submit(parse_event(payload))
        finally:
            self._intake = None

    def submit(self, event: ZaloEvent) -> None:
        """Called from the webhook's loop: hand the event over, thread-safely."""
        assert self.queues is not None, "ProcessingWorker.start() was not awaited"
        if self._leased:
            self.wake()  # claimed first: another instance may hold the citizen's claims
            return
        self._processing.call_soon(self.queues.submit, event)

    @property
    def pending(self) -> int:
        return self.queues.pending if self.queues else 0

    async def drain(self) -> None:
        """Wait until every submitted event has been handled."""
        if self.queues is not None:
            await self._processing.call(self._drain())

    async def _drain(self) -> None:
        """A claim under way first (on PostgreSQL a submitted event is claimed before it is
        queued), then the queues."""
        assert self.queues is not None
        while self._intake is not None:
            await asyncio.wait({self._intake})
        await self.queues.drain()

    async def stop(self, grace_seconds: float) -> None:
        """Finish in-flight work, up to the grace period (the rest resumes at the next start)."""
        if not self._processing.running:
            return
        if self._polling is not None:
            self._processing.call_soon(self._polling.cancel)
        if self._wakeups is not None:
            self._processing.call_soon(self._wakeups.stop)
        try:
            await asyncio.wait_for(self.drain(), grace_seconds)
        except asyncio.TimeoutError:
            log.warning(
                "shutdown: %d events left pending; they resume at the next start", self.pending
            )
