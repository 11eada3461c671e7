"""Every webhook event, recorded before it is acknowledged; the key makes re-deliveries no-ops."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import sqlite_utils

from bot.storage.clock import utc_now


def record(
    db: sqlite_utils.Database,
    key: str,
    event_name: str,
    user_id: str | None,
    timestamp_ms: int,
    payload: dict[str, Any],
    status: str = "pending",
) -> bool:
    """Insert the event; False when this key was already recorded (a re-delivery)."""
    try:
        db.conn.execute(
            "INSERT INTO inbox (key, event_name, user_id, timestamp_ms, received_at, payload,"
            " status) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, event_name, user_id, timestamp_ms, utc_now(), json.dumps(payload), status),
        )
    except sqlite3.IntegrityError:
        return False
    return True


def finish(db: sqlite_utils.Database, key: str, error: str | None = None) -> None:
    db.conn.execute(
        "UPDATE inbox SET status = ?, processed_at = ?, error = ? WHERE key = ?",
        ("failed" if error else "done", utc_now(), error, key),
    )


def pending(db: sqlite_utils.Database, limit: int = -1) -> list[dict[str, Any]]:
    """Events acknowledged but not yet processed, oldest first, at most `limit` (-1: all);
    used after a restart and when the event queue drains after an overload."""
    rows = db.conn.execute(
        "SELECT payload FROM inbox WHERE status = 'pending' ORDER BY received_at, rowid LIMIT ?",
        (limit,),
    ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def count_pending(db: sqlite_utils.Database) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]


def status_of(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.conn.execute("SELECT status FROM inbox WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
