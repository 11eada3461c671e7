"""What the benchmarks share: starting `citizenbot run` as its own process on a free
loopback port, and waiting until it answers /healthz (or saying why it died)."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import aiohttp

PROJECT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def start_service(
    port: int, data_dir: str, extra_env: dict[str, str] | None = None, timeout: float = 180
) -> asyncio.subprocess.Process:
    """`citizenbot run` (sandbox mode) on `port` with its data in `data_dir`, once healthy."""
    env = {
        **os.environ,
        "PORT": str(port),
        "CITIZENBOT_DATA_DIR": data_dir,
        "RASA_TELEMETRY_ENABLED": "false",
        **(extra_env or {}),
    }
    log = Path(data_dir) / "service.log"
    service = await asyncio.create_subprocess_exec(
        str(PROJECT / ".venv/bin/citizenbot"),
        "run",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(int(timeout * 2)):
            if service.returncode is not None:
                break
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return service
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    service.kill()
    tail = "\n".join(log.read_text().splitlines()[-15:])
    raise RuntimeError(f"the service did not start:\n{tail}")
