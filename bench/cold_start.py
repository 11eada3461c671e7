"""Cold start: from starting `citizenbot run` to its first 200 from /healthz.

Each try starts the service as its own process on a fresh data directory, configured for a
real OA whose API is a Zalo sandbox in this process (as the load bench does), polls
/healthz every 0.1 s, notes the time and the resident memory, and stops it. The files the
service reads (Python, TensorFlow, the model) are in the page cache after the first try:
this is a restart's cold start, not a fresh machine's. With --stock-rasa it also times
stock Rasa on the same model (`rasa run` + `rasa run actions`, started together, until both
answer) for comparison.

    .venv/bin/python bench/cold_start.py                  # 3 tries, the median
    .venv/bin/python bench/cold_start.py --tries 5 --stock-rasa --json var/cold_start.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.service import (  # noqa: E402
    PROJECT,
    free_port,
    rss_mb,
    sandbox_env,
    start_sandbox,
    start_service,
)
from bench.stock_rasa import start_stock_rasa  # noqa: E402

POLL_EVERY = 0.1
TARGET_S = 20.0  # issue 14


async def service_start(project: Path) -> tuple[float, float]:
    """(seconds to the first 200 from /healthz, RSS in MB then) of one fresh start."""
    port = free_port()
    _, runner, base = await start_sandbox(port)
    try:
        with TemporaryDirectory() as data_dir:
            started = time.monotonic()
            service = await start_service(
                port, data_dir, sandbox_env(base), project=project, poll_every=POLL_EVERY
            )
            took = time.monotonic() - started
            rss = rss_mb(service.pid)
            service.terminate()
            await asyncio.wait_for(service.wait(), 60)
    finally:
        await runner.cleanup()
    return took, rss


async def stock_start(project: Path) -> tuple[float, float]:
    """(seconds until both stock Rasa servers answer, their RSS in MB then)."""
    with TemporaryDirectory() as work_dir:
        stock = await start_stock_rasa(project, Path(work_dir), poll_every=POLL_EVERY)
        rss = sum(rss_mb(pid) for pid in stock.pids)
        await stock.stop()
    return stock.started_in_s, rss


def summary(name: str, tries: list[tuple[float, float]]) -> dict:
    seconds = [took for took, _ in tries]
    return {
        "system": name,
        "seconds": [round(s, 2) for s in seconds],
        "median_s": round(statistics.median(seconds), 2),
        "rss_mb": [round(rss) for _, rss in tries],
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--stock-rasa", action="store_true", help="also time stock Rasa")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--project", type=Path, default=PROJECT, help="the checkout to start")
    args = parser.parse_args()
    results = []
    systems = [("citizenbot run", service_start)]
    if args.stock_rasa:
        systems.append(("stock Rasa (rasa run + rasa run actions)", stock_start))
    for name, start in systems:
        tries = []
        for number in range(1, args.tries + 1):
            took, rss = await start(args.project)
            print(f"{name}, try {number}: {took:.2f} s, {rss:.0f} MB", flush=True)
            tries.append((took, rss))
        results.append(summary(name, tries))
    print()
    print("| system | to the first 200 (tries) | median | RSS then |")
    print("|---|---|---|---|")
    for r in results:
        print(
            f"| {r['system']} | {', '.join(f'{s:.1f} s' for s in r['seconds'])} "
            f"| **{r['median_s']:.1f} s** | {', '.join(f'{m} MB' for m in r['rss_mb'])} |"
        )
    ours = results[0]["median_s"]
    print(f"\nTarget ≤ {TARGET_S:g} s: {'met' if ours <= TARGET_S else 'not met'} ({ours:.1f} s).")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
