"""What the benchmarks share: a Zalo sandbox standing in for the OA API, starting
`citizenbot run` as its own process on a free loopback port, waiting until it answers
/healthz (or saying why it died), and reading the CPU time and memory of the process and of
the processes it started (the worker processes of CITIZENBOT_WORKERS > 1) from /proc.

The service runs as `python -m bot.cli run` in the checkout given (by default this one):
another checkout of the project, e.g. an older commit exported with `git archive`, can then
be measured by the same bench, in the same run, for a before/after comparison."""

from __future__ import annotations

import asyncio
import os
import shlex
import socket
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.sandbox.zalo_sandbox import ZaloSandbox
from bot.settings import (
    SANDBOX_APP_ID,
    SANDBOX_APP_SECRET,
    SANDBOX_OA_SECRET_KEY,
    SANDBOX_REFRESH_TOKEN,
)

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_sandbox(service_port: int) -> tuple[ZaloSandbox, web.AppRunner, str]:
    """The sandbox in this process, posting events to the service on `service_port`;
    returns it, its runner (to clean up) and its base URL."""
    sandbox = ZaloSandbox(
        SANDBOX_APP_ID,
        SANDBOX_APP_SECRET,
        SANDBOX_OA_SECRET_KEY,
        SANDBOX_REFRESH_TOKEN,
        f"http://127.0.0.1:{service_port}/webhook/zalo",
    )
    app = web.Application()
    sandbox.register(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sandbox_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", sandbox_port).start()
    return sandbox, runner, f"http://127.0.0.1:{sandbox_port}/sandbox"


def sandbox_env(base: str) -> dict[str, str]:
    """The service's settings for a real OA whose API is the sandbox at `base`."""
    return {
        "ZALO_APP_ID": SANDBOX_APP_ID,
        "ZALO_APP_SECRET": SANDBOX_APP_SECRET,
        "ZALO_OA_SECRET_KEY": SANDBOX_OA_SECRET_KEY,
        "ZALO_REFRESH_TOKEN": SANDBOX_REFRESH_TOKEN,
        "ZALO_API_BASE": f"{base}/openapi",
        "ZALO_OAUTH_BASE": f"{base}/oauth",
    }


async def start_service(
    port: int,
    data_dir: str,
    extra_env: dict[str, str] | None = None,
    timeout: float = 180,
    project: Path = PROJECT,
    poll_every: float = 0.5,
) -> asyncio.subprocess.Process:
    """`citizenbot run` of the checkout `project` on `port` with its data in `data_dir`,
    once healthy."""
    env = {
        **os.environ,
        "PORT": str(port),
        "CITIZENBOT_DATA_DIR": data_dir,
        "RASA_TELEMETRY_ENABLED": "false",
        **(extra_env or {}),
    }
    return await start_process(
        [sys.executable, "-m", "bot.cli", "run"],
        project,
        env,
        Path(data_dir) / "service.log",
        f"http://127.0.0.1:{port}/healthz",
        timeout,
        poll_every,
    )


async def start_process(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    log: Path,
    health_url: str,
    timeout: float = 180,
    poll_every: float = 0.5,
) -> asyncio.subprocess.Process:
    """`argv` as its own process, its stderr in `log`, once `health_url` answers 200; says
    why when it dies or stays silent."""
    log.parent.mkdir(parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    if await wait_healthy(health_url, process, timeout, poll_every):
        return process
    if process.returncode is None:
        process.kill()
        await process.wait()
    tail = "\n".join((await asyncio.to_thread(log.read_text)).splitlines()[-15:])
    raise RuntimeError(f"{shlex.join(argv)} did not start:\n{tail}")


async def wait_healthy(
    health_url: str,
    process: asyncio.subprocess.Process | None = None,
    timeout: float = 180,
    poll_every: float = 0.5,
) -> bool:
    """True once `health_url` answers 200; False if `process` exits or time runs out."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if process is not None and process.returncode is not None:
                return False
            try:
                async with http.get(health_url) as resp:
                    if resp.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(poll_every)
    return False


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process (all its threads) so far."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """`pid` and the processes it started, theirs too: the service with its worker processes."""
    tree = [pid]
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # gone meanwhile
        return tree
    for task in tasks:
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            tree.extend(process_tree(int(child)))
    return tree


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of `pid` and of every process it started, running or ended: each one's own
    time, plus the time of its children that ended and were reaped (a worker restarted
    mid-step still counts)."""
    total = 0
    for member in process_tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:  # ended between the listing and now: its parent counts it once reaped
            continue
        total += sum(int(field) for field in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def _status_mb(pid: int, field: str) -> float:
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:  # ended meanwhile
        return 0.0
    for line in lines:
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    """Resident memory now (VmRSS)."""
    return _status_mb(pid, "VmRSS")


def tree_rss_mb(pid: int) -> float:
    """Resident memory now of `pid` and the processes it started, summed."""
    return sum(rss_mb(member) for member in process_tree(pid))


def peak_rss_mb(pid: int) -> float:
    """The highest resident memory since the process started (VmHWM)."""
    return _status_mb(pid, "VmHWM")


def tree_peak_rss_mb(pid: int) -> float:
    """Each running process's own peak (VmHWM), summed: an upper bound of the peak of the
    whole, as the processes need not have peaked at the same moment."""
    return sum(peak_rss_mb(member) for member in process_tree(pid))


class MemoryTrace:
    """Resident memory of a set of processes (a system of several counts as their sum), with
    the processes they started when `children`, sampled while it runs."""

    def __init__(self, pids: list[int], children: bool = False) -> None:
        self.pids = pids
        self.children = children
        self.samples: list[tuple[float, float]] = []  # (time.time(), MB)

    async def sample(self, every: float = 0.5) -> None:
        measure = tree_rss_mb if self.children else rss_mb
        while True:
            self.samples.append((time.time(), sum(measure(pid) for pid in self.pids)))
            await asyncio.sleep(every)

    def max_between(self, start: float, end: float) -> float:
        return max((mb for moment, mb in self.samples if start <= moment <= end), default=0.0)

    def peak(self) -> float:
        return max((mb for _, mb in self.samples), default=0.0)
