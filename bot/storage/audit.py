"""Every officer action on the dashboard, kept for accountability (who did what, when)."""

from __future__ import annotations

import sqlite_utils

from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    officer TEXT NOT NULL,          -- username; for a failed login, the name that was typed
    action TEXT NOT NULL,           -- login | login_failed | feedback_answered | ...
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    ip TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
"""


def record(
    db: sqlite_utils.Database,
    officer: str,
    action: str,
    target: str = "",
    detail: str = "",
    ip: str | None = None,
) -> None:
    db.conn.execute(
        "INSERT INTO audit_log (at, officer, action, target, detail, ip) VALUES (?, ?, ?, ?, ?, ?)",
        (utc_now(), officer, action, target, detail, ip),
    )


def recent(db: sqlite_utils.Database, limit: int = 200, action: str = "") -> list[dict]:
    where, args = ("action = ?", [action]) if action else (None, [])
    return list(db["audit_log"].rows_where(where, args, order_by="id DESC", limit=limit))
