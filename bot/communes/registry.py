"""The communes served besides the default one: each opened with its own parts, all sharing
the process, the processing loop and the one model: this process's Brain, or with worker
processes (CITIZENBOT_WORKERS > 1) theirs.

A commune is opened at start when it was added (`citizenbot commune add`), or at its first
webhook event when it was added since: no restart. Its parts are those of the default commune,
built from its own settings (bot/communes/commune_config.py): its database, its content (the
shared content under its own), its Zalo client and tokens, its webhook and its worker, whose
conversations carry the commune in their id (bot/communes/conversation_ids.py), so the actions
get the commune's parts (`services_of`). With worker processes the commune has no worker
here: its webhook wakes the worker of the citizen's shard for the commune's inbox
(bot/conversation/worker_pool.py), and each worker process opens the commune's parts that
handle events (bot/conversation/worker_communes.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.communes import commune_config
from bot.communes.commune_config import Commune, CommuneError
from bot.communes.opened_once import OpenedOnce
from bot.content import ContentError, LiveContent
from bot.content.watcher import ContentWatcher
from bot.conversation.processing_loop import ProcessingLoop
from bot.conversation.worker_pool import WorkerPool
from bot.dossiers.dossier_service import Dossiers
from bot.sandbox.zalo_sandbox import ZaloSandbox
from bot.scheduler.job_scheduler import Scheduler
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database, token_records
from bot.storage.secret import load_or_create
from bot.storage.tracker_reader import TrackerDatabase
from bot.zalo.access_token import TOKEN_NAME
from bot.zalo.sender import Sender
from bot.zalo.webhook import ZaloWebhook

if TYPE_CHECKING:  # Rasa and TensorFlow load only where events are handled (bot/web/app.py)
    from bot.brain.agent import Brain
    from bot.conversation.worker import ProcessingWorker

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/webhook/zalo/{commune}"
SANDBOX_PREFIX = "/sandbox/communes/{commune}"
DOSSIER_API_PATH = "/api/communes/{commune}/dossiers/{code}"


@dataclass
class OpenCommune:
    """A commune's parts while it is served."""

    services: Services
    sender: Sender
    worker: ProcessingWorker | None  # None with worker processes: they handle its events
    webhook: ZaloWebhook
    watcher: ContentWatcher
    scheduler: Scheduler  # its campaigns and its citizens' reminders
    dossiers: Dossiers  # its dossier API and notifications
    sandbox: ZaloSandbox | None  # its OA on the embedded sandbox, when it has no credentials


