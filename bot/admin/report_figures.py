"""The figures officials report: citizens guided, conversations and messages, top intents,
fallback rate, satisfaction, feedback handled, notifications and campaign messages sent.

Everything is read from the service's database, and intents from Rasa's tracker store
(read-only). Days are the commune's days (Asia/Ho_Chi_Minh). Days whose messages were
purged after the retention period are counted from the figures kept for them
(bot/storage/retention.py).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.communes.conversation_ids import senders_of
from bot.local_time import TIMEZONE, local_date, local_range
from bot.storage import Database, retention, tracker_reader
from bot.storage.ratings import SATISFIED, SCORES
from bot.storage.sql import Store
from bot.storage.tracker_reader import TrackerDatabase

FALLBACK_INTENT = "nlu_fallback"
TOP_INTENTS = 10
# The counts a province's report sums over its communes (`combined`).
SUMMED = (
    "citizens_guided",
    "conversations",
    "messages_in",
    "messages_out",
    "user_turns",
    "fallbacks",
    "comments",
    "feedback_received",
    "feedback_answered",
    "feedback_overdue",
    "notifications_delivered",
    "campaign_messages_delivered",
    "officer_messages_delivered",
)


@dataclass
class Day:
    day: dt.date
    citizens: int = 0  # distinct citizens who wrote that day (= conversations that day)
    messages_in: int = 0
    messages_out: int = 0


@dataclass
class Report:
    start: dt.date
    end: dt.date
    citizens_guided: int = 0
    conversations: int = 0
    messages_in: int = 0
    messages_out: int = 0
    days: list[Day] = field(default_factory=list)
    top_intents: list[tuple[str, int]] = field(default_factory=list)
    user_turns: int = 0
    fallbacks: int = 0
    ratings: dict[str, int] = field(default_factory=dict)
    comments: int = 0
    feedback_received: int = 0
    feedback_answered: int = 0
    feedback_overdue: int = 0
    notifications_delivered: int = 0
    campaign_messages_delivered: int = 0
    officer_messages_delivered: int = 0

    @property
    def fallback_rate(self) -> float | None:
        return self.fallbacks / self.user_turns if self.user_turns else None

    @property
    def satisfaction_rate(self) -> float | None:
        scored = sum(self.ratings.values())
        satisfied = sum(self.ratings.get(score, 0) for score in SATISFIED)
        return satisfied / scored if scored else None

    def summary(self) -> list[tuple[str, object]]:
        """(label key in content/admin.yml, value) for every headline figure, in report order."""
        return [
            ("reports.summary.citizens_guided", self.citizens_guided),
            ("reports.summary.conversations", self.conversations),
            ("reports.summary.messages_in", self.messages_in),
            ("reports.summary.messages_out", self.messages_out),
            ("reports.summary.fallback_rate", _percent(self.fallback_rate)),
            ("reports.summary.satisfaction_rate", _percent(self.satisfaction_rate)),
            ("reports.summary.ratings", sum(self.ratings.values())),
            ("reports.summary.feedback_received", self.feedback_received),
            ("reports.summary.feedback_answered", self.feedback_answered),
            ("reports.summary.feedback_overdue", self.feedback_overdue),
            ("reports.summary.notifications", self.notifications_delivered),
            ("reports.summary.campaign_messages", self.campaign_messages_delivered),
            ("reports.summary.officer_messages", self.officer_messages_delivered),
        ]


def _percent(rate: float | None) -> str:
    """As officers write it: "14,3%", a decimal comma (a point separates thousands)."""
    return "" if rate is None else f"{rate * 100:.1f}%".replace(".", ",")


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC moments of the start of `start` and the end of `end`, commune time."""
    first = dt.datetime.combine(start, dt.time(), TIMEZONE)
    after = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), TIMEZONE)
    return first.astimezone(dt.timezone.utc), after.astimezone(dt.timezone.utc)


def _local_day(stamp: str) -> dt.date:
    return dt.datetime.fromisoformat(stamp).astimezone(TIMEZONE).date()


