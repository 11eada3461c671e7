"""What the storage modules need to run on either engine: rows by column name, a write
transaction that one writer at a time gets, and which engine a database is."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from bot.storage.postgres_engine import PostgresDatabase

_ALL_COLUMNS = re.compile(r"SELECT\s+\*|\w\.\*", re.I)

# What every storage function receives: SQLite's file, or the PostgreSQL database.
Store = sqlite_utils.Database | PostgresDatabase


def is_postgres(db: Store) -> bool:
    return isinstance(db, PostgresDatabase)


def rows(db: Store, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[dict[str, Any]]:
    """The rows of a query as dicts by column name (PostgreSQL's stand-in `rowid` left out,
    as SQLite's `SELECT *` leaves its own out)."""
    cursor = db.conn.execute(sql, params)
    names = [column[0] for column in cursor.description]
    found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    if "rowid" in names and is_postgres(db) and _ALL_COLUMNS.search(sql):
        for row in found:
            del row["rowid"]
    return found


def one(db: Store, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> dict[str, Any] | None:
    found = rows(db, sql, params)
    return found[0] if found else None


def insert_returning_id(
    db: Store, sql: str, params: Sequence[Any] | dict[str, Any] = ()
) -> int | None:
    """Run one INSERT; the id of the row it made, None when it made none (ON CONFLICT DO
    NOTHING). SQLite's lastrowid (a RETURNING clause costs it more), PostgreSQL's RETURNING."""
    if is_postgres(db):
        row = db.conn.execute(sql + " RETURNING id", params).fetchone()
        return row[0] if row else None
    cursor = db.conn.execute(sql, params)
    return cursor.lastrowid if cursor.rowcount == 1 else None


class write_transaction:  # lower case: read as `with write_transaction(db):`
    """One transaction that holds the database's write lock from its start, as SQLite's
    BEGIN IMMEDIATE does: on PostgreSQL a transaction-scoped advisory lock of the same reach.
    (Claims of inbox events use row locks instead: see bot/storage/inbox.py.) A class, not a
    generator: it is on the path of every dossier update and costs a microsecond less."""

    def __init__(self, db: Store) -> None:
        self._conn = db.conn
        self._begin = _LOCK_POSTGRES if is_postgres(db) else "BEGIN IMMEDIATE"

    def __enter__(self) -> None:
        self._conn.__enter__()
        try:
            self._conn.execute(self._begin)
        except BaseException as error:
            self._conn.__exit__(type(error), error, error.__traceback__)
            raise

    def __exit__(self, *exc: Any) -> None:
        self._conn.__exit__(*exc)


# Per schema: communes in schemas of one database do not wait for each other's writes.
_LOCK_POSTGRES = "SELECT pg_advisory_xact_lock(hashtext('citizenbot write:' || current_schema()))"
