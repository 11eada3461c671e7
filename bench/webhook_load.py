"""Webhook load: signed events from many users at rising rates, against the running service.

Starts a Zalo sandbox in this process and `citizenbot run` as its own process, pointed at
that sandbox as at the real OA API: the service's CPU and memory are then its own, and every
reply is stamped when it reaches "Zalo". For each rate it sends signed `user_send_text`
events open-loop for a fixed time (each send at its scheduled moment, none waits for
another) from fresh users, each asking a few realistic questions with and without
diacritics. The steps follow each other without a pause, so a backlog carries over.

Per step: acknowledgement latency, reply latency (event sent -> its first reply received by
the sandbox), events answered per second, the backlog left at the end of the step, the
service's CPU (% of one core) and memory: the web server's process with its worker processes
(CITIZENBOT_WORKERS > 1), and in brackets the web server's process alone. After the last
step it waits until everything is answered, says how long that took, and checks that no
event was lost or answered twice.
Prints one line per step, then a table for docs/benchmarks.md.

With --against-stock-rasa the same steps then go to stock Rasa on the same model
(bench/stock_rasa.py: `rasa run` REST + `rasa run actions`, SQL tracker store on SQLite),
and the bench prints both answered rates and their ratio; --stock-first swaps the order,
to alternate runs on a machine whose load changes.

    .venv/bin/python bench/webhook_load.py                      # 50, 100, 200, 400/s, 20 s each
    .venv/bin/python bench/webhook_load.py --rates 20,40 --seconds 5 --json var/load.json
    .venv/bin/python bench/webhook_load.py --rates 30 --project /tmp/before  # another checkout
    .venv/bin/python bench/webhook_load.py --rates 20,30,60 --seconds 30 --against-stock-rasa
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import shlex
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import stock_rasa  # noqa: E402
from bench.open_loop import MESSAGES, Window, ms, open_loop, percentile, rounded  # noqa: E402
from bench.service import (  # noqa: E402
    PROJECT,
    MemoryTrace,
    cpu_seconds,
    free_port,
    sandbox_env,
    start_sandbox,
    start_service,
    tree_cpu_seconds,
    tree_peak_rss_mb,
    tree_rss_mb,
)
from bot.sandbox.zalo_sandbox import ZaloSandbox  # noqa: E402
from bot.settings import (  # noqa: E402
    SANDBOX_APP_ID,
    SANDBOX_OA_SECRET_KEY,
)
from bot.zalo import signature  # noqa: E402

ACK_TARGET_MS = 50.0
# A step keeps up when its backlog grows by at most this share of the events it sent, i.e.
# it answers at least 90 % of the rate it was offered. Answers lag sends by the reply
# latency, so steps much shorter than 10 s look saturated sooner than they are.
KEEPING_UP_SLACK = 0.1
# From the service's GET /metrics: events held in memory (queued or being handled), and
# counters that say whether the bench met the queue bound or the per-user message limit.
QUEUED = "citizenbot_queued_events"
DEFERRED = "citizenbot_events_deferred_total"
RATE_LIMITED = "citizenbot_messages_rate_limited_total"


@dataclass
class Sent:
    key: str  # the msg_id, which the service uses as the inbox key
    sent_at: float  # wall clock (time.time()), comparable with the sandbox's sent_time
    ack_ms: float = 0.0
    status: int = 0  # HTTP status; 0 when no answer came


@dataclass
class Step(Window):
    """Answered: events finished (inbox not pending) during the step, any step's."""

    sent: list[Sent] = field(default_factory=list)
    backlog_before: int = 0  # events acknowledged and not yet finished, at the start...
    backlog: int = 0  # ...and at the end of the step
    service_queue: int | None = None  # events the service holds in memory at the end
    service_cpu_percent: float = 0.0  # the web server's process and its worker processes
    web_cpu_percent: float = 0.0  # the web server's process alone
    bench_cpu_percent: float = 0.0
    rss_max_mb: float = 0.0  # summed over the web server's and the worker processes
    web_rss_max_mb: float = 0.0
    reply_ms: list[float] = field(default_factory=list)  # filled in after the drain
    messages: int = 0  # reply messages the sandbox received during the step, any event's

    @property
    def ack_ms(self) -> list[float]:
        return [s.ack_ms for s in self.sent if s.status]

    @property
    def refused(self) -> int:
        return sum(1 for s in self.sent if s.status != 200)

    @property
    def keeping_up(self) -> bool:
        return self.backlog - self.backlog_before <= KEEPING_UP_SLACK * len(self.sent)


