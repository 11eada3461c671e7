"""One SQLite database, reached through `Database.run` from a single worker thread."""

from bot.storage.database import Database

__all__ = ["Database"]
