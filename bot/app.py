"""The aiohttp application: webhook, processing queues, Zalo client, sandbox, health."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from aiohttp import web

from bot.brain import Brain
from bot.conversation import Conversations
from bot.settings import Settings
from bot.storage import Database, inbox, tokens
from bot.user_queues import UserQueues
from bot.zalo.client import ZaloClient
from bot.zalo.events import parse_event
from bot.zalo.sandbox import ZaloSandbox
from bot.zalo.tokens import TOKEN_NAME
from bot.zalo.webhook import ZaloWebhook

log = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 20

DATABASE = web.AppKey("database", Database)
QUEUES = web.AppKey("queues", UserQueues)
SANDBOX = web.AppKey("sandbox", ZaloSandbox)


def build_app(settings: Settings, brain: Brain) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes)
    database = Database(settings.database_path)
    app[DATABASE] = database
    holder: dict[str, Conversations] = {}

    async def handle(event):  # bound once the client exists (startup)
        await holder["conversations"].handle(event)

    queues = UserQueues(handle)
    app[QUEUES] = queues
    ZaloWebhook(settings, database, queues.submit).register(app)
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
        return web.json_response(
            {
                "status": "ok",
                "model": brain.model_path.name,
                "sandbox": settings.sandbox,
                "queued_events": queues.pending,
            }
        )

    app.router.add_get("/healthz", healthz)

    async def start(app: web.Application) -> None:
        await database.open()
        if settings.sandbox:
            # The embedded sandbox starts with fresh OAuth state: begin again from its seed.
            await database.run(tokens.forget, TOKEN_NAME)
        session = aiohttp.ClientSession()
        app.on_cleanup.insert(0, lambda _: session.close())
        holder["conversations"] = Conversations(
            database, ZaloClient(settings, database, session), brain
        )
        recovered = await database.run(inbox.pending)
        for payload in recovered:
            queues.submit(parse_event(payload))
        if recovered:
            log.info("resuming %d events acknowledged before the last stop", len(recovered))
        queues.start()

    async def finish_in_flight(app: web.Application) -> None:
        try:
            await asyncio.wait_for(queues.drain(), SHUTDOWN_GRACE_SECONDS)
        except asyncio.TimeoutError:
            log.warning(
                "shutdown: %d events left pending; they resume at the next start", queues.pending
            )

    async def close(app: web.Application) -> None:
        await database.close()

    app.on_startup.append(start)
    app.on_shutdown.append(finish_in_flight)
    app.on_cleanup.append(close)
    return app
