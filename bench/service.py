"""What the benchmarks share: a Zalo sandbox standing in for the OA API, starting
`citizenbot run` as its own process on a free loopback port, waiting until it answers
/healthz (or saying why it died), and reading the process's CPU time and memory from /proc.

The service runs as `python -m bot.cli run` in the checkout given (by default this one):
another checkout of the project, e.g. an older commit exported with `git archive`, can then
be measured by the same bench, in the same run, for a before/after comparison."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.settings import (
    SANDBOX_APP_ID,
    SANDBOX_APP_SECRET,
    SANDBOX_OA_SECRET_KEY,
    SANDBOX_REFRESH_TOKEN,
)
from bot.zalo.sandbox import ZaloSandbox

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
    log = Path(data_dir) / "service.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    service = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=project,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    if await wait_healthy(f"http://127.0.0.1:{port}", service, timeout):
        return service
    service.kill()
    tail = "\n".join(log.read_text().splitlines()[-15:])
    raise RuntimeError(f"the service did not start:\n{tail}")


async def wait_healthy(
    url: str, service: asyncio.subprocess.Process | None = None, timeout: float = 180
) -> bool:
    """True once `url`/healthz answers 200; False if `service` exits or time runs out."""
    async with aiohttp.ClientSession() as http:
        for _ in range(int(timeout * 2)):
            if service is not None and service.returncode is not None:
                return False
            try:
                async with http.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return True
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the whole process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mb(pid: int) -> float:
    """Resident memory now (VmRSS)."""
    return _status_mb(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The highest resident memory since the process started (VmHWM)."""
    return _status_mb(pid, "VmHWM")