def signed_event(user_id: str, text: str) -> tuple[str, bytes, dict[str, str]]:
    timestamp = str(int(time.time() * 1000))
    key = secrets.token_hex(10)
    event = {
        "event_name": "user_send_text",
        "app_id": SANDBOX_APP_ID,
        "sender": {"id": user_id},
        "recipient": {"id": "bench-oa"},
        "timestamp": timestamp,
        "user_id_by_app": user_id,
        "message": {"msg_id": key, "text": text},
    }
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = signature.header_value(SANDBOX_APP_ID, body, timestamp, SANDBOX_OA_SECRET_KEY)
    return key, body, {signature.HEADER: mac, "Content-Type": "application/json"}


class ServiceProbe:
    """What the bench reads from the running service: /proc (the web server's process and
    the worker processes it started), its database (read-only) and its queue depth over HTTP."""

    def __init__(self, pid: int, url: str, database: Path) -> None:
        self.pid = pid
        self.url = url
        self._database = database
        self.memory = MemoryTrace([pid], children=True)
        self.web_memory = MemoryTrace([pid])

    def inbox_counts(self) -> dict[str, int]:
        """Events by inbox status: pending is acknowledged and not yet finished."""
        conn = sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, timeout=30)
        try:
            rows = conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status").fetchall()
        finally:
            conn.close()
        return dict(rows)

    def finished(self) -> tuple[int, int]:
        """(events finished, events pending) so far."""
        counts = self.inbox_counts()
        pending = counts.get("pending", 0)
        return sum(counts.values()) - pending, pending

    async def metrics(self, http: aiohttp.ClientSession) -> dict[str, float]:
        """The service's GET /metrics (Prometheus text); without it, /healthz's queue."""
        try:
            async with http.get(f"{self.url}/metrics") as resp:
                if resp.status == 200:
                    return prometheus_values(await resp.text())
            async with http.get(f"{self.url}/healthz") as resp:
                return {QUEUED: float((await resp.json())["queued_events"])}
        except (aiohttp.ClientError, ValueError, KeyError, TypeError):
            return {}


def prometheus_values(text: str) -> dict[str, float]:
    """Unlabelled samples of a Prometheus text exposition, by name."""
    values: dict[str, float] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and not line.startswith("#") and "{" not in parts[0]:
            try:
                values[parts[0]] = float(parts[1])
            except ValueError:
                continue
    return values


async def send_one(http: aiohttp.ClientSession, url: str, user: str, text: str, step: Step):
    key, body, headers = signed_event(user, text)
    sent = Sent(key, time.time())
    step.sent.append(sent)
    started = time.perf_counter()
    try:
        async with http.post(f"{url}/webhook/zalo", data=body, headers=headers) as resp:
            await resp.read()
            sent.status = resp.status
    except aiohttp.ClientError:
        sent.status = 0
    sent.ack_ms = (time.perf_counter() - started) * 1000


async def run_step(
    http: aiohttp.ClientSession, probe: ServiceProbe, step: Step, user_prefix: str
) -> None:
    """Send `step.rate` events a second for `step.seconds`, open-loop."""
    finished_before, step.backlog_before = probe.finished()
    cpu_before, web_cpu_before = tree_cpu_seconds(probe.pid), cpu_seconds(probe.pid)
    bench_cpu_before = time.process_time()
    step.started = time.time()

    async def send(user: int, text: str) -> None:
        await send_one(http, probe.url, f"{user_prefix}-{user}", text, step)

    tasks, step.sent_rate = await open_loop(step.rate, step.seconds, step.users, send)
    await asyncio.gather(*tasks)
    step.ended = time.time()
    finished_after, step.backlog = probe.finished()
    step.answered = finished_after - finished_before
    step.service_cpu_percent = 100 * (tree_cpu_seconds(probe.pid) - cpu_before) / step.duration
    step.web_cpu_percent = 100 * (cpu_seconds(probe.pid) - web_cpu_before) / step.duration
    step.bench_cpu_percent = 100 * (time.process_time() - bench_cpu_before) / step.duration
    queued = (await probe.metrics(http)).get(QUEUED)
    step.service_queue = None if queued is None else int(queued)
    step.rss_max_mb = probe.memory.max_between(step.started, step.ended)
    step.web_rss_max_mb = probe.web_memory.max_between(step.started, step.ended)


