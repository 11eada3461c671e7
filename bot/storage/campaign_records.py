"""Campaign runs and their deliveries, citizens' opt-outs, tags and topic subscriptions.

A run snapshots its audience as `queued` deliveries. Each delivery is claimed (`sending`)
before its message goes out and settled after, so a run resumes where it stopped and a
recipient claimed when the process died is never sent to twice (`in_doubt` instead).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from bot.storage.sql import Store, insert_returning_id, is_postgres, one, rows
from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign_runs (
    id INTEGER PRIMARY KEY,
    campaign_id TEXT NOT NULL,
    started_at TEXT NOT NULL,      -- when the schedule fired (missed: when it should have)
    finished_at TEXT,
    -- running | paused | done | cancelled | stopped (quota) | missed | skipped (overlap)
    status TEXT NOT NULL,
    resume_at TEXT,                -- paused: when sending starts again
    message TEXT NOT NULL,         -- the OA message as rendered at the start (JSON)
    template TEXT,                 -- the ZBS template for users beyond 7 days (JSON) or NULL
    note TEXT
);
CREATE INDEX IF NOT EXISTS campaign_runs_campaign ON campaign_runs(campaign_id, id);

CREATE TABLE IF NOT EXISTS campaign_deliveries (
    run_id INTEGER NOT NULL,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,          -- queued | sending | sent | failed | skipped | in_doubt
    reason TEXT,                   -- skipped: opted_out, not_following, outside_7_day_window…
    channel TEXT,                  -- consultation | zbs_template
    error_code INTEGER,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (run_id, user_id)
);
CREATE INDEX IF NOT EXISTS campaign_deliveries_status ON campaign_deliveries(run_id, status);

CREATE TABLE IF NOT EXISTS campaign_optouts (
    user_id TEXT PRIMARY KEY,
    opted_out_at TEXT NOT NULL
);

-- The OA's tags (officers tag citizens in Zalo's OA manager), as last listed from Zalo.
CREATE TABLE IF NOT EXISTS user_tags (
    user_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    tagged_at TEXT NOT NULL,       -- when the listing that found it was taken
    PRIMARY KEY (tag, user_id)
);
CREATE TABLE IF NOT EXISTS tag_listings (
    tag TEXT PRIMARY KEY,
    listed_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS topic_subscriptions (
    user_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    subscribed_at TEXT NOT NULL,
    PRIMARY KEY (topic, user_id)
);
"""

UNFINISHED = ("running", "paused")
# The audience kinds a campaign may name, and the query that lists each one's user ids.
AUDIENCE_QUERIES = {
    "all_followers": (
        "SELECT user_id FROM users WHERE followed = 1 AND last_interaction_at IS NOT NULL"
        " ORDER BY first_seen_at, user_id"
    ),
    "tag": "SELECT user_id FROM user_tags WHERE tag = ? ORDER BY rowid",  # Zalo's order
    "topic": (
        "SELECT user_id FROM topic_subscriptions WHERE topic = ? ORDER BY subscribed_at, user_id"
    ),
}


# --- citizens' choices -----------------------------------------------------------------


def opt_out(db: Store, user_id: str) -> bool:
    """No more campaign messages for this user; False when they had opted out already."""
    cursor = db.conn.execute(
        "INSERT INTO campaign_optouts (user_id, opted_out_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (user_id, utc_now()),
    )
    return cursor.rowcount == 1


def opt_in(db: Store, user_id: str) -> None:
    """The citizen asked for the OA's news again after an opt-out."""
    db.conn.execute("DELETE FROM campaign_optouts WHERE user_id = ?", (user_id,))


def opted_out(db: Store, user_id: str) -> bool:
    row = db.conn.execute("SELECT 1 FROM campaign_optouts WHERE user_id = ?", (user_id,))
    return row.fetchone() is not None


