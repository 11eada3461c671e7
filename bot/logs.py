"""Logging for the service and CLI: everything to stderr, stdout stays for results."""

from __future__ import annotations

import logging
import sys

import structlog


def configure(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Rasa logs through structlog, which prints debug lines to stdout unless told otherwise.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )
    for noisy in ("rasa", "tensorflow", "absl", "matplotlib", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
