"""`citizenbot migrate --to postgresql://…`: a commune's SQLite data, every table, copied
into PostgreSQL, where the service goes on from it; a database already in use is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.dossiers.dossier_model import parse_update
from bot.storage import (
    audit,
    campaign_records,
    dossier_records,
    feedback_records,
    inbox,
    officer_accounts,
    outbox,
    ratings,
    retention,
    sql,
    users,
)
from bot.storage.database import TABLES, open_postgres, open_store
from tests.conftest import run_cli


def _fill(data_dir: Path) -> None:
    """A little of everything a commune's service stores, on SQLite."""
    db = open_store(data_dir / "citizenbot.db")
    for n, user_id in enumerate(("u-an", "u-binh", "u-chi")):
        inbox.record(db, f"m-{n}", "user_send_text", user_id, n, {"text": f"xin chào {n}"})
        users.interacted(db, user_id)
        outbox.begin(db, f"m-{n}#0", user_id, "message/cs", {"text": "Dạ"})
        outbox.settle(db, f"m-{n}#0", "sent", 1, zalo_message_id=f"z-{n}")
    users.remember_form_of_address(db, "u-an", "bác", "cháu")
    for user_id in ("u-an", "u-binh"):
        feedback_records.create(db, user_id, "procedure", "Chờ lâu", None, 5)
    db.conn.execute("DELETE FROM feedback_tickets WHERE id = 2")  # its number is not reused
    officer_accounts.create(db, "Lan", "Chị Lan", "hash", ["officer"])
    audit.record(db, "Lan", "login")
    update = parse_update(
        "000.00.24.H26-251101-0001",
        {
            "procedure": "Đăng ký khai sinh",
            "applicant_name": "Nguyễn Văn An",
            "phone": "0912345678",
            "status": "received",
            "occurred_at": "2026-11-20T08:00:00+07:00",
        },
        b"secret",
    )
    dossier_records.ingest(db, update, "api")
    campaign_records.start_run(
        db, "dvc", "2026-11-20T02:00:00+00:00", {"text": "Tin"}, None, "users", ["u-an", "u-chi"]
    )
    ratings.record(db, "u-an", "satisfied", "guide:birth")
    retention.pseudonym_key(db, create=True)
    db.conn.close()


def _table(db: sql.Store, table: str) -> list[dict]:
    return sql.rows(db, f"SELECT * FROM {table} ORDER BY rowid")


async def test_migrate_copies_every_table_and_the_service_goes_on_from_there(
    tmp_path: Path, postgres_url: str
) -> None:
    _fill(tmp_path)
    output = await run_cli(
        "migrate", "--to", postgres_url, env={"CITIZENBOT_DATA_DIR": str(tmp_path)}
    )
    assert "inbox: 3 rows" in output and "feedback_tickets: 1 rows" in output
    source, target = open_store(tmp_path / "citizenbot.db"), open_postgres(postgres_url)
    for table in TABLES:
        assert _table(target, table) == _table(source, table), table
    # Ids go on after the copied ones (and after the deleted ticket's number).
    ticket = feedback_records.create(target, "u-chi", "other", "Đèn hỏng", None, 5)
    assert ticket.id == 3
    assert inbox.record(target, "m-0", "user_send_text", "u-an", 0, {}) is False  # a re-delivery
    assert dossier_records.get(target, "000.00.24.H26-251101-0001")["status"] == "received"


async def test_migrate_refuses_a_database_that_already_holds_data(
    tmp_path: Path, postgres_url: str
) -> None:
    _fill(tmp_path)
    env = {"CITIZENBOT_DATA_DIR": str(tmp_path)}
    await run_cli("migrate", "--to", postgres_url, env=env)
    with pytest.raises(AssertionError, match="already holds citizenbot data .*inbox 3"):
        await run_cli("migrate", "--to", postgres_url, env=env)
    target = open_postgres(postgres_url)
    assert len(_table(target, "inbox")) == 3  # nothing copied twice


async def test_migrate_into_a_communes_own_schema(tmp_path: Path, postgres_url: str) -> None:
    _fill(tmp_path)
    env = {"CITIZENBOT_DATA_DIR": str(tmp_path)}
    await run_cli("migrate", "--to", postgres_url, "--schema", "xa_an_khanh", env=env)
    assert len(_table(open_postgres(postgres_url, "xa_an_khanh"), "inbox")) == 3
    assert _table(open_postgres(postgres_url, "other"), "inbox") == []
