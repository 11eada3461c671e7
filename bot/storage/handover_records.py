"""Handover to a human: while a conversation is with an officer, the bot stays silent.

A handover opens when the citizen asks for an officer, after repeated misunderstandings,
or when an officer writes from Zalo's OA chat tool. It ends when an officer releases it,
or by itself once no officer has written for the timeout (so nobody is left unanswered
because an officer forgot to release).
"""

from __future__ import annotations

import datetime as dt
import json

from bot.storage.sql import Store, insert_returning_id, one, rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS handovers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    reason TEXT NOT NULL,           -- asked | fallbacks | officer_wrote
    status TEXT NOT NULL,           -- waiting | active | released | expired
    requested_at TEXT NOT NULL,
    officer TEXT,                   -- a dashboard username, or zalo:<admin_id>
    last_officer_at TEXT,
    ended_at TEXT,
    ended_by TEXT
);
CREATE INDEX IF NOT EXISTS handovers_user ON handovers(user_id, status);
"""

OPEN = ("waiting", "active")


class HandoverError(ValueError):
    """The handover is not open any more, or does not exist."""


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def _expired(row: dict, now: dt.datetime, timeout: dt.timedelta) -> bool:
    since = dt.datetime.fromisoformat(row["last_officer_at"] or row["requested_at"])
    return now - since >= timeout


_OPEN = "status IN ('waiting', 'active')"


def expire_stale(db: Store, now: dt.datetime, timeout: dt.timedelta) -> None:
    """End the open handovers no officer has written in for `timeout`."""
    for row in rows(db, f"SELECT * FROM handovers WHERE {_OPEN}"):
        if _expired(row, now, timeout):
            db.conn.execute(
                "UPDATE handovers SET status = 'expired', ended_at = ? WHERE id = ?",
                (_iso(now), row["id"]),
            )


def open_for(db: Store, user_id: str, now: dt.datetime, timeout: dt.timedelta) -> dict | None:
    """The user's open handover (ending it first if it timed out), or None."""
    found = rows(
        db, f"SELECT * FROM handovers WHERE user_id = ? AND {_OPEN} ORDER BY id DESC", (user_id,)
    )
    if not found:
        return None
    if _expired(found[0], now, timeout):
        expire_stale(db, now, timeout)
        return None
    return found[0]


def request(
    db: Store,
    user_id: str,
    reason: str,
    now: dt.datetime,
    timeout: dt.timedelta,
) -> dict:
    """Open a handover waiting for an officer, or return the one already open."""
    existing = open_for(db, user_id, now, timeout)
    if existing is not None:
        return existing
    handover_id = insert_returning_id(
        db,
        "INSERT INTO handovers (user_id, reason, status, requested_at) VALUES (?, ?, 'waiting', ?)",
        (user_id, reason, _iso(now)),
    )
    return get(db, handover_id or 0) or {}


def officer_wrote(
    db: Store,
    user_id: str,
    officer: str,
    now: dt.datetime,
    timeout: dt.timedelta,
) -> dict:
    """An officer wrote to the citizen: the handover is theirs and its timeout starts again."""
    row = open_for(db, user_id, now, timeout) or request(db, user_id, "officer_wrote", now, timeout)
    db.conn.execute(
        "UPDATE handovers SET status = 'active', officer = ?, last_officer_at = ? WHERE id = ?",
        (officer, _iso(now), row["id"]),
    )
    return get(db, row["id"]) or row


def release(db: Store, handover_id: int, officer: str, now: dt.datetime) -> dict:
    row = get(db, handover_id)
    if row is None or row["status"] not in OPEN:
        raise HandoverError(f"handover {handover_id} is not open")
    db.conn.execute(
        "UPDATE handovers SET status = 'released', ended_at = ?, ended_by = ? WHERE id = ?",
        (_iso(now), officer, handover_id),
    )
    return get(db, handover_id) or row


def get(db: Store, handover_id: int) -> dict | None:
    return one(db, "SELECT * FROM handovers WHERE id = ?", (handover_id,))


def queue(db: Store, now: dt.datetime, timeout: dt.timedelta) -> list[dict]:
    """Open handovers, longest waiting first, then the 20 that ended last."""
    expire_stale(db, now, timeout)
    open_rows = rows(db, f"SELECT * FROM handovers WHERE {_OPEN} ORDER BY requested_at")
    ended = rows(db, f"SELECT * FROM handovers WHERE NOT {_OPEN} ORDER BY ended_at DESC LIMIT 20")
    return open_rows + ended


def conversation(db: Store, user_id: str, limit: int = 60) -> list[dict]:
    """The last messages between the citizen and the OA, oldest first.

    Each is {"at", "from": "citizen" | "oa", "text"}: what the citizen sent comes from the
    inbox, what the bot and officers sent from the outbox.
    """
    incoming = db.conn.execute(
        "SELECT received_at, event_name, payload FROM inbox WHERE user_id = ?"
        " AND event_name LIKE 'user_send_%' ORDER BY received_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    outgoing = db.conn.execute(
        "SELECT created_at, message, status FROM outbox WHERE user_id = ?"
        " ORDER BY created_at DESC LIMIT ?",
        (user_id, limit),
    ).fetchall()
    lines = [
        {"at": at, "from": "citizen", "text": _incoming_text(name, payload)}
        for at, name, payload in incoming
    ]
    lines += [
        {"at": at, "from": "oa", "text": _outgoing_text(message), "status": status}
        for at, message, status in outgoing
    ]
    return sorted(lines, key=lambda line: line["at"])[-limit:]


def _incoming_text(event_name: str, payload: str) -> str:
    message = json.loads(payload).get("message") or {}
    if event_name == "user_send_text":
        return str(message.get("text", ""))
    return f"[{event_name.removeprefix('user_send_')}]"


def _outgoing_text(message: str) -> str:
    body = json.loads(message)
    inner = body.get("message", body)
    text = str(inner.get("text") or inner.get("template_id") or "[…]")
    buttons = ((inner.get("attachment") or {}).get("payload") or {}).get("buttons") or []
    if buttons:
        text += "  [" + " | ".join(str(b.get("title", "")) for b in buttons) + "]"
    return text
