"""`citizenbot migrate --to postgresql://…`: a commune's SQLite tables copied into an empty
PostgreSQL database, in one transaction (all of it or nothing), rows in their order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg2.extras

from bot.storage.database import TABLES, open_connection, open_postgres

BATCH_ROWS = 1000


class MigrationError(Exception):
    """The copy cannot start; the message says why and what to do."""


def copy_to_postgres(sqlite_path: Path, url: str, schema: str | None = None) -> dict[str, int]:
    """Copy every service table of the SQLite file into PostgreSQL (`schema` when named);
    how many rows each table got. The SQLite file is read in one read transaction (a
    consistent copy while the service runs) and not changed."""
    if not sqlite_path.exists():
        raise MigrationError(f"{sqlite_path} does not exist: nothing to migrate")
    target = open_postgres(url, schema)
    source = open_connection(sqlite_path)
    try:
        held = {
            table: count
            for table in TABLES
            if (count := target.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        }
        if held:
            listed = ", ".join(f"{table} {count}" for table, count in held.items())
            raise MigrationError(
                f"the PostgreSQL database already holds citizenbot data ({listed} rows):"
                " migrate into an empty database (or schema); nothing was copied"
            )
        copied: dict[str, int] = {}
        source.execute("BEGIN")  # one snapshot of every table (WAL: writers go on)
        with target.conn:
            for table in TABLES:
                copied[table] = _copy_table(source, target.conn.raw, table)
        source.execute("COMMIT")
        return copied
    finally:
        source.close()
        target.conn.close()


def _copy_table(
    source: sqlite3.Connection, target: psycopg2.extensions.connection, table: str
) -> int:
    columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    names = ", ".join(columns)
    rows = source.execute(f"SELECT {names} FROM {table} ORDER BY rowid")
    count = 0
    with target.cursor() as cursor:
        while batch := rows.fetchmany(BATCH_ROWS):
            psycopg2.extras.execute_values(
                cursor, f"INSERT INTO {table} ({names}) VALUES %s", batch, page_size=BATCH_ROWS
            )
            count += len(batch)
        if "id" in columns:  # the next id: after the copied ones, and after deleted ones
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0), %s) + 1, false)",
                (_last_id_given(source, table),),
            )
    return count


def _last_id_given(source: sqlite3.Connection, table: str) -> int:
    """AUTOINCREMENT's memory of the largest id ever given (a ticket number is never given
    twice, even after its ticket was deleted); 0 for the other tables."""
    try:
        row = source.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
    except sqlite3.OperationalError:  # no AUTOINCREMENT table has been written yet
        return 0
    return int(row[0]) if row else 0