class Communes:
    """Every commune served besides the default, by slug."""

    def __init__(
        self,
        settings: Settings,
        processing: ProcessingLoop,
        tracker_database: TrackerDatabase,  # the conversations the schedulers purge
        handled_by: Brain | WorkerPool,  # this process's model, or the worker processes
    ) -> None:
        self._settings = settings
        self._processing = processing
        self._tracker_database = tracker_database
        self._handled_by = handled_by
        self._open: OpenedOnce[OpenCommune] = OpenedOnce(self._load_and_build)

    def register(self, app: web.Application) -> None:
        """The communes' webhooks, and their OAs on the embedded sandbox."""
        app.router.add_post(WEBHOOK_PATH, self._webhook)
        app.router.add_get(WEBHOOK_PATH, self._webhook_probe)
        app.router.add_put(DOSSIER_API_PATH, self._dossier_update)
        for method, path, name in ZaloSandbox.ROUTES:
            app.router.add_route(method, f"{SANDBOX_PREFIX}{path}", self._on_sandbox(name))

    async def start(self) -> None:
        """Open every commune added so far (the processing loop runs)."""
        slugs = await asyncio.to_thread(commune_config.added, self._settings)
        for slug in slugs:
            try:
                await self.open(slug)
            except (CommuneError, ContentError) as exc:
                log.error("commune %s is not served: %s", slug, exc)
        if slugs:
            log.info("%d communes served besides the default", len(self._open.by_slug))

    async def services_of(self, slug: str) -> Services:
        """The parts of a commune (its conversation's actions run after its event: it is open)."""
        return (await self.open(slug)).services

    def get(self, slug: str) -> OpenCommune | None:
        return self._open.by_slug.get(slug)

    @property
    def slugs(self) -> list[str]:
        return sorted(self._open.by_slug)

    @property
    def accepting(self) -> bool:
        return self._open.accepting

    async def open(self, slug: str) -> OpenCommune:
        """The commune's parts, opened now if it was not yet; CommuneError when it was never
        added (or while shutting down), ContentError when its content is broken."""
        return await self._open.get(slug)

    async def _load_and_build(self, slug: str) -> OpenCommune:
        commune = await asyncio.to_thread(commune_config.load, self._settings, slug)
        opened = await self._build(commune)
        log.info("commune %s opened", slug)
        return opened

    async def _build(self, commune: Commune) -> OpenCommune:
        """Open the commune's parts in order; when one fails, close those already open."""
        settings = commune_config.settings_for(self._settings, commune)
        overlay = commune_config.content_dir(self._settings, commune.slug)
        content = LiveContent(self._settings.content_dir, overlay)
        async with contextlib.AsyncExitStack() as opened:
            watcher = ContentWatcher(content, settings.content_reload_seconds)
            await watcher.start()  # raises ContentError when its content does not load
            opened.push_async_callback(watcher.stop)
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            database = Database.from_settings(settings)
            await database.open()
            opened.push_async_callback(database.close)
            sandbox = None
            if commune.sandbox:
                # The embedded sandbox starts with fresh OAuth state: begin from its seed.
                await database.run(token_records.forget, TOKEN_NAME)
                sandbox = ZaloSandbox(
                    commune.app_id,
                    commune.app_secret,
                    commune.oa_secret_key,
                    commune.refresh_token,
                    f"{self._settings.base_url}{WEBHOOK_PATH.format(commune=commune.slug)}",
                )
                opened.push_async_callback(sandbox.close)
            sender = Sender(settings, database, self._processing)
            await sender.open()
            opened.push_async_callback(sender.close)
            # Its conversations are in the tracker store the communes share: it purges them
            # (and its lock on PostgreSQL or Redis is its own: bot/scheduler/scheduler_lock.py).
            workers = self._handled_by if isinstance(self._handled_by, WorkerPool) else None
            scheduler = Scheduler(
                settings,
                database,
                sender,
                content,
                self._tracker_database,
                commune.slug,
                reminders_from_other_processes=workers is not None,
            )
            scheduler.take_lock()
            opened.push_async_callback(scheduler.stop)
            await scheduler.start()
            secret = await asyncio.to_thread(load_or_create, settings.data_dir)
            services = Services(
                settings, database, secret, content, sender, scheduler, commune.slug
            )
            worker: ProcessingWorker | None = None
            if workers is not None:
                submit = functools.partial(workers.submit, commune=commune.slug)
            else:
                from bot.conversation.worker import ProcessingWorker  # Rasa: only here

                worker = ProcessingWorker(services, sender, self._processing, self._handled_by)
                await worker.start()
                opened.push_async_callback(worker.stop, 0)
                submit = worker.submit
            webhook = ZaloWebhook(settings, database, submit, secret)
            dossiers = Dossiers(services, self._processing)
            await dossiers.start()
            opened.pop_all()  # every part is open: closed at the service's stop
        return OpenCommune(services, sender, worker, webhook, watcher, scheduler, dossiers, sandbox)

    async def _webhook(self, request: web.Request) -> web.StreamResponse:
        commune = await self._commune_of(request)
        return await commune.webhook.handle(request)

    async def _dossier_update(self, request: web.Request) -> web.StreamResponse:
        """The one-stop system's update of one of the commune's dossiers (the deployment's
        API token: a province's one-stop system serves all its communes)."""
        commune = await self._commune_of(request)
        return await commune.dossiers.api.put(request)

    async def _webhook_probe(self, request: web.Request) -> web.StreamResponse:
        commune = await self._commune_of(request)
        return await commune.webhook.probe(request)

    async def _commune_of(self, request: web.Request) -> OpenCommune:
        slug = request.match_info["commune"]
        if not self.accepting:  # as the webhook answers while stopping: Zalo retries later
            raise web.HTTPServiceUnavailable(**_message("shutting down; retry later"))
        try:
            return await self.open(slug)
        except CommuneError as exc:
            raise web.HTTPNotFound(**_message(f"no commune {slug!r} on this service")) from exc
        except ContentError as exc:
            log.error("commune %s cannot be opened: %s", slug, exc)
            # Not acknowledged: Zalo retries once the content is fixed.
            message = _message("the commune's content does not load; retry later")
            raise web.HTTPServiceUnavailable(**message) from exc

    def _on_sandbox(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """A handler that passes the request to the commune's OA on the sandbox."""

        async def handle(request: web.Request) -> web.StreamResponse:
            commune = self.get(request.match_info["commune"])
            if commune is None or commune.sandbox is None:
                raise web.HTTPNotFound(text="no commune on the sandbox by that name")
            return await getattr(commune.sandbox, name)(request)

        return handle

    @property
    def pending(self) -> int:
        """Events acknowledged and not yet handled, every commune's."""
        return sum(c.worker.pending for c in self._open.by_slug.values() if c.worker is not None)

    def health(self) -> dict[str, object]:
        """What /healthz says of the communes: how many, and whose content edit was refused."""
        opened = self._open.by_slug
        refused = [slug for slug, c in opened.items() if c.watcher.status.last_error]
        return {"served": len(opened), "content_errors": sorted(refused)}

    async def drain(self) -> None:
        """Wait until every commune's acknowledged events are handled."""
        for commune in list(self._open.by_slug.values()):
            if commune.worker is not None:
                await commune.worker.drain()

    async def stop(self, grace_seconds: float) -> None:
        """Refuse new events, finish those acknowledged, close the Zalo clients."""
        self._open.accepting = False
        opened = list(self._open.by_slug.values())
        for commune in opened:
            commune.webhook.accepting = False
        for commune in opened:
            await commune.scheduler.stop()
            await commune.dossiers.stop()
        await asyncio.gather(
            *(c.worker.stop(grace_seconds) for c in opened if c.worker is not None)
        )
        for commune in opened:
            await commune.sender.close()
            # Its watcher too: aiohttp's clean-up waits (60 s) for a task a request started,
            # as a commune opened at its first event does.
            await commune.watcher.stop()

    async def close(self) -> None:
        for commune in self._open.by_slug.values():
            await commune.services.database.close()
            if commune.sandbox is not None:
                await commune.sandbox.close()


# Where the app keeps its registry (the webhooks' and the dashboard's).
COMMUNES = web.AppKey("communes", Communes)


def _message(text: str) -> dict[str, str]:
    """An error answer's body, in the webhook's shape (bot/zalo/webhook.py)."""
    return {"text": json.dumps({"message": text}), "content_type": "application/json"}
