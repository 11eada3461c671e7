"""The engine seam: the same storage calls on SQLite and PostgreSQL, and what PostgreSQL
needs translated (parameters, the shard function, a commune's own schema)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psycopg2
import pytest

from bot.storage import Database, inbox, sql, users
from bot.storage.database import is_temporary, open_postgres
from bot.storage.postgres_engine import placeholders


def test_sqlite_parameters_become_psycopg2_ones_outside_quoted_text() -> None:
    assert placeholders("SELECT * FROM t WHERE a = ? AND b LIKE 'x?%'") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE 'x?%%'"
    )
    assert placeholders("UPDATE t SET c = :before WHERE d < :before") == (
        "UPDATE t SET c = %(before)s WHERE d < %(before)s"
    )


def test_postgresql_puts_a_citizen_in_the_shard_python_does(postgres_url: str) -> None:
    db = open_postgres(postgres_url)
    for shards in (1, 2, 3, 7):
        for n in range(50):
            user_id = f"u-{n}"
            [(shard,)] = db.conn.execute(
                "SELECT citizenbot_shard(?, ?)", (user_id, shards)
            ).fetchall()
            assert shard == inbox.shard_of(user_id, shards), (user_id, shards)


def test_each_schema_of_one_database_keeps_its_own_rows(postgres_url: str) -> None:
    commune_a = open_postgres(postgres_url, "xa_a")
    commune_b = open_postgres(postgres_url, "xa_b")
    users.interacted(commune_a, "u-an")
    assert users.get(commune_a, "u-an") is not None
    assert users.get(commune_b, "u-an") is None


def test_a_schema_name_that_is_not_a_plain_word_is_refused(postgres_url: str) -> None:
    with pytest.raises(ValueError, match="schema name"):
        open_postgres(postgres_url, 'x"; DROP TABLE inbox; --')


def test_rows_by_name_are_the_same_on_both_engines(tmp_path: Path, postgres_url: str) -> None:
    async def stored(database: Database) -> list[dict]:
        await database.open()
        try:
            await database.run(users.interacted, "u-an")
            await database.run(users.unfollowed, "u-an")
            return await database.run(sql.rows, "SELECT * FROM users")
        finally:
            await database.close()

    on_sqlite = asyncio.run(stored(Database(tmp_path / "citizenbot.db")))
    on_postgres = asyncio.run(stored(Database(tmp_path / "unused.db", url=postgres_url)))
    assert [list(row) for row in on_postgres] == [list(row) for row in on_sqlite]  # no rowid
    assert [(row["user_id"], row["followed"]) for row in on_postgres] == [("u-an", 0)]
    assert [(row["user_id"], row["followed"]) for row in on_sqlite] == [("u-an", 0)]


def test_an_unreachable_postgresql_is_a_temporary_error_and_a_constraint_is_not() -> None:
    assert is_temporary(psycopg2.OperationalError("server closed the connection unexpectedly"))
    assert not is_temporary(psycopg2.IntegrityError("duplicate key value"))
