"""Every officer action on the dashboard, kept for accountability (who did what, when)."""

from __future__ import annotations

from bot.storage.sql import Store, rows
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
    db: Store,
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


def recent(db: Store, limit: int = 200, action: str = "") -> list[dict]:
    where, args = ("WHERE action = ?", [action]) if action else ("", [])
    return rows(db, f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ?", [*args, limit])
