"""The OA access token, refreshed ahead of expiry and on demand.

Zalo's refresh tokens are single-use: the new pair is persisted before it is used, and a
lock makes sure only one refresh runs at a time, in this process and across the worker
processes: a file lock beside the database on one machine, a Redis lock (CITIZENBOT_REDIS_URL)
across the instances on several machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import AsyncIterator

import aiohttp
import redis.asyncio

from bot.settings import Settings
from bot.storage import Database, token_records
from bot.zalo.errors import RATE_LIMITED, ZaloUnavailable

log = logging.getLogger(__name__)
TOKEN_NAME = "zalo_oa"
# A refresh's answer holds the only copy of the next single-use refresh token: given up on,
# a refresh Zalo did make leaves the OA to be re-authorised. So it is waited for longer than
# a send (zalo_timeout_seconds, when that is longer still).
REFRESH_TIMEOUT_SECONDS = 60.0
# The Redis lock expires after this, should its holder die mid-refresh.
REFRESH_LOCK_SECONDS = 120


class RefreshTokenLost(Exception):
    """Zalo refused the refresh token: an officer must re-authorise the OA."""


class AccessTokens:
    def __init__(self, settings: Settings, database: Database, session: aiohttp.ClientSession):
        self._settings = settings
        self._database = database
        self._session = session
        self._lock = asyncio.Lock()
        self._seed = hashlib.sha256(settings.zalo_refresh_token.encode()).hexdigest()[:16]
        # The refresh token Zalo refused: not offered again (one CRITICAL, not one per reply)
        # until the OA is re-authorised and another one is configured.
        self._refused: str | None = None

    async def current(self) -> str:
        """A valid access token, refreshing first if it is missing or about to expire."""
        async with self._lock:
            stored = await self._stored()
            if self._fresh(stored):
                return stored["access_token"]
            async with self._one_process_at_a_time():
                stored = await self._stored()  # another process may have refreshed it
                if self._fresh(stored):
                    return stored["access_token"]
                return await self._refresh(stored)

    async def refresh(self, rejected_token: str) -> str:
        """Zalo rejected `rejected_token`; refresh unless another task already did."""
        async with self._lock, self._one_process_at_a_time():
            stored = await self._stored()
            if stored and stored["access_token"] and stored["access_token"] != rejected_token:
                return stored["access_token"]
            return await self._refresh(stored)

    def _fresh(self, stored: dict | None) -> bool:
        margin = self._settings.token_refresh_margin_seconds
        return bool(
            stored and stored["access_token"] and stored["expires_at"] - margin > time.time()
        )

    def _one_process_at_a_time(self) -> contextlib.AbstractAsyncContextManager[None]:
        if self._settings.redis_url:
            return self._one_instance_at_a_time()
        return self._one_process_on_this_machine_at_a_time()

    @contextlib.asynccontextmanager
    async def _one_instance_at_a_time(self) -> AsyncIterator[None]:
        """A Redis lock named after the OA's refresh-token chain, shared by every instance.
        A new client each time: refreshes come once a day."""
        client = redis.asyncio.Redis.from_url(self._settings.redis_url)
        try:
            lock = client.lock(
                f"citizenbot:zalo-token-refresh:{self._seed}",
                timeout=REFRESH_LOCK_SECONDS,
                blocking_timeout=REFRESH_LOCK_SECONDS,
            )
            async with lock:
                yield
        finally:
            await client.close()

    @contextlib.asynccontextmanager
    async def _one_process_on_this_machine_at_a_time(self) -> AsyncIterator[None]:
        """An exclusive lock on a file beside the database, waited for on a thread."""
        path = self._settings.database_path
        fd = os.open(path.with_name(path.name + ".token-lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            await asyncio.get_running_loop().run_in_executor(None, fcntl.flock, fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    async def _stored(self) -> dict | None:
        stored = await self._database.run(token_records.load, TOKEN_NAME)
        # A newly configured refresh token (the OA was re-authorised) replaces the old chain.
        if stored and stored["seed_fingerprint"] != self._seed:
            return None
        return stored

    async def _refresh(self, stored: dict | None) -> str:
        refresh_token = stored["refresh_token"] if stored else self._settings.zalo_refresh_token
        if refresh_token == self._refused:
            raise RefreshTokenLost("Zalo refused the refresh token; the OA must be re-authorised")
        url = f"{self._settings.zalo_oauth_base}/v4/oa/access_token"
        form = {
            "refresh_token": refresh_token,
            "app_id": self._settings.zalo_app_id,
            "grant_type": "refresh_token",
        }
        headers = {"secret_key": self._settings.zalo_app_secret}
        waited = max(REFRESH_TIMEOUT_SECONDS, self._settings.zalo_timeout_seconds)
        timeout = aiohttp.ClientTimeout(total=waited)
        try:
            async with self._session.post(url, data=form, headers=headers, timeout=timeout) as resp:
                if resp.status >= 500:
                    raise ZaloUnavailable(f"token refresh answered HTTP {resp.status}")
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ZaloUnavailable(f"token refresh failed: {exc.__class__.__name__}") from exc
        if not isinstance(body, dict) or "access_token" not in body or "refresh_token" not in body:
            code = body.get("error", -1) if isinstance(body, dict) else -1
            message = body.get("message", "") if isinstance(body, dict) else ""
            if code == RATE_LIMITED:
                # Too many calls, not a verdict on the token: it stays good for a later try.
                log.warning("token refresh rate-limited by Zalo (error %s); retried later", code)
                raise ZaloUnavailable(f"token refresh rate-limited: {code} {message}")
            self._refused = refresh_token
            log.critical(
                "Zalo refused the OA refresh token (error %s: %s). An officer must re-authorise "
                "the OA and set ZALO_REFRESH_TOKEN.",
                code,
                message,
            )
            raise RefreshTokenLost(f"Zalo refused the refresh token: {code} {message}")
        expires_at = time.time() + int(body.get("expires_in", "90000"))
        await self._database.run(
            token_records.save,
            TOKEN_NAME,
            body["access_token"],
            body["refresh_token"],
            expires_at,
            self._seed,
        )
        log.info("Zalo access token refreshed; valid for %s s", body.get("expires_in"))
        return body["access_token"]
