"""One scheduler at a time: two would fire every campaign and reminder twice.

- SQLite alone (the default): an exclusive `flock` on a file beside the database. The kernel
  releases it when the process ends, however it ends, so a crash never leaves a stale lock
  behind; a second service on the same database is refused at start.
- With CITIZENBOT_REDIS_URL, or else CITIZENBOT_DATABASE_URL: several service processes, on
  one machine or several, share the work, and one of them leads the scheduler. The others
  wait (`SchedulerLeadership.acquire`) and take over when the leader is gone: Redis's lock
  expires unless renewed (redis-py's `Lock`: SET NX PX, renewed by a Lua script that checks
  the owner's token); PostgreSQL frees an advisory lock when its session ends.

A leader that cannot renew steps down at once. A leader stalled past the expiry could still
overlap its successor for a moment; campaign recipients are claimed one by one in the
database (bot/scheduler/campaign_fanout.py), so no one is sent a run's message twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import fcntl
import logging
import os
import socket
from pathlib import Path
from typing import Protocol

import psycopg2
import redis.asyncio
from redis.exceptions import LockError, RedisError

from bot.settings import Settings

log = logging.getLogger(__name__)

LEADER_KEY = "citizenbot:scheduler-leader"
# The advisory lock's number in PostgreSQL: any fixed number the service uses for nothing else.
LEADER_ADVISORY_KEY = 0x5343_4844


class SchedulerLocked(RuntimeError):
    """Another scheduler already runs on this database."""


def holder() -> str:
    """Who holds the lock, for the messages of those who wait."""
    since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    return f"pid {os.getpid()} on {socket.gethostname()} since {since}"


class SchedulerLock:
    def __init__(self, database_path: Path) -> None:
        self.database_path = database_path
        self.path = database_path.with_name(database_path.name + ".scheduler-lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise SchedulerLocked naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            held_by = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SchedulerLocked(
                f"another citizenbot scheduler already runs on {self.database_path} "
                f"({held_by}); only one may run per database: stop it, or give this service "
                "its own CITIZENBOT_DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder().encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SchedulerLeadership(Protocol):
    """The scheduler's lock shared by every service process of the deployment."""

    async def try_acquire(self) -> bool:
        """Lead now if nobody does; False at once otherwise."""

    async def acquire(self) -> None:
        """Return once this process leads (waits while another does)."""

    async def hold(self) -> None:
        """Keep leading; return when the lead is lost (it cannot be renewed)."""

    async def release(self) -> None:
        """Let another process lead (at once, not after the expiry)."""


class _Polled:
    """`acquire` as a poll of `try_acquire`: another process's lock is not an event here."""

    _expiry: float

    async def try_acquire(self) -> bool:
        raise NotImplementedError

    async def acquire(self) -> None:
        while True:
            if await self.try_acquire():
                return
            await asyncio.sleep(self._expiry / 3)


class RedisLeadership(_Polled):
    """Redis's lock with an expiry, renewed a few times per expiry while this process leads;
    `commune` a commune's schema (its own scheduler), "" the default commune's."""

    def __init__(self, url: str, expiry_seconds: float, commune: str = "") -> None:
        self._redis = redis.asyncio.Redis.from_url(url, socket_timeout=expiry_seconds / 3)
        self._expiry = expiry_seconds
        key = f"{LEADER_KEY}:{commune}" if commune else LEADER_KEY
        self._lock = self._redis.lock(key, timeout=expiry_seconds)

    async def try_acquire(self) -> bool:
        try:
            return bool(await self._lock.acquire(blocking=False, token=holder()))
        except RedisError as exc:
            log.warning("the scheduler lock could not be asked for (%s); trying again", exc)
            return False

    async def hold(self) -> None:
        while True:
            await asyncio.sleep(self._expiry / 3)
            try:
                await self._lock.reacquire()  # the full expiry again, if still ours
            except (LockError, RedisError) as exc:
                log.error("the scheduler lock could not be renewed (%s)", exc)
                return

    async def release(self) -> None:
        # Expired already, or Redis is gone: then it expires by itself.
        with contextlib.suppress(LockError, RedisError):
            await self._lock.release()
        await self._redis.connection_pool.disconnect()  # reconnects if this process leads again


class PostgresLeadership(_Polled):
    """A PostgreSQL advisory lock, held by a session of its own. The server frees it when that
    session ends: at once when the process dies, and within about the expiry when its machine
    vanishes (the session's TCP keepalives). A commune's scheduler (`commune` its slug)
    takes the two-number lock (LEADER_ADVISORY_KEY, hash of the slug): its own."""

    def __init__(self, url: str, expiry_seconds: float, commune: str = "") -> None:
        self._url = url
        self._expiry = expiry_seconds
        self._connection: psycopg2.extensions.connection | None = None
        self._lock_call = (
            f"pg_try_advisory_lock({LEADER_ADVISORY_KEY}, hashtext(%s))"
            if commune
            else f"pg_try_advisory_lock({LEADER_ADVISORY_KEY})"
        )
        self._commune = commune

    async def try_acquire(self) -> bool:
        return await asyncio.to_thread(self._try)

    async def hold(self) -> None:
        while True:
            await asyncio.sleep(self._expiry / 3)
            try:
                await asyncio.to_thread(self._query, "SELECT 1")
            except psycopg2.Error as exc:
                log.error("the scheduler lock's database session was lost (%s)", exc)
                self._close()
                return

    async def release(self) -> None:
        await asyncio.to_thread(self._close)

    def _try(self) -> bool:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = psycopg2.connect(self._url, connect_timeout=10)
                self._connection.autocommit = True
                # The server probes a silent client this often: a vanished machine's lock goes.
                seconds = max(1, int(self._expiry / 3))
                self._query(
                    f"SET tcp_keepalives_idle = {seconds}; SET tcp_keepalives_interval = "
                    f"{seconds}; SET tcp_keepalives_count = 2"
                )
            return bool(self._query(f"SELECT {self._lock_call}", self._commune or None))
        except psycopg2.Error as exc:
            log.warning("the scheduler lock could not be asked for (%s); trying again", exc)
            self._close()
            return False

    def _query(self, sql: str, value: str | None = None) -> object:
        assert self._connection is not None
        with self._connection.cursor() as cursor:
            cursor.execute(sql, None if value is None else (value,))
            return cursor.fetchone()[0] if cursor.description else None

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()  # ends the session: the lock is free
            self._connection = None


def shared_leadership(settings: Settings, commune: str = "") -> SchedulerLeadership | None:
    """The lock several processes share, on Redis or else PostgreSQL; None on SQLite alone.
    Each commune's scheduler has its own lock (`commune`, "" the default commune's)."""
    if settings.redis_url:
        return RedisLeadership(settings.redis_url, settings.scheduler_lock_seconds, commune)
    if settings.database_url:
        return PostgresLeadership(settings.database_url, settings.scheduler_lock_seconds, commune)
    return None
