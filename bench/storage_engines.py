"""SQLite against PostgreSQL on a storage-heavy path: dossier updates through the dossier
API (PUT /api/dossiers/{code}: one write transaction each, the event, the dossier, its
notifications) of a running service, and optionally the same on another checkout's SQLite
(`--before`, e.g. main exported with `git archive`) to see SQLite did not get slower.

PostgreSQL is a throwaway server from Debian's packages (tests/engines.py) with its
durability on, as SQLite runs with synchronous=FULL. Each engine's service starts once and
takes `--rounds` rounds of new dossiers, the engines taking turns; medians are printed.

    .venv/bin/python bench/storage_engines.py --updates 2000 --rounds 5 --before /tmp/mainbench
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
    args = parser.parse_args()
    cluster = Path(tempfile.mkdtemp(prefix="citizenbot-bench-pg-"))
    with postgres_server(cluster, durable=True) as server:
        engines = {
            "sqlite": (PROJECT, {}),
            "postgresql": (PROJECT, {"CITIZENBOT_DATABASE_URL": fresh_database(server)}),
        }
        if args.before is not None:
            engines["sqlite_before"] = (args.before, {})
        results = await measure(engines, args.updates, args.rounds, args.concurrency)
    shutil.rmtree(cluster, ignore_errors=True)
    for name, runs in results.items():
        print(json.dumps({"engine": name, **summary(runs)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
