"""The OA's OAuth token pair. Zalo's refresh tokens are single-use, so the new pair is
written here before anything uses it."""

from __future__ import annotations

from bot.storage.sql import Store, one
from bot.storage.timestamps import utc_now


def load(db: Store, name: str) -> dict | None:
    return one(db, "SELECT * FROM oauth_tokens WHERE name = ?", (name,))


def save(
    db: Store,
    name: str,
    access_token: str | None,
    refresh_token: str,
    expires_at: float,
    seed_fingerprint: str,
) -> None:
    db.conn.execute(
        "INSERT INTO oauth_tokens"
        " (name, access_token, refresh_token, expires_at, seed_fingerprint, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " access_token = excluded.access_token, refresh_token = excluded.refresh_token,"
        " expires_at = excluded.expires_at, seed_fingerprint = excluded.seed_fingerprint,"
        " updated_at = excluded.updated_at",
        (name, access_token, refresh_token, expires_at, seed_fingerprint, utc_now()),
    )


def forget(db: Store, name: str) -> None:
    db.conn.execute("DELETE FROM oauth_tokens WHERE name = ?", (name,))
