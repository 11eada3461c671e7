"""SQLite against PostgreSQL on a storage-heavy path: dossier updates through the dossier
API (PUT /api/dossiers/{code}: one write transaction each, the event, the dossier, its
notifications) of a running service, and optionally the same on another checkout's SQLite
(`--before`, e.g. main exported with `git archive`) to see SQLite did not get slower.

`--direct`: the storage calls alone, no service or HTTP (less noise on a busy machine):
each round a fresh process of the checkout records N inbox events and ingests N dossier
updates (`inbox.record`, `dossier_records.ingest`, the calls the webhook and the API make).

PostgreSQL is a throwaway server from Debian's packages (tests/engines.py) with its
durability on, as SQLite runs with synchronous=FULL. The engines take turns round by round;
medians are printed.

    .venv/bin/python bench/storage_engines.py --updates 2000 --rounds 5 --before /tmp/mainbench
    .venv/bin/python bench/storage_engines.py --direct --updates 2000 --rounds 7 --before …
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from tempfile import TemporaryDirectory

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.dossier_ingest import body, code, put_all, start  # noqa: E402
from bench.service import free_port  # noqa: E402
from tests.engines import fresh_database, postgres_server  # noqa: E402


async def measure(
    engines: dict[str, tuple[Path, dict[str, str]]], updates: int, rounds: int, concurrency: int
) -> dict[str, list[dict]]:
    """Each engine's service started, then the rounds, the engines taking turns."""
    results: dict[str, list[dict]] = {name: [] for name in engines}
    with TemporaryDirectory() as data_root:
        services = {}
        for name, (project, env) in engines.items():
            port = free_port()
            process = await start(f"{data_root}/{name}", port, env, project)
            services[name] = (f"http://127.0.0.1:{port}", process)
        try:
            for round_number in range(rounds):
                first = round_number * updates
                work = [(code(n), body(n, "received", 20)) for n in range(first, first + updates)]
                for name, (url, _) in services.items():
                    results[name].append(await put_all(url, work, concurrency))
        finally:
            for _, process in services.values():
                process.terminate()
                await process.wait()
    return results


# One round of --direct, in the checkout given as the working directory: the calls timed.
DIRECT = """
import json, sys, time
from pathlib import Path
import sqlite_utils
from bot.dossiers.dossier_model import parse_update
from bot.storage import dossier_records, inbox
from bot.storage.database import open_connection
path, url, updates = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
if url:
    from bot.storage.database import open_store
    db = open_store(path, url)
else:
    db = sqlite_utils.Database(open_connection(path))
body = json.loads(sys.argv[4])
parsed = [parse_update(f"000.00.24.H26-2511{n // 10000 % 100:02d}-{n % 10000:04d}",
                       body, b"bench") for n in range(updates)]
started = time.perf_counter()
for n in range(updates):
    inbox.record(db, f"m-{n}", "user_send_text", f"u-{n % 500}", n, {"text": "xin chào"})
recorded = time.perf_counter()
for update in parsed:
    dossier_records.ingest(db, update, "api")
ingested = time.perf_counter()
print(json.dumps({"record_us": (recorded - started) / updates * 1e6,
                  "ingest_us": (ingested - recorded) / updates * 1e6}))
"""


async def measure_direct(
    engines: dict[str, tuple[Path, dict[str, str]]],
    updates: int,
    rounds: int,
    server: str,
    under: Path | None,
) -> dict[str, list[dict]]:
    """Each round, each engine: a fresh database (file or PostgreSQL database); the SQLite
    files in a temporary directory `under` (/dev/shm: the code's cost, without the disk's)."""
    results: dict[str, list[dict]] = {name: [] for name in engines}
    with TemporaryDirectory(dir=under) as data_root:
        for round_number in range(rounds):
            for name, (project, env) in engines.items():
                path = Path(data_root) / f"{name}-{round_number}.db"
                url = fresh_database(server) if env.get("CITIZENBOT_DATABASE_URL") else ""
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    DIRECT,
                    str(path),
                    url,
                    str(updates),
                    json.dumps(body(0, "received", 20)),
                    cwd=project,
                    stdout=asyncio.subprocess.PIPE,
                )
                out, _ = await process.communicate()
                results[name].append(json.loads(out))
    return results


def direct_summary(runs: list[dict]) -> dict:
    return {
        "rounds": len(runs),
        "median_inbox_record_us": round(statistics.median(run["record_us"] for run in runs)),
        "median_dossier_ingest_us": round(statistics.median(run["ingest_us"] for run in runs)),
        "ingest_us_each_round": [round(run["ingest_us"]) for run in runs],
    }


def summary(runs: list[dict]) -> dict:
    return {
        "rounds": len(runs),
        "median_updates_per_s": statistics.median(run["updates_per_s"] for run in runs),
        "median_p50_ms": statistics.median(run["p50_ms"] for run in runs),
        "median_p99_ms": statistics.median(run["p99_ms"] for run in runs),
        "statuses": [run["statuses"] for run in runs],
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000, help="updates per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--before", type=Path, default=None, help="another checkout's SQLite")
    parser.add_argument("--direct", action="store_true", help="the storage calls alone")
    parser.add_argument("--sqlite-under", type=Path, default=None, help="--direct: e.g. /dev/shm")
    args = parser.parse_args()
    cluster = Path(tempfile.mkdtemp(prefix="citizenbot-bench-pg-"))
    with postgres_server(cluster, durable=True) as server:
        engines = {
            "sqlite": (PROJECT, {}),
            "postgresql": (PROJECT, {"CITIZENBOT_DATABASE_URL": fresh_database(server)}),
        }
        if args.before is not None:
            engines["sqlite_before"] = (args.before, {})
        if args.direct:
            results = await measure_direct(
                engines, args.updates, args.rounds, server, args.sqlite_under
            )
        else:
            results = await measure(engines, args.updates, args.rounds, args.concurrency)
    shutil.rmtree(cluster, ignore_errors=True)
    for name, runs in results.items():
        figures = direct_summary(runs) if args.direct else summary(runs)
        print(json.dumps({"engine": name, **figures}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
