"""Every webhook event, recorded before it is acknowledged; the key makes re-deliveries no-ops.

With worker processes (CITIZENBOT_WORKERS > 1) each event belongs to one shard, by a stable
hash of its user id, and the worker process of that shard claims it here before handling it.
On SQLite a claim holds the database's write lock; on PostgreSQL it locks only the rows it
claims (FOR UPDATE SKIP LOCKED), so processes on other machines claim at the same time and
each event still goes to one of them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

from bot.storage.sql import Store, is_postgres, write_transaction
from bot.storage.timestamps import utc_now


def record(
    db: Store,
    key: str,
    event_name: str,
    user_id: str | None,
    timestamp_ms: int,
    payload: dict[str, Any],
    status: str = "pending",
) -> bool:
    """Insert the event; False when this key was already recorded (a re-delivery)."""
    cursor = db.conn.execute(
        "INSERT INTO inbox (key, event_name, user_id, timestamp_ms, received_at, payload,"
        " status) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        (key, event_name, user_id, timestamp_ms, utc_now(), json.dumps(payload), status),
    )
    return cursor.rowcount == 1


def shard_of(user_id: str | None, shards: int) -> int:
    """The shard (worker process) a citizen's events go to: the same for every event and
    every process (sha256, not Python's salted `hash()`), so a citizen's events keep order."""
    digest = hashlib.sha256((user_id or "").encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def register_shard_function(conn: sqlite3.Connection) -> None:
    """`citizenbot_shard(user_id, shards)` in SQL, for the claims below."""
    conn.create_function("citizenbot_shard", 2, shard_of, deterministic=True)


def upgrade(conn: sqlite3.Connection) -> None:
    """After the schema, on an SQLite database made before worker processes: add the claim
    column."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(inbox)")}
    if "claimed_by" not in columns:
        conn.execute("ALTER TABLE inbox ADD COLUMN claimed_by TEXT")
    create_claim_index(conn)


def create_claim_index(conn: Any) -> None:
    """The events no worker has claimed yet, found without reading a backlog's claimed ones
    (both engines)."""
    conn.execute(
        "CREATE INDEX IF NOT EXISTS inbox_unclaimed ON inbox(received_at)"
        " WHERE status = 'pending' AND claimed_by IS NULL"
    )


_OF_SHARD = "status = 'pending' AND citizenbot_shard(user_id, ?) = ?"


def take_over(db: Store, shard: int, shards: int, claimant: str) -> int:
    """A worker process starting: the shard's pending events become its own, those its dead
    predecessor had claimed too (one process serves a shard at a time). How many it took."""
    cursor = db.conn.execute(
        f"UPDATE inbox SET claimed_by = ? WHERE {_OF_SHARD}"
        " AND (claimed_by IS NULL OR claimed_by <> ?)",
        (claimant, shards, shard, claimant),
    )
    return cursor.rowcount


def claim(
    db: Store, shard: int, shards: int, claimant: str, limit: int = -1
) -> list[dict[str, Any]]:
    """The shard's pending events, oldest first, at most `limit` (-1: all), claimed by
    `claimant` in one transaction (those it already holds included: it reads them again
    after an overload); an event another live process claimed is left to it."""
    with _claiming(db):
        db.conn.execute(_mark_unclaimed(db), (claimant, shards, shard))
        rows = db.conn.execute(
            "SELECT payload FROM inbox WHERE status = 'pending' AND claimed_by = ?"
            " ORDER BY received_at, rowid" + _limit(limit),
            (claimant,),
        ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def _claiming(db: Store) -> Any:
    """SQLite: the write lock for the claim. PostgreSQL: a plain transaction; the claim
    locks only its rows, skipping those another process's claim holds this instant."""
    return db.conn if is_postgres(db) else write_transaction(db)


def _mark_unclaimed(db: Store) -> str:
    """The shard's unclaimed pending events become the claimant's (parameters: claimant,
    shards, shard)."""
    if is_postgres(db):
        return (
            "UPDATE inbox SET claimed_by = ? WHERE key IN (SELECT key FROM inbox"
            f" WHERE {_OF_SHARD} AND claimed_by IS NULL FOR UPDATE SKIP LOCKED)"
        )
    return f"UPDATE inbox SET claimed_by = ? WHERE {_OF_SHARD} AND claimed_by IS NULL"


def _limit(limit: int) -> str:
    return f" LIMIT {int(limit)}" if limit >= 0 else ""


def claim_new(db: Store, shard: int, shards: int, claimant: str) -> list[dict[str, Any]]:
    """The shard's events no process has claimed yet, oldest first, claimed by `claimant` in
    one transaction: what a worker process woken by the web server's process takes."""
    if is_postgres(db):
        rows = db.conn.execute(
            _mark_unclaimed(db) + " RETURNING received_at, rowid, payload",
            (claimant, shards, shard),
        ).fetchall()
        return [json.loads(payload) for _, _, payload in sorted(rows)]
    with write_transaction(db):
        rows = db.conn.execute(
            "SELECT rowid, payload FROM inbox INDEXED BY inbox_unclaimed"
            f" WHERE {_OF_SHARD} AND claimed_by IS NULL"
            " ORDER BY received_at, rowid",
            (shards, shard),
        ).fetchall()
        db.conn.executemany(
            "UPDATE inbox SET claimed_by = ? WHERE rowid = ?",
            [(claimant, rowid) for rowid, _ in rows],
        )
    return [json.loads(payload) for _, payload in rows]


def finish(db: Store, key: str, error: str | None = None) -> None:
    db.conn.execute(
        "UPDATE inbox SET status = ?, processed_at = ?, error = ? WHERE key = ?",
        ("failed" if error else "done", utc_now(), error, key),
    )


def pending(db: Store, limit: int = -1) -> list[dict[str, Any]]:
    """Events acknowledged but not yet processed, oldest first, at most `limit` (-1: all);
    used after a restart and when the event queue drains after an overload."""
    rows = db.conn.execute(
        "SELECT payload FROM inbox WHERE status = 'pending' ORDER BY received_at, rowid"
        + _limit(limit)
    ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


def count_pending(db: Store) -> int:
    return db.conn.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]


def pending_by_shard(db: Store, shards: int) -> list[tuple[int, int]]:
    """Per shard (worker process): its pending events (waiting for its worker to claim
    them, claimed by it and not finished yet)."""
    counts = [[0, 0] for _ in range(shards)]
    for shard, claimed, count in db.conn.execute(
        "SELECT citizenbot_shard(user_id, ?), claimed_by IS NOT NULL, COUNT(*) FROM inbox"
        " WHERE status = 'pending' GROUP BY 1, 2",
        (shards,),
    ):
        counts[shard][claimed] = count
    return [(waiting, claimed) for waiting, claimed in counts]


def status_of(db: Store, key: str) -> str | None:
    row = db.conn.execute("SELECT status FROM inbox WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None
