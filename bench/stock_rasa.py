"""Stock Rasa beside the service, for a side-by-side bench: `rasa run` with the REST channel
and `rasa run actions` with the project's `actions` package, on the same model file, an SQL
tracker store on SQLite, everything on 127.0.0.1 in a temporary directory; and the load
that drives it: the load bench's questions, open-loop, from fresh senders, over
`POST /webhooks/rest/webhook`. A message is answered when its HTTP response returns (the
REST channel answers with the bot's replies).

This is the setup the in-process design was meant to beat: Rasa calls every action over
loopback HTTP with the whole tracker as JSON. The action server opens its own database
from the settings (bot/runtime.py), so CITIZENBOT_DATA_DIR points into the temp directory.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.open_loop import MESSAGES, Window, ms, open_loop, percentile, rounded
from bench.service import MemoryTrace, cpu_seconds, free_port, start_process
from bot.brain.training import current_model

CREDENTIALS = "rest:\n"
ENDPOINTS = """\
tracker_store:
  type: SQL
  dialect: sqlite
  db: {tracker}
action_endpoint:
  url: http://127.0.0.1:{action_port}/webhook
"""


@dataclass
class StockRasa:
    rasa: asyncio.subprocess.Process
    actions: asyncio.subprocess.Process
    url: str  # Rasa's server; the REST channel is at /webhooks/rest/webhook
    model: Path
    started_in_s: float  # from starting the action server to Rasa's first 200

    @property
    def pids(self) -> list[int]:
        return [self.rasa.pid, self.actions.pid]

    async def stop(self) -> None:
        for process in (self.rasa, self.actions):
            if process.returncode is None:
                process.terminate()
        for process in (self.rasa, self.actions):
            await asyncio.wait_for(process.wait(), 60)


async def start_stock_rasa(
    project: Path, work_dir: Path, timeout: float = 300, poll_every: float = 0.5
) -> StockRasa:
    """Both servers of `project`'s newest model (the one the service loads), once healthy."""
    model = current_model(project / "models")
    action_port, rasa_port = free_port(), free_port()
    (work_dir / "credentials.yml").write_text(CREDENTIALS)
    (work_dir / "endpoints.yml").write_text(
        ENDPOINTS.format(tracker=work_dir / "rasa.db", action_port=action_port)
    )
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "CITIZENBOT_DATA_DIR": str(work_dir / "data"),
        "SANIC_HOST": "127.0.0.1",  # rasa_sdk's action server listens on 0.0.0.0 without it
    }
    rasa_cli = [sys.executable, "-m", "rasa"]
    started = asyncio.get_running_loop().time()
    # Both at once, as a deployment would start them.
    outcomes = await asyncio.gather(
        start_process(
            [*rasa_cli, "run", "actions", "--actions", "actions", "--port", str(action_port)],
            project,
            env,
            work_dir / "actions.log",
            f"http://127.0.0.1:{action_port}/health",
            timeout,
            poll_every,
        ),
        start_process(
            [
                *rasa_cli,
                "run",
                "--model",
                str(model),
                "--credentials",
                str(work_dir / "credentials.yml"),
                "--endpoints",
                str(work_dir / "endpoints.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(rasa_port),
            ],
            project,
            env,
            work_dir / "rasa.log",
            f"http://127.0.0.1:{rasa_port}/",
            timeout,
            poll_every,
        ),
        return_exceptions=True,
    )
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    if failed:
        for process in outcomes:
            if isinstance(process, asyncio.subprocess.Process):
                process.terminate()
                await process.wait()
        raise failed[0]
    actions, rasa = outcomes
    took = asyncio.get_running_loop().time() - started
    return StockRasa(rasa, actions, f"http://127.0.0.1:{rasa_port}", model, took)


def logged_errors(work_dir: Path) -> dict[str, Any]:
    """The ERROR lines both servers logged, counted, with the first few: stock Rasa's REST
    channel answers 200 with what it has when handling a message raises, so an empty
    answer's cause is only in its log."""
    lines = [
        line.strip()
        for log in ("rasa.log", "actions.log")
        for line in (work_dir / log).read_text(errors="replace").splitlines()
        if " ERROR " in line or "[error" in line
    ]
    return {"count": len(lines), "first": lines[:3]}


@dataclass
class Exchange:
    """One message to the REST channel and its answer."""

    sent_at: float  # time.time()
    returned_at: float = 0.0
    status: int | None = None  # HTTP status; None while waiting, 0 when no answer came
    replies: int = 0  # the bot's messages in the answer

    @property
    def reply_ms(self) -> float:
        return (self.returned_at - self.sent_at) * 1000


@dataclass
class StockStep(Window):
    """Answered: answers (200) returned during the step, whichever step asked."""

    exchanges: list[Exchange] = field(default_factory=list)
    in_flight: int = 0  # messages of any step still waiting for their answer at the end
    cpu_percent: float = 0.0  # both processes, in % of one core
    actions_cpu_percent: float = 0.0  # the action server's share of it
    rss_max_mb: float = 0.0  # both processes
    bench_cpu_percent: float = 0.0

    @property
    def reply_ms(self) -> list[float]:
        return [e.reply_ms for e in self.exchanges if e.status == 200]

    @property
    def errors(self) -> int:
        return sum(1 for e in self.exchanges if e.status not in (None, 200))


class StockRasaLoad:
    """Sends the steps to stock Rasa and keeps every exchange, across steps."""

    def __init__(self, stock: StockRasa, http: aiohttp.ClientSession) -> None:
        self.stock = stock
        self.http = http
        self.memory = MemoryTrace(stock.pids)
        self.steps: list[StockStep] = []
        self._waiting: list[asyncio.Task] = []

    def cpu_seconds(self) -> tuple[float, float]:
        """(both processes, the action server) so far."""
        actions = cpu_seconds(self.stock.actions.pid)
        return cpu_seconds(self.stock.rasa.pid) + actions, actions

    async def ask(self, sender: str, text: str, step: StockStep) -> None:
        exchange = Exchange(time.time())
        step.exchanges.append(exchange)
        try:
            async with self.http.post(
                f"{self.stock.url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text},
            ) as resp:
                answer = await resp.json(content_type=None) if resp.status == 200 else None
                exchange.replies = len(answer) if isinstance(answer, list) else 0
                exchange.status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            exchange.status = 0
        exchange.returned_at = time.time()

    async def warm_up(self, sender_prefix: str) -> None:
        """Every question once, answered before the first step, as for the service."""
        step = StockStep(rate=1, seconds=0, users=len(MESSAGES))
        await asyncio.gather(
            *(self.ask(f"{sender_prefix}-{n}", text, step) for n, text in enumerate(MESSAGES))
        )

    async def run_step(self, step: StockStep, sender_prefix: str) -> None:
        """Send the step's messages at their moments; the step ends when its time is up,
        its answers may come later (a backlog carries over, as for the service)."""
        self.steps.append(step)
        cpu_before, bench_cpu_before = self.cpu_seconds(), time.process_time()
        step.started = time.time()

        async def send(user: int, text: str) -> None:
            await self.ask(f"{sender_prefix}-{user}", text, step)

        tasks, step.sent_rate = await open_loop(step.rate, step.seconds, step.users, send)
        self._waiting += tasks
        await asyncio.sleep(max(0.0, step.started + step.seconds - time.time()))
        step.ended = time.time()
        every = [e for s in self.steps for e in s.exchanges]
        step.answered = sum(
            1 for e in every if e.status == 200 and step.started <= e.returned_at < step.ended
        )
        step.in_flight = sum(1 for e in every if e.status is None)
        (both, actions), (both_before, actions_before) = self.cpu_seconds(), cpu_before
        step.cpu_percent = 100 * (both - both_before) / step.duration
        step.actions_cpu_percent = 100 * (actions - actions_before) / step.duration
        step.bench_cpu_percent = 100 * (time.process_time() - bench_cpu_before) / step.duration
        step.rss_max_mb = self.memory.max_between(step.started, step.ended)

    async def drain(self, timeout: float) -> float:
        """Wait for every answer; the seconds from the end of the last step to the last."""
        if self._waiting:
            await asyncio.wait(self._waiting, timeout=timeout)
        returned = [e.returned_at for s in self.steps for e in s.exchanges if e.returned_at]
        return max(0.0, max(returned, default=0.0) - self.steps[-1].ended)


def progress_line(index: int, count: int, step: StockStep) -> str:
    errors = f", {step.errors:,} errors" if step.errors else ""
    return (
        f"[stock {index}/{count}] {step.rate:g} messages/s × {step.seconds:g} s, "
        f"{step.users:,} senders: sent {step.sent_rate:.1f}/s{errors}; answered "
        f"{step.answered_rate:.1f}/s; in flight {step.in_flight:,}; Rasa + actions CPU "
        f"{step.cpu_percent:.0f}% (actions {step.actions_cpu_percent:.0f}%), "
        f"RSS {step.rss_max_mb:.0f} MB; bench CPU {step.bench_cpu_percent:.0f}%"
    )


def step_json(step: StockStep) -> dict[str, Any]:
    return {
        "rate": step.rate,
        "seconds": step.seconds,
        "users": step.users,
        "messages": len(step.exchanges),
        "sent_per_s": round(step.sent_rate, 1),
        "answered_per_s": round(step.answered_rate, 1),
        "reply_p50_ms": rounded(percentile(step.reply_ms, 0.5)),
        "reply_p95_ms": rounded(percentile(step.reply_ms, 0.95)),
        "reply_p99_ms": rounded(percentile(step.reply_ms, 0.99)),
        "errors": step.errors,
        "answered_without_reply": sum(
            1 for e in step.exchanges if e.status == 200 and not e.replies
        ),
        "in_flight_at_end": step.in_flight,
        "cpu_percent": round(step.cpu_percent, 1),
        "actions_cpu_percent": round(step.actions_cpu_percent, 1),
        "rss_max_mb": round(step.rss_max_mb, 1),
        "bench_cpu_percent": round(step.bench_cpu_percent, 1),
    }


def markdown(steps: list[StockStep], summary: dict[str, Any]) -> str:
    lines = [
        "Stock Rasa (`rasa run` REST + `rasa run actions`, SQL tracker store on SQLite), "
        f"model `{summary['model']}`:",
        "",
        "| offered (messages/s) | sent (messages/s) | answered (messages/s) | reply p50 "
        "| reply p95 | reply p99 | errors | in flight at end | Rasa + actions CPU (actions) "
        "| Rasa + actions RSS (max) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in steps:
        lines.append(
            f"| {step.rate:g} | {step.sent_rate:.1f} | {step.answered_rate:.1f} "
            f"| {ms(percentile(step.reply_ms, 0.5))} | {ms(percentile(step.reply_ms, 0.95))} "
            f"| {ms(percentile(step.reply_ms, 0.99))} | {step.errors:,} | {step.in_flight:,} "
            f"| {step.cpu_percent:.0f}% ({step.actions_cpu_percent:.0f}%) "
            f"| {step.rss_max_mb:.0f} MB |"
        )
    lines += [
        "",
        f"- Started (both servers, at once) in {summary['started_in_s']:.1f} s; after the "
        f"last step every answer came within {summary['drain_seconds']:.1f} s; errors "
        f"{summary['errors']}, answered without a reply {summary['answered_without_reply']}, "
        f"never answered {summary['never_answered']}; peak RSS of both processes "
        f"{summary['rss_peak_mb']:.0f} MB; ERROR lines in their logs "
        f"{summary['errors_logged']['count']}."
        + "".join(f"\n  - `{line[:200]}`" for line in summary["errors_logged"]["first"]),
    ]
    return "\n".join(lines)
