"""Reminders citizens asked for (personal, the birth-registration deadline) and reminders of
a dossier's result date. The table is the record; the scheduler's job only fires it."""

from __future__ import annotations

from typing import Any

from bot.storage.sql import Store, insert_returning_id, one, rows
from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS reminders (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,            -- personal | birth_deadline | appointment
    subject TEXT,                  -- what to remember, in the citizen's words
    remind_at TEXT NOT NULL,       -- ISO datetime with its offset (Asia/Ho_Chi_Minh)
    due_on TEXT,                   -- birth_deadline: the deadline; appointment: the result date
    dossier_code TEXT,
    status TEXT NOT NULL,          -- scheduled | sent | unreachable | failed | missed | cancelled
    error_code INTEGER,
    dedupe_key TEXT UNIQUE,        -- the same appointment reminder is never scheduled twice
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reminders_user ON reminders(user_id, status, remind_at);
"""


def add(
    db: Store,
    user_id: str,
    kind: str,
    remind_at: str,
    subject: str | None = None,
    due_on: str | None = None,
    dossier_code: str | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """A scheduled reminder's id; None when one with this dedupe key exists already."""
    now = utc_now()
    return insert_returning_id(
        db,
        "INSERT INTO reminders (user_id, kind, subject, remind_at, due_on,"
        " dossier_code, status, dedupe_key, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, 'scheduled', ?, ?, ?) ON CONFLICT DO NOTHING",
        (user_id, kind, subject, remind_at, due_on, dossier_code, dedupe_key, now, now),
    )


def get(db: Store, reminder_id: int) -> dict[str, Any] | None:
    return one(db, "SELECT * FROM reminders WHERE id = ?", (reminder_id,))


def scheduled_for_user(db: Store, user_id: str) -> list[dict[str, Any]]:
    """The user's reminders still to come, soonest first."""
    return rows(
        db,
        "SELECT * FROM reminders WHERE user_id = ? AND status = 'scheduled' ORDER BY remind_at, id",
        (user_id,),
    )


def scheduled(db: Store) -> list[tuple[int, str]]:
    """(id, remind_at) of every reminder still to fire: the scheduler's jobs follow these."""
    rows = db.conn.execute("SELECT id, remind_at FROM reminders WHERE status = 'scheduled'")
    return [(reminder_id, remind_at) for reminder_id, remind_at in rows]


def settle(db: Store, reminder_id: int, status: str, error_code: int | None = None) -> bool:
    """Move a scheduled reminder to its outcome; False if it was no longer scheduled."""
    cursor = db.conn.execute(
        "UPDATE reminders SET status = ?, error_code = ?, updated_at = ?"
        " WHERE id = ? AND status = 'scheduled'",
        (status, error_code, utc_now(), reminder_id),
    )
    return cursor.rowcount == 1


def cancel(
    db: Store,
    user_id: str,
    reminder_ids: list[int] | None = None,
    dossier_code: str | None = None,
    kind: str | None = None,
) -> list[int]:
    """Cancel the user's scheduled reminders (these ids, this dossier's, this kind, or all).
    A cancelled reminder frees its dedupe key: the same one may be scheduled again."""
    if reminder_ids == []:
        return []
    where = "user_id = ? AND status = 'scheduled'"
    args: list[Any] = [user_id]
    if reminder_ids is not None:
        where += f" AND id IN ({', '.join('?' for _ in reminder_ids)})"
        args += reminder_ids
    if dossier_code is not None:
        where += " AND dossier_code = ?"
        args.append(dossier_code)
    if kind is not None:
        where += " AND kind = ?"
        args.append(kind)
    with db.conn:
        ids = [row[0] for row in db.conn.execute(f"SELECT id FROM reminders WHERE {where}", args)]
        db.conn.executemany(
            "UPDATE reminders SET status = 'cancelled', dedupe_key = NULL, updated_at = ?"
            " WHERE id = ?",
            [(utc_now(), reminder_id) for reminder_id in ids],
        )
    return ids


def has_key(db: Store, dedupe_key: str) -> bool:
    row = db.conn.execute("SELECT 1 FROM reminders WHERE dedupe_key = ?", (dedupe_key,))
    return row.fetchone() is not None
