"""How long citizens' messages are kept (Decree 13/2023/NĐ-CP: no longer than needed).

After `CITIZENBOT_MESSAGE_RETENTION_DAYS` (90) days the message logs go: inbox events,
outbox messages and Rasa's tracker events (bot/storage/tracker_reader.py). Records officials
still report on stay without what identifies the citizen: closed feedback tickets lose
the citizen's text, photo, the answer and the user id; ratings lose the user id and the
comment; finished campaign deliveries lose the user id. Ended handovers, settled
reminders and settled dossier notifications are deleted. Pending inbox events, unsent
messages, tickets not closed yet, open handovers, scheduled reminders and unfinished
campaign runs are never touched.

Before a day's messages are deleted, what the reports count of them is kept per commune
day (`report_daily_figures`), and who wrote that day as a keyed pseudonym
(`report_daily_citizens`), so "citizens guided" stays exact over any range. The key is
kept in this database: pseudonyms are not anonymous, and forgetting a citizen removes
theirs (bot/storage/personal_data.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections import Counter
from dataclasses import dataclass, field

from bot.local_time import TIMEZONE
from bot.storage.sql import Store, write_transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS report_daily_figures (
    day TEXT NOT NULL,              -- commune date (Asia/Ho_Chi_Minh)
    figure TEXT NOT NULL,           -- messages_in | messages_out | notifications |
                                    -- campaign_messages | officer_messages | intent:<name>
    count INTEGER NOT NULL,
    PRIMARY KEY (day, figure)
);
CREATE TABLE IF NOT EXISTS report_daily_citizens (
    day TEXT NOT NULL,
    citizen TEXT NOT NULL,          -- keyed pseudonym of the Zalo user id (distinct counts)
    PRIMARY KEY (day, citizen)
);
CREATE INDEX IF NOT EXISTS report_daily_citizens_citizen ON report_daily_citizens(citizen);
CREATE TABLE IF NOT EXISTS retention_state (
    name TEXT PRIMARY KEY,          -- messages_archived_before | intents_archived_before |
                                    -- pseudonym_key
    value TEXT NOT NULL
);
"""

MESSAGES = "messages_archived_before"
INTENTS = "intents_archived_before"
KEY = "pseudonym_key"
INTENT = "intent:"
# Outbox keys: replies are "<event key>#<n>"; pushes carry their feature's prefix.
CAMPAIGN_PREFIX = "campaign:"
OFFICER_PREFIXES = ("feedback:", "handover:")
UNFINISHED_RUN = (
    "EXISTS (SELECT 1 FROM campaign_runs r WHERE r.status IN ('running', 'paused')"
    " AND outbox.idempotency_key LIKE 'campaign:' || r.id || ':%')"
)
# A user id replaced in a record kept for counts (unique: some tables key on it).
ANONYMOUS = "anonymous:"


def offset_seconds() -> int:
    """The commune's UTC offset (+07:00; Vietnam has no daylight saving time)."""
    offset = TIMEZONE.utcoffset(dt.datetime(2000, 1, 1))
    return int(offset.total_seconds()) if offset else 0


def local_day(stamp: str) -> str:
    """The commune's day (YYYY-MM-DD) of a stored UTC timestamp, computed here rather than
    in SQL (SQLite's date() and PostgreSQL's differ)."""
    moment = dt.datetime.fromisoformat(stamp) + dt.timedelta(seconds=offset_seconds())
    return moment.date().isoformat()


