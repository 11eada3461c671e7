"""The running service's shared parts, for code that cannot be handed them.

rasa_sdk creates the actions itself, so they cannot be given the database or the worker;
they ask here. `build_app` sets the runtime at start-up. A separate action server
(`rasa run actions`) gets a database of its own from the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.settings import Settings
from bot.storage import Database
from bot.storage.secret import load_or_create


@dataclass
class Runtime:
    settings: Settings
    database: Database
    secret: bytes  # keys the hashes of phone and ID numbers (bot/storage/secret.py)
    worker: object | None = None  # bot.worker.ProcessingWorker; None in a separate action server


_current: Runtime | None = None


def set_current(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


async def current() -> Runtime:
    """The service's runtime, or one opened from the environment's settings."""
    global _current
    if _current is None:
        settings = Settings.from_env()
        database = Database(settings.database_path)
        await database.open()
        _current = Runtime(settings, database, load_or_create(settings.data_dir))
    return _current
