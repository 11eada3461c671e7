"""The dossier feature as the app sees it: the ingest API, and the notification dispatcher
running on the worker's loop (which owns the Zalo client)."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.dossiers.ingest import DossierApi
from bot.dossiers.notifier import NotificationDispatcher
from bot.scheduler import schedule_appointment_reminder
from bot.settings import Settings
from bot.storage import Database
from bot.storage.secret import load_or_create
from bot.worker import ProcessingWorker


class Dossiers:
    def __init__(self, settings: Settings, database: Database, worker: ProcessingWorker) -> None:
        self._settings = settings
        self._database = database
        self._worker = worker
        self.dispatcher: NotificationDispatcher | None = None
        self.secret = load_or_create(settings.data_dir)

    def register(self, app: web.Application) -> None:
        DossierApi(self._database, self._settings.api_token, self.secret, self.kick).register(app)

    def kick(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.kick()

    async def start(self) -> None:
        """After the worker started: deliver on its loop, through its Zalo client."""

        async def start_on_worker() -> NotificationDispatcher:
            assert self._worker.pusher is not None
            dispatcher = NotificationDispatcher(
                self._database,
                self._worker.pusher,
                self._settings.dossier_template_id,
                self._settings.notification_interval_seconds,
                self._settings.notification_retry_seconds,
                self._remind_day_before,
            )
            await dispatcher.start()
            return dispatcher

        self.dispatcher = await self._worker.call(start_on_worker())

    async def _remind_day_before(self, user_id: str, code: str, ready_on: dt.date) -> None:
        await schedule_appointment_reminder(self._database, self._settings, user_id, code, ready_on)

    async def stop(self) -> None:
        if self.dispatcher is not None:
            await self._worker.call(self.dispatcher.stop())
