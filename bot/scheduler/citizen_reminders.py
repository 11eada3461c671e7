"""Reminders: reading one from a citizen's words, saying it back in words, scheduling,
firing and cancelling it; the birth-registration deadline; dossier result dates."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any, Protocol

from bot.content import Library
from bot.local_time import TIMEZONE
from bot.nlu.dates import PATTERN, is_false_date, parse_datetimes
from bot.nlu.text import fold
from bot.settings import Settings
from bot.storage import Database, reminder_records
from bot.zalo import message_shapes
from bot.zalo.push import INTERACTION_WINDOW, Template

if TYPE_CHECKING:  # the fan-out module loads APScheduler: not needed to read settings
    from bot.scheduler.campaign_fanout import Push

# Luật Hộ tịch Art. 15(2): parents register a birth within 60 days (procedures.md §1).
BIRTH_REGISTRATION_DAYS = 60
MAX_SUBJECT = 200
_YEAR = re.compile(r"\d{1,2}\s*(?:[/.-]|thang)\s*\d{1,2}\s*(?:[/.-]|nam)\s*\d{2,4}")
# A birth told relative to today: "hôm qua", "hôm kia", "3 ngày trước", "cách đây 5 hôm".
_DAYS_AGO = re.compile(
    r"(?<!\w)(?:hom (?P<named>qua|kia)"
    r"|cach day (?P<since>\d{1,3}) (?:ngay|hom)|(?P<ago>\d{1,3}) (?:ngay|hom) truoc)(?!\w)"
)
DAYS_AGO_NAMED = {"qua": 1, "kia": 2}
# A birth said in words ("bé sinh ngày 20/11", "mới đẻ hôm qua", "ngày sinh của bé là …"),
# not the "sinh" of "khai sinh", "giấy chứng sinh", "học sinh", "sinh sống"…
_BORN = re.compile(
    r"(?<!khai )(?<!chung )(?<!hoc )\bsinh\b(?! (?:vien|hoat|song|ly|nhat)\b)"
    r"|\bmoi de\b|\b(?:ra|chao) doi\b"
)
BIRTH_DATE_REACH = 40  # characters after the birth word where its date may stand
_GAP = "\x00"  # marks where a date or time was, in the folded text
# "nhắc tôi", "đặt lịch nhắc", "hẹn giờ nhắc giúp em": what comes after it is the subject.
_REQUEST = re.compile(
    r"\b(?:(?:hay|hen gio|hen|dat lich|dat)\s+)?nhac(?:\s+nho|\s+lich)?(?:\s+giup)?"
    r"(?:\s+(?:toi|em|e|minh|mk|tui|t|anh|chi))?(?:\s+giup(?:\s+(?:toi|em|e|minh|mk))?)?\b"
)
_CONNECTOR = re.compile(r"\b(?:vao luc|luc|vao|den ngay|ngay|den)\s*(?=\x00)|(?<=\x00)\s*thi\b")
_LEAD = re.compile(r"^[\s\x00,]*(?:(?:ad|admin|ban)(?:\s+oi)?\b)?")
_TAIL = re.compile(
    r"(?:[\s\x00,.!?]|\b(?:nhe|nha|nhen|voi|vs|a|ad|giup(?:\s+(?:toi|em|e|mk|minh))?)\b)*$"
)


# --- understanding the citizen ---------------------------------------------------------


def reminder_time(
    text: str, now: dt.datetime, default_time: dt.time, day: dt.date | None = None
) -> dt.datetime | None:
    """The first date/time in `text`; a day without an hour means `default_time` that day,
    and an hour without a day means that hour of `day` when one was already said ("thứ 6
    tuần sau", then "8h sáng": 8 o'clock that Friday, not tomorrow's)."""
    found = parse_datetimes(text, now)
    if not found:
        return None
    moment = found[0].value
    if not found[0].has_time:
        moment = moment.replace(hour=default_time.hour, minute=default_time.minute)
    elif not found[0].has_date and day is not None:
        that_day = moment.replace(year=day.year, month=day.month, day=day.day)
        moment = that_day if that_day > now else moment
    return moment


def reminder_subject(text: str) -> str | None:
    """What to remember, in the citizen's words: the message without its dates, times and
    request words ("nhắc tôi thứ 6 đi nhận kết quả lúc 8h" → "đi nhận kết quả")."""
    marks = list(fold(text.lower()))  # the same length as the NFC text: offsets carry over
    for match in PATTERN.finditer("".join(marks)):
        if not is_false_date(text, match):  # the date parser's rules: "tôi" (I) is no "tối"
            marks[match.start() : match.end()] = _GAP * (match.end() - match.start())
    marked = "".join(marks)
    requests = list(_REQUEST.finditer(marked))
    if not requests:
        return _clean(text, marked, 0, len(text))
    after = _clean(text, marked, requests[-1].end(), len(text))
    return after or _clean(text, marked, 0, requests[-1].start())


def _clean(text: str, marked: str, start: int, end: int) -> str | None:
    segment = marked[start:end]
    keep = [char != _GAP for char in segment]
    for pattern in (_CONNECTOR, _LEAD, _TAIL):
        for match in pattern.finditer(segment):
            keep[match.start() : match.end()] = [False] * (match.end() - match.start())
    words = "".join(char if kept else " " for char, kept in zip(text[start:end], keep, strict=True))
    subject = " ".join(words.split()).strip(" ,.;:!?-")
    return subject[:MAX_SUBJECT] or None


def birth_date(text: str, now: dt.datetime) -> dt.date | None:
    """A child's birth date in `text`: in the past, so a day written without its year that
    is still to come this year ("25/12" said in November) is last year's."""
    folded = " ".join(fold(text.lower()).split())
    if ago := _DAYS_AGO.search(folded):
        named = ago["named"]
        days = DAYS_AGO_NAMED[named] if named else int(ago["since"] or ago["ago"])
        return now.date() - dt.timedelta(days=days)
    found = parse_datetimes(text, now)
    if not found:
        return None
    born = found[0].value.date()
    if born > now.date() and not _YEAR.search(folded):
        try:
            born = born.replace(year=now.year if born.year > now.year else now.year - 1)
        except ValueError:  # 29 February
            return None
    return born


def stated_birth_date(text: str, now: dt.datetime) -> dt.date | None:
    """A birth date only where the citizen says it is one ("bé sinh ngày 20/11"): any other
    date in a message about khai sinh ("làm khai sinh ngày 20/11") is not the birth."""
    for match in _BORN.finditer(fold(text.lower())):
        end = match.end() + BIRTH_DATE_REACH
        while end < len(text) and not text[end].isspace():
            end += 1  # never cut "20/11/2026" to "20/11/20"
        if (born := birth_date(text[match.end() : end], now)) is not None:
            return born
    return None


def birth_deadline(born: dt.date) -> dt.date:
    return born + dt.timedelta(days=BIRTH_REGISTRATION_DAYS)


def birth_reminder_times(
    deadline: dt.date, days_before: tuple[int, ...], at: dt.time, now: dt.datetime
) -> list[dt.datetime]:
    """The reminders before the deadline that are still ahead, soonest first."""
    times = {
        dt.datetime.combine(deadline - dt.timedelta(days=days), at, tzinfo=TIMEZONE)
        for days in days_before
    }
    return sorted(moment for moment in times if moment > now)


def beyond_window(moments: list[dt.datetime], now: dt.datetime, has_template: bool) -> bool:
    """Zalo lets the OA write only within 7 days of the citizen's last message: say so when
    a reminder falls later and no approved template can carry it."""
    return not has_template and any(moment - now > INTERACTION_WINDOW for moment in moments)


# --- saying it back ---------------------------------------------------------------------


def wording(library: Library, key: str, **values: Any) -> str:
    """A sentence of content/ui.yml's `reminders` section, placeholders filled."""
    return library.locality.fill(library.ui["reminders"][key]).format(**values)


def when_words(moment: dt.datetime, library: Library) -> str:
    """ "8 giờ sáng thứ Sáu, ngày 27/11/2026" (words from content/ui.yml)."""
    words = library.ui["reminders"]
    local = moment.astimezone(TIMEZONE)
    period = next(
        word
        for start, word in sorted(words["day_periods"].items(), reverse=True)
        if local.hour >= int(start)
    )
    hour = local.hour % 12 or 12
    key = "time_minute" if local.minute else "time_hour"
    time = words[key].format(hour=hour, minute=f"{local.minute:02d}", period=period)
    return words["when"].format(
        time=time, weekday=words["weekdays"][local.weekday()], date=f"{local:%d/%m/%Y}"
    )


def day_words(day: dt.date, library: Library) -> str:
    weekday = library.ui["reminders"]["weekdays"][day.weekday()]
    return f"{weekday}, {day:%d/%m/%Y}"


def label(reminder: dict[str, Any], library: Library) -> str:
    """A reminder in a list: what it is about."""
    if reminder["kind"] == "birth_deadline":
        deadline = dt.date.fromisoformat(reminder["due_on"])
        return wording(library, "label_birth", deadline=f"{deadline:%d/%m/%Y}")
    if reminder["kind"] == "appointment":
        return wording(library, "label_appointment", code=reminder["dossier_code"])
    return reminder["subject"] or wording(library, "label_personal")


def reminder_message(reminder: dict[str, Any], library: Library) -> str:
    """What the citizen reads when a reminder fires."""
    at = dt.datetime.fromisoformat(reminder["remind_at"])
    if reminder["kind"] == "birth_deadline":
        deadline = dt.date.fromisoformat(reminder["due_on"])
        days = (deadline - at.date()).days
        return wording(library, "birth_fire", deadline=day_words(deadline, library), days=days)
    if reminder["kind"] == "appointment":
        ready = dt.date.fromisoformat(reminder["due_on"])
        return wording(
            library,
            "appointment_fire",
            date=day_words(ready, library),
            code=reminder["dossier_code"],
        )
    if reminder["subject"]:
        return wording(
            library, "fire_subject", subject=reminder["subject"], when=when_words(at, library)
        )
    return wording(library, "fire", when=when_words(at, library))


# --- scheduling -------------------------------------------------------------------------


class ReminderJobs(Protocol):
    """The jobs that fire reminders: the service's scheduler (bot/scheduler/job_scheduler.py)."""

    async def add_reminder_job(self, reminder_id: int, at: dt.datetime) -> None: ...

    async def remove_reminder_jobs(self, reminder_ids: list[int]) -> None: ...


async def schedule(
    database: Database,
    reminder_jobs: ReminderJobs | None,
    user_id: str,
    kind: str,
    at: dt.datetime,
    subject: str | None = None,
    due_on: dt.date | None = None,
    dossier_code: str | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Record a reminder and give it a job; None if one with `dedupe_key` exists. Without
    `reminder_jobs` (a separate action server), the service's scheduler adds the job when it
    starts."""
    reminder_id = await database.run(
        reminder_records.add,
        user_id,
        kind,
        at.astimezone(TIMEZONE).isoformat(),
        subject,
        due_on.isoformat() if due_on else None,
        dossier_code,
        dedupe_key,
    )
    if reminder_id is not None and reminder_jobs is not None:
        await reminder_jobs.add_reminder_job(reminder_id, at)
    return reminder_id


async def cancel(
    database: Database,
    reminder_jobs: ReminderJobs | None,
    user_id: str,
    reminder_ids: list[int] | None = None,
    dossier_code: str | None = None,
    kind: str | None = None,
) -> list[int]:
    """Cancel the user's reminders (these, this dossier's, of this kind, or all) and their
    jobs; the ids cancelled."""
    cancelled = await database.run(
        reminder_records.cancel, user_id, reminder_ids, dossier_code, kind
    )
    if cancelled and reminder_jobs is not None:
        await reminder_jobs.remove_reminder_jobs(cancelled)
    return cancelled


async def schedule_appointment_reminder(
    database: Database,
    reminder_jobs: ReminderJobs | None,
    settings: Settings,
    user_id: str,
    dossier_code: str,
    ready_on: dt.date,
    now: dt.datetime | None = None,
) -> int | None:
    """Remind a dossier's subscriber the day before its result is ready (at the configured
    reminder time). A new date replaces the old reminder; the same date is a no-op.
    Returns the reminder's id, or None when that moment has passed or it exists already."""
    now = now or dt.datetime.now(TIMEZONE)
    at = dt.datetime.combine(
        ready_on - dt.timedelta(days=1), dt.time.fromisoformat(settings.reminder_time), TIMEZONE
    )
    key = f"appointment:{user_id}:{dossier_code}:{ready_on.isoformat()}"
    if at <= now or await database.run(reminder_records.has_key, key):
        return None
    await cancel(database, reminder_jobs, user_id, dossier_code=dossier_code, kind="appointment")
    return await schedule(
        database,
        reminder_jobs,
        user_id,
        "appointment",
        at,
        None,
        ready_on,
        dossier_code,
        dedupe_key=key,
    )


async def fire(
    database: Database,
    push: Push,
    library: Library,
    template_id: str,
    reminder_id: int,
    now: dt.datetime,
) -> str | None:
    """Send a due reminder once; its new status (None if it was cancelled meanwhile)."""
    reminder = await database.run(reminder_records.get, reminder_id)
    if reminder is None or reminder["status"] != "scheduled":
        return None
    text = reminder_message(reminder, library)
    template = None
    if template_id:
        when = when_words(dt.datetime.fromisoformat(reminder["remind_at"]), library)
        template = Template(template_id, {"noi_dung": text[:MAX_SUBJECT], "thoi_gian": when})
    result = await push(
        reminder["user_id"], message_shapes.text(text), f"reminder:{reminder_id}", template, now
    )
    delivery = result.delivery
    status = {"sent": "sent", "duplicate": "sent", "unreachable": "unreachable"}.get(
        delivery.status, "failed"
    )
    await database.run(reminder_records.settle, reminder_id, status, delivery.error_code)
    return status
