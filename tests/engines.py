"""Throwaway PostgreSQL and Redis servers for the scale-out tests: real engines from Debian's
packages (`make test` installs them when missing), started once per test session on free
loopback ports in a temporary directory, with a fresh database (or Redis keyspace) per test.
Tests that need them are skipped, saying why, where the packages are not installed."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
import redis

from tests.ports import free_port

STARTUP_SECONDS = 30.0
# Redis's numbered keyspaces: 0 for the tests of `redis_url`, 1 for the session's Brain (its
# lock store), the others handed out in turn, one per deployment a test starts.
REDIS_DATABASES = 256
BRAIN_REDIS_DATABASE = 1
# How long a test's closed services may take to end their PostgreSQL sessions.
SESSIONS_END_SECONDS = 5.0
# Databases a test left sessions open on, with the test: listed at the end of the run.
LEFT_OPEN: list[str] = []


def postgres_bin() -> Path | None:
    """Debian's newest PostgreSQL server binaries, if installed."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    return found[-1].parent if found else None


def _as_postgres_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as Debian's `postgres` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _wait(check, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            check()
            return
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"{what} did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


@contextmanager
def postgres_server(directory: Path, durable: bool = False) -> Iterator[str]:
    """A PostgreSQL cluster in `directory`, trusting local connections; yields the URL of its
    `postgres` database (user `citizenbot`). Durability is off unless `durable` (a benchmark
    against SQLite's synchronous=FULL): nothing here outlives a test."""
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data, log = directory / "data", directory / "postgres.log"
    subprocess.run(
        _as_postgres_user(
            [str(binaries / "initdb"), "-D", str(data), "-U", "citizenbot", "--auth=trust"]
            + ["-E", "UTF8", "--locale=C.UTF-8"]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    settings = [] if durable else ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
    settings += ["listen_addresses=127.0.0.1", f"unix_socket_directories={directory}"]
    settings += ["max_connections=300"]
    command = [str(binaries / "postgres"), "-D", str(data), "-p", str(port)]
    for setting in settings:
        command += ["-c", setting]
    with log.open("wb") as out:
        process = subprocess.Popen(_as_postgres_user(command), stdout=out, stderr=out)
    url = f"postgresql://citizenbot@127.0.0.1:{port}/postgres"
    try:
        _wait(lambda: psycopg2.connect(url).close(), "PostgreSQL", process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def fresh_database(server_url: str) -> str:
    """A new, empty database on the server; its URL."""
    name = "t_" + uuid.uuid4().hex[:12]
    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    connection.close()
    return server_url.rsplit("/", 1)[0] + "/" + name


def _open_sessions(cursor: psycopg2.extensions.cursor, name: str) -> list[str]:
    cursor.execute(
        "SELECT coalesce(nullif(application_name, ''), 'pid ' || pid) || ': ' || left(query, 80)"
        " FROM pg_stat_activity WHERE datname = %s",
        (name,),
    )
    return [row[0] for row in cursor.fetchall()]


def drop_databases(server_url: str, urls: list[str], test: str) -> None:
    """Drop a test's databases once it is over. Sessions still open on one after its services
    closed are a leak (a pool not disposed, a connection not closed): noted in LEFT_OPEN, then
    ended, so that one test's leak does not exhaust the server for the tests after it."""
    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            for url in urls:
                name = url.rsplit("/", 1)[1]
                deadline = time.monotonic() + SESSIONS_END_SECONDS
                while (sessions := _open_sessions(cursor, name)) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if sessions:
                    LEFT_OPEN.append(f"{test}: {len(sessions)} open on {name}: {sessions}")
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        connection.close()


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A Redis server that keeps nothing on disk; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("Redis is not installed (apt-get install redis-server)")
    directory.mkdir(parents=True, exist_ok=True)
    port, log = free_port(), directory / "redis.log"
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    command += ["--databases", str(REDIS_DATABASES)]
    command += ["--appendonly", "no", "--dir", str(directory)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        _wait(lambda: redis.Redis.from_url(url).ping(), "Redis", process, log)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    # Not under pytest's temporary directory: its parents are closed to the postgres user.
    directory = Path(tempfile.mkdtemp(prefix="citizenbot-postgres-"))
    try:
        with postgres_server(directory) as url:
            yield url
    except FileNotFoundError as missing:
        pytest.skip(str(missing))
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# The databases made for the running test, dropped once its services are closed.
_TEST_DATABASES: list[tuple[str, str]] = []


def database_for_test(server_url: str) -> str:
    """A fresh database for the running test only."""
    url = fresh_database(server_url)
    _TEST_DATABASES.append((server_url, url))
    return url


@pytest.fixture(autouse=True)
def drop_test_databases(request: pytest.FixtureRequest) -> Iterator[None]:
    """Autouse, so set up before the test's other fixtures and torn down after them: its
    services are closed by then (a database dropped under a running service would hang its
    shutdown)."""
    yield
    if _TEST_DATABASES:
        made = list(_TEST_DATABASES)
        _TEST_DATABASES.clear()
        drop_databases(made[0][0], [url for _, url in made], request.node.nodeid)


@pytest.fixture
def postgres_url(postgres_server_url: str) -> str:
    """A fresh database per test."""
    return database_for_test(postgres_server_url)


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        with redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except FileNotFoundError as missing:
        pytest.skip(str(missing))


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """An empty keyspace per test."""
    redis.Redis.from_url(redis_server_url).flushdb()
    return redis_server_url


# CITIZENBOT_TEST_DATABASE=postgresql runs the tests on the scale-out engines: a fresh
# PostgreSQL database where a test would use a fresh SQLite file (the service's tables,
# APScheduler's jobs, and for the session's Brain Rasa's tracker store), and beside each an
# empty Redis keyspace (lock store, rate limits, scheduler and token locks); default sqlite.
TEST_DATABASE = os.environ.get("CITIZENBOT_TEST_DATABASE", "sqlite")
if TEST_DATABASE not in ("sqlite", "postgresql"):
    raise ValueError(f"CITIZENBOT_TEST_DATABASE={TEST_DATABASE!r}: sqlite or postgresql")
ON_POSTGRES = TEST_DATABASE == "postgresql"


@pytest.fixture
def database_url_for(request: pytest.FixtureRequest) -> Callable[[Path], str]:
    """The `database_url` standing for a test's SQLite file: '' (the file itself), or on
    PostgreSQL a fresh database per file, the same one each time the file is named."""
    urls: dict[Path, str] = {}

    def url_for(path: Path) -> str:
        if not ON_POSTGRES:
            return ""
        if path not in urls:
            urls[path] = database_for_test(request.getfixturevalue("postgres_server_url"))
        return urls[path]

    return url_for


_next_redis_database = itertools.count()


@pytest.fixture
def redis_url_for(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """The `redis_url` of the deployment on the database `database_url`: on PostgreSQL an
    empty Redis keyspace of its own (the same one each time it is named), else ''."""
    urls: dict[str, str] = {}

    def url_for(database_url: str) -> str:
        if not ON_POSTGRES:
            return ""
        if database_url not in urls:
            server = request.getfixturevalue("redis_server_url")
            spare = REDIS_DATABASES - BRAIN_REDIS_DATABASE - 1
            number = BRAIN_REDIS_DATABASE + 1 + next(_next_redis_database) % spare
            urls[database_url] = redis_database(server, number)
            redis.Redis.from_url(urls[database_url]).flushdb()
        return urls[database_url]

    return url_for


def redis_database(server_url: str, number: int) -> str:
    """The URL of the server's keyspace `number`."""
    return server_url.rsplit("/", 1)[0] + f"/{number}"


# Tests that move the in-process rate limits' clock: with Redis the limits keep the server's
# time instead (their refill is tested on Redis in tests/test_rate_limit.py).
moves_the_limits_clock = pytest.mark.skipif(
    ON_POSTGRES,
    reason="moves the in-process limits' clock; Redis's limits keep the server's time "
    "(their refill: tests/test_rate_limit.py)",
)