def subscribe_topic(db: Store, user_id: str, topic: str) -> None:
    """The citizen asked for this topic's news: an explicit yes, so it lifts an opt-out."""
    with db.conn:
        db.conn.execute(
            "INSERT INTO topic_subscriptions (user_id, topic, subscribed_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, topic, utc_now()),
        )
        opt_in(db, user_id)


def record_tag_listing(db: Store, tag: str, user_ids: list[str]) -> None:
    """Replace what is known of `tag` with a fresh listing from Zalo, in one transaction."""
    now = utc_now()
    with db.conn:
        db.conn.execute("DELETE FROM user_tags WHERE tag = ?", (tag,))
        db.conn.executemany(
            "INSERT INTO user_tags (user_id, tag, tagged_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            ((user_id, tag, now) for user_id in user_ids),
        )
        db.conn.execute(
            "INSERT INTO tag_listings (tag, listed_at) VALUES (?, ?)"
            " ON CONFLICT (tag) DO UPDATE SET listed_at = excluded.listed_at",
            (tag, now),
        )


def tag_listed_at(db: Store, tag: str) -> str | None:
    """When `tag`'s members were last listed from Zalo (None: never)."""
    row = db.conn.execute("SELECT listed_at FROM tag_listings WHERE tag = ?", (tag,)).fetchone()
    return row[0] if row else None


# --- audiences -------------------------------------------------------------------------


def audience(db: Store, kind: str, value: Any) -> list[str]:
    """The user ids of an audience, in the order a run sends to them."""
    if kind == "users":
        return list(value)
    args = () if kind == "all_followers" else (value,)
    return [user_id for (user_id,) in db.conn.execute(AUDIENCE_QUERIES[kind], args)]


def recipient_states(db: Store, user_ids: list[str]) -> Iterator[tuple[dict | None, bool]]:
    """(users row or None, opted out) for each id: what the preview sorts into skip reasons."""
    for user_id in user_ids:
        user = db.conn.execute(
            "SELECT followed, last_interaction_at FROM users WHERE user_id = ?", (user_id,)
        ).fetchone()
        state = None if user is None else {"followed": user[0], "last_interaction_at": user[1]}
        yield state, opted_out(db, user_id)


# --- runs ------------------------------------------------------------------------------


def start_run(
    db: Store,
    campaign_id: str,
    started_at: str,
    message: dict[str, Any],
    template: dict[str, Any] | None,
    audience_kind: str,
    audience_value: Any,
) -> int | None:
    """Create a run with its whole audience queued, in one transaction; None (and a
    `skipped` run on record) when the campaign still has an unfinished run."""
    encoded = json.dumps(message, ensure_ascii=False)
    with db.conn:
        if unfinished_run(db, campaign_id) is not None:
            db.conn.execute(
                "INSERT INTO campaign_runs (campaign_id, started_at, finished_at, status,"
                " message, note) VALUES (?, ?, ?, 'skipped', ?, ?)",
                (campaign_id, started_at, started_at, encoded, "the previous run had not finished"),
            )
            return None
        run_id = insert_returning_id(
            db,
            "INSERT INTO campaign_runs (campaign_id, started_at, status, message, template)"
            " VALUES (?, ?, 'running', ?, ?)",
            (
                campaign_id,
                started_at,
                encoded,
                json.dumps(template, ensure_ascii=False) if template else None,
            ),
        )
        now = utc_now()
        if audience_kind == "users":
            db.conn.executemany(
                "INSERT INTO campaign_deliveries (run_id, user_id, status, updated_at)"
                " VALUES (?, ?, 'queued', ?) ON CONFLICT DO NOTHING",
                ((run_id, user_id, now) for user_id in audience_value),
            )
        else:
            args = () if audience_kind == "all_followers" else (audience_value,)
            db.conn.execute(
                "INSERT INTO campaign_deliveries (run_id, user_id, status, updated_at)"
                f" SELECT ?, user_id, 'queued', ? FROM ({AUDIENCE_QUERIES[audience_kind]})"
                " AS audience WHERE true ON CONFLICT DO NOTHING",  # WHERE: SQLite's parser
                (run_id, now, *args),
            )
    return run_id