async def warm_up(http: aiohttp.ClientSession, probe: ServiceProbe, user_prefix: str) -> None:
    """Every question once, answered before the first step: the model's first predictions
    are slower (graph tracing, caches) and would count against the lowest rate."""
    step = Step(rate=1, seconds=0, users=len(MESSAGES))
    await asyncio.gather(
        *(
            send_one(http, probe.url, f"{user_prefix}-{n}", text, step)
            for n, text in enumerate(MESSAGES)
        )
    )
    await drain(probe, timeout=300, quiet=True)


async def drain(probe: ServiceProbe, timeout: float, quiet: bool = False) -> tuple[float, float]:
    """Wait until every acknowledged event is finished; (seconds waited, service CPU %)."""
    started, cpu_before = time.time(), tree_cpu_seconds(probe.pid)
    last_said = started
    while True:
        _, pending = probe.finished()
        now = time.time()
        if pending == 0 or now - started > timeout:
            break
        if now - last_said >= 10 and not quiet:
            print(f"  draining: {pending:,} acknowledged, not answered yet", flush=True)
            last_said = now
        await asyncio.sleep(1.0)
    waited = time.time() - started
    cpu = 100 * (tree_cpu_seconds(probe.pid) - cpu_before) / waited if waited > 0.5 else 0.0
    return waited, cpu


def reconcile(steps: list[Step], database: Path, sandbox: ZaloSandbox) -> dict[str, Any]:
    """Match every reply the sandbox received to its event through the outbox (key
    `<msg_id>#<n>`, the sandbox's message id), fill in reply latencies, count faults."""
    arrived = {
        m["message_id"]: int(m["sent_time"]) / 1000
        for messages in sandbox.state.messages.values()
        for m in messages
    }
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        outbox = conn.execute(
            "SELECT idempotency_key, zalo_message_id, status FROM outbox"
        ).fetchall()
        inbox = dict(conn.execute("SELECT key, status FROM inbox").fetchall())
    finally:
        conn.close()
    first_reply: dict[str, float] = {}
    recorded_ids = set()
    undelivered = 0
    for key, message_id, status in outbox:
        if status != "sent":
            undelivered += 1
            continue
        recorded_ids.add(message_id)
        event_key = key.rsplit("#", 1)[0]
        if message_id in arrived:
            first_reply[event_key] = min(arrived[message_id], first_reply.get(event_key, math.inf))
    not_finished = failed = without_reply = 0
    for step in steps:
        for sent in step.sent:
            if sent.status != 200:
                continue
            status = inbox.get(sent.key)
            if status in (None, "pending"):
                not_finished += 1
            elif status != "done":
                failed += 1
            elif sent.key not in first_reply:
                without_reply += 1
            else:
                step.reply_ms.append((first_reply[sent.key] - sent.sent_at) * 1000)
    for step in steps:
        step.messages = sum(1 for moment in arrived.values() if step.started <= moment < step.ended)
    return {
        "replies_received": len(arrived),
        "last_reply_at": max(arrived.values(), default=0.0),
        # Lost: acknowledged, then never finished, or finished with an error.
        "lost": not_finished + failed,
        "not_finished": not_finished,
        "failed": failed,
        "without_reply": without_reply,
        # Received by Zalo but not the delivery the outbox recorded: sent twice.
        "duplicated": sum(1 for message_id in arrived if message_id not in recorded_ids),
        "undelivered": undelivered,
    }


def _count(value: float | None) -> str:
    return "not in /metrics" if value is None else f"{value:,.0f}"


