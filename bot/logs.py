"""Logging for the service and CLI: everything to stderr (stdout stays for results).

The service logs JSON lines with a request id (the Zalo event being handled), so one
citizen's message can be followed through webhook, processing and sending. Phone numbers
are masked in case one ever reaches a log message; secrets are never logged at all.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys

import structlog

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
PHONE = re.compile(r"(?<!\d)(\+?84|0)(\d{2})\d{4,5}(\d{3})(?!\d)")


def mask_phones(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(3)}", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "request_id": REQUEST_ID.get(),
            "message": mask_phones(record.getMessage()),
        }
        if record.exc_info:
            entry["error"] = mask_phones(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_phones(super().format(record))


def configure(level: int = logging.INFO, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # Rasa logs through structlog, which prints debug lines to stdout unless told otherwise.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )
    for noisy in ("rasa", "tensorflow", "absl", "matplotlib", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
