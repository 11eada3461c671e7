"""The one-stop desk's office hours, read from the sentence officers write in
content/locality.yml (`office_hours`), e.g. "Sáng 7:30–11:30, chiều 13:30–17:00, từ thứ Hai
đến thứ Sáu": when the desk is open, and when it opens next.

Every time range found applies to every working day; the days are those named ("từ thứ Hai
đến thứ Sáu", "thứ Bảy", "T2–T6"), Monday to Friday when none is. A sentence without a time
range cannot be read: the caller then cannot tell, and says nothing about the hours.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from bot.local_time import TIMEZONE

# Both matched without accents. Times: 7:30–11:30, 7h30-11h30, 13g30 - 17g, 7:30 đến 11:30.
_RANGE = re.compile(
    r"(\d{1,2})\s*[:hg]\s*(\d{2})?\s*(?:[–—-]|den|toi)\s*(\d{1,2})\s*[:hg]?\s*(\d{2})?"
)
# Weekdays: thứ Hai … thứ Bảy, Chủ nhật, thứ 2, T2.
_DAY_WORDS = {"hai": 0, "ba": 1, "tu": 2, "nam": 3, "sau": 4, "bay": 5}
_DAY = re.compile(r"\b(?:thu\s*(hai|ba|tu|nam|sau|bay|[2-7])|t([2-7])|(chu\s*nhat|cn))\b")
_DAY_RANGE = re.compile(rf"{_DAY.pattern}\s*(?:[–—-]|den|toi)\s*{_DAY.pattern}")
WORKING_WEEK = frozenset(range(5))  # Monday to Friday


def _plain(text: str) -> str:
    """Lower case without accents ("Thứ Sáu" → "thu sau"), for matching day names."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _weekday(word: str | None, digit: str | None, sunday: str | None) -> int:
    if sunday:
        return 6
    name = word or digit or ""
    return int(name) - 2 if name.isdigit() else _DAY_WORDS[name]  # thứ 2 is Monday


def _days(plain: str) -> frozenset[int]:
    days: set[int] = set()
    for match in _DAY_RANGE.finditer(plain):
        first, last = _weekday(*match.groups()[:3]), _weekday(*match.groups()[3:])
        days.update(range(first, last + 1) if first <= last else ())
    for match in _DAY.finditer(plain):
        days.add(_weekday(*match.groups()))
    return frozenset(days) or WORKING_WEEK


@dataclass(frozen=True)
class OfficeHours:
    days: frozenset[int]  # weekday numbers, Monday 0
    periods: tuple[tuple[dt.time, dt.time], ...]  # opening and closing, in order

    @classmethod
    def parse(cls, text: str) -> OfficeHours | None:
        """The hours in `text`, or None when it names no time range."""
        plain = _plain(text)
        periods = []
        for match in _RANGE.finditer(plain):
            start_h, start_m, end_h, end_m = (int(part or 0) for part in match.groups())
            if max(start_h, end_h) < 24 and max(start_m, end_m) < 60:
                start, end = dt.time(start_h, start_m), dt.time(end_h, end_m)
                if start < end:
                    periods.append((start, end))
        if not periods:
            return None
        return cls(_days(plain), tuple(sorted(periods)))

    def is_open(self, moment: dt.datetime) -> bool:
        local = moment.astimezone(TIMEZONE)
        now = local.time()
        return local.weekday() in self.days and any(a <= now < b for a, b in self.periods)

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """The first opening after `moment` (in the commune's time zone)."""
        local = moment.astimezone(TIMEZONE)
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            if day.weekday() not in self.days:
                continue
            for start, _ in self.periods:
                opening = dt.datetime.combine(day, start, tzinfo=TIMEZONE)
                if opening > local:
                    return opening
        raise ValueError("office hours with no working day")  # parse never builds one
