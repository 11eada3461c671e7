"""Structured logs: JSON lines with the request id; phone numbers never appear whole."""

import asyncio
import json
import logging
import os
from pathlib import Path

from bot.logs import REQUEST_ID, JsonFormatter, mask_phones
from tests.conftest import free_port, spawn_service, wait_until_healthy


def test_phone_numbers_are_masked_in_every_form() -> None:
    for phone in ("0912345678", "+84912345678", "84912345678"):
        assert phone not in mask_phones(f"user typed {phone}")
    assert mask_phones("mã hồ sơ 000.00.24.H26-250101-0001") == "mã hồ sơ 000.00.24.H26-250101-0001"


def test_a_log_line_is_json_with_the_request_id() -> None:
    token = REQUEST_ID.set("e2a641af6661713b2874")
    try:
        record = logging.LogRecord(
            "bot.test", logging.WARNING, __file__, 1, "send to %s failed", ("0987654321",), None
        )
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "e2a641af6661713b2874"
    assert line["level"] == "WARNING" and "0987654321" not in line["message"]


def test_a_coloured_multi_line_warning_is_one_json_line_without_colour_codes() -> None:
    """Rasa colours its warnings for a terminal; captured, they reach "py.warnings"."""
    text = "rasa.py:1: UserWarning: \x1b[93mSlot auto-fill has been removed\x1b[0m\n  warn()\n"
    record = logging.LogRecord("py.warnings", logging.WARNING, __file__, 1, "%s", (text,), None)
    [line] = JsonFormatter().format(record).splitlines()
    entry = json.loads(line)
    assert "\x1b" not in entry["message"] and "Slot auto-fill has been removed" in entry["message"]


async def test_starting_the_service_logs_only_json_lines(tmp_path: Path) -> None:
    """Rasa, TensorFlow and SQLAlchemy warn while the model loads: those warnings, and every
    library's log line, reach the log as JSON without terminal colours."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "CITIZENBOT_DATA_DIR": str(tmp_path / "var"),
        "RASA_TELEMETRY_ENABLED": "false",
        "PYTHONWARNINGS": "default",  # every warning shown, as a fresh deployment would
    }
    env.pop("CITIZENBOT_LOG_FORMAT", None)
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as log:
        process = await spawn_service(env, log)
    try:
        healthy = await wait_until_healthy(f"http://127.0.0.1:{port}", process)
        assert healthy, log_path.read_text()[-2000:]
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 60)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert any("model" in json.loads(line)["message"] for line in lines)
    for line in lines:
        assert "\x1b[" not in line, line
        assert isinstance(json.loads(line), dict), line
    warnings = [json.loads(line) for line in lines if '"py.warnings"' in line]
    assert warnings, "no warning at start: nothing was checked"
