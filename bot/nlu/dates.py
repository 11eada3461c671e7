"""Dates and times as Vietnamese citizens write them, to ISO datetimes in Asia/Ho_Chi_Minh.

"ngày 5/12", "20/01/2026", "ngày 15 tháng này", "thứ 6 tuần sau", "mai 8h sáng", "chiều nay
3 giờ", typed with or without diacritics. Matching runs on the folded text, which has the
same length as the NFC text, so offsets point into what the citizen wrote.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.local_time import TIMEZONE
from bot.nlu.text import fold

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
# "ngày 15", "ngày 15 tháng này / tháng sau": a day of this month (or the next).
_DAY_OF_MONTH = r"ngay\s+(?P<dom>\d{1,2})(?:\s+thang\s+(?P<which_month>nay|sau|toi))?"
_WEEKDAY = (
    r"(?:thu\s+(?P<weekday>2|3|4|5|6|7|hai|ba|tu|nam|sau|bay)|(?P<sunday>chu nhat|cn))"
    r"(?:\s+(?P<week>tuan\s+(?:sau|toi)|tuan\s+nay))?"
)
_RELATIVE = r"(?P<relative>hom nay|ngay mai|ngay kia|mai|mot)(?![\w])"
_TIME = r"(?P<hour>\d{1,2})\s*(?:h|g|gio|:)\s*(?P<minute>\d{2})?(?:\s*(?:phut|p))?(?![\w\d])"
_PERIOD = r"(?P<period>sang|trua|chieu|toi|dem)(?:\s+(?P<period_day>nay|mai))?"

_ANY = rf"{_DATE}|{_DAY_OF_MONTH}|{_WEEKDAY}|{_RELATIVE}|{_TIME}|{_PERIOD}"
PATTERN = re.compile(rf"(?<![\w/])(?:{_ANY})(?![\w/])")


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    value: dt.datetime
    has_time: bool
    has_date: bool  # a day was said; a time alone ("8h sáng") gets the next such hour

    @property
    def text_value(self) -> str:
        return self.value.isoformat()


def parse_datetimes(text: str, now: dt.datetime | None = None) -> list[Found]:
    """Every date/time expression in `text`; a date and a time next to each other merge."""
    now = (now or dt.datetime.now(TIMEZONE)).astimezone(TIMEZONE)
    folded = fold(text.lower())
    matches = [m for m in PATTERN.finditer(folded) if not is_false_date(text, m)]
    parts = [p for p in (_part(m, now) for m in matches) if p is not None]
    return _merge(parts, now)


# Words before "thứ N" that make it an order ("người thứ hai", "lần thứ 2"), not a weekday.
_ORDINAL_NOUN = re.compile(
    r"\b(?:nguoi|lan|con|chau|be|dua|ban|trang|buoc|dot|hang|lop|ky|khoa|tang|phong|muc"
    r"|dieu|khoan|quy|tuan|thang|nam|so|vo|chong)\s+$"
)
# Words before "N giờ" that make it a length of time ("mất 2 giờ", "trong 2 giờ").
_DURATION_LEAD = re.compile(r"\b(?:mat|trong|vong|het|can|doi)\s+$")
_PERIOD_AHEAD = re.compile(r"\s+(?:sang|trua|chieu|toi|dem)(?!\w)")
_AMOUNT_UNIT = re.compile(r"\s*(?:trieu|tr|nghin|ngan|k|ty|dong|d|%)(?!\w)")
_TANG = re.compile(r"\s+tang(?!\w)")  # "mai táng": a funeral, not tomorrow
_HOUR_AHEAD = re.compile(r"\s+(?:luc\s+)?\d{1,2}\s*(?:h|g|gio|:)")


def is_false_date(text: str, match: re.Match[str]) -> bool:
    """A match that only looks like a date once folded: "tôi" (I) is no "tối", "một bản"
    (one copy) no "mốt" (the day after tomorrow), "mãi" / "thương mại" no "mai"; and
    counting words: "người thứ hai", "mất 2 giờ", "1.5 triệu"."""
    folded = fold(text.lower())
    before, after = folded[: match.start()], folded[match.end() :]
    typed = text[match.start() : match.end()].lower()
    period, relative = match.group("period"), match.group("relative")
    if period == "toi" and not match.group("period_day"):
        return not typed.startswith("tối")
    if relative == "mot":  # unaccented "mot" is "một" unless it is "ngay mot" or "mot 8h"
        if typed != "mot":
            return typed != "mốt"
        return not (before.endswith("ngay ") or _HOUR_AHEAD.match(after))
    if relative == "mai":
        return typed != "mai" or bool(_TANG.match(after))
    if match.group("weekday"):
        return bool(_ORDINAL_NOUN.search(before))
    if match.group("hour") and not match.group("minute") and "h" not in typed:
        return bool(_DURATION_LEAD.search(before)) and not _PERIOD_AHEAD.match(after)
    if match.group("day") and not match.group("year") and "." in typed:
        return bool(_AMOUNT_UNIT.match(after))
    return False


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
    elif groups["dom"]:
        part.day = _day_of_month(int(groups["dom"]), groups["which_month"], today)
        if part.day is None:
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


def _day_of_month(day: int, which_month: str | None, today: dt.date) -> dt.date | None:
    """This month's `day`; next month's when said ("tháng sau") or when this month's is past."""
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    try:
        if which_month in ("sau", "toi"):
            return next_month.replace(day=day)
        found = month_start.replace(day=day)
        if found < today and which_month is None:
            return next_month.replace(day=day)
        return found
    except ValueError:  # "ngày 31" of a 30-day month
        return None


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
        has_date = day is not None
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
        found.append(Found(group[0].start, group[-1].end, value, hour is not None, has_date))
    return found
