"""Rasa's tracker store (`var/tracker.db`): every conversation event, per sender.

Rasa owns the file (bot/brain/agent.py writes it through SQLAlchemy). Here it is only read,
pruned after the retention period, and cleared for a citizen who asks to be forgotten,
each call with its own short-lived connection (blocking: call it in a thread).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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


@contextmanager
def _connect(path: Path | None, write: bool = False) -> Iterator[sqlite3.Connection | None]:
    """A connection, or None when Rasa has not created the file or its table yet."""
    if path is None or not path.exists():
        yield None
        return
    uri = f"{path.resolve().as_uri()}?mode={'rw' if write else 'ro'}"
    conn = sqlite3.connect(uri, uri=True, timeout=30, isolation_level=None)
    try:
        table = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
        ).fetchone()
        yield conn if table else None
    finally:
        conn.close()


def events_of(path: Path | None, sender_id: str) -> list[dict[str, Any]]:
    """A sender's events, oldest first, as Rasa stored them."""
    with _connect(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            "SELECT type_name, timestamp, intent_name, action_name, data FROM events"
            " WHERE sender_id = ? ORDER BY id",
            (sender_id,),
        ).fetchall()
    keys = ("type_name", "timestamp", "intent_name", "action_name")
    return [
        {**dict(zip(keys, row[:4], strict=True)), "data": json.loads(row[4] or "null")}
        for row in rows
    ]


def count_sender(path: Path | None, sender_id: str) -> int:
    with _connect(path) as conn:
        if conn is None:
            return 0
        row = conn.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender_id,))
        return row.fetchone()[0]


def delete_sender(path: Path | None, sender_id: str) -> int:
    """Remove every event of one sender; how many."""
    with _connect(path, write=True) as conn:
        if conn is None:
            return 0
        return conn.execute("DELETE FROM events WHERE sender_id = ?", (sender_id,)).rowcount


def first_timestamp(path: Path | None) -> float | None:
    with _connect(path) as conn:
        if conn is None:
            return None
        return conn.execute("SELECT MIN(timestamp) FROM events").fetchone()[0]


def intents_by_day(
    path: Path | None, since: float, before: float, utc_offset_seconds: int
) -> list[tuple[str, str, int]]:
    """(local date, intent, count) of citizens' messages in [since, before), counted as
    bot/admin/report_figures.py counts them: what reports keep of the events a purge removes. The
    commune's offset is fixed (+07:00, no daylight saving time)."""
    with _connect(path) as conn:
        if conn is None:
            return []
        rows = conn.execute(
            "SELECT date(timestamp, 'unixepoch', ?), intent_name, COUNT(*) FROM events"
            " WHERE type_name = 'user' AND timestamp >= ? AND timestamp < ?"
            " AND intent_name NOT LIKE ? GROUP BY 1, 2",
            (f"{utc_offset_seconds:+d} seconds", since, before, EXTERNAL),
        ).fetchall()
    return [(day, intent, count) for day, intent, count in rows]


def prune(path: Path | None, before: float, dry_run: bool = False) -> int:
    """Remove events older than `before` (a Unix time), never those of a conversation
    session still open; how many (would be) removed."""
    with _connect(path, write=not dry_run) as conn:
        if conn is None:
            return 0
        if dry_run:
            sql = f"SELECT COUNT(*) FROM events WHERE {_PRUNABLE}"
            return conn.execute(sql, {"before": before}).fetchone()[0]
        return conn.execute(f"DELETE FROM events WHERE {_PRUNABLE}", {"before": before}).rowcount
