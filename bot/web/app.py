"""The aiohttp application: webhook, sandbox and health on this loop; processing and every
Zalo call on the processing loop's thread. The service's parts are built here, once, and
handed to what uses them (bot/services.py).

With a Brain, events are handled in this process (CITIZENBOT_WORKERS=1, and the tests);
without one, by worker processes that each load their own (bot/conversation/worker_pool.py), and
this process keeps the webhook, the dashboard, the APIs, campaigns, reminders and dossier
notifications: the default commune's and every added commune's (bot/communes/).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from bot import admin
from bot.brain.training import current_model
from bot.communes.registry import COMMUNES, Communes
from bot.content import LiveContent
from bot.content.watcher import ContentWatcher
from bot.conversation.processing_loop import ProcessingLoop
from bot.conversation.worker_pool import WorkerPool
from bot.dossiers.dossier_service import Dossiers
from bot.sandbox.zalo_sandbox import ZaloSandbox
from bot.scheduler.job_scheduler import Scheduler
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database, token_records
from bot.storage.dossier_records import notification_counts
from bot.storage.secret import load_or_create
from bot.web.metrics import Metrics
from bot.web.request_limits import RequestLimits
from bot.zalo.access_token import TOKEN_NAME
from bot.zalo.sender import Sender
from bot.zalo.webhook import ZaloWebhook

if TYPE_CHECKING:  # Rasa and TensorFlow load only where events are handled
    from bot.brain.agent import Brain
    from bot.conversation.worker import ProcessingWorker

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20
# The machine API's description (webhook, dossier API, health), served at GET /openapi.yaml.
OPENAPI = Path(__file__).with_name("openapi.yaml")

SERVICES = web.AppKey("services", Services)
DATABASE = web.AppKey("database", Database)
PROCESSING = web.AppKey("processing", ProcessingLoop)
WORKER: web.AppKey[ProcessingWorker] = web.AppKey("worker")
WORKERS = web.AppKey("workers", WorkerPool)
SANDBOX = web.AppKey("sandbox", ZaloSandbox)
CONTENT = web.AppKey("content", ContentWatcher)
WEBHOOK = web.AppKey("webhook", ZaloWebhook)
STOP = web.AppKey("stop", Callable[[web.Application], Awaitable[None]])
DOSSIERS = web.AppKey("dossiers", Dossiers)
SCHEDULER = web.AppKey("scheduler", Scheduler)
REQUEST_LIMITS = web.AppKey("request_limits", RequestLimits)


def build_app(settings: Settings, brain: Brain | None) -> web.Application:
    """The service; `brain` None: events go to `settings.workers` worker processes."""
    app = web.Application(client_max_size=settings.max_body_bytes)
    database = Database.from_settings(settings)
    content = LiveContent(settings.content_dir)
    processing = ProcessingLoop()
    sender = Sender(settings, database, processing)
    tracker_database = settings.tracker_database if brain is None else brain.tracker_database
    model_name = current_model(settings.model_dir).name if brain is None else brain.model_path.name
    # With worker processes, reminders saved there get their jobs from this scheduler.
    in_workers = brain is None
    scheduler = Scheduler(
        settings,
        database,
        sender,
        content,
        tracker_database,
        reminders_from_other_processes=in_workers,
    )
    secret = load_or_create(settings.data_dir)
    services = Services(settings, database, secret, content, sender, scheduler)
    app[SERVICES] = services
    app[PROCESSING] = processing
    worker: ProcessingWorker | None = None
    workers: WorkerPool | None = None
    handled_by: Brain | WorkerPool  # the events: the worker processes, or this process
    if brain is None:
        workers = handled_by = WorkerPool(settings.workers, SHUTDOWN_GRACE_SECONDS)
        app[WORKERS] = workers
        submit = workers.submit
    else:
        from bot.conversation.worker import ProcessingWorker

        worker = ProcessingWorker(services, sender, processing, brain)
        app[WORKER] = worker
        submit = worker.submit
        handled_by = brain
    # Other communes on this deployment (bot/communes/): one model serves them all.
    communes = Communes(settings, processing, tracker_database, handled_by)
    communes.register(app)
    app[COMMUNES] = communes
    # 429 beyond the per-address limits on /api/ and /admin (bot/web/request_limits.py).
    request_limits = RequestLimits(settings)
    request_limits.register(app)
    app[REQUEST_LIMITS] = request_limits
    watcher = ContentWatcher(content, settings.content_reload_seconds)
    app[DATABASE] = database
    app[CONTENT] = watcher
    dossiers = Dossiers(services, processing)
    dossiers.register(app)
    app[DOSSIERS] = dossiers
    webhook = ZaloWebhook(settings, database, submit, secret)
    webhook.register(app)
    app[WEBHOOK] = webhook
    app[SCHEDULER] = scheduler
    admin.register(app, services, watcher, tracker_database)
    if settings.sandbox:
        sandbox = ZaloSandbox(
            settings.zalo_app_id,
            settings.zalo_app_secret,
            settings.zalo_oa_secret_key,
            settings.zalo_refresh_token,
            f"{settings.base_url}/webhook/zalo",
        )
        sandbox.register(app)
        app[SANDBOX] = sandbox

    async def healthz(request: web.Request) -> web.Response:
        notifications = await database.run(notification_counts)
        health = {
            "status": "ok",
            "model": model_name,
            "sandbox": settings.sandbox,
            "queued_events": (worker.pending if worker is not None else 0) + communes.pending,
            "content": asdict(watcher.status),
            "campaigns": asdict(scheduler.status),
            # dossier notifications: "stuck" and "failed" above 0 need an officer's look
            "notifications": notifications,
        }
        health["communes"] = communes.health()
        if workers is None:
            return web.json_response(health)
        # 503 while stopping or when a worker keeps dying at start
        # (bot/conversation/worker_pool.py).
        health.update(status="ok" if workers.healthy else "failing", workers=workers.health())
        return web.json_response(health, status=200 if workers.healthy else 503)

    app.router.add_get("/healthz", healthz)
    Metrics(settings, database, worker, request_limits, workers, communes).register(app)

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(
            text=OPENAPI.read_text(encoding="utf-8"), content_type="application/yaml"
        )

    app.router.add_get("/openapi.yaml", openapi)

    async def start(app: web.Application) -> None:
        scheduler.take_lock()  # one scheduler per database: fail before starting anything
        await watcher.start()
        await database.open()
        if brain is not None:
            brain.use(services, communes.services_of)
        if settings.sandbox:
            # The embedded sandbox starts with fresh OAuth state: begin again from its seed.
            await database.run(token_records.forget, TOKEN_NAME)
        processing.start()
        await sender.open()
        if worker is not None:
            await worker.start()
        # Before the workers: a commune on the sandbox forgets its old tokens as it opens.
        await communes.start()
        if workers is not None:
            await workers.start()
        await dossiers.start()
        # Campaigns and reminders: on this loop, sending through the Sender.
        await scheduler.start()

    stopping: list[asyncio.Task[None]] = []

    async def stop_gracefully(app: web.Application) -> None:
        """Refuse new webhooks (503: Zalo retries later), stop pushing, finish what was
        acknowledged while the rest (the sandbox too) still serves. Runs once, whether a
        signal or aiohttp's shutdown asks first."""

        async def in_order() -> None:
            webhook.accepting = False
            await scheduler.stop()
            await dossiers.stop()
            if worker is not None:
                await worker.stop(SHUTDOWN_GRACE_SECONDS)
            await communes.stop(SHUTDOWN_GRACE_SECONDS)
            if workers is not None:
                await workers.stop()
            await sender.close()
            await processing.stop()

        if not stopping:
            stopping.append(asyncio.ensure_future(in_order()))
        await stopping[0]

    async def close(app: web.Application) -> None:
        await watcher.stop()
        await database.close()
        await communes.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop_gracefully)
    app[STOP] = stop_gracefully
    app.on_cleanup.append(close)
    return app
