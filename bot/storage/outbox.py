"""Every message sent to Zalo, keyed so that re-processing an event never sends twice."""

from __future__ import annotations

import json
from typing import Any

from bot.storage.sql import Store, rows
from bot.storage.timestamps import utc_now


def state(db: Store, idempotency_key: str) -> tuple[str, str] | None:
    """(status, created_at) of the message under this key, None when it was never begun."""
    row = db.conn.execute(
        "SELECT status, created_at FROM outbox WHERE idempotency_key = ?", (idempotency_key,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def message_ids_of(db: Store, user_id: str) -> set[str]:
    """The ids Zalo gave to the messages recorded as sent to this user."""
    rows = db.conn.execute(
        "SELECT zalo_message_id FROM outbox WHERE user_id = ? AND zalo_message_id IS NOT NULL",
        (user_id,),
    )
    return {message_id for (message_id,) in rows}


def begin(
    db: Store,
    idempotency_key: str,
    user_id: str,
    endpoint: str,
    message: dict[str, Any],
) -> None:
    now = utc_now()
    db.conn.execute(
        "INSERT INTO outbox (idempotency_key, user_id, endpoint, message, status,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)"
        " ON CONFLICT(idempotency_key) DO UPDATE SET updated_at = excluded.updated_at",
        (idempotency_key, user_id, endpoint, json.dumps(message, ensure_ascii=False), now, now),
    )


def settle(
    db: Store,
    idempotency_key: str,
    status: str,
    attempts: int,
    error_code: int | None = None,
    error_message: str | None = None,
    zalo_message_id: str | None = None,
) -> None:
    db.conn.execute(
        "UPDATE outbox SET status = ?, attempts = attempts + ?, error_code = ?,"
        " error_message = ?, zalo_message_id = ?, updated_at = ? WHERE idempotency_key = ?",
        (status, attempts, error_code, error_message, zalo_message_id, utc_now(), idempotency_key),
    )


def for_user(db: Store, user_id: str) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM outbox WHERE user_id = ? ORDER BY created_at, rowid", (user_id,))