def start_of(day: dt.date) -> dt.datetime:
    """Midnight at the start of a commune day, in UTC."""
    return dt.datetime.combine(day, dt.time(), TIMEZONE).astimezone(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    """A moment as the database stores timestamps."""
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds")


def sent_kind(idempotency_key: str) -> str | None:
    """What a sent outbox message counts as in reports (None: a reply in a conversation)."""
    if idempotency_key.startswith(CAMPAIGN_PREFIX):
        return "campaign_messages"
    if idempotency_key.startswith(OFFICER_PREFIXES):
        return "officer_messages"
    if "#" not in idempotency_key:
        return "notifications"
    return None


# --- state ------------------------------------------------------------------------------


def _state(db: Store, name: str) -> str | None:
    row = db.conn.execute("SELECT value FROM retention_state WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def _set_state(db: Store, name: str, value: str) -> None:
    db.conn.execute(
        "INSERT INTO retention_state (name, value) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def archived_before(db: Store, name: str) -> dt.date | None:
    """The first commune day whose figures are still counted from the raw rows."""
    value = _state(db, name)
    return dt.date.fromisoformat(value) if value else None


def pseudonym_key(db: Store, create: bool = False) -> bytes | None:
    if _state(db, KEY) is None and create:
        db.conn.execute(
            "INSERT INTO retention_state (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (KEY, secrets.token_hex(32)),
        )
    value = _state(db, KEY)
    return bytes.fromhex(value) if value else None


def pseudonym(key: bytes, user_id: str) -> str:
    return hmac.new(key, user_id.encode(), hashlib.sha256).hexdigest()[:32]


# --- keeping the figures ------------------------------------------------------------------


def archive_messages(db: Store, before: dt.date) -> int:
    """Count the inbox and outbox rows of the days not archived yet before `before` into
    the daily figures, and move the mark; how many days. One transaction: a figure is
    counted once even if the purge stops halfway."""
    with write_transaction(db):
        since = archived_before(db, MESSAGES)
        if since is not None and since >= before:
            return 0
        low = iso(start_of(since)) if since else ""
        high = iso(start_of(before))
        key = pseudonym_key(db, create=True)
        assert key is not None
        figures: Counter[tuple[str, str]] = Counter()
        citizens: set[tuple[str, str]] = set()
        incoming = db.conn.execute(
            "SELECT received_at, user_id FROM inbox WHERE event_name LIKE 'user_send_%'"
            " AND received_at >= ? AND received_at < ?",
            (low, high),
        )
        for received_at, user_id in incoming:
            day = local_day(received_at)
            figures[(day, "messages_in")] += 1
            if user_id:
                citizens.add((day, pseudonym(key, user_id)))
        sent = db.conn.execute(
            "SELECT created_at, idempotency_key FROM outbox WHERE status = 'sent'"
            " AND created_at >= ? AND created_at < ?",
            (low, high),
        )
        for created_at, idempotency_key in sent:
            day = local_day(created_at)
            figures[(day, "messages_out")] += 1
            if kind := sent_kind(idempotency_key):
                figures[(day, kind)] += 1
        _add_figures(db, figures)
        db.conn.executemany(
            "INSERT INTO report_daily_citizens (day, citizen) VALUES (?, ?) ON CONFLICT DO NOTHING",
            citizens,
        )
        _set_state(db, MESSAGES, before.isoformat())
    return len({day for day, _ in figures})


def archive_intents(
    db: Store,
    since: dt.date | None,
    before: dt.date,
    counts: list[tuple[str, str, int]],
) -> bool:
    """Keep the intent counts read from the tracker store for [since, before) and move the
    mark; False (nothing kept) when another purge moved it meanwhile."""
    with write_transaction(db):
        if archived_before(db, INTENTS) != since:
            return False
        _add_figures(db, Counter({(day, INTENT + intent): n for day, intent, n in counts}))
        _set_state(db, INTENTS, before.isoformat())
    return True


def _add_figures(db: Store, figures: Counter[tuple[str, str]]) -> None:
    db.conn.executemany(
        "INSERT INTO report_daily_figures (day, figure, count) VALUES (?, ?, ?)"
        " ON CONFLICT(day, figure) DO UPDATE"
        " SET count = report_daily_figures.count + excluded.count",
        [(day, figure, count) for (day, figure), count in figures.items()],
    )


# --- removing what was counted -------------------------------------------------------------

# What the purge does to each table, for the CLI's report.
EFFECTS = {
    "inbox": "events deleted",
    "outbox": "messages deleted",
    "tracker_events": "conversation events deleted (Rasa's tracker store)",
    "feedback_tickets": "closed tickets made anonymous (text, photo, answer, user id)",
    "ratings": "ratings made anonymous (user id, comment)",
    "handovers": "ended handovers deleted",
    "reminders": "settled reminders deleted",
    "dossier_notifications": "settled notifications deleted",
    "campaign_deliveries": "finished deliveries made anonymous (user id)",
}
_INBOX = "FROM inbox WHERE received_at < ? AND status != 'pending'"
_OUTBOX = f"FROM outbox WHERE created_at < ? AND status != 'pending' AND NOT {UNFINISHED_RUN}"


def delete_archived_messages(db: Store, table: str, limit: int = 2000) -> int:
    """Delete up to `limit` settled rows of `inbox` or `outbox` from before the archived
    days (a batch: the service's other writes run between batches)."""
    since = archived_before(db, MESSAGES)
    if since is None:
        return 0
    where = {"inbox": _INBOX, "outbox": _OUTBOX}[table]
    cursor = db.conn.execute(
        f"DELETE FROM {table} WHERE rowid IN (SELECT rowid {where} LIMIT ?)",
        (iso(start_of(since)), limit),
    )
    return cursor.rowcount


def count_messages(db: Store, before: dt.datetime) -> dict[str, int]:
    """How many inbox and outbox rows a purge up to `before` would delete."""
    return {
        table: db.conn.execute(f"SELECT COUNT(*) {where}", (iso(before),)).fetchone()[0]
        for table, where in (("inbox", _INBOX), ("outbox", _OUTBOX))
    }


_RECORDS = {
    "feedback_tickets": (
        "FROM feedback_tickets WHERE status = 'closed' AND closed_at < :before"
        " AND (user_id != '' OR description != '' OR photo_url IS NOT NULL"
        " OR answer IS NOT NULL)"
    ),
    "ratings": (
        "FROM ratings WHERE created_at < :before AND (user_id != '' OR comment IS NOT NULL)"
    ),
    "handovers": "FROM handovers WHERE status IN ('released', 'expired') AND ended_at < :before",
    "reminders": "FROM reminders WHERE status != 'scheduled' AND updated_at < :before",
    "dossier_notifications": (
        "FROM dossier_notifications WHERE status != 'pending' AND updated_at < :before"
    ),
    "campaign_deliveries": (
        f"FROM campaign_deliveries WHERE updated_at < :before AND user_id NOT LIKE '{ANONYMOUS}%'"
        " AND status NOT IN ('queued', 'sending') AND run_id IN"
        " (SELECT id FROM campaign_runs WHERE status NOT IN ('running', 'paused'))"
    ),
}


def purge_records(db: Store, before: dt.datetime, dry_run: bool = False) -> dict[str, int]:
    """Anonymise or delete the per-citizen records older than `before` (see the module's
    docstring); how many rows of each table (would) change."""
    args = {"before": iso(before)}
    changed: dict[str, int] = {}
    with write_transaction(db):
        for table, where in _RECORDS.items():
            rowids = [row[0] for row in db.conn.execute(f"SELECT rowid {where}", args)]
            changed[table] = len(rowids)
            if dry_run or not rowids:
                continue
            marks = ", ".join("?" for _ in rowids)
            if table == "feedback_tickets":
                db.conn.execute(
                    "UPDATE feedback_tickets SET user_id = '', description = '', photo_url = NULL,"
                    f" answer = NULL WHERE rowid IN ({marks})",
                    rowids,
                )
                db.conn.execute(
                    f"UPDATE feedback_history SET note = NULL WHERE ticket_id IN ({marks})", rowids
                )
            elif table == "ratings":
                db.conn.execute(
                    f"UPDATE ratings SET user_id = '', comment = NULL WHERE rowid IN ({marks})",
                    rowids,
                )
            elif table == "campaign_deliveries":
                db.conn.execute(
                    f"UPDATE campaign_deliveries SET user_id = '{ANONYMOUS}' || rowid"
                    f" WHERE rowid IN ({marks})",
                    rowids,
                )
            else:
                db.conn.execute(f"DELETE FROM {table} WHERE rowid IN ({marks})", rowids)
    return changed


# --- reading the figures back (reports) ----------------------------------------------------


@dataclass
class Archive:
    """The kept figures of a date range: days before `messages_before` (and, for intents,
    `intents_before`) are counted from here, later days from the raw rows."""

    messages_before: dt.date | None = None
    intents_before: dt.date | None = None
    figures: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    citizens: dict[dt.date, set[str]] = field(default_factory=dict)
    key: bytes | None = None  # pseudonymises the raw rows' user ids the same way

    def citizen(self, user_id: str) -> str:
        return pseudonym(self.key, user_id) if self.key else user_id

    def intents(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (_day, figure), count in self.figures.items():
            if figure.startswith(INTENT):
                counts[figure.removeprefix(INTENT)] += count
        return counts


def archive(db: Store, start: dt.date, end: dt.date) -> Archive:
    kept = Archive(archived_before(db, MESSAGES), archived_before(db, INTENTS))
    kept.key = pseudonym_key(db)
    span = (start.isoformat(), end.isoformat())
    for day, figure, count in db.conn.execute(
        "SELECT day, figure, count FROM report_daily_figures WHERE day >= ? AND day <= ?", span
    ):
        kept.figures[(dt.date.fromisoformat(day), figure)] = count
    for day, citizen in db.conn.execute(
        "SELECT day, citizen FROM report_daily_citizens WHERE day >= ? AND day <= ?", span
    ):
        kept.citizens.setdefault(dt.date.fromisoformat(day), set()).add(citizen)
    return kept
