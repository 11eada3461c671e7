"""The aiohttp application: webhook, sandbox and health on this loop; processing and every
Zalo call on the processing loop's thread. The service's parts are built here, once, and
handed to what uses them (bot/services.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

from aiohttp import web

from bot import admin
from bot.brain import Brain
from bot.content import LiveContent
from bot.content.watcher import ContentWatcher
from bot.dossiers.service import Dossiers
from bot.metrics import Metrics
from bot.processing_loop import ProcessingLoop
from bot.request_limits import RequestLimits
from bot.scheduler.service import Scheduler
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database, tokens
from bot.storage.dossiers import notification_counts
from bot.storage.secret import load_or_create
from bot.worker import ProcessingWorker
from bot.zalo.sandbox import ZaloSandbox
from bot.zalo.sender import Sender
from bot.zalo.tokens import TOKEN_NAME
from bot.zalo.webhook import ZaloWebhook

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20
# The machine API's description (webhook, dossier API, health), served at GET /openapi.yaml.
OPENAPI = Path(__file__).with_name("openapi.yaml")

SERVICES = web.AppKey("services", Services)
DATABASE = web.AppKey("database", Database)
PROCESSING = web.AppKey("processing", ProcessingLoop)
WORKER = web.AppKey("worker", ProcessingWorker)
SANDBOX = web.AppKey("sandbox", ZaloSandbox)
CONTENT = web.AppKey("content", ContentWatcher)
WEBHOOK = web.AppKey("webhook", ZaloWebhook)
STOP = web.AppKey("stop", Callable[[web.Application], Awaitable[None]])
DOSSIERS = web.AppKey("dossiers", Dossiers)
SCHEDULER = web.AppKey("scheduler", Scheduler)
REQUEST_LIMITS = web.AppKey("request_limits", RequestLimits)


def build_app(settings: Settings, brain: Brain) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    database = Database(settings.database_path, settings.database_busy_timeout_seconds)
    content = LiveContent(settings.content_dir)
    processing = ProcessingLoop()
    sender = Sender(settings, database, processing)
    scheduler = Scheduler(settings, database, sender, content, brain.tracker_path)
    secret = load_or_create(settings.data_dir)
    services = Services(settings, database, secret, content, sender, scheduler)
    app[SERVICES] = services
    app[PROCESSING] = processing
    worker = ProcessingWorker(services, sender, processing, brain)
    # 429 beyond the per-address limits on /api/ and /admin (bot/request_limits.py).
    request_limits = RequestLimits(settings)
    request_limits.register(app)
    app[REQUEST_LIMITS] = request_limits
    watcher = ContentWatcher(content, settings.content_reload_seconds)
    app[DATABASE] = database
    app[WORKER] = worker
    app[CONTENT] = watcher
    dossiers = Dossiers(services, processing)
    dossiers.register(app)
    app[DOSSIERS] = dossiers
    webhook = ZaloWebhook(settings, database, worker.submit, secret)
    webhook.register(app)
    app[WEBHOOK] = webhook
    app[SCHEDULER] = scheduler
    admin.register(app, services, watcher, brain.tracker_path)
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
        return web.json_response(
            {
                "status": "ok",
                "model": brain.model_path.name,
                "sandbox": settings.sandbox,
                "queued_events": worker.pending,
                "content": asdict(watcher.status),
                "campaigns": asdict(scheduler.status),
                # dossier notifications: "stuck" and "failed" above 0 need an officer's look
                "notifications": notifications,
            }
        )

    app.router.add_get("/healthz", healthz)
    Metrics(settings, database, worker, request_limits).register(app)

    async def openapi(request: web.Request) -> web.Response:
        return web.Response(
            text=OPENAPI.read_text(encoding="utf-8"), content_type="application/yaml"
        )

    app.router.add_get("/openapi.yaml", openapi)

    async def start(app: web.Application) -> None:
        scheduler.take_lock()  # one scheduler per database: fail before starting anything
        await watcher.start()
        await database.open()
        brain.use(services)
        if settings.sandbox:
            # The embedded sandbox starts with fresh OAuth state: begin again from its seed.
            await database.run(tokens.forget, TOKEN_NAME)
        processing.start()
        await sender.open()
        await worker.start()
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
            await worker.stop(SHUTDOWN_GRACE_SECONDS)
            await sender.close()
            await processing.stop()

        if not stopping:
            stopping.append(asyncio.ensure_future(in_order()))
        await stopping[0]

    async def close(app: web.Application) -> None:
        await watcher.stop()
        await database.close()

    app.on_startup.append(start)
    app.on_shutdown.append(stop_gracefully)
    app[STOP] = stop_gracefully
    app.on_cleanup.append(close)
    return app
