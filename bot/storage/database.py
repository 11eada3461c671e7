"""The service's database and its schema: an SQLite file (the embedded default), or
PostgreSQL when `CITIZENBOT_DATABASE_URL` names one (bot/storage/postgres_engine.py).

Both drivers block, so every call runs on one dedicated thread with its own connection: the
event loop never waits on the disk, and writes are serialised the way SQLite wants them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg2
import sqlite_utils

from bot.storage import (
    audit,
    campaign_records,
    dossier_records,
    feedback_records,
    handover_records,
    inbox,
    officer_accounts,
    ratings,
    reminder_records,
    retention,
)
from bot.storage.postgres_engine import PostgresDatabase
from bot.storage.sql import Store

T = TypeVar("T")


class DatabaseSettings(Protocol):
    """The settings a Database is opened from (bot/settings.py's Settings has them)."""

    database_path: Path
    database_busy_timeout_seconds: float
    database_url: str
    database_schema: str | None


CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    key TEXT PRIMARY KEY,          -- msg_id, or event_name:user:timestamp when there is none
    event_name TEXT NOT NULL,
    user_id TEXT,
    timestamp_ms INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | done | failed | ignored
    processed_at TEXT,
    error TEXT,
    claimed_by TEXT,               -- the worker process handling it (CITIZENBOT_WORKERS > 1)
    claimed_at TEXT                -- PostgreSQL: when its claim was taken or last renewed
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox(status, received_at);

CREATE TABLE IF NOT EXISTS outbox (
    idempotency_key TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    message TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | sent | failed | unreachable
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code INTEGER,
    error_message TEXT,
    zalo_message_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_user ON outbox(user_id, created_at);

CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    first_seen_at TEXT NOT NULL,
    last_interaction_at TEXT,
    followed INTEGER NOT NULL DEFAULT 1,
    unfollowed_at TEXT
);

-- How a citizen names themselves and the assistant ("bác" / "cháu"), once they have said it.
CREATE TABLE IF NOT EXISTS forms_of_address (
    user_id TEXT PRIMARY KEY,
    citizen TEXT NOT NULL,
    assistant TEXT NOT NULL,
    said_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS oauth_tokens (
    name TEXT PRIMARY KEY,
    access_token TEXT,
    refresh_token TEXT NOT NULL,
    expires_at REAL NOT NULL,
    seed_fingerprint TEXT NOT NULL, -- which configured refresh token this chain started from
    updated_at TEXT NOT NULL
);
"""


# Each feature keeps its tables in its own storage module (a SCHEMA string) and adds it here.
SCHEMAS: tuple[str, ...] = (
    CORE_SCHEMA,
    dossier_records.SCHEMA,
    officer_accounts.SCHEMA,
    audit.SCHEMA,
    feedback_records.SCHEMA,
    handover_records.SCHEMA,
    ratings.SCHEMA,
    campaign_records.SCHEMA,
    reminder_records.SCHEMA,
    retention.SCHEMA,
)


# Every table of the service, in the order of SCHEMAS (what `citizenbot migrate` copies).
TABLES: tuple[str, ...] = tuple(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", "\n".join(SCHEMAS)))


# SQLite errors that pass: another process's lock held past the busy timeout, a disk that
# failed for a moment or filled up. Any other error (a constraint, a bug) would recur.
TEMPORARY_ERRORS = (
    "database is locked",
    "database table is locked",
    "disk i/o error",
    "database or disk is full",
)


# The storage could not answer now (a lock held too long, a full disk, the PostgreSQL
# server unreachable): the webhook and the dossier API answer 503, the sender retries.
UNAVAILABLE = (sqlite3.OperationalError, psycopg2.OperationalError)


def is_temporary(error: BaseException) -> bool:
    """Whether `error`, or the error behind it (SQLAlchemy wraps sqlite3's in `orig`), is a
    storage failure worth trying again after a pause."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError):
            return any(message in str(current).lower() for message in TEMPORARY_ERRORS)
        # PostgreSQL: the server unreachable or restarting, a deadlock, a serialization
        # failure; a constraint or a syntax error (psycopg2's other errors) would recur.
        if isinstance(current, psycopg2.OperationalError):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def create_private(path: Path) -> None:
    """Create the file `path` (empty) and its directory for the service's user only (0600,
    0700): databases and backups hold citizens' messages and the OA's tokens. A file or
    directory that already exists keeps its mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def open_connection(path: Path, busy_timeout_seconds: float = 30.0) -> sqlite3.Connection:
    """A connection with the service's settings and every table in place."""
    create_private(path)  # SQLite gives its -wal and -shm files the same mode
    # isolation_level=None: autocommit; multi-statement writes use `with conn:`.
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    # FULL: a row is on disk before the webhook answers 200 (survives power loss too).
    conn.execute("PRAGMA synchronous=FULL")
    # Another process holding the write lock (an import, a backup restore): wait this long.
    conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
    dossier_records.upgrade(conn)
    for schema in SCHEMAS:
        conn.executescript(schema)
    inbox.upgrade(conn)
    inbox.register_shard_function(conn)
    return conn


def open_postgres(url: str, schema: str | None = None) -> PostgresDatabase:
    """A connection to the PostgreSQL database `url` (in `schema` when named, a commune's
    own) with every table in place."""
    db = PostgresDatabase(url, schema)
    db.create_tables(SCHEMAS)
    inbox.upgrade_postgres(db.conn)
    return db


def open_store(
    path: Path, url: str = "", schema: str | None = None, busy_timeout_seconds: float = 30.0
) -> Store:
    """What the storage functions take: PostgreSQL when `url` is set, else the SQLite file
    `path`."""
    if url:
        return open_postgres(url, schema)
    return sqlite_utils.Database(open_connection(path, busy_timeout_seconds))


class Database:
    """The service's database; `await db.run(fn, ...)` calls `fn(store, ...)` on the
    database's own thread, `store` a sqlite_utils.Database on the SQLite file `path`, a
    PostgresDatabase when `url` is set (`schema`: its search_path, e.g. a commune's own)."""

    def __init__(
        self,
        path: Path,
        busy_timeout_seconds: float = 30.0,
        url: str = "",
        schema: str | None = None,
    ) -> None:
        self.path = path
        self.url = url
        self.schema = schema
        self.busy_timeout_seconds = busy_timeout_seconds
        name = "postgres" if url else "sqlite"
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._db: Store | None = None

    @classmethod
    def from_settings(cls, settings: DatabaseSettings) -> Database:
        """PostgreSQL when `settings.database_url` is set (in `database_schema`), else the
        SQLite file in data_dir."""
        return cls(
            settings.database_path,
            settings.database_busy_timeout_seconds,
            url=settings.database_url,
            schema=settings.database_schema,
        )

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self._connect)

    def _connect(self) -> None:
        self._db = open_store(self.path, self.url, self.schema, self.busy_timeout_seconds)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._db is None:
            raise RuntimeError("Database.open() was not awaited")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, fn, self._db, *args)

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await asyncio.get_running_loop().run_in_executor(self._executor, db.conn.close)
        self._executor.shutdown(wait=True)
