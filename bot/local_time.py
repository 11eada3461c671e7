"""Moments and days as the commune reads them: dd/mm/yyyy, in Asia/Ho_Chi_Minh time.

Everything is stored in UTC (ISO 8601); every page and export officers read formats it
here, so no screen shows a UTC or ISO timestamp.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the commune's: every local date and hour

DATE = "%d/%m/%Y"
MOMENT = "%d/%m/%Y %H:%M"


def local_time(stamp: str | dt.datetime | None) -> str:
    """A stored UTC moment (ISO text or aware datetime) in commune time: 23/11/2026 14:05."""
    if not stamp:
        return ""
    moment = dt.datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
    if moment.tzinfo is None:  # stored without an offset: it was UTC
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(TIMEZONE).strftime(MOMENT)


def local_date(day: dt.date) -> str:
    """A commune day: 23/11/2026."""
    return day.strftime(DATE)


def local_range(start: dt.date, end: dt.date) -> str:
    """A range of commune days: 01/11/2026 – 30/11/2026."""
    return f"{local_date(start)} – {local_date(end)}"


def parse_local_date(text: str) -> dt.date:
    """A day as an officer types it, 23/11/2026 (or 2026-11-23, as links carry it);
    ValueError for anything else."""
    text = text.strip()
    if "/" in text:
        return dt.datetime.strptime(text, DATE).date()
    return dt.date.fromisoformat(text)
