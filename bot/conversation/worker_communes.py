"""Every commune as one worker process serves it (bot/conversation/worker_process.py): the
default commune and each added one (bot/communes/), its citizens of this process's shard.

A commune's parts here are those that handle its events: its settings, database, content
(the shared content under its own) and Zalo client, and a ProcessingWorker claiming its inbox
events of the shard; its scheduler, dossier service, webhook and sandbox stay in the web
server's process. The default commune and every commune added so far are opened at the
start (so a restarted worker takes over what its predecessor left in every inbox); a commune
added since, when the web server's process first wakes this worker for it: no restart.
The actions get the commune of their conversation's parts (`services_of`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from bot.brain.agent import Brain
from bot.communes import commune_config
from bot.communes.commune_config import CommuneError
from bot.communes.opened_once import OpenedOnce
from bot.content import ContentError, LiveContent
from bot.content.watcher import ContentWatcher
from bot.conversation.processing_loop import ProcessingLoop
from bot.conversation.worker import ProcessingWorker, Shard
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database
from bot.storage.secret import load_or_create
from bot.zalo.sender import Sender

log = logging.getLogger(__name__)


@dataclass
class CommuneInWorker:
    """A commune's parts in a worker process."""

    services: Services
    sender: Sender
    watcher: ContentWatcher
    worker: ProcessingWorker


class WorkerCommunes:
    """The communes this worker process serves, by slug ("" the default commune)."""

    def __init__(
        self, settings: Settings, processing: ProcessingLoop, brain: Brain, shard: Shard
    ) -> None:
        self._settings = settings
        self._processing = processing
        self._brain = brain
        self._shard = shard
        self._open: OpenedOnce[CommuneInWorker] = OpenedOnce(self._build_and_start)
        self._wakings: set[asyncio.Task[None]] = set()
        self.started = False

    async def start(self) -> None:
        """Open the default commune (its failure is the worker's), then every added one;
        each takes over its shard's pending events."""
        default = await self._build("")
        self._brain.use(default.services, self.services_of)
        await default.worker.start()
        self._open.by_slug[""] = default
        for slug in await asyncio.to_thread(commune_config.added, self._settings):
            try:
                await self.open(slug)
            except (CommuneError, ContentError) as exc:
                log.error("worker %d: commune %s is not served: %s", self._shard.index, slug, exc)
        self.started = True

    async def services_of(self, slug: str) -> Services:
        """A commune's parts, for its conversations' actions (open: its event came first)."""
        return (await self.open(slug)).services

    def wake(self, slug: str) -> None:
        """The web server's process recorded an event of `slug` in this worker's shard: claim
        it (opening the commune first when it was added since the start)."""
        if (found := self._open.by_slug.get(slug)) is not None:
            found.worker.wake()
            return
        waking = asyncio.create_task(self._open_and_wake(slug), name=f"open-{slug}")
        self._wakings.add(waking)
        waking.add_done_callback(self._wakings.discard)

    async def _open_and_wake(self, slug: str) -> None:
        try:
            opened = await self.open(slug)
        except (CommuneError, ContentError) as exc:  # its events wait in its inbox
            log.error("worker %d: commune %s cannot be opened: %s", self._shard.index, slug, exc)
            return
        opened.worker.wake()  # for events recorded while it took over the pending ones

    async def open(self, slug: str) -> CommuneInWorker:
        """The commune's parts, opened now if they were not yet; CommuneError when it was
        never added (or while stopping), ContentError when its content is broken."""
        return await self._open.get(slug)

    async def _build_and_start(self, slug: str) -> CommuneInWorker:
        opened = await self._build(slug)
        try:
            await opened.worker.start()
        except BaseException:
            await _close(opened)
            raise
        log.info("worker %d: commune %s opened", self._shard.index, slug)
        return opened

    async def _build(self, slug: str) -> CommuneInWorker:
        """Open the commune's parts in order, its worker not started yet; when one fails,
        close those already open."""
        settings = await asyncio.to_thread(commune_config.settings_of, self._settings, slug)
        overlay = commune_config.content_dir(self._settings, slug) if slug else None
        content = LiveContent(self._settings.content_dir, overlay)
        async with contextlib.AsyncExitStack() as opened:
            watcher = ContentWatcher(content, settings.content_reload_seconds)
            await watcher.start()  # raises ContentError when its content does not load
            opened.push_async_callback(watcher.stop)
            database = Database.from_settings(settings)
            await database.open()
            opened.push_async_callback(database.close)
            sender = Sender(settings, database, self._processing)
            await sender.open()
            opened.push_async_callback(sender.close)
            secret = await asyncio.to_thread(load_or_create, settings.data_dir)
            # No scheduler here: the web server's process gives a reminder saved here its job.
            services = Services(settings, database, secret, content, sender, commune=slug)
            worker = ProcessingWorker(services, sender, self._processing, self._brain, self._shard)
            opened.pop_all()
        return CommuneInWorker(services, sender, watcher, worker)

    async def stop(self, grace_seconds: float) -> None:
        """Open no more communes; every commune's worker finishes what it claimed (up to the
        grace period), then its parts close."""
        self._open.accepting = False
        await asyncio.gather(*self._wakings, return_exceptions=True)
        opened = list(self._open.by_slug.values())
        await asyncio.gather(*(commune.worker.stop(grace_seconds) for commune in opened))
        for commune in opened:
            await _close(commune)


async def _close(commune: CommuneInWorker) -> None:
    await commune.sender.close()
    await commune.watcher.stop()
    await commune.services.database.close()
