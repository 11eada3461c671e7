"""Citizens' feedback tickets (phản ánh, kiến nghị) and their lifecycle.

received → in_progress → answered → closed, each step with its time and the officer who
took it (feedback_history). A ticket is due a number of working days after it arrived.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.local_time import TIMEZONE
from bot.storage.sql import Store, insert_returning_id, one, rows
from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback_tickets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,   -- the ticket number is PA-<id>
    user_id TEXT NOT NULL,
    topic TEXT NOT NULL,                    -- procedure | attitude | online_system | other
    description TEXT NOT NULL,
    photo_url TEXT,
    status TEXT NOT NULL,                   -- received | in_progress | answered | closed
    created_at TEXT NOT NULL,
    due_at TEXT NOT NULL,                   -- created_at + the SLA in working days
    updated_at TEXT NOT NULL,
    answer TEXT,
    answered_at TEXT,
    answered_by TEXT,
    answer_delivery TEXT,                   -- what the push of the answer did: sent | ...
    closed_at TEXT,
    closed_by TEXT
);
CREATE INDEX IF NOT EXISTS feedback_tickets_status ON feedback_tickets(status, created_at);

CREATE TABLE IF NOT EXISTS feedback_history (
    ticket_id INTEGER NOT NULL REFERENCES feedback_tickets(id),
    at TEXT NOT NULL,
    status TEXT NOT NULL,
    officer TEXT,                           -- NULL when the citizen did it (received)
    note TEXT
);
CREATE INDEX IF NOT EXISTS feedback_history_ticket ON feedback_history(ticket_id, at);
"""

TOPICS = ("procedure", "attitude", "online_system", "other")
STATUSES = ("received", "in_progress", "answered", "closed")
OPEN = ("received", "in_progress")
# Which status each officer action may start from.
ALLOWED_FROM = {
    "in_progress": ("received",),
    "answered": ("received", "in_progress"),
    "closed": ("received", "in_progress", "answered"),
}


class FeedbackError(ValueError):
    """An officer asked for a change the ticket's state does not allow. `reason` says which
    refusal it is and `values` its particulars: the dashboard words it for officers
    (content/admin.yml, feedback.refusals); the message is for logs."""

    def __init__(self, reason: str, message: str, **values: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.values = values


def number(ticket_id: int) -> str:
    return f"PA-{ticket_id:05d}"


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """`days` working days (Monday to Friday, commune time) after `start`.

    Public holidays are not counted out: officers see the due date and judge.
    """
    local = start.astimezone(TIMEZONE)
    while days > 0:
        local += dt.timedelta(days=1)
        if local.weekday() < 5:
            days -= 1
    return local.astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class NewTicket:
    id: int
    number: str
    due_at: dt.datetime


def create(
    db: Store,
    user_id: str,
    topic: str,
    description: str,
    photo_url: str | None,
    sla_days: int,
) -> NewTicket:
    if topic not in TOPICS:
        raise ValueError(f"unknown feedback topic {topic!r}")  # the form offers only TOPICS
    now = dt.datetime.now(dt.timezone.utc)
    due = add_working_days(now, sla_days)
    stamp = utc_now()
    with db.conn:
        ticket_id = insert_returning_id(
            db,
            "INSERT INTO feedback_tickets (user_id, topic, description, photo_url, status,"
            " created_at, due_at, updated_at) VALUES (?, ?, ?, ?, 'received', ?, ?, ?)",
            (user_id, topic, description, photo_url, stamp, _iso(due), stamp),
        )
        assert ticket_id is not None
        _history(db, ticket_id, stamp, "received", None, None)
    return NewTicket(ticket_id, number(ticket_id), due)


def get(db: Store, ticket_id: int) -> dict | None:
    return one(db, "SELECT * FROM feedback_tickets WHERE id = ?", (ticket_id,))


def history(db: Store, ticket_id: int) -> list[dict]:
    return rows(
        db, "SELECT * FROM feedback_history WHERE ticket_id = ? ORDER BY at, rowid", (ticket_id,)
    )


def queue(db: Store, status: str = "", limit: int = 200) -> list[dict]:
    """Tickets, open ones first and oldest due first; `status` narrows to one status."""
    where, args = ("WHERE status = ?", [status]) if status else ("", [])
    order = "status IN ('answered', 'closed'), due_at, id"
    return rows(
        db, f"SELECT * FROM feedback_tickets {where} ORDER BY {order} LIMIT ?", [*args, limit]
    )


def is_overdue(ticket: dict, now: dt.datetime) -> bool:
    """Still open past its due time."""
    return ticket["status"] in OPEN and dt.datetime.fromisoformat(ticket["due_at"]) < now


def move(
    db: Store,
    ticket_id: int,
    status: str,
    officer: str,
    answer: str | None = None,
    note: str | None = None,
) -> dict:
    """Take (in_progress), answer or close a ticket; raises FeedbackError when not allowed."""
    ticket = get(db, ticket_id)
    if ticket is None:
        raise FeedbackError("no_ticket", f"no ticket {number(ticket_id)}", number=number(ticket_id))
    if ticket["status"] not in ALLOWED_FROM.get(status, ()):
        raise FeedbackError(
            "not_from_status",
            f"ticket {number(ticket_id)} is {ticket['status']}: it cannot become {status}",
            current=ticket["status"],
            wanted=status,
        )
    if status == "answered" and not (answer or "").strip():
        raise FeedbackError("empty_answer", "the answer is empty")
    stamp = utc_now()
    columns = {"status": status, "updated_at": stamp}
    if status == "answered":
        columns.update(answer=(answer or "").strip(), answered_at=stamp, answered_by=officer)
    elif status == "closed":
        columns.update(closed_at=stamp, closed_by=officer)
    with db.conn:
        _update(db, ticket_id, columns)
        _history(db, ticket_id, stamp, status, officer, note)
    return get(db, ticket_id) or ticket


def answer_delivered(db: Store, ticket_id: int, delivery: str) -> None:
    _update(db, ticket_id, {"answer_delivery": delivery})


def _update(db: Store, ticket_id: int, columns: dict[str, Any]) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    db.conn.execute(
        f"UPDATE feedback_tickets SET {assignments} WHERE id = ?", [*columns.values(), ticket_id]
    )


def _history(
    db: Store,
    ticket_id: int,
    at: str,
    status: str,
    officer: str | None,
    note: str | None,
) -> None:
    db.conn.execute(
        "INSERT INTO feedback_history (ticket_id, at, status, officer, note)"
        " VALUES (?, ?, ?, ?, ?)",
        (ticket_id, at, status, officer, note),
    )


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")
