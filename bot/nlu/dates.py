"""Dates and times as Vietnamese citizens write them, to ISO datetimes in Asia/Ho_Chi_Minh.

"ngày 5/12", "20/01/2026", "thứ 6 tuần sau", "mai 8h sáng", "chiều nay 3 giờ", typed with
or without diacritics. Matching runs on the folded text, which has the same length as
the NFC text, so offsets point into what the citizen wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.nlu.text import fold

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")

WEEKDAYS = {  # folded words after "thu" → Monday = 0
    "2": 0,
    "hai": 0,
    "3": 1,
    "ba": 1,
    "4": 2,
    "tu": 2,
    "5": 3,
    "nam": 3,
    "6": 4,
    "sau": 4,
    "7": 5,
    "bay": 5,
}
RELATIVE_DAYS = {"hom nay": 0, "nay": 0, "ngay mai": 1, "mai": 1, "ngay kia": 2, "mot": 2}
PERIODS = {"sang": "am", "trua": "noon", "chieu": "pm", "toi": "pm", "dem": "pm"}

_DATE = (
    r"(?:ngay\s+)?(?P<day>\d{1,2})\s*(?:/|-|\.|\s+thang\s+)\s*(?P<month>\d{1,2})"
    r"(?:\s*(?:/|-|\.|\s+nam\s+)\s*(?P<year>\d{4}|\d{2}))?"
)
_WEEKDAY = (
    r"(?:thu\s+(?P<weekday>2|3|4|5|6|7|hai|ba|tu|nam|sau|bay)|(?P<sunday>chu nhat|cn))"
    r"(?:\s+(?P<week>tuan\s+(?:sau|toi)|tuan\s+nay))?"
)
_RELATIVE = r"(?P<relative>hom nay|ngay mai|ngay kia|mai|mot)(?![\w])"
_TIME = r"(?P<hour>\d{1,2})\s*(?:h|g|gio|:)\s*(?P<minute>\d{2})?(?:\s*(?:phut|p))?(?![\w\d])"
_PERIOD = r"(?P<period>sang|trua|chieu|toi|dem)(?:\s+(?P<period_day>nay|mai))?"

PATTERN = re.compile(rf"(?<![\w/])(?:{_DATE}|{_WEEKDAY}|{_RELATIVE}|{_TIME}|{_PERIOD})(?![\w/])")


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    value: dt.datetime
    has_time: bool

    @property
    def text_value(self) -> str:
        return self.value.isoformat()


def parse_datetimes(text: str, now: dt.datetime | None = None) -> list[Found]:
    """Every date/time expression in `text`; a date and a time next to each other merge."""
    now = (now or dt.datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    folded = fold(text.lower())
    parts = [_part(m, now) for m in PATTERN.finditer(folded) if not _is_pronoun(text, m)]
    parts = [p for p in parts if p is not None]
    return _merge(parts, now)


def _is_pronoun(text: str, match: re.Match[str]) -> bool:
    """Folding makes "tôi" (I) look like "tối" (evening): only a real "tối", or an
    unaccented "toi nay / toi mai", is the evening."""
    if match.group("period") != "toi" or match.group("period_day"):
        return False
    return text[match.start() : match.start() + 3].lower() != "tối"


@dataclass
class _Part:
    start: int
    end: int
    day: dt.date | None = None
    hour: int | None = None
    minute: int = 0
    period: str | None = None


def _part(match: re.Match[str], now: dt.datetime) -> _Part | None:
    groups = match.groupdict()
    part = _Part(match.start(), match.end())
    today = now.date()
    if groups["day"]:
        day, month = int(groups["day"]), int(groups["month"])
        year = groups["year"]
        try:
            if year:
                part.day = dt.date(int(year) + (2000 if len(year) == 2 else 0), month, day)
            else:
                part.day = dt.date(today.year, month, day)
                if part.day < today:  # "5/1" said in November means next January
                    part.day = part.day.replace(year=today.year + 1)
        except ValueError:
            return None
    elif groups["weekday"] or groups["sunday"]:
        weekday = 6 if groups["sunday"] else WEEKDAYS[groups["weekday"]]
        week = groups["week"] or ""
        if "sau" in week or "toi" in week:
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=1)
            part.day = monday + dt.timedelta(days=weekday)
        else:
            part.day = today + dt.timedelta(days=(weekday - today.weekday()) % 7)
    elif groups["relative"]:
        part.day = today + dt.timedelta(days=RELATIVE_DAYS[groups["relative"]])
    elif groups["hour"]:
        hour, minute = int(groups["hour"]), int(groups["minute"] or 0)
        if hour > 23 or minute > 59:
            return None
        part.hour, part.minute = hour, minute
    else:
        part.period = PERIODS[groups["period"]]
        if groups["period_day"]:
            part.day = today + dt.timedelta(days=RELATIVE_DAYS[groups["period_day"]])
    return part


def _merge(parts: list[_Part], now: dt.datetime) -> list[Found]:
    """Join neighbouring parts ("thứ 6" + "lúc 8h" + "sáng") into one expression; a message
    with one date and one time apart ("thứ 6 đi nhận kết quả lúc 8h") means both together."""
    groups: list[list[_Part]] = []
    for part in parts:
        if groups and part.start - groups[-1][-1].end <= 5:  # e.g. " luc ", ", "
            groups[-1].append(part)
        else:
            groups.append([part])
    dated = [g for g in groups if any(p.day for p in g)]
    timed = [g for g in groups if any(p.hour is not None for p in g)]
    if len(groups) == 2 and len(dated) == 1 and len(timed) == 1 and dated != timed:
        groups = [groups[0] + groups[1]]
    found = []
    for group in groups:
        day = next((p.day for p in group if p.day), None)
        hour = next((p.hour for p in group if p.hour is not None), None)
        minute = next((p.minute for p in group if p.hour is not None), 0)
        period = next((p.period for p in group if p.period), None)
        if day is None and hour is None:
            continue  # a bare "sáng" or "chiều" says nothing on its own
        if hour is not None and period in ("pm",) and hour < 12:
            hour += 12
        if hour is not None and period == "noon" and hour < 6:
            hour += 12
        if day is None:  # a time alone: today if still ahead, otherwise tomorrow
            assert hour is not None
            candidate = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
            day = candidate.date() if candidate > now else now.date() + dt.timedelta(days=1)
        value = dt.datetime(
            day.year,
            day.month,
            day.day,
            hour or 0,
            minute if hour is not None else 0,
            tzinfo=TIMEZONE,
        )
        found.append(Found(group[0].start, group[-1].end, value, hour is not None))
    return found
