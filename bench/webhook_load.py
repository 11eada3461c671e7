"""Webhook load: acknowledgement latency under a burst of signed events from many users.

Starts `citizenbot run` (sandbox mode) as its own process on a free loopback port, sends
events open-loop at a fixed rate (each send is scheduled, none waits for the previous),
then waits until the bot has answered and checks that no event was lost or answered twice.

    .venv/bin/python bench/webhook_load.py --rate 200 --seconds 10 --users 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.service import free_port, start_service  # noqa: E402
from bot.settings import SANDBOX_APP_ID, SANDBOX_OA_SECRET_KEY  # noqa: E402
from bot.zalo import signature  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
# Each of these is answered with exactly one message, so answers can be counted per user.
MESSAGES = ["xin chào", "chao ad", "alo ad", "xin chào ạ", "chào bạn"]


def signed_event(user_id: str, text: str) -> tuple[bytes, dict[str, str]]:
    timestamp = str(int(time.time() * 1000))
    event = {
        "event_name": "user_send_text",
        "app_id": SANDBOX_APP_ID,
        "sender": {"id": user_id},
        "recipient": {"id": "bench-oa"},
        "timestamp": timestamp,
        "user_id_by_app": user_id,
        "message": {"msg_id": secrets.token_hex(10), "text": text},
    }
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = signature.header_value(SANDBOX_APP_ID, body, timestamp, SANDBOX_OA_SECRET_KEY)
    return body, {signature.HEADER: mac, "Content-Type": "application/json"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drive(url: str, rate: float, seconds: float, users: int) -> dict:
    total = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent_per_user: dict[str, int] = {}
    run_id = secrets.token_hex(3)  # fresh users per run, so earlier replies are not counted
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def send_one(n: int) -> None:
            user = f"bench-{run_id}-{n % users}"
            body, headers = signed_event(user, MESSAGES[n % len(MESSAGES)])
            started = time.perf_counter()
            async with http.post(f"{url}/webhook/zalo", data=body, headers=headers) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append((time.perf_counter() - started) * 1000)
            if resp.status == 200:
                sent_per_user[user] = sent_per_user.get(user, 0) + 1

        start = time.perf_counter()
        tasks = []
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(send_one(n)))
        await asyncio.gather(*tasks)
        achieved = total / (time.perf_counter() - start)

        # Then wait for every answer and count them per user.
        answered_at = time.perf_counter()
        deadline = answered_at + 600
        while True:
            received = {}
            for user in sent_per_user:
                async with http.get(f"{url}/sandbox/messages", params={"user_id": user}) as r:
                    received[user] = len((await r.json())["messages"])
            done = sum(received.values()) >= sum(sent_per_user.values())
            if done or time.perf_counter() > deadline:
                break
            await asyncio.sleep(1)
        drain_seconds = time.perf_counter() - answered_at
    quantiles = statistics.quantiles(latencies, n=100)
    lost = sum(max(0, sent_per_user[u] - received.get(u, 0)) for u in sent_per_user)
    duplicated = sum(max(0, received.get(u, 0) - sent_per_user[u]) for u in sent_per_user)
    return {
        "events": total,
        "rate_target": rate,
        "rate_achieved": round(achieved, 1),
        "statuses": statuses,
        "ack_p50_ms": round(statistics.median(latencies), 2),
        "ack_p99_ms": round(quantiles[98], 2),
        "ack_max_ms": round(max(latencies), 2),
        "answered": sum(received.values()),
        "lost": lost,
        "duplicated": duplicated,
        "drain_after_burst_s": round(drain_seconds, 1),
        "replies_per_s": round(sum(received.values()) / (seconds + drain_seconds), 1),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, action="append", help="events/s (repeatable)")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--url", help="drive a service already running here (sandbox mode)")
    args = parser.parse_args()
    rates = args.rate or [200.0]
    if args.url:
        for rate in rates:
            print(json.dumps(await drive(args.url, rate, args.seconds, args.users)), flush=True)
        return 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    results = []
    with TemporaryDirectory() as data_dir:
        service = await start_service(port, data_dir)
        try:
            for rate in rates:
                cpu_before = cpu_seconds(service.pid)
                wall_before = time.perf_counter()
                result = await drive(url, rate, args.seconds, args.users)
                wall = time.perf_counter() - wall_before
                result["service_cpu_percent"] = round(
                    100 * (cpu_seconds(service.pid) - cpu_before) / wall, 1
                )
                result["service_rss_mb"] = round(rss_mb(service.pid), 1)
                results.append(result)
                print(json.dumps(result), flush=True)
        finally:
            service.terminate()
            await asyncio.wait_for(service.wait(), 60)
    return 0 if all(r["lost"] == 0 and r["duplicated"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
