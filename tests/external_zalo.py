"""A Zalo stand-in outside the service, and `citizenbot run` as its own process.

The sandbox runs in the test process on its own loopback port. The service is given
credentials and `ZALO_API_BASE` / `ZALO_OAUTH_BASE` pointing at it, so it talks to it as to
the real OA API, and what "Zalo" received survives the service being killed or restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import psycopg2
from aiohttp import web

from bot.sandbox.zalo_sandbox import ZaloSandbox
from bot.settings import Settings
from bot.zalo import signature
from tests.conftest import PROJECT, free_port, wait_until_healthy

APP_ID = "external-app"
APP_SECRET = "external-app-secret"
OA_SECRET_KEY = "external-oa-secret"
SEED_REFRESH_TOKEN = "external-refresh-seed"


class ExternalZalo:
    """The OA API and OAuth server of `bot.sandbox.zalo_sandbox`, on a port of its own."""

    def __init__(self, webhook_url: str = "") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/sandbox"
        self.sandbox = ZaloSandbox(
            APP_ID, APP_SECRET, OA_SECRET_KEY, SEED_REFRESH_TOKEN, webhook_url
        )
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        self.sandbox.register(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def env(self, refresh_token: str = SEED_REFRESH_TOKEN) -> dict[str, str]:
        """The variables of a real OA, pointed at this sandbox."""
        return {
            "ZALO_APP_ID": APP_ID,
            "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
            "ZALO_REFRESH_TOKEN": refresh_token,
            "ZALO_API_BASE": f"{self.url}/openapi",
            "ZALO_OAUTH_BASE": f"{self.url}/oauth",
        }

    def settings(self, refresh_token: str = SEED_REFRESH_TOKEN, **overrides: object) -> Settings:
        return Settings.from_env(self.env(refresh_token), **overrides)

    def text_event(self, user_id: str, text: str) -> dict[str, Any]:
        """A `user_send_text` event as Zalo sends it (string ids, ms timestamp, a msg_id)."""
        return self.sandbox.event(user_id, "user_send_text", text)

    def messages(self, user_id: str) -> list[dict[str, Any]]:
        """What this "Zalo" accepted for `user_id`: {message_id, sent_time, message}."""
        return list(self.sandbox.state.messages.get(user_id, []))

    def delivered(self) -> int:
        return sum(len(sent) for sent in self.sandbox.state.messages.values())


def signed(event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The exact bytes Zalo would POST for `event` (a retry re-sends them unchanged)."""
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = signature.header_value(APP_ID, body, event["timestamp"], OA_SECRET_KEY)
    return body, {signature.HEADER: mac, "Content-Type": "application/json"}


async def post_webhook(
    http: aiohttp.ClientSession, base_url: str, body: bytes, headers: dict[str, str]
) -> int | None:
    """POST one event; its status, or None when the service did not answer at all."""
    try:
        async with http.post(f"{base_url}/webhook/zalo", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None


class ServiceProcess:
    """`citizenbot run` in its own process on a loopback port, its stderr in `log_path`."""

    def __init__(self, port: int, data_dir: Path, env: dict[str, str], log_path: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._env = {
            **os.environ,
            "PORT": str(port),
            "CITIZENBOT_DATA_DIR": str(data_dir),
            "RASA_TELEMETRY_ENABLED": "false",
            **env,
        }
        self._log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 120) -> None:
        """Start and wait for /healthz; fails with the log's tail if it dies first."""
        with self._log_path.open("a") as log:  # the child keeps its own descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.cli",
                "run",
                cwd=PROJECT,
                env=self._env,
                stdout=log,
                stderr=log,
            )
        if await wait_until_healthy(self.url, self.process, timeout):
            return
        self.kill()
        raise AssertionError(f"the service did not start:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()

    async def wait(self, timeout: float = 60) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def terminate(self, timeout: float = 60) -> int:
        """SIGTERM (graceful: acknowledged events are finished) and the exit code."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.terminate()
        return await self.wait(timeout)

    def log(self) -> str:
        return self._log_path.read_text(errors="replace")


def rows(database: Path | str, query: str) -> list[tuple]:
    """Read the service's database from outside (as an officer with sqlite3 or psql would):
    an SQLite file, or a PostgreSQL URL."""
    if isinstance(database, str):
        with contextlib.closing(psycopg2.connect(database)) as conn, conn.cursor() as cursor:
            cursor.execute(query)
            return cursor.fetchall()
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


async def wait_until_everything_is_processed(
    database: Path | str, total: int, seconds: float = 60
) -> None:
    """Until `total` events are recorded in the inbox and none is pending."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        [(recorded, pending)] = rows(
            database, "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM inbox"
        )
        if recorded == total and pending == 0:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"not processed in time: {recorded} recorded, {pending} pending")


def assert_answered_exactly_once(
    zalo: ExternalZalo, database: Path | str, events: list[dict[str, Any]], sayings: dict[str, str]
) -> None:
    """Every event in the inbox done and answered by one message, as Zalo counts them: none
    lost, none twice. `events` (plus one warm-up event per other inbox row) each say a key
    of `sayings`, whose one-message answers begin with its value."""
    recorded = len(rows(database, "SELECT key FROM inbox"))
    statuses = Counter(status for (status,) in rows(database, "SELECT status FROM inbox"))
    assert statuses == {"done": recorded}, statuses
    outbox = {
        message_id: (key, json.loads(body)["message"])
        for message_id, key, body in rows(
            database,
            "SELECT zalo_message_id, idempotency_key, message FROM outbox WHERE status = 'sent'",
        )
    }
    assert len(outbox) == recorded  # one reply per event, each recorded sent
    # Counted on Zalo's side: every message it accepted is one recorded reply, none twice.
    accepted = Counter(
        message["message_id"]
        for messages in zalo.sandbox.state.messages.values()
        for message in messages
    )
    assert accepted == Counter(outbox.keys()), "a reply arrived twice or was never recorded"
    for user_id in {event["sender"]["id"] for event in events}:
        said = Counter(e["message"]["text"] for e in events if e["sender"]["id"] == user_id)
        answered = Counter(saying_answered(m, sayings) for m in zalo.messages(user_id))
        assert answered == said, (user_id, answered, said)  # every event once, none lost


def saying_answered(message: dict[str, Any], sayings: dict[str, str]) -> str:
    """Which of `sayings` a message Zalo accepted answers (by its first words)."""
    text = message["message"]["text"]
    return next(saying for saying, start in sayings.items() if text.startswith(start))
