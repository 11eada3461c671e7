"""Turn cost: does a reply take longer as one conversation grows?

Starts a Zalo sandbox in this process and `citizenbot run` as its own process (as
bench/webhook_load.py does), warms the model up with one conversation, then one citizen
asks the load bench's questions one after another, each sent when the previous one is
answered, for `--turns` turns in one conversation session. A turn's reply time runs from
sending the event to the sandbox receiving its first reply.

Any run of len(MESSAGES) consecutive turns asks every question once, so the first and the
last such window compare the same questions: their medians, and the ratio last / first,
say what the conversation's length costs.

    .venv/bin/python bench/turn_cost.py                              # 200 turns
    .venv/bin/python bench/turn_cost.py --turns 200 --project /tmp/before --json var/turns.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shlex
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.open_loop import MESSAGES  # noqa: E402
from bench.service import (  # noqa: E402
    PROJECT,
    free_port,
    sandbox_env,
    start_sandbox,
    start_service,
)
from bench.webhook_load import signed_event  # noqa: E402
from bot.sandbox.zalo_sandbox import ZaloSandbox  # noqa: E402

WINDOW = len(MESSAGES)


class Conversation:
    """One citizen talking to the service, one turn at a time."""

    def __init__(self, http: aiohttp.ClientSession, url: str, sandbox: ZaloSandbox, database: Path):
        self._http = http
        self._url = url
        self._sandbox = sandbox
        self._database = database

    async def turn(self, user: str, text: str, timeout: float = 120) -> float:
        """Send one message; once it is fully handled, its reply time in ms."""
        replies = self._sandbox.state.messages[user]
        before = len(replies)
        key, body, headers = signed_event(user, text)
        sent_at = time.time()
        async with self._http.post(f"{self._url}/webhook/zalo", data=body, headers=headers) as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"the webhook answered {r.status}")
        deadline = time.monotonic() + timeout
        while self._pending(key) or len(replies) == before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no reply to {text!r} within {timeout:g} s")
            await asyncio.sleep(0.02)
        return int(replies[before]["sent_time"]) - sent_at * 1000

    def _pending(self, key: str) -> bool:
        conn = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, timeout=30)
        try:
            row = conn.execute("SELECT status FROM inbox WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
        return row is None or row[0] == "pending"


async def measure(args: argparse.Namespace) -> list[float]:
    """Reply times (ms) of turns 1..args.turns of one conversation."""
    service_port = free_port()
    url = f"http://127.0.0.1:{service_port}"
    sandbox, runner, base = await start_sandbox(service_port)
    run_id = secrets.token_hex(3)
    env = {**sandbox_env(base), "CITIZENBOT_USER_MESSAGE_LIMIT": "off"}
    with TemporaryDirectory() as data_dir:
        service = await start_service(service_port, data_dir, env, project=args.project)
        try:
            async with aiohttp.ClientSession() as http:
                talk = Conversation(http, url, sandbox, Path(data_dir) / "citizenbot.db")
                for text in MESSAGES:  # the model's first predictions are slower
                    await talk.turn(f"turns-{run_id}-warmup", text)
                user = f"turns-{run_id}"
                reply_ms = []
                for number in range(args.turns):
                    reply_ms.append(await talk.turn(user, MESSAGES[number % WINDOW]))
                    if (number + 1) % 50 == 0:
                        print(f"  turn {number + 1}: {reply_ms[-1]:.0f} ms", flush=True)
        finally:
            service.terminate()
            await asyncio.wait_for(service.wait(), 60)
            await runner.cleanup()
    return reply_ms


def summary(reply_ms: list[float]) -> dict[str, float]:
    first = statistics.median(reply_ms[:WINDOW])
    last = statistics.median(reply_ms[-WINDOW:])
    return {
        "turns": len(reply_ms),
        "turn_1_ms": round(reply_ms[0], 1),
        "turn_last_ms": round(reply_ms[-1], 1),
        "first_window_median_ms": round(first, 1),
        "last_window_median_ms": round(last, 1),
        "last_over_first": round(last / first, 2),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument(
        "--project",
        type=Path,
        default=PROJECT,
        help="the checkout whose service is measured (default: this one)",
    )
    parser.add_argument("--json", type=Path, help="also write every turn's figure to this file")
    args = parser.parse_args()
    if args.turns < 2 * WINDOW:
        parser.error(f"--turns must be at least {2 * WINDOW} (two windows of every question)")
    reply_ms = await measure(args)
    figures = summary(reply_ms)
    command = shlex.join([".venv/bin/python", "bench/turn_cost.py", *sys.argv[1:]])
    print(f"\nCommand: `{command}` ({args.project})")
    print(
        f"reply time, median of turns 1–{WINDOW}: {figures['first_window_median_ms']:.0f} ms; "
        f"of turns {len(reply_ms) - WINDOW + 1}–{len(reply_ms)}: "
        f"{figures['last_window_median_ms']:.0f} ms; ratio {figures['last_over_first']:.2f} "
        f"(turn 1 {figures['turn_1_ms']:.0f} ms, turn {len(reply_ms)} "
        f"{figures['turn_last_ms']:.0f} ms)",
        flush=True,
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**figures, "reply_ms": reply_ms}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
