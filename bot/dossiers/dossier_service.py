"""The dossier feature as the app sees it: the ingest API, and the notification dispatcher
running on the processing loop (where the Sender's Zalo client lives)."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.conversation.processing_loop import ProcessingLoop
from bot.dossiers.ingest import DossierApi
from bot.dossiers.notifier import NotificationDispatcher
from bot.scheduler import schedule_appointment_reminder
from bot.services import Services


class Dossiers:
    def __init__(self, services: Services, processing: ProcessingLoop) -> None:
        self._services = services
        self._processing = processing
        self.dispatcher: NotificationDispatcher | None = None
        self.api = DossierApi(
            services.database, services.settings.api_token, services.secret, self.kick
        )

    def register(self, app: web.Application) -> None:
        self.api.register(app)

    def kick(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.kick()

    async def start(self) -> None:
        """After the Sender opened: deliver on the processing loop, where its client is."""
        services = self._services
        assert services.sender is not None, "the service's Sender is missing"
        sender = services.sender

        async def start_on_processing_loop() -> NotificationDispatcher:
            dispatcher = NotificationDispatcher(
                services.database,
                sender,
                services.content,
                services.settings.dossier_template_id,
                services.settings.notification_interval_seconds,
                services.settings.notification_retry_seconds,
                self._remind_day_before,
            )
            await dispatcher.start()
            return dispatcher

        self.dispatcher = await self._processing.call(start_on_processing_loop())

    async def _remind_day_before(self, user_id: str, code: str, ready_on: dt.date) -> None:
        services = self._services
        await schedule_appointment_reminder(
            services.database, services.reminder_jobs, services.settings, user_id, code, ready_on
        )

    async def stop(self) -> None:
        if self.dispatcher is not None:
            await self._processing.call(self.dispatcher.stop())
