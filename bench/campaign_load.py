"""Campaign load: one campaign to many recipients through a Zalo sandbox at a configured
rate, optionally killing the service (SIGKILL) mid-run and starting it again.

The sandbox runs in this process, so it outlives the service and counts every message
Zalo would have received. The service (`citizenbot run`, as in production) talks to it as
to the real OA API. Reports the achieved rate (from the sandbox's receipt times, downtime
excluded), duplicates, recipients never reached, in-doubt recipients and the service's
memory during the run.

    .venv/bin/python bench/campaign_load.py --recipients 10000 --rate 50
    .venv/bin/python bench/campaign_load.py --recipients 10000 --rate 50 --kill-at 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.service import (  # noqa: E402
    free_port,
    rss_mb,
    sandbox_env,
    start_sandbox,
    wait_healthy,
)
from bot.local_time import TIMEZONE  # noqa: E402
from bot.storage.database import open_connection  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
CAMPAIGN = """
id: bench
title: "Benchmark"
enabled: true
schedule:
  at: "{at}"
audience:
  all_followers: true
message_type: consultation
message:
  text: "Tháng cao điểm dịch vụ công trực tuyến: anh/chị nộp hồ sơ tại nhà trên dichvucong.gov.vn."
"""


def seed_followers(database: Path, count: int) -> None:
    """`count` followers who wrote to the OA an hour ago (inside Zalo's 7 days)."""
    conn = open_connection(database)
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)).isoformat()
    with conn:
        conn.executemany(
            "INSERT INTO users (user_id, first_seen_at, last_interaction_at, followed)"
            " VALUES (?, ?, ?, 1)",
            ((f"bench-{n:06d}", when, when) for n in range(count)),
        )
    conn.close()


def run_state(database: Path) -> tuple[str | None, int]:
    """The bench run's status and its in-doubt recipients, read without disturbing it."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT id, status FROM campaign_runs ORDER BY id DESC LIMIT 1")
        run = row.fetchone()
        if run is None:
            return None, 0
        doubt = conn.execute(
            "SELECT COUNT(*) FROM campaign_deliveries WHERE run_id = ? AND status = 'in_doubt'",
            (run[0],),
        ).fetchone()[0]
        return run[1], doubt
    finally:
        conn.close()


async def start_service(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(PROJECT / ".venv/bin/citizenbot"),
        "run",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


def segment_rates(times: list[float], gap: float) -> list[tuple[int, float]]:
    """(messages, messages/s) for each stretch of sending, split where the service was down
    (a pause longer than `gap` seconds)."""
    segments: list[list[float]] = [[]]
    for moment in times:
        if segments[-1] and moment - segments[-1][-1] > gap:
            segments.append([])
        segments[-1].append(moment)
    return [
        (len(s), (len(s) - 1) / (s[-1] - s[0]) if len(s) > 1 and s[-1] > s[0] else 0.0)
        for s in segments
    ]


async def bench(recipients: int, rate: float, kill_at: float | None) -> dict:
    with TemporaryDirectory() as tmp:
        data_dir, content_dir = Path(tmp) / "var", Path(tmp) / "content"
        shutil.copytree(PROJECT / "content", content_dir)
        shutil.rmtree(content_dir / "campaigns")
        (content_dir / "campaigns").mkdir()
        database = data_dir / "citizenbot.db"
        seed_followers(database, recipients)

        service_port = free_port()
        sandbox, runner, base = await start_sandbox(service_port)
        env = {
            **os.environ,
            "PORT": str(service_port),
            "CITIZENBOT_DATA_DIR": str(data_dir),
            "CITIZENBOT_CONTENT_DIR": str(content_dir),
            "CITIZENBOT_CAMPAIGN_RATE": str(rate),
            "CITIZENBOT_QUIET_HOURS": "off",  # the benchmark may run at night
            "RASA_TELEMETRY_ENABLED": "false",
            # The service sees a real OA API: the sandbox in this process.
            **sandbox_env(base),
        }
        url = f"http://127.0.0.1:{service_port}"
        service = await start_service(env)
        rss: list[tuple[int, float]] = []  # (messages received so far, service RSS in MB)
        killed_after = None
        try:
            if not await wait_healthy(f"{url}/healthz", service):
                raise RuntimeError("the service did not answer /healthz")
            at = dt.datetime.now(TIMEZONE) + dt.timedelta(seconds=5)
            (content_dir / "campaigns" / "bench.yml").write_text(
                CAMPAIGN.format(at=f"{at:%Y-%m-%d %H:%M:%S}"), encoding="utf-8"
            )
            deadline = time.monotonic() + 10 * recipients / rate + 300
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                received = sum(len(m) for m in sandbox.state.messages.values())
                if service.returncode is None:
                    rss.append((received, rss_mb(service.pid)))
                if (
                    kill_at is not None
                    and killed_after is None
                    and received >= kill_at * recipients
                ):
                    service.send_signal(signal.SIGKILL)
                    await service.wait()
                    killed_after = received
                    service = await start_service(env)
                    if not await wait_healthy(f"{url}/healthz", service):
                        raise RuntimeError("the service did not answer /healthz")
                status, _ = run_state(database)
                if status == "done":
                    break
        finally:
            if service.returncode is None:
                service.terminate()
                await asyncio.wait_for(service.wait(), 60)
        status, in_doubt = run_state(database)
        await runner.cleanup()

    per_user = {user: len(msgs) for user, msgs in sandbox.state.messages.items()}
    times = sorted(
        int(m["sent_time"]) / 1000 for msgs in sandbox.state.messages.values() for m in msgs
    )
    segments = segment_rates(times, gap=5.0)
    sending = [mb for count, mb in rss if count > 0]
    result = {
        "recipients": recipients,
        "rate_configured": rate,
        "run_status": status,
        "received": sum(per_user.values()),
        "duplicates": sum(count - 1 for count in per_user.values() if count > 1),
        "never_reached": recipients - len(per_user),
        "in_doubt": in_doubt,
        "killed_after": killed_after,
        "segments": [{"messages": n, "rate": round(r, 2)} for n, r in segments],
        "rate_achieved_min": round(min(r for n, r in segments if n > 1), 2),
        "rss_mb_first": sending[0] if sending else None,
        "rss_mb_max": max(sending) if sending else None,
        "rss_mb_last": sending[-1] if sending else None,
    }
    result["rate_within_10pct"] = all(
        abs(r - rate) <= 0.1 * rate for n, r in segments if n >= 10 * rate
    )
    return result


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10000)
    parser.add_argument("--rate", type=float, default=50.0, help="messages per second")
    parser.add_argument(
        "--kill-at", type=float, help="SIGKILL the service after this share was sent (0–1)"
    )
    args = parser.parse_args()
    result = await bench(args.recipients, args.rate, args.kill_at)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    ok = (
        result["duplicates"] == 0 and result["run_status"] == "done" and result["rate_within_10pct"]
    )
    return 0 if ok and result["never_reached"] <= result["in_doubt"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
