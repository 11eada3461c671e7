"""Logging for the service and CLI: everything to stderr (stdout stays for results).

The service logs JSON lines with a request id (the Zalo event being handled), so one
citizen's message can be followed through webhook, processing and sending. Phone numbers
are masked in case one ever reaches a log message; secrets are never logged at all.
Python warnings (Rasa's, TensorFlow's, SQLAlchemy's) and other libraries' loggers go through
the same handler, without their terminal colours, so the log stays one JSON object a line.
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
# Terminal colour and cursor codes, e.g. Rasa's yellow warnings ("\x1b[93m…\x1b[0m").
ANSI_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# Libraries that log at start or while answering; they keep no handler of their own.
THIRD_PARTY = ("rasa", "tensorflow", "absl", "sqlalchemy", "matplotlib", "apscheduler")


def mask_phones(text: str) -> str:
    return PHONE.sub(lambda m: f"{m.group(1)}{m.group(2)}****{m.group(3)}", text)


def clean(text: str) -> str:
    """What a log line may show: no terminal colour codes, no whole phone number."""
    return mask_phones(ANSI_CODE.sub("", text))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "request_id": REQUEST_ID.get(),
            "message": clean(record.getMessage()).strip(),
        }
        if record.exc_info:
            entry["error"] = clean(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return clean(super().format(record))


def configure(level: int = logging.INFO, json_lines: bool = False) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # warnings.warn() then logs to "py.warnings" instead of printing to stderr.
    logging.captureWarnings(True)
    # Rasa logs through structlog, which prints to stdout in colour unless told otherwise:
    # its lines go to the standard logger of the same name, as one plain message.
    structlog.configure(
        processors=[
            structlog.processors.format_exc_info,
            structlog.processors.KeyValueRenderer(key_order=["event"]),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        cache_logger_on_first_use=False,
    )
    for name in THIRD_PARTY:
        library = logging.getLogger(name)
        library.setLevel(logging.WARNING)
        library.handlers.clear()
        library.propagate = True
