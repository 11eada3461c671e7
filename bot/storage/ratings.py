"""Citizens' satisfaction: a score from the buttons, or what they wrote about the service."""

from __future__ import annotations

from bot.storage.sql import Store, rows
from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    score TEXT,                     -- very_satisfied | satisfied | unsatisfied; NULL: words only
    subject TEXT NOT NULL DEFAULT '', -- what was rated: guide:<id>, ticket:<n>, handover:<n>
    comment TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ratings_created ON ratings(created_at);
"""

SCORES = ("very_satisfied", "satisfied", "unsatisfied")
SATISFIED = ("very_satisfied", "satisfied")


def record(
    db: Store,
    user_id: str,
    score: str | None,
    subject: str = "",
    comment: str | None = None,
) -> None:
    if score is not None and score not in SCORES:
        raise ValueError(f"unknown satisfaction score {score!r}")
    db.conn.execute(
        "INSERT INTO ratings (user_id, score, subject, comment, created_at) VALUES (?, ?, ?, ?, ?)",
        (user_id, score, subject, comment, utc_now()),
    )


def for_user(db: Store, user_id: str) -> list[dict]:
    return rows(db, "SELECT * FROM ratings WHERE user_id = ? ORDER BY id", (user_id,))
