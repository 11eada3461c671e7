"""Memory of one deployment serving many communes against one serving a single commune.

Each run starts `citizenbot run` (sandbox mode, CITIZENBOT_WORKERS=1: one process, whose
model serves every commune; worker processes' memory is not measured here) on a fresh data
folder and a copy of content/ in which `--communes N` communes were added (`citizenbot
commune add`, each with its own locality.yml and hotline);
N = 0 is today's single-commune setup. Once healthy it notes the resident memory, then has
`--citizens` citizens (16 at a time), spread evenly over the communes (over the default
commune when N = 0), ask for the one-stop desk's phone number through their commune's
webhook, waits for every reply, checks that each names its own commune's hotline, and notes
the memory again (now and at its peak, VmHWM).

    .venv/bin/python bench/commune_memory.py                      # 0 and 100 communes
    .venv/bin/python bench/commune_memory.py --communes 0 --communes 100 --citizens 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.service import PROJECT, free_port, peak_rss_mb, rss_mb, start_service  # noqa: E402
from bot.communes.commune_config import Commune  # noqa: E402
from bot.communes.commune_setup import add_commune  # noqa: E402
from bot.sandbox.zalo_sandbox import ZaloSandbox  # noqa: E402
from bot.settings import (  # noqa: E402
    SANDBOX_APP_ID,
    SANDBOX_OA_SECRET_KEY,
    Settings,
)
from bot.zalo import signature  # noqa: E402

QUESTION = "địa chỉ và số điện thoại bộ phận một cửa ở đâu"
IN_FLIGHT = 16  # citizens waiting for their reply at once
DEFAULT = ""


def hotline_of(commune: str) -> str:
    """xa-007's is 0209 555 007; the default commune's, the shipped sample number."""
    return f"0209 555 {commune.removeprefix('xa-')}" if commune else "0000 000 000"


def write_locality(content: Path, slug: str) -> None:
    lines = []
    for line in (content / "locality.yml").read_text(encoding="utf-8").splitlines():
        if line.startswith("hotline:"):
            line = f'hotline: "{hotline_of(slug)}"'
        lines.append(line)
    folder = content / "communes" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "locality.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


async def prepare(folder: Path, communes: int) -> tuple[Path, Path, list[str]]:
    """A content copy and a data folder with `communes` communes added; their slugs."""
    content = Path(shutil.copytree(PROJECT / "content", folder / "content"))
    data = folder / "var"
    settings = Settings(data_dir=data, content_dir=content)
    slugs = [f"xa-{n:03d}" for n in range(communes)]
    for slug in slugs:
        write_locality(content, slug)
        await add_commune(settings, Commune.in_sandbox(slug))
    return content, data, slugs or [DEFAULT]


async def ask(http: aiohttp.ClientSession, base: str, commune: str, user_id: str) -> None:
    """What Zalo does for the commune's OA: the question, signed with its OA secret key."""
    if commune:
        credentials = Commune.in_sandbox(commune)
        app_id, secret = credentials.app_id, credentials.oa_secret_key
    else:
        app_id, secret = SANDBOX_APP_ID, SANDBOX_OA_SECRET_KEY
    event = ZaloSandbox(app_id, "", "", "", "").event(user_id, "user_send_text", QUESTION)
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = signature.header_value(app_id, body, event["timestamp"], secret)
    path = f"/webhook/zalo/{commune}" if commune else "/webhook/zalo"
    headers = {signature.HEADER: mac, "Content-Type": "application/json"}
    async with http.post(base + path, data=body, headers=headers) as resp:
        assert resp.status == 200, (commune, resp.status)


async def reply_of(http: aiohttp.ClientSession, base: str, commune: str, user_id: str) -> str:
    path = f"/sandbox/communes/{commune}/messages" if commune else "/sandbox/messages"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        async with http.get(base + path, params={"user_id": user_id}) as resp:
            messages = (await resp.json())["messages"]
        if messages:
            return "\n".join(m["message"].get("text", "") for m in messages)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no reply to {user_id} of commune {commune or 'default'}")


async def run(communes: int, citizens: int) -> dict[str, object]:
    with TemporaryDirectory() as folder:
        content, data, slugs = await prepare(Path(folder), communes)
        port = free_port()
        env = {
            "CITIZENBOT_CONTENT_DIR": str(content),
            "CITIZENBOT_WORKERS": "1",
        }
        starting = time.monotonic()
        service = await start_service(port, str(data), env, timeout=600)
        start_seconds = time.monotonic() - starting
        base = f"http://127.0.0.1:{port}"
        try:
            at_rest = rss_mb(service.pid)
            asked = [(slugs[n % len(slugs)], f"citizen-{n}") for n in range(citizens)]
            started = time.monotonic()
            async with aiohttp.ClientSession() as http:
                gate = asyncio.Semaphore(IN_FLIGHT)

                async def one(commune: str, user_id: str) -> bool:
                    async with gate:  # a citizen at a time per slot: asks, reads the reply
                        await ask(http, base, commune, user_id)
                        reply = await reply_of(http, base, commune, user_id)
                    return hotline_of(commune) in reply

                own = await asyncio.gather(*(one(c, u) for c, u in asked))
            took = time.monotonic() - started
            figures = {
                "communes": communes,
                "citizens": citizens,
                "answered_with_own_hotline": sum(own),
                "start_seconds": round(start_seconds, 1),
                "seconds": round(took, 1),
                "rss_at_rest_mb": round(at_rest, 1),
                "rss_after_mb": round(rss_mb(service.pid), 1),
                "rss_peak_mb": round(peak_rss_mb(service.pid), 1),
            }
        except Exception:
            log = (data / "service.log").read_text(encoding="utf-8").splitlines()
            print("\n".join(log[-30:]), file=sys.stderr)
            raise
        finally:
            if service.returncode is None:
                service.terminate()
            await asyncio.wait_for(service.wait(), 60)
    return figures


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--communes", type=int, action="append", help="default: 0 and 100")
    parser.add_argument("--citizens", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = []
    for communes in args.communes or [0, 100]:
        figures = await run(communes, args.citizens)
        print(json.dumps(figures), flush=True)
        results.append(figures)
    if len(results) > 1:
        base, most = results[0], results[-1]
        for key in ("rss_at_rest_mb", "rss_peak_mb"):
            print(f"{key}: {most[key]} / {base[key]} = {most[key] / base[key]:.2f}×")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