def record_missed(db: Store, campaign_id: str, scheduled_at: str) -> None:
    """A firing the service missed by more than the misfire grace time (it was down)."""
    db.conn.execute(
        "INSERT INTO campaign_runs (campaign_id, started_at, finished_at, status, message, note)"
        " VALUES (?, ?, ?, 'missed', '{}', 'the service was not running at that time')",
        (campaign_id, scheduled_at, utc_now()),
    )


def unfinished_run(db: Store, campaign_id: str) -> int | None:
    row = db.conn.execute(
        "SELECT id FROM campaign_runs WHERE campaign_id = ? AND status IN (?, ?)",
        (campaign_id, *UNFINISHED),
    ).fetchone()
    return row[0] if row else None


def unfinished_campaigns(db: Store) -> set[str]:
    rows = db.conn.execute(
        "SELECT DISTINCT campaign_id FROM campaign_runs WHERE status IN (?, ?)", UNFINISHED
    )
    return {campaign_id for (campaign_id,) in rows}


def get_run(db: Store, run_id: int) -> dict[str, Any] | None:
    run = one(db, "SELECT * FROM campaign_runs WHERE id = ?", (run_id,))
    if run is None:
        return None
    run["message"] = json.loads(run["message"])
    run["template"] = json.loads(run["template"]) if run["template"] else None
    return run


def runs_with_status(db: Store, status: str) -> list[int]:
    rows = db.conn.execute("SELECT id FROM campaign_runs WHERE status = ? ORDER BY id", (status,))
    return [run_id for (run_id,) in rows]


