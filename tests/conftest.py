"""Shared fixtures: one trained model and one loaded Brain per test session, and a real
service (aiohttp app + embedded Zalo sandbox) on a loopback port per test."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Services started as processes handle events in-process unless a test asks for workers.
os.environ.setdefault("CITIZENBOT_WORKERS", "1")

import aiohttp  # noqa: E402
import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402
from aiohttp import web  # noqa: E402

from bot import logs  # noqa: E402
from bot.brain.agent import Brain  # noqa: E402
from bot.brain.training import train  # noqa: E402
from bot.content import Library, LiveContent  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.web.app import CONTENT, DATABASE, SANDBOX, WORKER, build_app  # noqa: E402
from bot.zalo import signature  # noqa: E402
from tests.engines import (  # noqa: E402
    BRAIN_REDIS_DATABASE,
    LEFT_OPEN,
    ON_POSTGRES,
    fresh_database,
    redis_database,
)
from tests.ports import free_port  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
logs.configure()


@functools.cache
def project_library() -> Library:
    """The project's content (content/), loaded once for the tests that only read it."""
    return LiveContent(PROJECT / "content").library


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The project's model, trained once if the training data changed (make does it first)."""
    models = PROJECT / "models"
    train(PROJECT, models, if_changed=True)
    return models


@pytest_asyncio.fixture(scope="session")
async def brain(
    model_dir: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> AsyncIterator[Brain]:
    """The model, loaded once. With CITIZENBOT_TEST_DATABASE=postgresql its conversations are
    on PostgreSQL (Rasa's SQLTrackerStore) and its turns take Redis locks (RedisLockStore)."""
    if ON_POSTGRES:
        server = request.getfixturevalue("postgres_server_url")
        locks = redis_database(request.getfixturevalue("redis_server_url"), BRAIN_REDIS_DATABASE)
        loaded = await Brain.load(model_dir, fresh_database(server), redis_url=locks)
    else:
        loaded = await Brain.load(model_dir, tmp_path_factory.mktemp("tracker") / "tracker.db")
    yield loaded
    await loaded.close()


async def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 900, stdin: str = ""
) -> str:
    """Run `citizenbot ARGS` as its own process without blocking the loop (`stdin` given to
    it); its stdout."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=PROJECT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false", **(env or {})},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    if process.returncode != 0:
        raise AssertionError(f"citizenbot {' '.join(args)} failed:\n{err.decode()[-3000:]}")
    return out.decode()


async def spawn_service(env: dict[str, str], stderr: Any = asyncio.subprocess.DEVNULL):
    """`citizenbot run` as its own process, as an operator starts it."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )


