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

    .venv/bin/python bench/instances_load.py --citizens 60 --messages 3 --runs 3 --kill
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import aiohttp
import psycopg2

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.open_loop import MESSAGES  # noqa: E402
from bench.service import free_port, sandbox_env, start_sandbox, start_service  # noqa: E402
from bench.webhook_load import signed_event  # noqa: E402
from tests.engines import fresh_database, postgres_server, redis_server  # noqa: E402


def query(url: str, sql: str) -> list[tuple]:
    with contextlib.closing(psycopg2.connect(url)) as conn, conn.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


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
        [(recorded, pending)] = query(
            database, "SELECT count(*), count(*) FILTER (WHERE status = 'pending') FROM inbox"
        )
        if recorded >= total and pending == 0:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"not answered in {timeout} s")


async def one_run(
    args: argparse.Namespace, server: str, redis_url: str, count: int, kill: bool
) -> dict:
    """`count` instances on a fresh database: the backlog's answered events/s, lost, doubled."""
    port = free_port()  # the sandbox's pushes are not used: events come from this bench
    sandbox, runner, base = await start_sandbox(port)
    database = fresh_database(server)
    env = {
        **sandbox_env(base),
        "CITIZENBOT_DATABASE_URL": database,
        "CITIZENBOT_REDIS_URL": redis_url,
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

                started = time.monotonic()
                tasks = [citizen(n) for n in range(args.citizens)]
                if kill:
                    tasks.append(kill_one())
                await asyncio.gather(*tasks)
                await until_done(database, count + acknowledged)
                elapsed = time.monotonic() - started
        finally:
            for process in processes:
                if process.returncode is None:
                    process.terminate()
            await asyncio.gather(*(process.wait() for process in processes))
            await runner.cleanup()
    [(done,)] = query(database, "SELECT count(*) FROM inbox WHERE status = 'done'")
    sent = Counter(m["message_id"] for ms in sandbox.state.messages.values() for m in ms)
    [(recorded_sent,)] = query(database, "SELECT count(*) FROM outbox WHERE status = 'sent'")
    unanswered = query(
        database,
        "SELECT count(*) FROM inbox i WHERE NOT EXISTS (SELECT 1 FROM outbox o"
        " WHERE o.user_id = i.user_id AND o.status = 'sent')",
    )[0][0]
    return {
        "instances": count,
        "killed": kill,
        "taken_over": held_at_kill,
        "events": acknowledged,
        "seconds": round(elapsed, 1),
        "answered_per_s": round(acknowledged / elapsed, 2),
        "lost": count + acknowledged - done + unanswered,
        "doubled": sum(sent.values()) - recorded_sent,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=60)
    parser.add_argument("--messages", type=int, default=3, help="per citizen")
    parser.add_argument("--runs", type=int, default=3, help="of each configuration (0: none)")
    parser.add_argument("--concurrency", type=int, default=20, help="requests at a time")
    parser.add_argument("--lease", type=float, default=10, help="CITIZENBOT_CLAIM_LEASE_SECONDS")
    parser.add_argument("--kill", action="store_true", help="one more run with a kill -9")
    args = parser.parse_args()
    results: list[dict] = []
    with contextlib.ExitStack() as stack:
        # The cluster's own folder (handed to the postgres user), as tests/engines.py does.
        cluster = Path(tempfile.mkdtemp(prefix="citizenbot-bench-pg-"))
        stack.callback(shutil.rmtree, cluster, ignore_errors=True)
        server = stack.enter_context(postgres_server(cluster, durable=True))
        engines = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        redis_url = stack.enter_context(redis_server(engines / "redis"))
        for count in [count for _ in range(args.runs) for count in (1, 2)]:
            results.append(await one_run(args, server, redis_url, count, False))
            print(results[-1], flush=True)
        if args.kill:
            results.append(await one_run(args, server, redis_url, 2, True))
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
    sys.exit(asyncio.run(main()))
