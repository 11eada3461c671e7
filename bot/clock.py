"""Time as the scheduler sees it: an injectable clock (tests step it, nothing waits on the
wall clock) and the quiet hours during which nothing is pushed."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from bot.local_time import TIMEZONE


class Clock(Protocol):
    def now(self) -> dt.datetime:
        """An aware datetime in Asia/Ho_Chi_Minh."""

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(TIMEZONE)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def utc_iso(moment: dt.datetime) -> str:
    """A moment as the database stores timestamps (ISO 8601, UTC, milliseconds)."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class QuietHours:
    """A nightly window, e.g. 21:00–07:00 local time, when no campaign message goes out."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """ "21:00-07:00" → QuietHours; "" or "off" → None. Raises ValueError when malformed."""
        text = text.strip().lower()
        if text in ("", "off", "none"):
            return None
        try:
            start, end = (dt.time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise ValueError(
                f"quiet hours must look like 21:00-07:00 or off, got {text!r}"
            ) from None
        if start == end:
            raise ValueError("quiet hours must start and end at different times")
        return cls(start, end)

    def contains(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(TIMEZONE).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: dt.datetime) -> dt.datetime:
        """The first moment at or after `moment` that is outside the quiet hours."""
        local = moment.astimezone(TIMEZONE)
        if not self.contains(local):
            return local
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > local else end + dt.timedelta(days=1)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"