async def wait_until_healthy(url: str, process: Any, seconds: float = 120) -> bool:
    """Poll GET /healthz until it answers 200 while `process` lives; whether it did."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and process.returncode is None:
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    return False


class Service:
    """A running service on loopback, spoken to over HTTP as Zalo and a tester would."""

    def __init__(self, settings: Settings, brain: Brain) -> None:
        self.settings = settings
        self.brain = brain
        self.url = settings.base_url
        self.http = aiohttp.ClientSession()
        self.runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    async def start(self) -> None:
        self.app = build_app(self.settings, self.brain)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.settings.host, self.settings.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def database(self):
        assert self.app is not None
        return self.app[DATABASE]

    def environment(self) -> dict[str, str]:
        """Where a `citizenbot` command finds this service's data: its folders, and its
        engines when the tests run on PostgreSQL and Redis."""
        return {
            "CITIZENBOT_DATA_DIR": str(self.settings.data_dir),
            "CITIZENBOT_CONTENT_DIR": str(self.settings.content_dir),
            "CITIZENBOT_DATABASE_URL": self.settings.database_url,
            "CITIZENBOT_REDIS_URL": self.settings.redis_url,
        }

    @property
    def content_status(self):
        assert self.app is not None
        return self.app[CONTENT].status

    @property
    def sandbox(self):
        assert self.app is not None
        return self.app[SANDBOX]

    def event(self, user_id: str, event_name: str = "user_send_text", text: str = "") -> dict:
        return self.sandbox.event(user_id, event_name, text)

    async def post_event(
        self, event: dict[str, Any], signed: bool = True, raw: bytes | None = None
    ) -> aiohttp.ClientResponse:
        body = raw if raw is not None else json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signed:
            headers[signature.HEADER] = signature.header_value(
                self.settings.zalo_app_id,
                body,
                str(event["timestamp"]),
                self.settings.zalo_oa_secret_key,
            )
        async with self.http.post(f"{self.url}/webhook/zalo", data=body, headers=headers) as resp:
            await resp.read()
            return resp

    async def say(self, user_id: str, text: str) -> dict:
        event = self.event(user_id, text=text)
        resp = await self.post_event(event)
        assert resp.status == 200, resp.status
        return event

    async def messages(self, user_id: str) -> list[dict]:
        async with self.http.get(f"{self.url}/sandbox/messages", params={"user_id": user_id}) as r:
            return [m["message"] for m in (await r.json())["messages"]]

    async def wait_for_messages(self, user_id: str, count: int, timeout: float = 20) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            found = await self.messages(user_id)
            if len(found) >= count or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.05)

    async def settle(self) -> None:
        """Wait until every acknowledged event has been processed."""
        assert self.app is not None
        await self.app[WORKER].drain()

    async def faults(self, *faults: dict) -> None:
        async with self.http.post(f"{self.url}/sandbox/faults", json={"faults": list(faults)}) as r:
            assert r.status == 200

    async def close(self) -> None:
        await self.stop()
        await self.http.close()


@pytest_asyncio.fixture
async def start_service(
    brain: Brain, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator:
    """Start services with settings overrides (e.g. another content_dir); closed after the
    test. With CITIZENBOT_TEST_DATABASE=postgresql their tables and jobs are on PostgreSQL
    and their locks and rate limits on Redis, as a scaled-out deployment's."""
    started: list[Service] = []
    url_for = request.getfixturevalue("database_url_for")
    redis_for = request.getfixturevalue("redis_url_for")

    async def start(**overrides: object) -> Service:
        settings = Settings.from_env(
            {},
            port=free_port(),
            data_dir=tmp_path / f"var{len(started)}",
            content_dir=PROJECT / "content",
            zalo_timeout_seconds=1.0,
        )
        values = {**settings.__dict__, "zalo_backoff_seconds": 0.01, **overrides}
        if not values["database_url"]:
            values["database_url"] = url_for(Settings(**values).database_path)
        if not values["redis_url"] and values["database_url"]:
            values["redis_url"] = redis_for(values["database_url"])
        running = Service(Settings(**values), brain)
        await running.start()
        started.append(running)
        return running

    yield start
    for running in started:
        await running.close()


@pytest_asyncio.fixture
async def service(start_service) -> Service:
    return await start_service()


def texts(messages: list[dict]) -> list[str]:
    return [m.get("text", "") for m in messages]


def button_titles(message: dict) -> list[str]:
    buttons = message.get("attachment", {}).get("payload", {}).get("buttons", [])
    return [b["title"] for b in buttons]


# PostgreSQL and Redis for the scale-out tests, started when a test first asks for them.
from tests.engines import (  # noqa: E402,F401
    database_url_for,
    drop_test_databases,
    postgres_server_url,
    postgres_url,
    redis_server_url,
    redis_url,
    redis_url_for,
)

# The fixtures through which a test meets the database and lock engines (the others reach
# them through these). With CITIZENBOT_TEST_DATABASE=postgresql only the tests using one of
# them run: a test without them does the same on either engine (a test reading ON_POSTGRES
# uses one too), so it would repeat the SQLite pass step for step. That is 1,045 of the
# 1,482 tests and 292 of the SQLite pass's 638 s, the model's retraining among them
# (measured 2026-12-08).
ENGINE_FIXTURES = frozenset(
    {"brain", "start_service", "service", "database_url_for", "redis_url_for"}
    | {"postgres_server_url", "postgres_url", "redis_server_url", "redis_url"}
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ON_POSTGRES:
        return
    keep = [item for item in items if not ENGINE_FIXTURES.isdisjoint(item.fixturenames)]
    if len(keep) < len(items):
        kept = {id(item) for item in keep}
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """PostgreSQL sessions a test's closed services left open (tests/engines.py)."""
    if LEFT_OPEN:
        terminalreporter.section("PostgreSQL sessions left open")
        for line in LEFT_OPEN:
            terminalreporter.write_line(line)
