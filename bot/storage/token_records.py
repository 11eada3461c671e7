"""The OA's OAuth token pair. Zalo's refresh tokens are single-use, so the new pair is
written here before anything uses it."""

from __future__ import annotations

import sqlite_utils

from bot.storage.timestamps import utc_now


def load(db: sqlite_utils.Database, name: str) -> dict | None:
    rows = list(db["oauth_tokens"].rows_where("name = ?", [name]))
    return rows[0] if rows else None


def save(
    db: sqlite_utils.Database,
    name: str,
    access_token: str | None,
    refresh_token: str,
    expires_at: float,
    seed_fingerprint: str,
) -> None:
    db.conn.execute(
        "INSERT OR REPLACE INTO oauth_tokens"
        " (name, access_token, refresh_token, expires_at, seed_fingerprint, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (name, access_token, refresh_token, expires_at, seed_fingerprint, utc_now()),
    )


def forget(db: sqlite_utils.Database, name: str) -> None:
    db.conn.execute("DELETE FROM oauth_tokens WHERE name = ?", (name,))
