"""Everything the service's database holds about one citizen (a Zalo user id): exported on
their request, or forgotten (Decree 13/2023/NĐ-CP; Zalo's `user_withdraw` event).

Forgetting deletes the citizen's rows. Three kinds of record are kept for the reports
officials file, without the citizen: feedback tickets (counts, dates; the citizen's text,
photo, the answer and the user id go, and an open ticket is closed), satisfaction ratings
(the score; the user id and comment go) and campaign deliveries (the status; the user id
goes). Rasa's tracker store is the other file (bot/storage/tracker_reader.py).
"""

from __future__ import annotations

import json
from typing import Any

from bot.storage import retention
from bot.storage.sql import Store, write_transaction
from bot.storage.timestamps import utc_now

# Tables whose rows of the citizen are deleted outright (table, column holding the user id).
DELETED = (
    ("inbox", "user_id"),
    ("outbox", "user_id"),
    ("users", "user_id"),
    ("forms_of_address", "user_id"),
    ("handovers", "user_id"),
    ("reminders", "user_id"),
    ("campaign_optouts", "user_id"),
    ("user_tags", "user_id"),
    ("topic_subscriptions", "user_id"),
    ("dossier_subscriptions", "user_id"),
    ("dossier_verifications", "user_id"),
    ("dossier_notifications", "user_id"),
    ("user_shared_phones", "user_id"),
)
# Tables whose rows of the citizen stay, anonymised, for the reports' counts.
ANONYMISED = ("feedback_tickets", "ratings", "campaign_deliveries")
CLOSED_BY = "data-deletion request"


def _rows(db: Store, sql: str, args: tuple = ()) -> list[dict[str, Any]]:
    cursor = db.conn.execute(sql, args)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _json(value: str | None) -> Any:
    try:
        return json.loads(value) if value else value
    except json.JSONDecodeError:
        return value


def export(db: Store, user_id: str) -> dict[str, Any]:
    """Every row about `user_id`, by table. Officers' names, other citizens' data, tokens
    and keys are left out; a phone is only what is stored of it (a keyed hash)."""
    one = (user_id,)
    tickets = _rows(
        db,
        "SELECT id, topic, description, photo_url, status, created_at, due_at, updated_at,"
        " answer, answered_at, answer_delivery, closed_at FROM feedback_tickets"
        " WHERE user_id = ? ORDER BY id",
        one,
    )
    for ticket in tickets:
        ticket["history"] = _rows(
            db,
            "SELECT at, status FROM feedback_history WHERE ticket_id = ? ORDER BY at, rowid",
            (ticket["id"],),
        )
    inbox = _rows(
        db,
        "SELECT key, event_name, received_at, status, payload FROM inbox WHERE user_id = ?"
        " ORDER BY received_at, rowid",
        one,
    )
    outbox = _rows(
        db,
        "SELECT created_at, updated_at, endpoint, message, status, error_code, error_message"
        " FROM outbox WHERE user_id = ? ORDER BY created_at, rowid",
        one,
    )
    for row in inbox:
        row["payload"] = _json(row["payload"])
    for row in outbox:
        row["message"] = _json(row["message"])
    key = retention.pseudonym_key(db)
    verified = _rows(
        db,
        "SELECT d.code, d.procedure, d.status, d.status_at FROM dossiers d JOIN"
        " dossier_verifications v ON v.code = d.code WHERE v.user_id = ?"
        " AND v.verified_at IS NOT NULL ORDER BY d.code",
        one,
    )
    return {
        "users": _rows(db, "SELECT * FROM users WHERE user_id = ?", one),
        "forms_of_address": _rows(
            db, "SELECT citizen, assistant, said_at FROM forms_of_address WHERE user_id = ?", one
        ),
        "inbox": inbox,
        "outbox": outbox,
        "feedback_tickets": tickets,
        "handovers": _rows(
            db,
            "SELECT id, reason, status, requested_at, last_officer_at, ended_at FROM handovers"
            " WHERE user_id = ? ORDER BY id",
            one,
        ),
        "ratings": _rows(
            db,
            "SELECT score, subject, comment, created_at FROM ratings WHERE user_id = ? ORDER BY id",
            one,
        ),
        "reminders": _rows(
            db,
            "SELECT id, kind, subject, remind_at, due_on, dossier_code, status, created_at,"
            " updated_at FROM reminders WHERE user_id = ? ORDER BY id",
            one,
        ),
        "campaign_deliveries": _rows(
            db,
            "SELECT r.campaign_id, d.run_id, r.started_at, d.status, d.reason, d.channel,"
            " d.updated_at FROM campaign_deliveries d JOIN campaign_runs r ON r.id = d.run_id"
            " WHERE d.user_id = ? ORDER BY d.run_id",
            one,
        ),
        "campaign_optouts": _rows(
            db, "SELECT opted_out_at FROM campaign_optouts WHERE user_id = ?", one
        ),
        "user_tags": _rows(
            db, "SELECT tag, tagged_at FROM user_tags WHERE user_id = ? ORDER BY tag", one
        ),
        "topic_subscriptions": _rows(
            db,
            "SELECT topic, subscribed_at FROM topic_subscriptions WHERE user_id = ? ORDER BY topic",
            one,
        ),
        "dossier_subscriptions": _rows(
            db,
            "SELECT code, created_at FROM dossier_subscriptions WHERE user_id = ? ORDER BY code",
            one,
        ),
        "dossier_verifications": _rows(
            db,
            "SELECT code, failures, locked_until, verified_at FROM dossier_verifications"
            " WHERE user_id = ? ORDER BY code",
            one,
        ),
        # Only the dossiers the citizen proved to own, as the chat shows them.
        "dossiers": verified,
        "dossier_notifications": _rows(
            db,
            "SELECT code, status, channel, error_code, created_at, updated_at"
            " FROM dossier_notifications WHERE user_id = ? ORDER BY created_at",
            one,
        ),
        "user_shared_phones": _rows(
            db,
            "SELECT phone_hash AS phone_keyed_hash, shared_at FROM user_shared_phones"
            " WHERE user_id = ?",
            one,
        ),
        "report_daily_citizens": []
        if key is None
        else _rows(
            db,
            "SELECT day FROM report_daily_citizens WHERE citizen = ? ORDER BY day",
            (retention.pseudonym(key, user_id),),
        ),
    }


