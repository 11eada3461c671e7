"""Every webhook event, recorded before it is acknowledged; the key makes re-deliveries no-ops.

With worker processes (CITIZENBOT_WORKERS > 1) each event belongs to one shard, by a stable
hash of its user id, and the worker process of that shard claims it here before handling it.
On SQLite a claim holds the database's write lock; on PostgreSQL it locks only the rows it
claims (FOR UPDATE SKIP LOCKED), so processes on other machines claim at the same time and
each event still goes to one of them.

Several instances (`citizenbot run` on one or more machines) share a PostgreSQL database:
there every worker, CITIZENBOT_WORKERS=1 included, claims before handling. A claim is a
lease (`claimed_at`, renewed by its holder): one not renewed for the lease (its instance
died) is taken by whoever claims next. A citizen's event is claimed only once every earlier
pending event of theirs is the claimant's, so their messages are answered in order whichever
instance received them. On SQLite (one machine) the claims keep no lease.

A claimant is named `{instance}/worker-{shard}/{shards}:{pid}`: the worker restarted by its
instance takes over at once what its predecessor (same name up to the pid) held.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from typing import Any

from bot.storage import inbox_wakeups
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
    row = (key, event_name, user_id, timestamp_ms, utc_now(), json.dumps(payload), status)
    if is_postgres(db):  # and tell the instances listening: another may be the one to claim it
        return db.conn.execute(_RECORD_AND_NOTIFY, row).rowcount == 1
    return db.conn.execute(_RECORD, row).rowcount == 1


_RECORD = (
    "INSERT INTO inbox (key, event_name, user_id, timestamp_ms, received_at, payload,"
    " status) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
# One round trip and one commit: the notice goes only when the row was new.
_RECORD_AND_NOTIFY = (
    f"WITH recorded AS ({_RECORD} RETURNING 1)"
    f" SELECT pg_notify('{inbox_wakeups.CHANNEL}', '') FROM recorded"
)


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
    if "claimed_at" not in columns:
        conn.execute("ALTER TABLE inbox ADD COLUMN claimed_at TEXT")
    create_claim_index(conn)


def upgrade_postgres(conn: Any) -> None:
    """After the schema, on PostgreSQL: `claimed_at` on a database made before leases, and
    the claims' indexes; one process at a time, as the schema (CREATE … IF NOT EXISTS races
    with itself: two instances starting at once)."""
    with conn:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('citizenbot schema'))")
        conn.execute("ALTER TABLE inbox ADD COLUMN IF NOT EXISTS claimed_at TEXT")
        create_claim_index(conn)
        # A citizen's earlier pending events, looked up for each event claimed.
        conn.execute(
            "CREATE INDEX IF NOT EXISTS inbox_pending_by_user ON inbox(user_id, received_at)"
            " WHERE status = 'pending'"
        )


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
    predecessor had claimed too (one process serves a shard at a time). How many it took.
    On PostgreSQL only its own predecessor's (other instances' workers serve the shard too);
    the shard's unclaimed ones and expired claims follow with its claims."""
    if is_postgres(db):
        predecessor = claimant.rsplit(":", 1)[0] + ":"
        cursor = db.conn.execute(
            "UPDATE inbox SET claimed_by = ?, claimed_at = ? WHERE status = 'pending'"
            " AND substr(claimed_by, 1, ?) = ? AND claimed_by <> ?",
            (claimant, utc_now(), len(predecessor), predecessor, claimant),
        )
        return cursor.rowcount
    cursor = db.conn.execute(
        f"UPDATE inbox SET claimed_by = ? WHERE {_OF_SHARD}"
        " AND (claimed_by IS NULL OR claimed_by <> ?)",
        (claimant, shards, shard, claimant),
    )
    return cursor.rowcount


def claim(
    db: Store,
    shard: int,
    shards: int,
    claimant: str,
    limit: int = -1,
    lease_seconds: float = 30.0,
) -> list[dict[str, Any]]:
    """The shard's pending events, oldest first, at most `limit` (-1: all), claimed by
    `claimant` in one transaction (those it already holds included: it reads them again
    after an overload); an event another live process claimed is left to it.
    On PostgreSQL it claims only enough to hold `limit`: the rest stays for whichever
    instance has room first, so instances share a backlog by how fast they answer."""
    if is_postgres(db):
        held = db.conn.execute(
            "SELECT received_at, rowid, payload FROM inbox"
            " WHERE status = 'pending' AND claimed_by = ?"
            " ORDER BY received_at, rowid" + _limit(limit),
            (claimant,),
        ).fetchall()
        room = None if limit < 0 else limit - len(held)
        if room != 0:
            held += _claim_rows(db, shard, shards, claimant, lease_seconds, room)
        return [json.loads(payload) for _, _, payload in sorted(held)]
    with write_transaction(db):
        db.conn.execute(_MARK_UNCLAIMED, (claimant, shards, shard))
        rows = db.conn.execute(
            "SELECT payload FROM inbox WHERE status = 'pending' AND claimed_by = ?"
            " ORDER BY received_at, rowid" + _limit(limit),
            (claimant,),
        ).fetchall()
    return [json.loads(payload) for (payload,) in rows]


