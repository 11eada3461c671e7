"""SIGTERM: stop accepting, finish what was acknowledged, then exit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import aiohttp

from bot.settings import SANDBOX_APP_ID, SANDBOX_OA_SECRET_KEY
from bot.storage import sql
from bot.storage.database import open_store
from bot.zalo import signature
from tests.conftest import free_port, spawn_service, wait_until_healthy


async def test_sigterm_finishes_every_acknowledged_event_before_exiting(
    tmp_path: Path, database_url_for
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "CITIZENBOT_DATA_DIR": str(tmp_path),
        "CITIZENBOT_DATABASE_URL": database_url_for(tmp_path / "citizenbot.db"),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    process = await spawn_service(env)
    acknowledged = 0
    assert await wait_until_healthy(url, process)
    async with aiohttp.ClientSession() as http:
        for n in range(30):
            timestamp = str(int(time.time() * 1000))
            event = {
                "event_name": "user_send_text",
                "app_id": SANDBOX_APP_ID,
                "sender": {"id": f"u-term-{n % 5}"},
                "recipient": {"id": "oa"},
                "timestamp": timestamp,
                "message": {"msg_id": f"term-{n}", "text": "xin chào"},
            }
            body = json.dumps(event).encode()
            mac = signature.header_value(SANDBOX_APP_ID, body, timestamp, SANDBOX_OA_SECRET_KEY)
            async with http.post(
                f"{url}/webhook/zalo", data=body, headers={signature.HEADER: mac}
            ) as resp:
                acknowledged += resp.status == 200
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 60) == 0
    db = open_store(tmp_path / "citizenbot.db", env["CITIZENBOT_DATABASE_URL"])
    statuses = [row["status"] for row in sql.rows(db, "SELECT * FROM inbox")]
    assert acknowledged == 30 and statuses == ["done"] * 30
    sent = sql.rows(db, "SELECT * FROM outbox WHERE status = 'sent'")
    assert len({row["idempotency_key"].split("#")[0] for row in sent}) == 30