async def build(
    database: Database,
    tracker: TrackerDatabase | None,
    start: dt.date,
    end: dt.date,
    now: dt.datetime | None = None,
    commune: str = "",
) -> Report:
    """Every figure for the days `start`..`end` (inclusive); `commune` (bot/communes/): whose
    conversations in the tracker store, shared by the communes, are counted."""
    if end < start:
        raise ValueError("the report's end date is before its start date")
    now = now or dt.datetime.now(dt.timezone.utc)
    report = Report(start, end)
    kept = await database.run(_from_database, report, now)
    if tracker is not None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, _from_tracker, report, tracker, kept, commune)
    return report


def _from_database(db: Store, report: Report, now: dt.datetime) -> retention.Archive:
    low, high = (
        moment.isoformat(timespec="milliseconds") for moment in day_bounds(report.start, report.end)
    )
    days = {
        report.start + dt.timedelta(days=n): Day(report.start + dt.timedelta(days=n))
        for n in range((report.end - report.start).days + 1)
    }
    citizens_by_day: dict[dt.date, set[str]] = {day: set() for day in days}
    kept = retention.archive(db, report.start, report.end)
    raw_low = low  # messages: earlier days are counted from the figures kept for them
    if kept.messages_before is not None:
        raw_low = max(low, retention.iso(retention.start_of(kept.messages_before)))
        for (day, figure), count in kept.figures.items():
            if figure == "messages_in":
                days[day].messages_in += count
            elif figure == "messages_out":
                days[day].messages_out += count
            elif figure == "campaign_messages":
                report.campaign_messages_delivered += count
            elif figure == "officer_messages":
                report.officer_messages_delivered += count
            elif figure == "notifications":
                report.notifications_delivered += count
        for day, citizens in kept.citizens.items():
            citizens_by_day[day] |= citizens
    incoming = db.conn.execute(
        "SELECT user_id, received_at FROM inbox WHERE event_name LIKE 'user_send_%'"
        " AND received_at >= ? AND received_at < ?",
        (raw_low, high),
    )
    for user_id, received_at in incoming:
        day = _local_day(received_at)
        days[day].messages_in += 1
        citizens_by_day[day].add(kept.citizen(user_id))
    sent = db.conn.execute(
        "SELECT idempotency_key, created_at FROM outbox WHERE status = 'sent'"
        " AND created_at >= ? AND created_at < ?",
        (raw_low, high),
    )
    for key, created_at in sent:
        days[_local_day(created_at)].messages_out += 1
        kind = retention.sent_kind(key)
        if kind == "campaign_messages":
            report.campaign_messages_delivered += 1
        elif kind == "officer_messages":
            report.officer_messages_delivered += 1
        elif kind == "notifications":
            report.notifications_delivered += 1
    for day, citizens in citizens_by_day.items():
        days[day].citizens = len(citizens)
    report.days = list(days.values())
    report.citizens_guided = len(set().union(*citizens_by_day.values()))
    report.conversations = sum(day.citizens for day in report.days)
    report.messages_in = sum(day.messages_in for day in report.days)
    report.messages_out = sum(day.messages_out for day in report.days)

    ratings = db.conn.execute(
        "SELECT score, COUNT(*) FROM ratings WHERE created_at >= ? AND created_at < ?"
        " GROUP BY score",
        (low, high),
    )
    for score, count in ratings:
        if score in SCORES:
            report.ratings[score] = count
        else:
            report.comments += count

    tickets = db.conn.execute(
        "SELECT created_at, due_at, answered_at, status FROM feedback_tickets"
        " WHERE (created_at >= ? AND created_at < ?) OR (answered_at >= ? AND answered_at < ?)",
        (low, high, low, high),
    )
    for created_at, due_at, answered_at, status in tickets:
        if low <= created_at < high:
            report.feedback_received += 1
            late_answer = answered_at is not None and answered_at > due_at
            unanswered = answered_at is None and status != "closed"
            if late_answer or (unanswered and dt.datetime.fromisoformat(due_at) < now):
                report.feedback_overdue += 1
        if answered_at is not None and low <= answered_at < high:
            report.feedback_answered += 1
    return kept


