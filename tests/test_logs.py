"""Structured logs: JSON lines with the request id; phone numbers never appear whole."""

import json
import logging

from bot.logs import REQUEST_ID, JsonFormatter, mask_phones


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
