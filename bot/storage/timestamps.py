"""Timestamps as the database stores them: ISO 8601 in UTC."""

from datetime import datetime, timezone


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