def progress_line(index: int, count: int, step: Step) -> str:
    queue = "" if step.service_queue is None else f" (service queue {step.service_queue:,})"
    refused = f", {step.refused:,} refused" if step.refused else ""
    return (
        f"[{index}/{count}] {step.rate:g} events/s × {step.seconds:g} s, {step.users:,} users: "
        f"sent {step.sent_rate:.1f}/s{refused}; ack p50 {ms(percentile(step.ack_ms, 0.5))}, "
        f"p99 {ms(percentile(step.ack_ms, 0.99))}; answered {step.answered_rate:.1f}/s; "
        f"backlog {step.backlog:,}{queue}; service CPU {step.service_cpu_percent:.0f}% "
        f"(web server {step.web_cpu_percent:.0f}%), RSS {step.rss_max_mb:.0f} MB "
        f"(web server {step.web_rss_max_mb:.0f} MB); bench CPU {step.bench_cpu_percent:.0f}%"
    )


def verdicts(steps: list[Step]) -> dict[str, Any]:
    """Where answering stops following the offered rate, and where acknowledgements miss
    their target: the first step that fails, and the step before it."""

    def last_before_first_failure(passes: list[bool]) -> float | None:
        rate = None
        for step, passed in zip(steps, passes, strict=True):
            if not passed:
                break
            rate = step.rate
        return rate

    saturated = next((s for s in steps if not s.keeping_up), None)
    ack_met = [(percentile(s.ack_ms, 0.99) or 0.0) <= ACK_TARGET_MS for s in steps]
    return {
        "saturates_at": saturated.rate if saturated else None,
        "kept_up_to": last_before_first_failure([s.keeping_up for s in steps]),
        "answered_max_per_s": round(max(s.answered_rate for s in steps), 1),
        "ack_p99_within_target_up_to": last_before_first_failure(ack_met),
    }


