"""Dossier ingest and notification throughput.

1. API: PUT N status updates (N/2 dossiers, received then processing) to a running service.
2. CSV: `citizenbot dossier import` of N rows into a fresh database.
3. Notifications: S subscribed citizens, one status change each; time until the sandbox
   has received every notification (and none twice).

    .venv/bin/python bench/dossier_ingest.py --updates 100000 --subscribers 2000
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.service import free_port, start_service  # noqa: E402
from bot.storage import Database, dossier_records, users  # noqa: E402

TOKEN = "bench-token"


def code(n: int) -> str:
    return f"000.00.24.H26-2511{n // 10000 % 100:02d}-{n % 10000:04d}"


def body(n: int, status: str, day: int) -> dict:
    return {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": f"Nguyễn Văn {n}",
        "phone": f"09{n:08d}",
        "status": status,
        "occurred_at": f"2026-11-{day:02d}T08:00:00+07:00",
    }


async def start(
    data_dir: str, port: int, extra_env: dict[str, str] | None = None, project: Path = PROJECT
) -> asyncio.subprocess.Process:
    env = {"CITIZENBOT_API_TOKEN": TOKEN, **(extra_env or {})}
    return await start_service(port, data_dir, env, project=project)


async def put_all(url: str, updates: list[tuple[str, dict]], concurrency: int) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue: asyncio.Queue = asyncio.Queue()
    for item in updates:
        queue.put_nowait(item)
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def worker(http: aiohttp.ClientSession) -> None:
        while not queue.empty():
            dossier, payload = queue.get_nowait()
            started = time.perf_counter()
            async with http.put(
                f"{url}/api/dossiers/{dossier}", json=payload, headers=headers
            ) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "updates": len(updates),
        "seconds": round(seconds, 1),
        "updates_per_s": round(len(updates) / seconds),
        "statuses": statuses,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(statistics.quantiles(latencies, n=100)[98], 1),
    }


async def bench_api(updates: int, concurrency: int) -> dict:
    with TemporaryDirectory() as data_dir:
        port = free_port()
        service = await start(data_dir, port)
        try:
            half = updates // 2
            work = [(code(n), body(n, "received", 20)) for n in range(half)]
            work += [(code(n), body(n, "processing", 21)) for n in range(half)]
            return await put_all(f"http://127.0.0.1:{port}", work, concurrency)
        finally:
            service.terminate()
            await service.wait()


async def bench_csv(rows: int) -> dict:
    with TemporaryDirectory() as data_dir:
        path = Path(data_dir) / "updates.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["code", "procedure", "applicant_name", "phone", "status", "occurred_at"]
            )
            for n in range(rows):
                b = body(n, "received", 20)
                writer.writerow(
                    [
                        code(n),
                        b["procedure"],
                        b["applicant_name"],
                        b["phone"],
                        b["status"],
                        b["occurred_at"],
                    ]
                )
        env = {**os.environ, "CITIZENBOT_DATA_DIR": data_dir, "RASA_TELEMETRY_ENABLED": "false"}
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            str(PROJECT / ".venv/bin/citizenbot"),
            "dossier",
            "import",
            str(path),
            env=env,
            cwd=PROJECT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        out, _ = await process.communicate()
        seconds = time.perf_counter() - started
        return {
            "rows": rows,
            "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds),
            "summary": out.decode().strip().splitlines()[-2],
        }


async def bench_notifications(subscribers: int) -> dict:
    with TemporaryDirectory() as data_dir:
        # Dossiers, followers who talked to the OA recently, then one change each.
        database = Database(Path(data_dir) / "citizenbot.db")
        await database.open()
        for n in range(subscribers):
            await database.run(users.interacted, f"bench-{n}")
        await database.close()
        port = free_port()
        service = await start(data_dir, port)
        url = f"http://127.0.0.1:{port}"
        try:
            await put_all(url, [(code(n), body(n, "received", 20)) for n in range(subscribers)], 16)
            database = Database(Path(data_dir) / "citizenbot.db")
            await database.open()
            for n in range(subscribers):
                await database.run(dossier_records.subscribe, code(n), f"bench-{n}")
            started = time.perf_counter()
            await put_all(
                url, [(code(n), body(n, "processing", 21)) for n in range(subscribers)], 16
            )
            while True:
                pending = await database.run(
                    lambda db: db.conn.execute(
                        "SELECT count(*) FROM dossier_notifications WHERE status = 'pending'"
                    ).fetchone()[0]
                )
                if pending == 0:
                    break
                await asyncio.sleep(0.2)
            seconds = time.perf_counter() - started
            statuses = await database.run(
                lambda db: dict(
                    db.conn.execute(
                        "SELECT status, count(*) FROM dossier_notifications GROUP BY status"
                    ).fetchall()
                )
            )
            await database.close()
            async with aiohttp.ClientSession() as http:
                received = 0
                for n in range(subscribers):
                    async with http.get(
                        f"{url}/sandbox/messages", params={"user_id": f"bench-{n}"}
                    ) as r:
                        received += len((await r.json())["messages"])
        finally:
            service.terminate()
            await service.wait()
        return {
            "subscribers": subscribers,
            "seconds": round(seconds, 1),
            "notifications_per_s": round(subscribers / seconds, 1),
            "notification_statuses": statuses,
            "received_in_sandbox": received,
            "duplicates": received - subscribers,
        }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=100_000)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    for name, result in (
        ("api", await bench_api(args.updates, args.concurrency)),
        ("csv", await bench_csv(args.updates)),
        ("notifications", await bench_notifications(args.subscribers)),
    ):
        print(json.dumps({"bench": name, **result}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
