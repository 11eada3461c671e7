"""Several instances on one PostgreSQL + Redis: answered events/s of two `citizenbot run`
instances (one worker each) against one, and nothing lost or doubled with a kill -9.

PostgreSQL (durability on) and Redis are throwaway servers (tests/engines.py); the Zalo
sandbox runs in this process. Each run starts the instances on a fresh database, warms each
with one answered message, then sends a backlog: CITIZENS citizens each sending MESSAGES
messages one after another, to the instances in turn (as a load balancer would). Answered
events/s = events / (first send -> last event done). One and two instances take turns run by
run; the medians and their ratio are printed. With --kill, a last two-instance run kills one
instance (SIGKILL) once a third of the backlog is answered; events it refused go to the
other, as Zalo's retries through a balancer would.

Each run's line also says where the CPU went per answered event (the instances, PostgreSQL,
Redis, this process, the whole machine: /proc and Redis's INFO), the round trips per event
(PostgreSQL transactions and rows written, Redis commands) and how many events each
instance answered; --statements logs every SQL statement and prints each kind per event.

    .venv/bin/python bench/instances_load.py --citizens 150 --messages 4 --runs 3 --kill --lease 5
    .venv/bin/python bench/instances_load.py --citizens 150 --messages 4 --runs 1 --statements
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psycopg2
import redis
import uvloop

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.open_loop import MESSAGES  # noqa: E402
from bench.service import (  # noqa: E402
    cpu_seconds,
    free_port,
    sandbox_env,
    start_sandbox,
    start_service,
    tree_cpu_seconds,
)
from bench.webhook_load import signed_event  # noqa: E402
from tests.engines import fresh_database, postgres_server, redis_server  # noqa: E402

# One connection per database for the bench's looks at it: a new one each time would cost
# PostgreSQL a backend's start (a fork) several times a second. Closed at the run's end.
_connections: dict[str, Any] = {}


def connection(url: str) -> Any:
    if url not in _connections:
        _connections[url] = psycopg2.connect(url)
        _connections[url].autocommit = True
    return _connections[url]


def query(url: str, sql: str) -> list[tuple]:
    with connection(url).cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def machine_busy_seconds() -> float:
    """CPU-seconds every core of the machine spent not idle since boot (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@dataclass
class Engines:
    """The throwaway servers, and where to read what they spend."""

    server: str  # PostgreSQL's URL
    redis_url: str
    cluster: Path  # PostgreSQL's folder: postmaster.pid, postgres.log

    @property
    def postmaster(self) -> int:
        return int((self.cluster / "data" / "postmaster.pid").read_text().split()[0])

    @property
    def log(self) -> Path:
        return self.cluster / "postgres.log"


def cpu_snapshot(engines: Engines, instances: list[int]) -> dict[str, float]:
    """CPU-seconds so far of each part: the instances (with any worker processes), PostgreSQL
    (postmaster, backends, ended ones included), Redis, this process (load generator and
    sandbox), and the whole machine (other work included)."""
    info = redis.Redis.from_url(engines.redis_url).info("cpu")
    return {
        "instances": sum(tree_cpu_seconds(pid) for pid in instances),
        "postgres": tree_cpu_seconds(engines.postmaster),
        "redis": info["used_cpu_sys"] + info["used_cpu_user"],
        "bench": cpu_seconds(os.getpid()),
        "machine": machine_busy_seconds(),
    }


def calls_snapshot(engines: Engines, database: str) -> dict[str, float]:
    """Round trips so far: PostgreSQL's transactions (each autocommit statement is one) and
    rows written, Redis's commands by name."""
    [(commits, inserted, updated)] = query(
        database,
        "SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database"
        " WHERE datname = current_database()",
    )
    stats = redis.Redis.from_url(engines.redis_url).info("commandstats")
    counts = {"pg transactions": commits, "pg rows inserted": inserted, "pg rows updated": updated}
    for name, figures in stats.items():
        counts[f"redis {name.removeprefix('cmdstat_')}"] = figures["calls"]
    return counts


def per_event(before: dict[str, float], after: dict[str, float], events: int) -> dict[str, float]:
    spent = {part: after[part] - before.get(part, 0) for part in after}
    return {part: round(value / events, 4) for part, value in spent.items() if value}


def logged_statements(log: Path, start: int, events: int) -> list[tuple[str, float, float]]:
    """From PostgreSQL's log (log_min_duration_statement=0) after byte `start`: each kind of
    statement (literals and numbers blanked), how many per event and ms per event."""
    text = log.read_bytes()[start:].decode(errors="replace")
    kinds: dict[str, list[float]] = {}
    for match in re.finditer(r"duration: ([\d.]+) ms  statement: (.*?)(?=\n\S|\Z)", text, re.S):
        statement = re.sub(r"'(?:[^']|'')*'", "?", match.group(2))
        statement = re.sub(r"\b\d+(\.\d+)?\b", "N", " ".join(statement.split()))[:110]
        kinds.setdefault(statement, []).append(float(match.group(1)))
    found = [(s, len(d) / events, sum(d) / events) for s, d in kinds.items()]
    return sorted(found, key=lambda kind: -kind[1])


async def post(http: aiohttp.ClientSession, url: str, body: bytes, headers: dict) -> int | None:
    try:
        async with http.post(f"{url}/webhook/zalo", data=body, headers=headers) as resp:
            await resp.read()
            return resp.status
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None


async def until_done(database: str, total: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # The pending ones by their index; the whole table only once none is left (a count
        # of it every look cost PostgreSQL half a millisecond per answered event).
        [(pending,)] = query(database, "SELECT count(*) FROM inbox WHERE status = 'pending'")
        if pending == 0 and query(database, "SELECT count(*) FROM inbox")[0][0] >= total:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"not answered in {timeout} s")


async def one_run(args: argparse.Namespace, engines: Engines, count: int, kill: bool) -> dict:
    """`count` instances on a fresh database: the backlog's answered events/s, lost, doubled,
    and what each part of the system spent per answered event."""
    port = free_port()  # the sandbox's pushes are not used: events come from this bench
    sandbox, runner, base = await start_sandbox(port)
    database = fresh_database(engines.server)
    env = {
        **sandbox_env(base),
        "CITIZENBOT_DATABASE_URL": database,
        "CITIZENBOT_REDIS_URL": engines.redis_url,
        "CITIZENBOT_WORKERS": "1",
        "CITIZENBOT_CLAIM_LEASE_SECONDS": str(args.lease),
        "CITIZENBOT_USER_MESSAGE_LIMIT": "1000/60",
    }
    ports = [free_port() for _ in range(count)]
    with tempfile.TemporaryDirectory() as data:
        processes = await asyncio.gather(
            *(start_service(p, f"{data}/{n}", env) for n, p in enumerate(ports))
        )
        urls = [f"http://127.0.0.1:{p}" for p in ports]
        try:
            async with aiohttp.ClientSession() as http:
                for n, url in enumerate(urls):  # warm-up: tokens, caches
                    _, body, headers = signed_event(f"warm-{n}", MESSAGES[0])
                    assert await post(http, url, body, headers) == 200
                await until_done(database, count)
                acknowledged = 0
                held_at_kill = 0  # claimed by the killed instance, unfinished: taken over
                alive = list(urls)
                slots = asyncio.Semaphore(args.concurrency)

                async def citizen(n: int) -> None:
                    nonlocal acknowledged
                    for k in range(args.messages):
                        _, body, headers = signed_event(f"c-{n}", MESSAGES[(n + k) % len(MESSAGES)])
                        async with slots:
                            for attempt in range(len(urls)):
                                url = alive[(n + k + attempt) % len(alive)]
                                if await post(http, url, body, headers) == 200:
                                    acknowledged += 1
                                    break

                async def kill_one() -> None:
                    total = args.citizens * args.messages
                    while True:
                        [(done,)] = query(
                            database, "SELECT count(*) FROM inbox WHERE status = 'done'"
                        )
                        if done >= count + total // 3:
                            break
                        await asyncio.sleep(0.2)
                    processes[0].kill()
                    alive.remove(urls[0])
                    await processes[0].wait()
                    nonlocal held_at_kill
                    [(held_at_kill,)] = query(
                        database,
                        "SELECT count(*) FROM inbox WHERE status = 'pending' AND claimed_by"
                        f" LIKE '%:{processes[0].pid}/%'",
                    )

                pids = [process.pid for process in processes]
                cpu_before = cpu_snapshot(engines, pids)
                calls_before = calls_snapshot(engines, database)
                log_start = engines.log.stat().st_size
                started = time.monotonic()
                tasks = [citizen(n) for n in range(args.citizens)]
                if kill:
                    tasks.append(kill_one())
                await asyncio.gather(*tasks)
                await until_done(database, count + acknowledged)
                elapsed = time.monotonic() - started
                cpu_after = cpu_snapshot(engines, pids)
        finally:
            for process in processes:
                if process.returncode is None:
                    process.terminate()
            await asyncio.gather(*(process.wait() for process in processes))
            await runner.cleanup()
    await asyncio.sleep(1)  # the backends' statistics reach pg_stat_database
    calls_after = calls_snapshot(engines, database)
    if args.statements:
        for statement, times, ms in logged_statements(engines.log, log_start, acknowledged):
            print(f"  {times:6.2f}/event {ms:7.3f} ms/event  {statement}")
    [(done,)] = query(database, "SELECT count(*) FROM inbox WHERE status = 'done'")
    shares = query(  # events each instance answered: how evenly the claims spread the work
        database,
        "SELECT count(*) FROM inbox WHERE status = 'done' AND claimed_by IS NOT NULL"
        " GROUP BY split_part(claimed_by, '/', 1) ORDER BY 1 DESC",
    )
    sent = Counter(m["message_id"] for ms in sandbox.state.messages.values() for m in ms)
    [(recorded_sent,)] = query(database, "SELECT count(*) FROM outbox WHERE status = 'sent'")
    unanswered = query(
        database,
        "SELECT count(*) FROM inbox i WHERE NOT EXISTS (SELECT 1 FROM outbox o"
        " WHERE o.user_id = i.user_id AND o.status = 'sent')",
    )[0][0]
    _connections.pop(database).close()
    return {
        "instances": count,
        "killed": kill,
        "taken_over": held_at_kill,
        "events": acknowledged,
        "seconds": round(elapsed, 1),
        "answered_per_s": round(acknowledged / elapsed, 2),
        "answered_by_instance": [answered for (answered,) in shares],
        "lost": count + acknowledged - done + unanswered,
        "doubled": sum(sent.values()) - recorded_sent,
        "cpu_s_per_event": per_event(cpu_before, cpu_after, acknowledged),
        "calls_per_event": per_event(calls_before, calls_after, acknowledged),
        "load": os.getloadavg()[0],
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=60)
    parser.add_argument("--messages", type=int, default=3, help="per citizen")
    parser.add_argument("--runs", type=int, default=3, help="of each configuration (0: none)")
    parser.add_argument("--concurrency", type=int, default=20, help="requests at a time")
    parser.add_argument("--lease", type=float, default=10, help="CITIZENBOT_CLAIM_LEASE_SECONDS")
    parser.add_argument("--kill", action="store_true", help="one more run with a kill -9")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="log every SQL statement (costs CPU): each kind's count and time per event",
    )
    args = parser.parse_args()
    results: list[dict] = []
    with contextlib.ExitStack() as stack:
        # The cluster's own folder (handed to the postgres user), as tests/engines.py does.
        cluster = Path(tempfile.mkdtemp(prefix="citizenbot-bench-pg-"))
        stack.callback(shutil.rmtree, cluster, ignore_errors=True)
        server = stack.enter_context(postgres_server(cluster, durable=True))
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        engines = Engines(server, stack.enter_context(redis_server(folder / "redis")), cluster)
        if args.statements:
            for setting in (
                "ALTER SYSTEM SET log_min_duration_statement = 0",
                "SELECT pg_reload_conf()",
            ):
                with contextlib.closing(psycopg2.connect(server)) as conn:
                    conn.autocommit = True
                    conn.cursor().execute(setting)
        for count in [count for _ in range(args.runs) for count in (1, 2)]:
            results.append(await one_run(args, engines, count, False))
            print(results[-1], flush=True)
        if args.kill:
            results.append(await one_run(args, engines, 2, True))
            print(results[-1], flush=True)
    if args.runs:
        one = statistics.median(r["answered_per_s"] for r in results if r["instances"] == 1)
        two = statistics.median(
            r["answered_per_s"] for r in results if r["instances"] == 2 and not r["killed"]
        )
        print(f"median answered events/s: one instance {one}, two {two}, ratio {two / one:.2f}")
    print(f"lost {sum(r['lost'] for r in results)}, doubled {sum(r['doubled'] for r in results)}")
    return 0


if __name__ == "__main__":
    # uvloop: the load generator and the sandbox share the 2 cores with what they measure.
    sys.exit(uvloop.run(main()))
