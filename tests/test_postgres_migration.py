"""`citizenbot migrate --to postgresql://…`: a commune's SQLite data (every table, its
conversations and scheduled jobs) copied into PostgreSQL, where the service goes on from it;
a database already in use is refused."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.brain.agent import Brain
from bot.communes.commune_config import Commune
from bot.communes.commune_setup import add_commune
from bot.communes.registry import COMMUNES
from bot.dossiers.dossier_model import parse_update
from bot.local_time import TIMEZONE
from bot.settings import Settings
from bot.storage import (
    audit,
    campaign_records,
    dossier_records,
    feedback_records,
    inbox,
    officer_accounts,
    outbox,
    ratings,
    reminder_records,
    retention,
    sql,
    users,
)
from bot.storage.database import TABLES, open_postgres, open_store
from bot.web.app import SCHEDULER
from tests.conftest import Service, free_port, run_cli
from tests.test_communes import (
    content_copy,
    post_to_commune,
    replies_in_commune,
    with_communes,
)


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
    with pytest.raises(AssertionError, match="already holds this commune.s data .*inbox 3"):
        await run_cli("migrate", "--to", postgres_url, env=env)
    target = open_postgres(postgres_url)
    assert len(_table(target, "inbox")) == 3  # nothing copied twice


async def test_migrate_puts_a_commune_in_its_own_schema(tmp_path: Path, postgres_url: str) -> None:
    settings = Settings(data_dir=tmp_path, content_dir=content_copy(tmp_path))
    await add_commune(settings, Commune.in_sandbox("xa-an-khanh"))
    _fill(tmp_path / "communes" / "xa-an-khanh")
    env = {"CITIZENBOT_DATA_DIR": str(tmp_path)}
    await run_cli("migrate", "--to", postgres_url, "--commune", "xa-an-khanh", env=env)
    assert len(_table(open_postgres(postgres_url, "commune_xa_an_khanh"), "inbox")) == 3
    assert _table(open_postgres(postgres_url), "inbox") == []


async def test_migrate_refuses_a_commune_never_added(tmp_path: Path, postgres_url: str) -> None:
    _fill(tmp_path)
    env = {"CITIZENBOT_DATA_DIR": str(tmp_path)}
    with pytest.raises(AssertionError, match="no commune 'xa-khac'"):
        await run_cli("migrate", "--to", postgres_url, "--commune", "xa-khac", env=env)


# --- a running commune's conversations and scheduled jobs -------------------------------


@asynccontextmanager
async def serving(settings: Settings, model_dir: Path) -> AsyncIterator[Service]:
    """The service as `citizenbot run` starts it on these settings, with its own Brain
    storing conversations where the settings say (SQLite file or PostgreSQL)."""
    brain = await Brain.load(model_dir, settings.tracker_database)
    service = Service(settings, brain)
    try:
        await service.start()
        yield service
    finally:
        await service.close()
        await brain.close()


async def turn_in_commune(service: Service, slug: str, user_id: str, text: str) -> str:
    """Say one thing to the commune's OA; the replies to it."""
    before = len(await replies_in_commune(service, slug, user_id))
    assert await post_to_commune(service, slug, user_id, text) == 200
    commune = service.app[COMMUNES].get(slug)
    assert commune is not None
    await commune.worker.drain()
    return "\n".join((await replies_in_commune(service, slug, user_id))[before:])


async def test_a_migrated_commune_goes_on_with_its_conversations_and_reminders(
    tmp_path: Path, model_dir: Path, postgres_url: str
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    settings = Settings.from_env(
        {}, port=free_port(), data_dir=data_dir, content_dir=content, zalo_timeout_seconds=1.0
    )
    first, second = (dt.datetime.now(TIMEZONE).date() + dt.timedelta(days=n) for n in (3, 4))
    async with serving(settings, model_dir) as service:
        await turn_in_commune(
            service, "xa-a", "u-1", f"nhắc tôi ngày {first:%d/%m/%Y} đi nhận kết quả lúc 8h"
        )
        assert "đã đặt lời nhắc" in await turn_in_commune(service, "xa-a", "u-1", "đúng")
        # A second reminder said, its confirmation still to come when the service stops.
        asked = await turn_in_commune(
            service, "xa-a", "u-1", f"nhắc tôi ngày {second:%d/%m/%Y} đi nộp hồ sơ lúc 9h"
        )
        assert '"đi nộp hồ sơ"' in asked
    env = {"CITIZENBOT_DATA_DIR": str(data_dir)}
    output = await run_cli("migrate", "--to", postgres_url, "--commune", "xa-a", env=env)
    assert "scheduled jobs: " in output and "conversation events: " in output
    target = open_postgres(postgres_url, "commune_xa_a")
    [(reminder_id,)] = target.conn.execute("SELECT id FROM reminders").fetchall()
    jobs = {row[0] for row in target.conn.execute("SELECT id FROM apscheduler_jobs")}
    assert f"reminder:{reminder_id}" in jobs

    on_postgres = dataclasses.replace(settings, port=free_port(), database_url=postgres_url)
    async with serving(on_postgres, model_dir) as service:
        # The conversation goes on: the confirmation finds the reminder it confirms.
        assert "đã đặt lời nhắc" in await turn_in_commune(service, "xa-a", "u-1", "đúng")
        commune = service.app[COMMUNES].get("xa-a")
        assert commune is not None
        scheduled = await commune.services.database.run(reminder_records.scheduled_for_user, "u-1")
        assert [row["subject"] for row in scheduled] == ["đi nhận kết quả", "đi nộp hồ sơ"]
        # The reminder's job, from the copied store, fires (brought forward to now).
        scheduler = commune.scheduler
        job_id = f"reminder:{reminder_id}"
        # Each commune's scheduler leads its own jobs, the default commune's too.
        await until(lambda: scheduler.leading and service.app[SCHEDULER].leading)
        assert scheduler._aps is not None and scheduler._aps.get_job(job_id) is not None
        scheduler._aps.modify_job(job_id, next_run_time=dt.datetime.now(TIMEZONE))
        reminded = "Nhắc anh/chị: đi nhận kết quả"

        async def reminder_sent() -> bool:
            replies = await replies_in_commune(service, "xa-a", "u-1")
            return any(reply.startswith(reminded) for reply in replies)

        await until(reminder_sent)


async def until(check: Callable[[], bool | Awaitable[bool]], seconds: float = 30) -> None:
    """Wait until `check` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await _value(check()):
        assert time.monotonic() < deadline, "never happened"
        await asyncio.sleep(0.1)


async def _value(result: bool | Awaitable[bool]) -> bool:
    return await result if inspect.isawaitable(result) else result
