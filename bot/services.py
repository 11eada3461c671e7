"""The service's parts, built once at start and handed to whatever uses them.

`build_app` (bot/web/app.py) builds them and hands them to the worker, the scheduler, the
dashboard, the dossiers and, through the executor that registers them
(bot/brain/in_process_actions.py), to the actions. A separate action server (`rasa run actions`)
registers the actions itself, without them: there each action opens the parts it needs from
the environment's settings at its first call (`UsesServices.services`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content import LiveContent
from bot.scheduler.citizen_reminders import ReminderJobs
from bot.settings import Settings
from bot.storage import Database
from bot.storage.secret import load_or_create
from bot.zalo.sender import Sender


@dataclass(frozen=True)
class Services:
    settings: Settings
    database: Database
    secret: bytes  # keys the hashes of phone and ID numbers (bot/storage/secret.py)
    content: LiveContent
    # Both None in a separate action server: it sends nothing itself, and the service's
    # scheduler gives a reminder saved there its job when it starts.
    sender: Sender | None = None
    reminder_jobs: ReminderJobs | None = None

    @classmethod
    async def from_environment(cls) -> Services:
        """What a separate action server uses: the environment's settings, database open."""
        settings = Settings.from_env()
        database = Database.from_settings(settings)
        await database.open()
        content = LiveContent(settings.content_dir)
        return cls(settings, database, load_or_create(settings.data_dir), content)


class UsesServices:
    """A rasa_sdk action that uses the service's parts: our executor hands them in with
    `use`; an action server that does not (plain `rasa run actions`) gets them from the
    environment at the action's first call."""

    _services: Services | None = None

    def use(self, services: Services) -> None:
        self._services = services

    async def services(self) -> Services:
        if self._services is None:
            self._services = await Services.from_environment()
        return self._services