def markdown(steps: list[Step], summary: dict[str, Any], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| offered (events/s) | sent (events/s) | ack p50 | ack p99 | answered (events/s) "
        "| reply p50 | reply p95 | reply p99 | backlog at end | service CPU (web server) "
        "| service RSS, max (web server) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for step in steps:
        lines.append(
            f"| {step.rate:g} | {step.sent_rate:.1f} | {ms(percentile(step.ack_ms, 0.5))} "
            f"| {ms(percentile(step.ack_ms, 0.99))} | {step.answered_rate:.1f} "
            f"| {ms(percentile(step.reply_ms, 0.5))} | {ms(percentile(step.reply_ms, 0.95))} "
            f"| {ms(percentile(step.reply_ms, 0.99))} | {step.backlog:,} "
            f"| {step.service_cpu_percent:.0f}% ({step.web_cpu_percent:.0f}%) "
            f"| {step.rss_max_mb:.0f} MB ({step.web_rss_max_mb:.0f} MB) |"
        )
    v = summary["verdicts"]
    if v["saturates_at"] is None:
        saturation = f"kept up at every rate up to {steps[-1].rate:g} events/s"
    elif v["kept_up_to"] is None:
        saturation = (
            f"already saturated at {steps[0].rate:g} events/s (the lowest rate): "
            "run lower rates to find where it starts"
        )
    else:
        saturation = f"kept up to {v['kept_up_to']:g} events/s, saturated at {v['saturates_at']:g}"
    ack = v["ack_p99_within_target_up_to"]
    lines += [
        "",
        "- Users: fresh each step, each sending its messages evenly over the step: "
        + ", ".join(f"{s.users:,} × {len(s.sent) / s.users:.1f}" for s in steps)
        + f" ({sum(len(s.sent) for s in steps):,} events; {len(MESSAGES)} questions with "
        "and without diacritics).",
        f"- Saturation: {saturation}; at most {v['answered_max_per_s']} events answered/s. "
        f"Ack p99 ≤ {ACK_TARGET_MS:g} ms "
        + (f"up to {ack:g} events/s." if ack is not None else "at none of these rates."),
        f"- After the last step: {summary['backlog_after_last_step']:,} events waiting, "
        + (
            f"answered within {summary['drain_seconds']:.1f} s"
            if not summary["not_finished"]
            else f"{summary['not_finished']:,} still unanswered after "
            f"{summary['drain_waited_seconds']:.0f} s (--drain-timeout)"
        )
        + f" (service CPU {summary['drain_cpu_percent']:.0f}% meanwhile).",
        f"- Lost {summary['lost']}, answered twice {summary['duplicated']}, finished without a "
        f"reply {summary['without_reply']}, refused (not 200) {summary['refused']}, replies "
        f"not delivered {summary['undelivered']}; messages over the per-user limit "
        f"{_count(summary['rate_limited'])}, events left in the inbox by the queue bound "
        f"{_count(summary['deferred_to_inbox'])}.",
        f"- Service memory, worker processes included: {summary['rss_at_rest_mb']:.0f} MB at "
        f"rest after start, {summary['rss_at_end_mb']:.0f} MB at the end, peak "
        f"{summary['rss_peak_mb']:.0f} MB (VmHWM, model load included; with workers the sum of "
        f"each process's peak); started in {summary['started_in_s']:.1f} s. Bench process "
        "CPU per step: " + ", ".join(f"{s.bench_cpu_percent:.0f}%" for s in steps) + ".",
    ]
    return "\n".join(lines)


def users_per_step(args: argparse.Namespace, rate: float) -> int:
    return args.users or max(1, math.ceil(rate * args.seconds / args.messages_per_user))


async def bench_service(args: argparse.Namespace, rates: list[float]) -> tuple[list[Step], dict]:
    service_port = free_port()
    url = f"http://127.0.0.1:{service_port}"
    sandbox, runner, base = await start_sandbox(service_port)
    run_id = secrets.token_hex(3)
    steps = [Step(rate, args.seconds, users_per_step(args, rate)) for rate in rates]
    with TemporaryDirectory(dir=args.data_in) as data_dir:
        database = Path(data_dir) / "citizenbot.db"
        starting = time.monotonic()
        service = await start_service(
            service_port,
            data_dir,
            sandbox_env(base),  # the service sees a real OA API: the sandbox in this process
            project=args.project,
        )
        started_in = time.monotonic() - starting
        probe = ServiceProbe(service.pid, url, database)
        samplers = [
            asyncio.create_task(trace.sample()) for trace in (probe.memory, probe.web_memory)
        ]
        try:
            await asyncio.sleep(1)
            rss_at_rest = tree_rss_mb(service.pid)
            print(
                f"service up (pid {service.pid}, {rss_at_rest:.0f} MB); "
                f"{', '.join(f'{r:g}' for r in rates)} events/s, {args.seconds:g} s each",
                flush=True,
            )
            connector = aiohttp.TCPConnector(limit=256)
            async with aiohttp.ClientSession(connector=connector) as http:
                await warm_up(http, probe, f"bench-{run_id}-warmup")
                for index, step in enumerate(steps, 1):
                    await run_step(http, probe, step, f"bench-{run_id}-{index}")
                    print(progress_line(index, len(steps), step), flush=True)
                backlog = steps[-1].backlog
                drain_waited, drain_cpu = await drain(probe, args.drain_timeout)
                await asyncio.sleep(0.5)  # the last replies' HTTP answers
                final = await probe.metrics(http)
            outcome = reconcile(steps, database, sandbox)
            rss_at_end, rss_peak = tree_rss_mb(service.pid), tree_peak_rss_mb(service.pid)
        finally:
            for sampler in samplers:
                sampler.cancel()
            service.terminate()
            await asyncio.wait_for(service.wait(), 60)
            await runner.cleanup()
    last_end = steps[-1].ended
    summary = {
        "command": "",
        "backlog_after_last_step": backlog,
        # From the end of the last step to the last reply's arrival at the sandbox.
        "drain_seconds": round(max(0.0, outcome["last_reply_at"] - last_end), 1),
        "drain_waited_seconds": round(drain_waited, 1),
        "drain_cpu_percent": round(drain_cpu, 1),
        "refused": sum(s.refused for s in steps),
        # None when the service has no GET /metrics.
        "deferred_to_inbox": final.get(DEFERRED),
        "rate_limited": final.get(RATE_LIMITED),
        "started_in_s": round(started_in, 1),
        "rss_at_rest_mb": round(rss_at_rest, 1),
        "rss_at_end_mb": round(rss_at_end, 1),
        "rss_peak_mb": round(rss_peak, 1),
        **outcome,
    }
    summary["verdicts"] = verdicts(steps)
    return steps, summary


async def bench_stock(
    args: argparse.Namespace, rates: list[float]
) -> tuple[list[stock_rasa.StockStep], dict]:
    """The same steps against stock Rasa on the same model (bench/stock_rasa.py)."""
    run_id = secrets.token_hex(3)
    steps = [stock_rasa.StockStep(rate, args.seconds, users_per_step(args, rate)) for rate in rates]
    with TemporaryDirectory(dir=args.data_in) as work_dir:
        stock = await stock_rasa.start_stock_rasa(args.project, Path(work_dir))
        try:
            print(
                f"stock Rasa up (pids {stock.pids[0]} + {stock.pids[1]} actions, "
                f"{stock.started_in_s:.1f} s)",
                flush=True,
            )
            timeout = aiohttp.ClientTimeout(total=args.drain_timeout)
            connector = aiohttp.TCPConnector(limit=256)
            async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
                load = stock_rasa.StockRasaLoad(stock, http)
                sampler = asyncio.create_task(load.memory.sample())
                try:
                    await load.warm_up(f"stock-{run_id}-warmup")
                    for index, step in enumerate(steps, 1):
                        await load.run_step(step, f"stock-{run_id}-{index}")
                        print(stock_rasa.progress_line(index, len(steps), step), flush=True)
                    drain_seconds = await load.drain(args.drain_timeout)
                finally:
                    sampler.cancel()
        finally:
            await stock.stop()
        errors_logged = await asyncio.to_thread(stock_rasa.logged_errors, Path(work_dir))
    exchanges = [e for s in steps for e in s.exchanges]
    summary = {
        "model": stock.model.name,
        "started_in_s": round(stock.started_in_s, 1),
        "drain_seconds": round(drain_seconds, 1),
        "errors": sum(s.errors for s in steps),
        "answered_without_reply": sum(1 for e in exchanges if e.status == 200 and not e.replies),
        "never_answered": sum(1 for e in exchanges if e.status is None),
        "rss_peak_mb": round(load.memory.peak(), 1),
        "errors_logged": errors_logged,
    }
    return steps, summary


def ratios(steps: list[Step], stock_steps: list[stock_rasa.StockStep]) -> list[dict[str, Any]]:
    """Ours over stock, step by step: answered per second, per CPU-second (the machine is
    shared, so a system may not get the cores it could use) and reply p95."""

    def per_cpu_second(answered_rate: float, cpu_percent: float) -> float | None:
        return round(100 * answered_rate / cpu_percent, 1) if cpu_percent else None

    rows = []
    for ours, stock in zip(steps, stock_steps, strict=True):
        rows.append(
            {
                "rate": ours.rate,
                "ours_answered_per_s": round(ours.answered_rate, 1),
                "stock_answered_per_s": round(stock.answered_rate, 1),
                "ratio": round(ours.answered_rate / stock.answered_rate, 2)
                if stock.answered_rate
                else None,
                "ours_answered_per_cpu_s": per_cpu_second(
                    ours.answered_rate, ours.service_cpu_percent
                ),
                "stock_answered_per_cpu_s": per_cpu_second(stock.answered_rate, stock.cpu_percent),
                "ours_reply_p95_ms": rounded(percentile(ours.reply_ms, 0.95)),
                "stock_reply_p95_ms": rounded(percentile(stock.reply_ms, 0.95)),
            }
        )
    return rows


def ratio_markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| offered (/s) | ours: answered events/s | stock Rasa: answered messages/s "
        "| ours ÷ stock | answered per CPU-second, ours / stock | ours reply p95 "
        "| stock reply p95 |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = "–" if row["ratio"] is None else f"**{row['ratio']:.2f}×**"
        lines.append(
            f"| {row['rate']:g} | {row['ours_answered_per_s']:.1f} "
            f"| {row['stock_answered_per_s']:.1f} | {ratio} "
            f"| {row['ours_answered_per_cpu_s']} / {row['stock_answered_per_cpu_s']} "
            f"| {ms(row['ours_reply_p95_ms'])} "
            f"| {ms(row['stock_reply_p95_ms'])} |"
        )
    return "\n".join(lines)


def step_json(step: Step) -> dict[str, Any]:
    return {
        "rate": step.rate,
        "seconds": step.seconds,
        "users": step.users,
        "events": len(step.sent),
        "sent_per_s": round(step.sent_rate, 1),
        "refused": step.refused,
        "ack_p50_ms": rounded(percentile(step.ack_ms, 0.5)),
        "ack_p99_ms": rounded(percentile(step.ack_ms, 0.99)),
        "ack_max_ms": rounded(max(step.ack_ms, default=None)),
        "answered_per_s": round(step.answered_rate, 1),
        "reply_messages_per_s": round(step.messages / step.duration, 1),
        "reply_p50_ms": rounded(percentile(step.reply_ms, 0.5)),
        "reply_p95_ms": rounded(percentile(step.reply_ms, 0.95)),
        "reply_p99_ms": rounded(percentile(step.reply_ms, 0.99)),
        "backlog_at_start": step.backlog_before,
        "backlog_at_end": step.backlog,
        "service_queue_at_end": step.service_queue,
        "keeping_up": step.keeping_up,
        "service_cpu_percent": round(step.service_cpu_percent, 1),
        "web_server_cpu_percent": round(step.web_cpu_percent, 1),
        "service_rss_max_mb": round(step.rss_max_mb, 1),
        "web_server_rss_max_mb": round(step.web_rss_max_mb, 1),
        "bench_cpu_percent": round(step.bench_cpu_percent, 1),
    }


def parse_rates(args: argparse.Namespace) -> list[float]:
    rates = list(args.rate or [])
    for part in (args.rates or "").split(","):
        if part.strip():
            rates.append(float(part))
    return rates or [50.0, 100.0, 200.0, 400.0]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", help="events/s per step, comma-separated (50,100,200,400)")
    parser.add_argument("--rate", type=float, action="append", help="one more step (repeatable)")
    parser.add_argument("--seconds", type=float, default=20, help="length of each step")
    parser.add_argument(
        "--messages-per-user",
        type=int,
        default=4,
        help="each step's fresh users send this many messages each (default 4)",
    )
    parser.add_argument("--users", type=int, help="instead: this many users per step")
    parser.add_argument("--drain-timeout", type=float, default=1800)
    parser.add_argument(
        "--data-in",
        help="where the service's fresh data directory is made (default: the system's temp "
        "directory); /dev/shm takes the disk's fsync out of the figures",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument(
        "--project",
        type=Path,
        default=PROJECT,
        help="the checkout whose service is measured (default: this one)",
    )
    parser.add_argument(
        "--against-stock-rasa",
        action="store_true",
        help="then the same steps against stock Rasa (`rasa run` REST + `rasa run actions`) "
        "on the same model, and the ratio",
    )
    parser.add_argument(
        "--stock-first",
        action="store_true",
        help="with --against-stock-rasa: stock Rasa before the service (alternate runs)",
    )
    args = parser.parse_args()
    rates = parse_rates(args)
    command = shlex.join([".venv/bin/python", "bench/webhook_load.py", *sys.argv[1:]])
    stock: tuple[list[stock_rasa.StockStep], dict] | None = None
    if args.against_stock_rasa and args.stock_first:
        stock = await bench_stock(args, rates)
    steps, summary = await bench_service(args, rates)
    if args.against_stock_rasa and not args.stock_first:
        stock = await bench_stock(args, rates)
    summary["command"] = command
    print()
    print(markdown(steps, summary, command), flush=True)
    figures = {**summary, "steps": [step_json(s) for s in steps]}
    if stock is not None:
        stock_steps, stock_summary = stock
        rows = ratios(steps, stock_steps)
        print()
        print(stock_rasa.markdown(stock_steps, stock_summary))
        print()
        print(ratio_markdown(rows), flush=True)
        figures["stock_rasa"] = {
            **stock_summary,
            "first": args.stock_first,
            "steps": [stock_rasa.step_json(s) for s in stock_steps],
        }
        figures["ours_over_stock"] = rows
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0 if summary["lost"] == 0 and summary["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
