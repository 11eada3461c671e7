"""Dossiers, their status history, who may see them, who follows them, and the
notifications each status change owes its followers.

A status change and its notifications are written in one transaction (a transactional
outbox): a change is never recorded without the notifications it owes, and an update
ingested twice (same update key) changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from bot.storage.sql import Store, insert_returning_id, rows, write_transaction
from bot.storage.timestamps import utc_now


# A status change as the dossier API validated it (bot/dossiers/dossier_model.py): what is stored.
@dataclass(frozen=True)
class DossierUpdate:
    code: str
    procedure: str
    applicant_masked: str
    phone_hash: str | None
    phone_last4: str | None
    id_hash: str | None
    id_last4: str | None
    status: str
    detail: dict[str, str]
    occurred_at: str  # ISO 8601 with offset

    @property
    def update_key(self) -> str:
        """Same code, status, detail and time: the same update, however often it arrives."""
        raw = json.dumps([self.code, self.status, self.detail, self.occurred_at], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


SCHEMA = """
CREATE TABLE IF NOT EXISTS dossiers (
    code TEXT PRIMARY KEY,
    procedure TEXT NOT NULL,
    applicant_masked TEXT NOT NULL,
    phone_hash TEXT, phone_last4 TEXT,   -- keyed hash (HMAC) and last 4 digits only
    id_hash TEXT, id_last4 TEXT,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    status_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dossier_events (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL,
    update_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    detail TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    received_at TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS dossier_events_code ON dossier_events(code, occurred_at);
CREATE TABLE IF NOT EXISTS dossier_subscriptions (
    code TEXT NOT NULL,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (code, user_id)
);
CREATE TABLE IF NOT EXISTS dossier_verifications (
    code TEXT NOT NULL,
    user_id TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    verified_at TEXT,
    PRIMARY KEY (code, user_id)
);
CREATE TABLE IF NOT EXISTS dossier_notifications (
    idempotency_key TEXT PRIMARY KEY,     -- dossier:<event id>:<user id>
    code TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,                 -- pending | sent | unreachable | failed
    channel TEXT,
    error_code INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,             -- also when it was first due
    updated_at TEXT NOT NULL,
    next_attempt_at TEXT                  -- a pending one is sent once this time has come
);
CREATE INDEX IF NOT EXISTS dossier_notifications_pending
    ON dossier_notifications(status, created_at);
CREATE INDEX IF NOT EXISTS dossier_notifications_due
    ON dossier_notifications(status, next_attempt_at);
CREATE TABLE IF NOT EXISTS user_shared_phones (  -- from Zalo's user-info form, hash only
    user_id TEXT PRIMARY KEY,
    phone_hash TEXT NOT NULL,
    shared_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dossier_poll_cursors (
    source TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""

MAX_FAILURES = 5
LOCK = dt.timedelta(hours=1)
# A pending notification this long past its first due time is stuck (/healthz, dashboard).
STUCK_AFTER = dt.timedelta(minutes=5)


def upgrade(conn: sqlite3.Connection) -> None:
    """Before SCHEMA, on a database made before retries had a due time: add the column,
    every pending notification due at once."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(dossier_notifications)")}
    if columns and "next_attempt_at" not in columns:
        with conn:
            conn.execute("ALTER TABLE dossier_notifications ADD COLUMN next_attempt_at TEXT")
            conn.execute("UPDATE dossier_notifications SET next_attempt_at = created_at")


@dataclass(frozen=True)
class Ingested:
    created: bool  # a dossier new to the service
    changed: bool  # False: this exact update was already recorded
    notifications: int


def ingest(db: Store, update: DossierUpdate, source: str) -> Ingested:
    conn = db.conn
    now = utc_now()
    with write_transaction(db):  # one transaction: the change and the notifications it owes
        seen = conn.execute(
            "SELECT 1 FROM dossier_events WHERE update_key = ?", (update.update_key,)
        ).fetchone()
        if seen:
            return Ingested(created=False, changed=False, notifications=0)
        current = conn.execute(
            "SELECT status_at FROM dossiers WHERE code = ?", (update.code,)
        ).fetchone()
        detail = json.dumps(update.detail, ensure_ascii=False)
        event_id = insert_returning_id(
            db,
            "INSERT INTO dossier_events (code, update_key, status, detail, occurred_at,"
            " received_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                update.code,
                update.update_key,
                update.status,
                detail,
                update.occurred_at,
                now,
                source,
            ),
        )
        if current is None:
            conn.execute(
                "INSERT INTO dossiers (code, procedure, applicant_masked, phone_hash, phone_last4,"
                " id_hash, id_last4, status, detail, status_at, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    update.code,
                    update.procedure,
                    update.applicant_masked,
                    update.phone_hash,
                    update.phone_last4,
                    update.id_hash,
                    update.id_last4,
                    update.status,
                    detail,
                    update.occurred_at,
                    now,
                    now,
                ),
            )
        elif _later_or_same(update.occurred_at, current[0]):
            conn.execute(
                "UPDATE dossiers SET status = ?, detail = ?, status_at = ?, updated_at = ?,"
                " procedure = ?, applicant_masked = ?,"
                " phone_hash = coalesce(?, phone_hash), phone_last4 = coalesce(?, phone_last4),"
                " id_hash = coalesce(?, id_hash), id_last4 = coalesce(?, id_last4)"
                " WHERE code = ?",
                (
                    update.status,
                    detail,
                    update.occurred_at,
                    now,
                    update.procedure,
                    update.applicant_masked,
                    update.phone_hash,
                    update.phone_last4,
                    update.id_hash,
                    update.id_last4,
                    update.code,
                ),
            )
        else:  # an older update arriving late: history only, nobody is told old news
            return Ingested(created=False, changed=True, notifications=0)
        followers = conn.execute(
            "INSERT INTO dossier_notifications (idempotency_key, code, event_id, user_id,"
            " status, created_at, updated_at, next_attempt_at) SELECT 'dossier:' || ? || ':'"
            " || user_id, code, ?, user_id, 'pending', ?, ?, ? FROM dossier_subscriptions"
            " WHERE code = ?",
            (event_id, event_id, now, now, now, update.code),
        ).rowcount
    return Ingested(created=current is None, changed=True, notifications=followers)


def _later_or_same(new: str, current: str) -> bool:
    return dt.datetime.fromisoformat(new) >= dt.datetime.fromisoformat(current)


def get(db: Store, code: str) -> dict[str, Any] | None:
    row = db.conn.execute(
        "SELECT code, procedure, applicant_masked, status, detail, status_at FROM dossiers"
        " WHERE code = ?",
        (code,),
    ).fetchone()
    if row is None:
        return None
    keys = ("code", "procedure", "applicant_masked", "status", "detail", "status_at")
    record = dict(zip(keys, row, strict=True))
    record["detail"] = json.loads(record["detail"])
    return record


def history(db: Store, code: str) -> list[dict[str, Any]]:
    return rows(db, "SELECT * FROM dossier_events WHERE code = ? ORDER BY occurred_at, id", (code,))


# --- verifying the owner --------------------------------------------------------------


def locked(db: Store, code: str, user_id: str, now: dt.datetime) -> bool:
    row = db.conn.execute(
        "SELECT locked_until FROM dossier_verifications WHERE code = ? AND user_id = ?",
        (code, user_id),
    ).fetchone()
    return bool(row and row[0] and dt.datetime.fromisoformat(row[0]) > now)


def verify(
    db: Store,
    code: str,
    user_id: str,
    last4: str | None,
    phone_hash: str | None,
    now: dt.datetime,
) -> str:
    """ "verified", "wrong" or "locked". An unknown code is just "wrong": codes can't be probed."""
    if locked(db, code, user_id, now):
        return "locked"
    row = db.conn.execute(
        "SELECT phone_last4, id_last4, phone_hash FROM dossiers WHERE code = ?", (code,)
    ).fetchone()
    matches = bool(row) and (
        (last4 is not None and last4 in (row[0], row[1]))
        or (phone_hash is not None and phone_hash == row[2])
    )
    if not matches:
        return record_wrong_answer(db, code, user_id, now)
    with db.conn:
        _verification_row(db, code, user_id)
        db.conn.execute(
            "UPDATE dossier_verifications SET failures = 0, locked_until = NULL,"
            " verified_at = ? WHERE code = ? AND user_id = ?",
            (now.isoformat(), code, user_id),
        )
    return "verified"


def record_wrong_answer(db: Store, code: str, user_id: str, now: dt.datetime) -> str:
    """One more miss toward the lock; "wrong", or "locked" once the misses reach the limit."""
    if locked(db, code, user_id, now):
        return "locked"
    with db.conn:
        _verification_row(db, code, user_id)
        db.conn.execute(
            "UPDATE dossier_verifications SET failures = failures + 1, locked_until = CASE"
            " WHEN failures + 1 >= ? THEN ? ELSE locked_until END WHERE code = ? AND user_id = ?",
            (MAX_FAILURES, (now + LOCK).isoformat(), code, user_id),
        )
    return "locked" if locked(db, code, user_id, now) else "wrong"


def _verification_row(db: Store, code: str, user_id: str) -> None:
    db.conn.execute(
        "INSERT INTO dossier_verifications (code, user_id) VALUES (?, ?)"
        " ON CONFLICT(code, user_id) DO NOTHING",
        (code, user_id),
    )


def remember_shared_phone(db: Store, user_id: str, phone_hash: str) -> None:
    """The phone a citizen shared through the OA's user-info form, as a keyed hash only."""
    db.conn.execute(
        "INSERT INTO user_shared_phones (user_id, phone_hash, shared_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET phone_hash = excluded.phone_hash,"
        " shared_at = excluded.shared_at",
        (user_id, phone_hash, utc_now()),
    )


def shared_phone(db: Store, user_id: str) -> str | None:
    row = db.conn.execute(
        "SELECT phone_hash FROM user_shared_phones WHERE user_id = ?", (user_id,)
    ).fetchone()
    return row[0] if row else None


def verify_shared_phone(
    db: Store, code: str, user_id: str, phone_hash: str, now: dt.datetime
) -> bool:
    """True (and recorded) when the shared phone is the dossier's; a mismatch is no attempt."""
    row = db.conn.execute("SELECT phone_hash FROM dossiers WHERE code = ?", (code,)).fetchone()
    if not row or row[0] != phone_hash:
        return False
    return verify(db, code, user_id, None, phone_hash, now) == "verified"


def is_verified(db: Store, code: str, user_id: str) -> bool:
    row = db.conn.execute(
        "SELECT verified_at FROM dossier_verifications WHERE code = ? AND user_id = ?",
        (code, user_id),
    ).fetchone()
    return bool(row and row[0])


# --- following a dossier --------------------------------------------------------------


def subscribe(db: Store, code: str, user_id: str) -> None:
    db.conn.execute(
        "INSERT INTO dossier_subscriptions (code, user_id, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT(code, user_id) DO NOTHING",
        (code, user_id, utc_now()),
    )


def unsubscribe(db: Store, user_id: str, code: str | None = None) -> int:
    """Stop notifications of one dossier (or, with no code, of all); how many stopped."""
    if code is None:
        cursor = db.conn.execute("DELETE FROM dossier_subscriptions WHERE user_id = ?", (user_id,))
    else:
        cursor = db.conn.execute(
            "DELETE FROM dossier_subscriptions WHERE user_id = ? AND code = ?", (user_id, code)
        )
    return cursor.rowcount


def subscriptions(db: Store, user_id: str) -> list[str]:
    rows = db.conn.execute(
        "SELECT code FROM dossier_subscriptions WHERE user_id = ? ORDER BY created_at", (user_id,)
    ).fetchall()
    return [code for (code,) in rows]


# --- the notifications outbox ---------------------------------------------------------


def pending_notifications(
    db: Store, limit: int = 200, now: str | None = None
) -> list[dict[str, Any]]:
    """The pending notifications whose next attempt is due, soonest due first: one that
    keeps failing waits its back-off and holds no other back."""
    rows = db.conn.execute(
        "SELECT n.idempotency_key, n.code, n.user_id, e.status, e.detail, n.attempts"
        " FROM dossier_notifications n JOIN dossier_events e ON e.id = n.event_id"
        " WHERE n.status = 'pending' AND n.next_attempt_at <= ?"
        " ORDER BY n.next_attempt_at, n.rowid LIMIT ?",
        (now or utc_now(), limit),
    ).fetchall()
    keys = ("idempotency_key", "code", "user_id", "status", "detail", "attempts")
    return [{**dict(zip(keys, row, strict=True)), "detail": json.loads(row[4])} for row in rows]


def settle_notification(
    db: Store,
    key: str,
    status: str,
    channel: str | None,
    error_code: int | None,
    retry_at: str | None = None,
) -> None:
    """Record one attempt; a notification left `pending` is tried again at `retry_at`."""
    db.conn.execute(
        "UPDATE dossier_notifications SET status = ?, channel = ?, error_code = ?,"
        " attempts = attempts + 1, updated_at = ?, next_attempt_at = ?"
        " WHERE idempotency_key = ?",
        (status, channel, error_code, utc_now(), retry_at, key),
    )


def notification_counts(db: Store, now: dt.datetime | None = None) -> dict[str, int]:
    """Pending, stuck (pending for more than STUCK_AFTER past their first due time) and
    failed (given up after the last attempt, or refused for good) notifications."""
    pending, stuck, failed = db.conn.execute(
        "SELECT COUNT(CASE WHEN status = 'pending' THEN 1 END),"
        " COUNT(CASE WHEN status = 'pending' AND created_at < ? THEN 1 END),"
        " COUNT(CASE WHEN status = 'failed' THEN 1 END)"
        " FROM dossier_notifications WHERE status IN ('pending', 'failed')",
        (_stuck_before(now),),
    ).fetchone()
    return {"pending": pending, "stuck": stuck, "failed": failed}


@dataclass(frozen=True)
class NotificationHealth:
    counts: dict[str, int]  # as notification_counts
    problems: list[dict[str, Any]]  # the stuck and failed ones, newest first; no user ids


def notification_health(
    db: Store, now: dt.datetime | None = None, limit: int = 50
) -> NotificationHealth:
    """What the dashboard shows of the notifications outbox: counts and the problem rows."""
    rows = db.conn.execute(
        "SELECT n.code, e.status, n.status, n.attempts, n.error_code, n.created_at,"
        " n.updated_at, n.next_attempt_at FROM dossier_notifications n"
        " JOIN dossier_events e ON e.id = n.event_id"
        " WHERE n.status = 'failed' OR (n.status = 'pending' AND n.created_at < ?)"
        " ORDER BY n.created_at DESC, n.rowid DESC LIMIT ?",
        (_stuck_before(now), limit),
    ).fetchall()
    keys = (
        "code", "dossier_status", "status", "attempts", "error_code",
        "created_at", "updated_at", "next_attempt_at",
    )  # fmt: skip
    return NotificationHealth(
        notification_counts(db, now), [dict(zip(keys, row, strict=True)) for row in rows]
    )


def _stuck_before(now: dt.datetime | None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    return (now - STUCK_AFTER).isoformat(timespec="milliseconds")


def notifications(db: Store, code: str) -> list[dict[str, Any]]:
    return rows(
        db, "SELECT * FROM dossier_notifications WHERE code = ? ORDER BY created_at", (code,)
    )


# --- what officers see -----------------------------------------------------------------


def officer_list(db: Store, search: str = "", limit: int = 50) -> list[dict]:
    """Dossiers for the dashboard, last changed first (or those whose code holds `search`):
    what they are, how many citizens follow them, and each notification of their last
    notified change. No user ids, hashes or keys."""
    # a code is letters, digits, dots and dashes: anything else (LIKE's % and _ too) goes
    pattern = "%" + re.sub(r"[^0-9A-Za-z.-]", "", search).upper() + "%"
    rows = db.conn.execute(
        "SELECT d.code, d.procedure, d.applicant_masked, d.status, d.status_at,"
        " (SELECT COUNT(*) FROM dossier_subscriptions s WHERE s.code = d.code)"
        " FROM dossiers d WHERE d.code LIKE ? ORDER BY d.updated_at DESC, d.code LIMIT ?",
        (pattern, limit),
    ).fetchall()
    keys = ("code", "procedure", "applicant_masked", "status", "status_at", "followers")
    dossiers = [dict(zip(keys, row, strict=True)) for row in rows]
    for dossier in dossiers:
        dossier["notifications"] = _notifications_of(
            db,
            "n.event_id = (SELECT MAX(event_id) FROM dossier_notifications WHERE code = ?)",
            dossier["code"],
        )
    return dossiers


def officer_history(db: Store, code: str) -> list[dict]:
    """A dossier's status changes, oldest first, each with the notifications it owed."""
    rows = db.conn.execute(
        "SELECT id, status, occurred_at, received_at FROM dossier_events WHERE code = ?"
        " ORDER BY occurred_at, id",
        (code,),
    ).fetchall()
    return [
        {
            "status": status,
            "occurred_at": occurred_at,
            "received_at": received_at,
            "notifications": _notifications_of(db, "n.event_id = ?", event_id),
        }
        for event_id, status, occurred_at, received_at in rows
    ]


def _notifications_of(db: Store, where: str, value: Any) -> list[dict]:
    rows = db.conn.execute(
        "SELECT n.status, n.channel, n.attempts, n.error_code, n.created_at, n.updated_at,"
        f" n.next_attempt_at FROM dossier_notifications n WHERE {where} ORDER BY n.rowid",
        (value,),
    ).fetchall()
    keys = (
        "status", "channel", "attempts", "error_code", "created_at", "updated_at",
        "next_attempt_at",
    )  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def is_stuck(notification: dict[str, Any], now: dt.datetime | None = None) -> bool:
    """Pending for more than STUCK_AFTER past its first due time."""
    return notification["status"] == "pending" and notification["created_at"] < _stuck_before(now)


# --- pollers of provincial systems ----------------------------------------------------


def poll_cursor(db: Store, source: str) -> str | None:
    row = db.conn.execute(
        "SELECT cursor FROM dossier_poll_cursors WHERE source = ?", (source,)
    ).fetchone()
    return row[0] if row else None


def save_poll_cursor(db: Store, source: str, cursor: str) -> None:
    db.conn.execute(
        "INSERT INTO dossier_poll_cursors (source, cursor, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (source) DO UPDATE SET cursor = excluded.cursor,"
        " updated_at = excluded.updated_at",
        (source, cursor, utc_now()),
    )