def _from_tracker(
    report: Report, tracker: TrackerDatabase, kept: retention.Archive, commune: str = ""
) -> None:
    """Intents of the commune's citizens' messages from Rasa's tracker store; for purged
    days, from the counts kept for them."""
    counts = kept.intents()
    low, high = (moment.timestamp() for moment in day_bounds(report.start, report.end))
    if kept.intents_before is not None:
        low = max(low, retention.start_of(kept.intents_before).timestamp())
    rows = tracker_reader.intent_counts(tracker, low, high, senders_of(commune)).items()
    counts.update({intent or "?": count for intent, count in rows})
    report.user_turns = sum(counts.values())
    report.fallbacks = counts.get(FALLBACK_INTENT, 0)
    report.top_intents = counts.most_common(TOP_INTENTS)


def combined(reports: list[Report], start: dt.date, end: dt.date) -> Report:
    """The province's figures: the sum of its communes' (top intents: of their top ones)."""
    total = Report(start, end)
    days = {
        start + dt.timedelta(days=n): Day(start + dt.timedelta(days=n))
        for n in range((end - start).days + 1)
    }
    intents: Counter[str] = Counter()
    ratings: Counter[str] = Counter()
    for report in reports:
        for name in SUMMED:
            setattr(total, name, getattr(total, name) + getattr(report, name))
        for day in report.days:
            summed = days[day.day]
            summed.citizens += day.citizens
            summed.messages_in += day.messages_in
            summed.messages_out += day.messages_out
        intents.update(dict(report.top_intents))
        ratings.update(report.ratings)
    total.days = list(days.values())
    total.top_intents = intents.most_common(TOP_INTENTS)
    total.ratings = dict(ratings)
    return total


def daily_rows(report: Report, text: Callable[[str], str]) -> list[list[object]]:
    header: list[object] = [
        text(key)
        for key in (
            "reports.days.day",
            "reports.days.citizens",
            "reports.days.messages_in",
            "reports.days.messages_out",
        )
    ]
    return [header] + [
        [local_date(day.day), day.citizens, day.messages_in, day.messages_out]
        for day in report.days
    ]


def intent_rows(
    report: Report, text: Callable[[str], str], intent_label: Callable[[str], str]
) -> list[list[object]]:
    """The top intents by their officers' labels (the intent's name beside, for whoever
    improves the assistant's understanding)."""
    header: list[object] = [
        text(key)
        for key in (
            "reports.intents.asked_about",
            "reports.intents.intent",
            "reports.intents.count",
        )
    ]
    return [header] + [[intent_label(intent), intent, n] for intent, n in report.top_intents]


def to_csv(report: Report, text: Callable[[str], str], intent_label: Callable[[str], str]) -> bytes:
    """The summary, then the days, then the top intents; UTF-8 with a BOM so Excel reads
    Vietnamese correctly. `text` gives the wording of content/admin.yml by key."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([text("reports.export.report"), local_range(report.start, report.end)])
    for key, value in report.summary():
        writer.writerow([text(key), value])
    writer.writerow([])
    writer.writerows(daily_rows(report, text))
    writer.writerow([])
    writer.writerows(intent_rows(report, text, intent_label))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(
    report: Report, text: Callable[[str], str], intent_label: Callable[[str], str]
) -> bytes:
    """A workbook with three sheets: summary, days, intents. CPU work: call in a thread."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    summary.title = text("reports.export.summary_sheet")
    summary.append([text("reports.export.report"), local_range(report.start, report.end)])
    for key, value in report.summary():
        summary.append([text(key), value])
    days = book.create_sheet(text("reports.export.days_sheet"))
    for row in daily_rows(report, text):
        days.append(row)
    intents = book.create_sheet(text("reports.export.intents_sheet"))
    for row in intent_rows(report, text, intent_label):
        intents.append(row)
    for sheet in (summary, days, intents):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 36
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
