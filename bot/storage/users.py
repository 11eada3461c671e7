"""Citizens who talk to the OA: when they last interacted (Zalo's 7-day rule), follow state,
and how they want to be addressed."""

from __future__ import annotations

from bot.storage.sql import Store, one
from bot.storage.timestamps import utc_now


def interacted(db: Store, user_id: str) -> None:
    now = utc_now()
    db.conn.execute(
        "INSERT INTO users (user_id, first_seen_at, last_interaction_at, followed)"
        " VALUES (?, ?, ?, 1) ON CONFLICT(user_id) DO UPDATE SET"
        " last_interaction_at = excluded.last_interaction_at",
        (user_id, now, now),
    )


def followed(db: Store, user_id: str) -> None:
    interacted(db, user_id)
    db.conn.execute(
        "UPDATE users SET followed = 1, unfollowed_at = NULL WHERE user_id = ?", (user_id,)
    )


def unfollowed(db: Store, user_id: str) -> None:
    now = utc_now()
    db.conn.execute(
        "INSERT INTO users (user_id, first_seen_at, followed, unfollowed_at) VALUES (?, ?, 0, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET followed = 0, unfollowed_at = excluded.unfollowed_at",
        (user_id, now, now),
    )


def get(db: Store, user_id: str) -> dict | None:
    return one(db, "SELECT * FROM users WHERE user_id = ?", (user_id,))


def remember_form_of_address(db: Store, user_id: str, citizen: str, assistant: str) -> None:
    db.conn.execute(
        "INSERT INTO forms_of_address (user_id, citizen, assistant, said_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(user_id) DO UPDATE SET citizen = excluded.citizen,"
        " assistant = excluded.assistant, said_at = excluded.said_at",
        (user_id, citizen, assistant, utc_now()),
    )


def form_of_address(db: Store, user_id: str) -> tuple[str, str] | None:
    """(how to call the citizen, how the assistant calls itself), if the citizen said it."""
    row = db.conn.execute(
        "SELECT citizen, assistant FROM forms_of_address WHERE user_id = ?", (user_id,)
    ).fetchone()
    return (row[0], row[1]) if row else None