def forget(db: Store, user_id: str, dry_run: bool = False) -> dict[str, int]:
    """Delete or anonymise every row about `user_id` in one transaction; how many rows of
    each table (would) change. Running it again changes nothing."""
    one = (user_id,)
    changed: dict[str, int] = {}
    with write_transaction(db):
        tickets = db.conn.execute("SELECT id FROM feedback_tickets WHERE user_id = ?", one)
        ticket_ids = [ticket_id for (ticket_id,) in tickets]
        changed["feedback_tickets"] = len(ticket_ids)
        for table in ("ratings", "campaign_deliveries"):
            changed[table] = _count(db, table, "user_id", user_id)
        for table, column in DELETED:
            changed[table] = _count(db, table, column, user_id)
        key = retention.pseudonym_key(db)
        citizen = retention.pseudonym(key, user_id) if key else None
        changed["report_daily_citizens"] = (
            _count(db, "report_daily_citizens", "citizen", citizen) if citizen else 0
        )
        if dry_run:
            return changed
        _anonymise_tickets(db, ticket_ids)
        db.conn.execute("UPDATE ratings SET user_id = '', comment = NULL WHERE user_id = ?", one)
        # A recipient still queued in a running campaign is skipped; one on the wire when
        # the data went is in doubt: neither is sent (again) to a user id that is gone.
        db.conn.execute(
            "UPDATE campaign_deliveries SET status = CASE status WHEN 'queued' THEN 'skipped'"
            " WHEN 'sending' THEN 'in_doubt' ELSE status END, reason = CASE status"
            " WHEN 'queued' THEN 'forgotten' ELSE reason END,"
            f" user_id = '{retention.ANONYMOUS}' || rowid WHERE user_id = ?",
            one,
        )
        for table, column in DELETED:
            db.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", one)
        if citizen:
            db.conn.execute("DELETE FROM report_daily_citizens WHERE citizen = ?", (citizen,))
    return changed


def _count(db: Store, table: str, column: str, value: str) -> int:
    row = db.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (value,))
    return row.fetchone()[0]


def _anonymise_tickets(db: Store, ticket_ids: list[int]) -> None:
    """Keep the tickets for the counts, without the citizen; an open one is closed (nobody
    could be answered any more)."""
    now = utc_now()
    for ticket_id in ticket_ids:
        status = db.conn.execute(
            "SELECT status FROM feedback_tickets WHERE id = ?", (ticket_id,)
        ).fetchone()[0]
        if status != "closed":
            db.conn.execute(
                "UPDATE feedback_tickets SET status = 'closed', closed_at = ?, closed_by = ?,"
                " updated_at = ? WHERE id = ?",
                (now, CLOSED_BY, now, ticket_id),
            )
            db.conn.execute(
                "INSERT INTO feedback_history (ticket_id, at, status, officer, note)"
                " VALUES (?, ?, 'closed', NULL, ?)",
                (ticket_id, now, CLOSED_BY),
            )
        db.conn.execute(
            "UPDATE feedback_tickets SET user_id = '', description = '', photo_url = NULL,"
            " answer = NULL WHERE id = ?",
            (ticket_id,),
        )
        db.conn.execute(
            "UPDATE feedback_history SET note = NULL WHERE ticket_id = ? AND note != ?",
            (ticket_id, CLOSED_BY),
        )
