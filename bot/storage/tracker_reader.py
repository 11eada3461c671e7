"""Rasa's tracker store: every conversation event, per sender, in the `events` table of
`var/tracker.db` or, when CITIZENBOT_DATABASE_URL is given, of the PostgreSQL database.

Rasa owns the table (bot/brain/agent.py writes it through SQLAlchemy). Here it is only read,
pruned after the retention period, and cleared for a citizen who asks to be forgotten,
each call with its own short-lived connection (blocking: call it in a thread).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.pool import NullPool

# Where the tracker store lives: Rasa's SQLite file, or a PostgreSQL database's URL.
TrackerDatabase = Path | str

# Rasa's intents the webhook triggers itself (follow, non-text): not citizens' words.
EXTERNAL = "EXTERNAL%"
# An event may go when it is older than the cutoff and either the sender's whole history
# is (no conversation open), or it precedes the sender's latest session: Rasa counts the
# events of the open session to know which ones it still has to save.
_PRUNABLE = """
    timestamp < :before AND (
        (SELECT MAX(l.timestamp) FROM events l WHERE l.sender_id = events.sender_id) < :before
        OR timestamp < (SELECT MAX(s.timestamp) FROM events s WHERE s.sender_id = events.sender_id
                        AND s.type_name = 'session_started'))
"""
# A Unix time shifted by :offset seconds, as a date: the commune's local day.
_LOCAL_DAY = {
    "sqlite": "date(timestamp + :offset, 'unixepoch')",
    "postgresql": "to_char(to_timestamp(timestamp + :offset) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
}


def _engine(tracker: TrackerDatabase) -> sa.engine.Engine | None:
    """An engine without a pool, or None when Rasa has not created the SQLite file yet."""
    if isinstance(tracker, str):
        return sa.create_engine(tracker, poolclass=NullPool)
    if not tracker.exists():
        return None
    uri = f"{tracker.resolve().as_uri()}?mode=rw"
    return sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False),
        poolclass=NullPool,
    )


@contextmanager
def _connect(tracker: TrackerDatabase | None) -> Iterator[Connection | None]:
    """A connection in a transaction, or None when Rasa has not created its table yet."""
    engine = None if tracker is None else _engine(tracker)
    if engine is None:
        yield None
        return
    try:
        with engine.begin() as conn:
            yield conn if sa.inspect(conn).has_table("events") else None
    finally:
        engine.dispose()


def events_of(tracker: TrackerDatabase | None, sender_id: str) -> list[dict[str, Any]]:
    """A sender's events, oldest first, as Rasa stored them."""
    with _connect(tracker) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            sa.text(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events"
                " WHERE sender_id = :sender ORDER BY id"
            ),
            {"sender": sender_id},
        ).all()
    keys = ("type_name", "timestamp", "intent_name", "action_name")
    return [
        {**dict(zip(keys, row[:4], strict=True)), "data": json.loads(row[4] or "null")}
        for row in rows
    ]


def count_sender(tracker: TrackerDatabase | None, sender_id: str) -> int:
    with _connect(tracker) as conn:
        if conn is None:
            return 0
        sql = sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :sender")
        return conn.execute(sql, {"sender": sender_id}).scalar_one()


def delete_sender(tracker: TrackerDatabase | None, sender_id: str) -> int:
    """Remove every event of one sender; how many."""
    with _connect(tracker) as conn:
        if conn is None:
            return 0
        sql = sa.text("DELETE FROM events WHERE sender_id = :sender")
        return conn.execute(sql, {"sender": sender_id}).rowcount


def first_timestamp(tracker: TrackerDatabase | None) -> float | None:
    with _connect(tracker) as conn:
        if conn is None:
            return None
        return conn.execute(sa.text("SELECT MIN(timestamp) FROM events")).scalar_one()


@dataclass(frozen=True)
class Senders:
    """Whose conversations count: sender ids in [low, high), or those not LIKE `not_like`
    (the communes of one deployment share the tracker store: bot/communes/)."""

    low: str = ""
    high: str = ""
    not_like: str = ""

    def condition(self) -> tuple[str, dict[str, str]]:
        if self.not_like:
            return " AND sender_id NOT LIKE :not_like", {"not_like": self.not_like}
        if self.high:
            return " AND sender_id >= :low AND sender_id < :high", {
                "low": self.low,
                "high": self.high,
            }
        return "", {}


# Every conversation, whichever commune's.
EVERY_SENDER = Senders()


def intent_counts(
    tracker: TrackerDatabase | None, since: float, before: float, senders: Senders = EVERY_SENDER
) -> dict[str, int]:
    """Citizens' messages in [since, before) by intent (None: not understood), as the
    reports count them."""
    whose, values = senders.condition()
    with _connect(tracker) as conn:
        if conn is None:
            return {}
        rows = conn.execute(
            sa.text(
                "SELECT intent_name, COUNT(*) FROM events WHERE type_name = 'user'"
                " AND timestamp >= :since AND timestamp < :before"
                f" AND intent_name NOT LIKE :external{whose} GROUP BY intent_name"
            ),
            {"since": since, "before": before, "external": EXTERNAL, **values},
        ).all()
    return {intent: count for intent, count in rows}


def intents_by_day(
    tracker: TrackerDatabase | None,
    since: float,
    before: float,
    utc_offset_seconds: int,
    senders: Senders = EVERY_SENDER,
) -> list[tuple[str, str, int]]:
    """(local date, intent, count) of citizens' messages in [since, before), counted as
    bot/admin/report_figures.py counts them: what reports keep of the events a purge removes. The
    commune's offset is fixed (+07:00, no daylight saving time)."""
    whose, values = senders.condition()
    with _connect(tracker) as conn:
        if conn is None:
            return []
        day = _LOCAL_DAY[conn.dialect.name]
        rows = conn.execute(
            sa.text(
                f"SELECT {day}, intent_name, COUNT(*) FROM events"
                " WHERE type_name = 'user' AND timestamp >= :since AND timestamp < :before"
                f" AND intent_name NOT LIKE :external{whose} GROUP BY 1, 2"
            ),
            {
                "offset": utc_offset_seconds,
                "since": since,
                "before": before,
                "external": EXTERNAL,
                **values,
            },
        ).all()
    return [(day, intent, count) for day, intent, count in rows]


def prune(
    tracker: TrackerDatabase | None,
    before: float,
    dry_run: bool = False,
    senders: Senders = EVERY_SENDER,
) -> int:
    """Remove the `senders`' events older than `before` (a Unix time), never those of a
    conversation session still open; how many (would be) removed."""
    whose, values = senders.condition()
    with _connect(tracker) as conn:
        if conn is None:
            return 0
        if dry_run:
            sql = sa.text(f"SELECT COUNT(*) FROM events WHERE {_PRUNABLE}{whose}")
            return conn.execute(sql, {"before": before, **values}).scalar_one()
        sql = sa.text(f"DELETE FROM events WHERE {_PRUNABLE}{whose}")
        return conn.execute(sql, {"before": before, **values}).rowcount
