"""`citizenbot migrate --to postgresql://…`: a commune's SQLite data copied into PostgreSQL,
where the service goes on from it: its service tables, its scheduled jobs (APScheduler's
store) and its conversations (Rasa's tracker store, which the communes share). One
transaction, all of it or nothing; rows in their order. Nothing is copied into a database
that already holds the commune's data."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extras

from bot.scheduler.job_scheduler import JOBS_TABLE, job_store
from bot.storage.database import TABLES, open_connection, open_postgres
from bot.storage.postgres_engine import placeholders
from bot.storage.tracker_reader import Senders

BATCH_ROWS = 1000
# What the copy of conversations and jobs is called in the progress lines.
CONVERSATION_EVENTS = "conversation events"
SCHEDULED_JOBS = "scheduled jobs"
_EVENT_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")

Progress = Callable[[str, int], None]


class MigrationError(Exception):
    """The copy cannot start; the message says why and what to do."""


def copy_to_postgres(
    sqlite_path: Path,
    tracker_path: Path,
    url: str,
    schema: str | None,
    senders: Senders,
    progress: Progress = lambda table, rows: None,
) -> dict[str, int]:
    """Copy the commune's SQLite file (`schema` on PostgreSQL when named) and its
    conversations (`senders`) of the tracker file into PostgreSQL; how many rows each table
    got, each also told to `progress` once copied. The SQLite files are read in one read
    transaction each (a consistent copy while the service runs) and not changed."""
    if not sqlite_path.exists():
        raise MigrationError(f"{sqlite_path} does not exist: nothing to migrate")
    target = open_postgres(url, schema)
    events = _tracker_events_table(url)
    _create_jobs_table(sqlite_path, url, schema)
    source = open_connection(sqlite_path)
    tracker = _open_tracker(tracker_path)
    whose, values = senders.condition()
    try:
        held = _held(target.conn.raw, events, whose, values)
        if held:
            listed = ", ".join(f"{table} {count}" for table, count in held.items())
            raise MigrationError(
                f"the PostgreSQL database already holds this commune's data ({listed} rows):"
                " migrate into an empty database (or schema); nothing was copied"
            )
        copied: dict[str, int] = {}
        source.execute("BEGIN")  # one snapshot of every table (WAL: writers go on)
        if tracker is not None:
            tracker.execute("BEGIN")
        with target.conn.raw as transaction, transaction.cursor() as cursor:
            for table in TABLES:
                copied[table] = _copy_table(source, cursor, table)
                progress(table, copied[table])
            copied[SCHEDULED_JOBS] = _insert(
                cursor,
                f"INSERT INTO {JOBS_TABLE} (id, next_run_time, job_state) VALUES %s",
                _jobs(source),
            )
            progress(SCHEDULED_JOBS, copied[SCHEDULED_JOBS])
            copied[CONVERSATION_EVENTS] = _insert(
                cursor,
                # New ids, in the order of the old ones.
                f"INSERT INTO {events} ({', '.join(_EVENT_COLUMNS)}) VALUES %s",
                _events(tracker, whose, values),
            )
            progress(CONVERSATION_EVENTS, copied[CONVERSATION_EVENTS])
        return copied
    finally:
        source.close()
        if tracker is not None:
            tracker.close()
        target.conn.close()


def _tracker_events_table(url: str) -> str:
    """Rasa's `events` table in the database, created as Rasa creates it; its qualified name
    (the tracker store uses the database's own schema whatever the commune)."""
    from bot.brain.tracker_store import postgres_tracker_store  # loads Rasa: only here

    postgres_tracker_store(url).engine.dispose()
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        (tracker_schema,) = cursor.fetchone()
    connection.close()
    return f"{tracker_schema}.events"


def _create_jobs_table(sqlite_path: Path, url: str, schema: str | None) -> None:
    """APScheduler's table in the commune's schema, as its store creates it."""
    store = job_store(sqlite_path, url, schema)
    store.jobs_t.create(store.engine, checkfirst=True)
    store.engine.dispose()


def _open_tracker(tracker_path: Path) -> sqlite3.Connection | None:
    """The tracker file read-only, or None when Rasa never wrote one."""
    if not tracker_path.exists():
        return None
    uri = f"{tracker_path.resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)


def _held(
    target: psycopg2.extensions.connection, events: str, whose: str, values: dict[str, str]
) -> dict[str, int]:
    """The commune's tables, jobs and conversations that already have rows, and how many."""
    counts: dict[str, int] = {}
    with target.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
        cursor.execute(f"SELECT COUNT(*) FROM {JOBS_TABLE}")
        counts[SCHEDULED_JOBS] = cursor.fetchone()[0]
        cursor.execute(placeholders(f"SELECT COUNT(*) FROM {events} WHERE TRUE{whose}"), values)
        counts[CONVERSATION_EVENTS] = cursor.fetchone()[0]
    return {table: count for table, count in counts.items() if count}


def _copy_table(source: sqlite3.Connection, cursor: Any, table: str) -> int:
    columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    names = ", ".join(columns)
    rows = source.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
    count = _insert(cursor, f"INSERT INTO {table} ({names}) VALUES %s", _batches(rows))
    if "id" in columns:  # the next id: after the copied ones, and after deleted ones
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0), %s) + 1, false)",
            (_last_id_given(source, table),),
        )
    return count


def _jobs(source: sqlite3.Connection) -> Iterable[Sequence[Any]]:
    """APScheduler's jobs as its store keeps them (the job pickled), when it ever ran."""
    if not _has_table(source, JOBS_TABLE):
        return
    rows = source.execute(f"SELECT id, next_run_time, job_state FROM {JOBS_TABLE} ORDER BY id")
    for batch in _batches(rows):
        yield [(job_id, when, psycopg2.Binary(state)) for job_id, when, state in batch]


def _events(
    tracker: sqlite3.Connection | None, whose: str, values: dict[str, str]
) -> Iterable[Sequence[Any]]:
    """The commune's conversation events in the order Rasa stored them."""
    if tracker is None or not _has_table(tracker, "events"):
        return
    rows = tracker.execute(
        f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE 1 = 1{whose} ORDER BY id", values
    )
    yield from _batches(rows)


def _batches(rows: sqlite3.Cursor) -> Iterable[list[Any]]:
    while batch := rows.fetchmany(BATCH_ROWS):
        yield batch


def _insert(cursor: Any, sql: str, batches: Iterable[Sequence[Any]]) -> int:
    count = 0
    for batch in batches:
        psycopg2.extras.execute_values(cursor, sql, batch, page_size=BATCH_ROWS)
        count += len(batch)
    return count


def _has_table(connection: sqlite3.Connection, table: str) -> bool:
    found = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return found is not None


def _last_id_given(source: sqlite3.Connection, table: str) -> int:
    """AUTOINCREMENT's memory of the largest id ever given (a ticket number is never given
    twice, even after its ticket was deleted); 0 for the other tables."""
    try:
        row = source.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table has been written yet
        return 0
    return int(row[0]) if row else 0