# SQLite: the shard's unclaimed pending events become the claimant's (parameters: claimant,
# shards, shard).
_MARK_UNCLAIMED = f"UPDATE inbox SET claimed_by = ? WHERE {_OF_SHARD} AND claimed_by IS NULL"


# PostgreSQL: the shard's events unclaimed or whose claim expired, oldest first, at most
# %(room)s (NULL: all), each only when every earlier pending event of its citizen is the
# claimant's (so a citizen's second message is claimed in the round after their first: a
# claim runs rounds until nothing more comes or the room is full). The rows are locked as
# they are claimed: another instance's claim skips them, and, seeing them unclaimed until
# this one commits, leaves their citizen's later events alone too. {of_shard}: the shard's
# condition, left out when there is one shard (sha256 of every pending row's user id).
_CLAIM_IN_ORDER = """
UPDATE inbox SET claimed_by = %(claimant)s, claimed_at = %(now)s WHERE key IN (
    SELECT e.key FROM inbox e
    WHERE e.status = 'pending' {of_shard}
      AND (e.claimed_by IS NULL OR e.claimed_at IS NULL OR e.claimed_at < %(expired)s)
      AND NOT EXISTS (
          SELECT 1 FROM inbox p
          WHERE p.user_id = e.user_id AND p.status = 'pending'
            AND (p.received_at, p.rowid) < (e.received_at, e.rowid)
            AND (p.claimed_by IS DISTINCT FROM %(claimant)s OR p.claimed_at < %(expired)s))
    ORDER BY e.received_at, e.rowid
    LIMIT %(room)s
    FOR UPDATE SKIP LOCKED)
RETURNING received_at, rowid, payload
"""
_CLAIM_ONE_SHARD = _CLAIM_IN_ORDER.format(of_shard="")
_CLAIM_SHARD = _CLAIM_IN_ORDER.format(
    of_shard="AND citizenbot_shard(e.user_id, %(shards)s) = %(shard)s"
)


def _claim_rows(
    db: Store,
    shard: int,
    shards: int,
    claimant: str,
    lease_seconds: float,
    room: int | None = None,
) -> list[tuple[Any, ...]]:
    """Claims on PostgreSQL (see _CLAIM_IN_ORDER), round after round until one claims
    nothing or `room` (None: no end) are claimed; their (received_at, rowid, payload)."""
    claimed: list[tuple[Any, ...]] = []
    while room is None or len(claimed) < room:
        now = dt.datetime.now(dt.timezone.utc)
        expired = now - dt.timedelta(seconds=lease_seconds)
        cursor = db.conn.cursor()
        cursor.execute(
            _CLAIM_ONE_SHARD if shards == 1 else _CLAIM_SHARD,
            {
                "claimant": claimant,
                "now": now.isoformat(timespec="milliseconds"),
                "expired": expired.isoformat(timespec="milliseconds"),
                "shards": shards,
                "shard": shard,
                "room": None if room is None else room - len(claimed),
            },
        )
        round_claimed = cursor.fetchall()
        if not round_claimed:
            break
        claimed += round_claimed
    return claimed


def renew(db: Store, claimant: str) -> int:
    """PostgreSQL: the claimant is alive; its claims last one more lease. How many."""
    cursor = db.conn.execute(
        "UPDATE inbox SET claimed_at = ? WHERE status = 'pending' AND claimed_by = ?",
        (utc_now(), claimant),
    )
    return cursor.rowcount


def _limit(limit: int) -> str:
    return f" LIMIT {int(limit)}" if limit >= 0 else ""


def claim_new(
    db: Store, shard: int, shards: int, claimant: str, lease_seconds: float = 30.0
) -> list[dict[str, Any]]:
    """The shard's events no process has claimed yet, oldest first, claimed by `claimant` in
    one transaction: what a worker process woken by the web server's process takes (on
    PostgreSQL: one round, those whose claim expired included)."""
    if is_postgres(db):
        claimed = _claim_rows(db, shard, shards, claimant, lease_seconds)
        return [json.loads(payload) for _, _, payload in sorted(claimed)]
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
