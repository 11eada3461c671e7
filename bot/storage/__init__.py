"""The service's tables: one SQLite file, or PostgreSQL when CITIZENBOT_DATABASE_URL names
one, reached through `Database.run` from a single worker thread."""

from bot.storage.database import Database

__all__ = ["Database"]