def runs_of(db: Store, campaign_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The latest runs of a campaign, newest first, without their message."""
    return rows(
        db,
        "SELECT id, campaign_id, started_at, finished_at, status, resume_at, note"
        " FROM campaign_runs WHERE campaign_id = ? ORDER BY id DESC LIMIT ?",
        (campaign_id, limit),
    )


def set_run_status(
    db: Store,
    run_id: int,
    status: str,
    resume_at: str | None = None,
    note: str | None = None,
) -> None:
    finished = utc_now() if status not in UNFINISHED else None
    db.conn.execute(
        "UPDATE campaign_runs SET status = ?, resume_at = ?, finished_at = ?,"
        " note = COALESCE(?, note) WHERE id = ?",
        (status, resume_at, finished, note, run_id),
    )


def cancel_runs(db: Store, campaign_id: str, note: str) -> int:
    """Stop the unfinished runs of a campaign officers removed or disabled."""
    cursor = db.conn.execute(
        "UPDATE campaign_runs SET status = 'cancelled', finished_at = ?, note = ?"
        " WHERE campaign_id = ? AND status IN (?, ?)",
        (utc_now(), note, campaign_id, *UNFINISHED),
    )
    return cursor.rowcount


def run_status(db: Store, run_id: int) -> str | None:
    row = db.conn.execute("SELECT status FROM campaign_runs WHERE id = ?", (run_id,)).fetchone()
    return row[0] if row else None


# --- deliveries ------------------------------------------------------------------------


def reconcile_sending(db: Store, run_id: int, key_prefix: str) -> int:
    """After a crash, settle the recipients claimed but not settled from the outbox (keys
    `key_prefix + user_id`, a ZBS send adding ":zbs"): recorded as sent there → sent; begun
    and unanswered → `in_doubt`, never sent again (at most once); never begun, or refused
    by Zalo → queued again. Returns how many of the run's recipients are in doubt."""
    now = utc_now()
    outcome = (
        "(SELECT CASE WHEN COUNT(CASE WHEN o.status = 'sent' THEN 1 END) > 0 THEN 'sent'"
        " WHEN COUNT(CASE WHEN o.status = 'pending' THEN 1 END) > 0 THEN 'in_doubt'"
        " ELSE 'queued' END"
        " FROM outbox AS o WHERE o.idempotency_key IN"
        " (? || campaign_deliveries.user_id, ? || campaign_deliveries.user_id || ':zbs'))"
    )
    channel = (
        "(SELECT CASE WHEN o.endpoint LIKE '%template' THEN 'zbs_template' ELSE 'consultation'"
        " END FROM outbox AS o WHERE o.status = 'sent' AND o.idempotency_key IN"
        " (? || campaign_deliveries.user_id, ? || campaign_deliveries.user_id || ':zbs'))"
    )
    with db.conn:
        db.conn.execute(
            f"UPDATE campaign_deliveries SET status = COALESCE({outcome}, 'queued'),"
            f" channel = {channel}, updated_at = ? WHERE run_id = ? AND status = 'sending'",
            (key_prefix, key_prefix, key_prefix, key_prefix, now, run_id),
        )
        row = db.conn.execute(
            "SELECT COUNT(*) FROM campaign_deliveries WHERE run_id = ? AND status = 'in_doubt'",
            (run_id,),
        ).fetchone()
    return row[0]


def queued(db: Store, run_id: int, after_rowid: int, limit: int) -> list[tuple]:
    """The next (rowid, user_id) still to send, in audience order."""
    return db.conn.execute(
        "SELECT rowid, user_id FROM campaign_deliveries WHERE run_id = ? AND status = 'queued'"
        " AND rowid > ? ORDER BY rowid LIMIT ?",
        (run_id, after_rowid, limit),
    ).fetchall()


def claim(db: Store, run_id: int, user_id: str) -> bool:
    """Take one recipient for sending, unless they opted out (recorded as skipped) or another
    sender took them. Checked at send time, so an opt-out mid-run is honoured."""
    now = utc_now()
    with db.conn:
        if opted_out(db, user_id):
            db.conn.execute(
                "UPDATE campaign_deliveries SET status = 'skipped', reason = 'opted_out',"
                " updated_at = ? WHERE run_id = ? AND user_id = ? AND status = 'queued'",
                (now, run_id, user_id),
            )
            return False
        cursor = db.conn.execute(
            _CLAIM_POSTGRES if is_postgres(db) else _CLAIM, (now, run_id, user_id)
        )
    return cursor.rowcount == 1


# Only a queued recipient becomes `sending`: of two senders, one changes the row.
_CLAIM = (
    "UPDATE campaign_deliveries SET status = 'sending', updated_at = ?"
    " WHERE run_id = ? AND user_id = ? AND status = 'queued'"
)
# PostgreSQL: a recipient another process is claiming this instant is skipped, not waited for.
_CLAIM_POSTGRES = (
    "UPDATE campaign_deliveries SET status = 'sending', updated_at = ? WHERE rowid ="
    " (SELECT rowid FROM campaign_deliveries WHERE run_id = ? AND user_id = ?"
    " AND status = 'queued' FOR UPDATE SKIP LOCKED)"
)


def settle(
    db: Store,
    run_id: int,
    user_id: str,
    status: str,
    reason: str | None = None,
    channel: str | None = None,
    error_code: int | None = None,
) -> None:
    db.conn.execute(
        "UPDATE campaign_deliveries SET status = ?, reason = ?, channel = ?, error_code = ?,"
        " updated_at = ? WHERE run_id = ? AND user_id = ?",
        (status, reason, channel, error_code, utc_now(), run_id, user_id),
    )


def delivery_counts(db: Store, run_id: int) -> list[tuple[str, str | None, int]]:
    """(status, its reason, error code or channel, count) for a run's report."""
    rows = db.conn.execute(
        "SELECT status, COALESCE(reason, CAST(error_code AS TEXT), channel), COUNT(*)"
        " FROM campaign_deliveries WHERE run_id = ? GROUP BY 1, 2 ORDER BY 1, 2",
        (run_id,),
    )
    return [tuple(row) for row in rows]
