"""The service's parts, built once at start and handed to whatever uses them.

`build_app` (bot/web/app.py) builds them and hands them to the worker, the scheduler, the
dashboard, the dossiers and, through the executor that registers them
(bot/brain/in_process_actions.py), to the actions. The project's separate action server
(`citizenbot actions`, bot/brain/action_server.py) opens one set from the environment and
hands it to all its actions. Plain `rasa run actions` registers the actions without them:
there each action class opens its own set at its first call (`UsesServices.services`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.communes.conversation_ids import commune_of, conversation_id
from bot.content import LiveContent
from bot.scheduler.citizen_reminders import ReminderJobs
from bot.settings import Settings
from bot.storage import Database
from bot.storage.secret import load_or_create
from bot.zalo.sender import Sender

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from rasa_sdk import Tracker


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
    commune: str = ""  # whose parts these are (bot/communes/); "" the default commune

    def conversation_id(self, user_id: str) -> str:
        """The citizen's conversation in Rasa's tracker store (shared by the communes)."""
        return conversation_id(self.commune, user_id)

    @classmethod
    async def for_action_server(
        cls, settings: Settings, commune: str = "", overlay: Path | None = None
    ) -> Services:
        """What a separate action server uses (a commune's: its settings, its content
        `overlay`): the database opened, the content loaded; no sender, no scheduler. Logged,
        since each set is a connection and a content load."""
        database = Database.from_settings(settings)
        await database.open()
        content = LiveContent(settings.content_dir, overlay)
        log.info("action services opened: database %s", settings.database_path)
        secret = load_or_create(settings.data_dir)
        return cls(settings, database, secret, content, commune=commune)

    @classmethod
    async def from_environment(cls) -> Services:
        return await cls.for_action_server(Settings.from_env())


# How actions reach another commune's parts than the default's, by its slug.
CommuneServices = Callable[[str], Awaitable[Services]]


class UsesServices:
    """A rasa_sdk action that uses the service's parts: our executor hands them in with
    `use`; an action server that does not (plain `rasa run actions`) gets them from the
    environment at the action's first call. A conversation with another commune than the
    default (bot/communes/conversation_ids.py) gets that commune's parts."""

    _services: Services | None = None
    _of_commune: CommuneServices | None = None

    def use(self, services: Services, of_commune: CommuneServices | None = None) -> None:
        self._services = services
        self._of_commune = of_commune

    async def services(self, tracker: Tracker) -> Services:
        commune = commune_of(tracker.sender_id)
        if commune:
            if self._of_commune is None:
                raise LookupError(f"a conversation of commune {commune!r}, and no communes here")
            return await self._of_commune(commune)
        if self._services is None:
            self._services = await Services.from_environment()
        return self._services
