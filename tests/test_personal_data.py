"""Personal data (Decree 13/2023/NĐ-CP): message logs purged after the retention period with
the reports unchanged, a citizen's export and "forget me", and Zalo's `user_withdraw`."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy as sa

from bot import privacy
from bot.admin import report_figures
from bot.brain.tracker_store import tracker_store
from bot.communes import commune_config
from bot.communes.commune_config import Commune
from bot.communes.commune_setup import add_commune
from bot.dossiers.dossier_model import keyed_hash
from bot.local_time import TIMEZONE
from bot.scheduler.job_scheduler import PURGE_JOB
from bot.settings import Settings, SettingsError
from bot.storage import (
    Database,
    audit,
    campaign_records,
    dossier_records,
    feedback_records,
    inbox,
    outbox,
    ratings,
    reminder_records,
    retention,
    sql,
    users,
)
from bot.storage.tracker_reader import TrackerDatabase
from bot.web.app import SCHEDULER, SERVICES
from bot.zalo.events import parse_event
from tests.conftest import PROJECT, Service, run_cli
from tests.dashboard import file_ticket
from tests.engines import ON_POSTGRES
from tests.test_communes import content_copy

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TIMEZONE)  # the purge's clock
OLD = NOW - dt.timedelta(days=120)  # 2026-07-26: past the 90 days
RECENT = NOW - dt.timedelta(days=10)
JULY = (dt.date(2026, 7, 1), dt.date(2026, 7, 31))


def stamp(moment: dt.datetime) -> str:
    return retention.iso(moment)


@pytest_asyncio.fixture
async def database(tmp_path: Path, database_url_for) -> AsyncIterator[Database]:
    path = tmp_path / "citizenbot.db"
    opened = Database(path, url=database_url_for(path))
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_database(request: pytest.FixtureRequest, tmp_path: Path) -> TrackerDatabase:
    """Rasa's own tracker schema, in a file of this test's own or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        tracker = tmp_path / "tracker.db"
    else:
        tracker = request.getfixturevalue("postgres_url")
    tracker_store(tracker).engine.dispose()
    return tracker


def tracker_engine(tracker: TrackerDatabase) -> sa.engine.Engine:
    return sa.create_engine(tracker if isinstance(tracker, str) else f"sqlite:///{tracker}")


def add_event(
    tracker: TrackerDatabase, sender: str, type_name: str, at: dt.datetime, intent: str = ""
) -> None:
    data = {"event": type_name, "timestamp": at.timestamp(), "text": f"tin của {sender}"}
    engine = tracker_engine(tracker)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (sender_id, type_name, timestamp, intent_name, data)"
                " VALUES (:sender, :type_name, :at, :intent, :data)"
            ),
            {
                "sender": sender,
                "type_name": type_name,
                "at": at.timestamp(),
                "intent": intent or None,
                "data": json.dumps(data),
            },
        )
    engine.dispose()


def senders_events(tracker: TrackerDatabase, sender: str) -> list[tuple[str, float]]:
    engine = tracker_engine(tracker)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT type_name, timestamp FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


async def received(
    database: Database, key: str, user_id: str, at: dt.datetime, status: str = "done"
) -> None:
    payload = {"event_name": "user_send_text", "sender": {"id": user_id}, "message": {"text": key}}

    def write(db) -> None:
        inbox.record(db, key, "user_send_text", user_id, int(at.timestamp() * 1000), payload)
        db.conn.execute(
            "UPDATE inbox SET received_at = ?, status = ? WHERE key = ?", (stamp(at), status, key)
        )

    await database.run(write)


async def sent(
    database: Database, key: str, user_id: str, at: dt.datetime, status: str = "sent"
) -> None:
    def write(db) -> None:
        outbox.begin(db, key, user_id, "/v3.0/oa/message/cs", {"message": {"text": key}})
        if status != "pending":
            outbox.settle(db, key, status, 1)
        db.conn.execute(
            "UPDATE outbox SET created_at = ?, updated_at = ? WHERE idempotency_key = ?",
            (stamp(at), stamp(at), key),
        )

    await database.run(write)


async def closed_ticket(database: Database, user_id: str, at: dt.datetime) -> int:
    def write(db) -> int:
        ticket = feedback_records.create(db, user_id, "attitude", "cán bộ X trả lời chậm", None, 5)
        feedback_records.move(db, ticket.id, "answered", "canbo", answer="Xã đã nhắc nhở cán bộ X.")
        feedback_records.move(db, ticket.id, "closed", "canbo")
        db.conn.execute(
            "UPDATE feedback_tickets SET created_at = ?, due_at = ?, answered_at = ?,"
            " closed_at = ?, updated_at = ? WHERE id = ?",
            (stamp(at), stamp(at + dt.timedelta(days=7)), *[stamp(at)] * 3, ticket.id),
        )
        return ticket.id

    return await database.run(write)


async def table(database: Database, name: str) -> list[dict]:
    return await database.run(lambda db: sql.rows(db, f"SELECT * FROM {name}"))


async def a_commune_history(database: Database, tracker_database: TrackerDatabase) -> None:
    """Two citizens in July (past the retention period) and one of them again recently."""
    await received(database, "m1", "u-an", OLD)
    await received(database, "m2", "u-binh", OLD)
    await received(database, "m3", "u-binh", OLD + dt.timedelta(hours=1))
    await received(database, "m4", "u-an", RECENT)
    await sent(database, "m1#0", "u-an", OLD)
    await sent(database, "m2#0", "u-binh", OLD, status="failed")
    await sent(database, "campaign:1:u-an", "u-an", OLD)
    await sent(database, "dossier:5:u-binh", "u-binh", OLD)
    await sent(database, "feedback:1:answer:0", "u-binh", OLD)
    await sent(database, "m4#0", "u-an", RECENT)
    for sender, when in (("u-an", OLD), ("u-binh", OLD), ("u-an", RECENT)):
        add_event(tracker_database, sender, "session_started", when)
        add_event(tracker_database, sender, "user", when, "proc_birth_registration")
    add_event(tracker_database, "u-binh", "user", OLD, "nlu_fallback")
    add_event(tracker_database, "u-binh", "user", OLD, "EXTERNAL_follow")
    await database.run(ratings.record, "u-an", "very_satisfied", "guide:khai-sinh")
    await database.run(ratings.record, "u-binh", None, "service", "cán bộ nhiệt tình")
    await database.run(
        lambda db: db.conn.execute("UPDATE ratings SET created_at = ?", (stamp(OLD),))
    )
    await closed_ticket(database, "u-binh", OLD)


def figures(report: report_figures.Report) -> tuple:
    return (
        report.summary(),
        report.days,
        report.top_intents,
        report.user_turns,
        report.fallbacks,
        report.comments,
    )


# --- retention ---------------------------------------------------------------------------


async def test_purge_deletes_message_logs_past_the_retention_period_and_keeps_recent_ones(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await a_commune_history(database, tracker_database)
    result = await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    assert result.cutoff == dt.datetime(2026, 8, 25, tzinfo=TIMEZONE)
    assert [row["key"] for row in await table(database, "inbox")] == ["m4"]
    assert [row["idempotency_key"] for row in await table(database, "outbox")] == ["m4#0"]
    assert senders_events(tracker_database, "u-binh") == []
    assert [type_name for type_name, _ in senders_events(tracker_database, "u-an")] == [
        "session_started",
        "user",
    ]
    assert result.changed["inbox"] == 3 and result.changed["outbox"] == 5
    assert result.changed["tracker_events"] == 6


async def test_purge_never_removes_pending_events_or_unsent_messages(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await received(database, "waiting", "u-an", OLD, status="pending")
    await sent(database, "waiting#0", "u-an", OLD, status="pending")
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    assert [row["key"] for row in await table(database, "inbox")] == ["waiting"]
    assert [row["idempotency_key"] for row in await table(database, "outbox")] == ["waiting#0"]
    assert await database.run(inbox.pending) != []


async def test_reports_of_purged_months_are_unchanged(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await a_commune_history(database, tracker_database)
    whole = (JULY[0], NOW.date())  # straddles the purge: u-an wrote on both sides
    before = [
        await report_figures.build(database, tracker_database, *span, now=NOW)
        for span in (JULY, whole)
    ]
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    after = [
        await report_figures.build(database, tracker_database, *span, now=NOW)
        for span in (JULY, whole)
    ]
    assert [figures(report) for report in after] == [figures(report) for report in before]
    july = after[0]
    assert (july.citizens_guided, july.messages_in, july.messages_out) == (2, 3, 4)
    assert after[1].citizens_guided == 2  # u-an once, though counted from both sides
    assert (july.campaign_messages_delivered, july.notifications_delivered) == (1, 1)
    assert july.top_intents == [("proc_birth_registration", 2), ("nlu_fallback", 1)]
    assert july.satisfaction_rate == 1.0 and july.feedback_received == 1


async def test_purging_again_counts_nothing_twice(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await a_commune_history(database, tracker_database)
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    once = figures(await report_figures.build(database, tracker_database, *JULY, now=NOW))
    for later in (NOW, NOW + dt.timedelta(days=1)):
        await privacy.purge_message_logs(database, tracker_database, 90, later)
    assert figures(await report_figures.build(database, tracker_database, *JULY, now=NOW)) == once


async def test_dry_run_counts_what_would_go_and_changes_nothing(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await a_commune_history(database, tracker_database)
    result = await privacy.purge_message_logs(database, tracker_database, 90, NOW, dry_run=True)
    assert result.changed["inbox"] == 3 and result.changed["outbox"] == 5
    assert result.changed["tracker_events"] == 6
    assert result.changed["feedback_tickets"] == 1 and result.changed["ratings"] == 2
    assert len(await table(database, "inbox")) == 4
    assert len(senders_events(tracker_database, "u-binh")) == 4
    assert await database.run(retention.archived_before, retention.MESSAGES) is None


async def test_purge_keeps_records_officials_report_without_the_citizen(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    closed = await closed_ticket(database, "u-an", OLD)
    still_open = await database.run(
        lambda db: (
            feedback_records.create(db, "u-an", "procedure", "hồ sơ chưa có kết quả", None, 5).id
        )
    )
    await database.run(
        lambda db: db.conn.execute(
            "UPDATE feedback_tickets SET created_at = ? WHERE id = ?", (stamp(OLD), still_open)
        )
    )
    await database.run(ratings.record, "u-an", "satisfied", "guide:khai-sinh", "tốt")
    await database.run(
        lambda db: db.conn.execute("UPDATE ratings SET created_at = ?", (stamp(OLD),))
    )
    old_reminder = await database.run(
        reminder_records.add, "u-an", "personal", OLD.isoformat(), "đi xã"
    )
    await database.run(reminder_records.settle, old_reminder, "sent")
    future = await database.run(
        reminder_records.add,
        "u-an",
        "personal",
        (NOW + dt.timedelta(days=3)).isoformat(),
        "nộp hồ sơ",
    )
    await database.run(
        lambda db: db.conn.execute("UPDATE reminders SET updated_at = ?", (stamp(OLD),))
    )
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)

    ticket = await database.run(feedback_records.get, closed)
    assert (ticket["user_id"], ticket["description"], ticket["answer"]) == ("", "", None)
    assert ticket["status"] == "closed" and ticket["created_at"] == stamp(OLD)
    assert (await database.run(feedback_records.get, still_open))[
        "description"
    ] == "hồ sơ chưa có kết quả"
    [rating] = await table(database, "ratings")
    assert (rating["user_id"], rating["comment"], rating["score"]) == ("", None, "satisfied")
    assert [row["id"] for row in await table(database, "reminders")] == [future]


async def test_tracker_purge_never_cuts_an_open_conversation_session(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    # Came back yesterday: the old session goes, the new one stays.
    add_event(tracker_database, "u-back", "session_started", OLD)
    add_event(tracker_database, "u-back", "user", OLD, "greet")
    add_event(tracker_database, "u-back", "session_started", NOW - dt.timedelta(days=1))
    add_event(tracker_database, "u-back", "user", NOW - dt.timedelta(days=1), "greet")
    # One session, started long ago and never idle for a day: all of it stays.
    add_event(tracker_database, "u-daily", "session_started", OLD)
    add_event(tracker_database, "u-daily", "user", NOW - dt.timedelta(hours=2), "greet")
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    assert [at for _, at in senders_events(tracker_database, "u-back")] == [
        (NOW - dt.timedelta(days=1)).timestamp()
    ] * 2
    assert len(senders_events(tracker_database, "u-daily")) == 2


async def test_each_communes_purge_keeps_its_own_intents_for_its_report(
    database: Database, tracker_database: TrackerDatabase, tmp_path: Path, database_url_for
) -> None:
    path = tmp_path / "xa-a" / "citizenbot.db"
    commune = Database(path, url=database_url_for(path))
    await commune.open()
    try:
        await a_commune_history(database, tracker_database)
        add_event(tracker_database, "xa-a:u-an", "session_started", OLD)
        for intent in ("proc_household_registration", "proc_household_registration", "greet"):
            add_event(tracker_database, "xa-a:u-an", "user", OLD, intent)
        reports = [(database, ""), (commune, "xa-a")]

        async def figures_of_both() -> list[tuple]:
            return [
                figures(await report_figures.build(db, tracker_database, *JULY, NOW, slug))
                for db, slug in reports
            ]

        before = await figures_of_both()
        result = await privacy.purge_message_logs(
            commune, tracker_database, 90, NOW, commune="xa-a"
        )
        assert result.changed["tracker_events"] == 4
        assert senders_events(tracker_database, "xa-a:u-an") == []
        assert len(senders_events(tracker_database, "u-binh")) == 4  # the default's: not yet
        await privacy.purge_message_logs(database, tracker_database, 90, NOW)
        assert senders_events(tracker_database, "u-binh") == []
        after = await figures_of_both()
        assert after == before
        commune_report = await report_figures.build(commune, tracker_database, *JULY, NOW, "xa-a")
        assert commune_report.top_intents == [("proc_household_registration", 2), ("greet", 1)]
    finally:
        await commune.close()


async def test_the_daily_purge_runs_at_3am_and_uses_the_retention_setting(
    start_service, tmp_path: Path
) -> None:
    service = await start_service(message_retention_days=30)
    await service.say("u-purge-job", "xin chào")
    await service.settle()
    scheduler = service.app[SCHEDULER]
    job = scheduler._aps.get_job(PURGE_JOB)
    assert job.next_run_time.astimezone(TIMEZONE).time() == dt.time(3, 0)

    class Later:
        def now(self) -> dt.datetime:
            return dt.datetime.now(TIMEZONE) + dt.timedelta(days=31)

    scheduler.clock = Later()
    scheduler.tracker_database = tmp_path / "tracker.db"  # not the session's shared store
    await scheduler.purge_message_logs()
    assert await table(service.database, "inbox") == []


def test_retention_days_come_from_the_environment() -> None:
    assert Settings.from_env({}).message_retention_days == 90
    env = {"CITIZENBOT_MESSAGE_RETENTION_DAYS": "30"}
    assert Settings.from_env(env).message_retention_days == 30
    with pytest.raises(SettingsError):
        Settings.from_env({"CITIZENBOT_MESSAGE_RETENTION_DAYS": "0"})


# --- a citizen's request -----------------------------------------------------------------


async def two_citizens(service: Service) -> int:
    """u-dan files feedback in the chat and has data in every feature; u-khac talks too."""
    ticket = await file_ticket(service, "u-dan", "Đường vào xã ngập nước")
    await service.say("u-khac", "làm giấy khai sinh ở đâu")
    await service.settle()
    database = service.database
    await database.run(ratings.record, "u-dan", "satisfied", f"ticket:{ticket['id']}", "ổn")
    await database.run(
        reminder_records.add, "u-dan", "personal", NOW.isoformat(), "đi nhận kết quả"
    )
    await database.run(campaign_records.opt_out, "u-dan")
    await database.run(dossier_records.subscribe, "000.00.24.H26-250101-0001", "u-dan")
    await database.run(dossier_records.remember_shared_phone, "u-dan", "hash-of-the-phone")
    await database.run(dossier_records.subscribe, "000.00.24.H26-250101-0002", "u-khac")
    return ticket["id"]


async def test_export_holds_everything_about_the_citizen_and_nothing_about_others(
    service: Service,
) -> None:
    await two_citizens(service)
    data = await privacy.export_user(service.database, service.brain.tracker_database, "u-dan")
    tables = data["tables"]
    assert tables["feedback_tickets"][0]["description"] == "Đường vào xã ngập nước"
    said = [(row["payload"].get("message") or {}).get("text") for row in tables["inbox"]]
    assert "Đường vào xã ngập nước" in said
    assert tables["outbox"] and tables["users"][0]["user_id"] == "u-dan"
    assert {e["type_name"] for e in tables["tracker_events"]} >= {"session_started", "user"}
    assert tables["reminders"][0]["subject"] == "đi nhận kết quả"
    assert tables["campaign_optouts"] and tables["dossier_subscriptions"]
    [phone] = tables["user_shared_phones"]  # what is stored: a keyed hash, never the number
    assert phone["phone_keyed_hash"] == "hash-of-the-phone"
    text = json.dumps(data, ensure_ascii=False)
    assert "u-khac" not in text and "khai sinh ở đâu" not in text
    tokens = await service.database.run(
        lambda db: [r["refresh_token"] for r in sql.rows(db, "SELECT * FROM oauth_tokens")]
    )
    assert tokens and all(token not in text for token in tokens)


async def test_forget_removes_the_citizen_everywhere_and_is_idempotent(service: Service) -> None:
    ticket_id = await two_citizens(service)
    tracker = service.brain.tracker_database
    changed = await privacy.forget_user(service.database, tracker, "u-dan", "cli")
    assert changed["inbox"] >= 4 and changed["tracker_events"] > 0
    assert changed["feedback_tickets"] == 1 and changed["ratings"] == 1

    data = await privacy.export_user(service.database, tracker, "u-dan")
    assert all(rows == [] for rows in data["tables"].values())
    ticket = await service.database.run(feedback_records.get, ticket_id)
    assert ticket["user_id"] == "" and ticket["description"] == ""
    assert ticket["status"] == "closed"  # counted in reports, answered by nobody
    assert await service.database.run(users.get, "u-khac") is not None
    other = await privacy.export_user(service.database, tracker, "u-khac")
    assert other["tables"]["tracker_events"] and other["tables"]["dossier_subscriptions"]

    again = await privacy.forget_user(service.database, tracker, "u-dan", "cli")
    assert set(again.values()) == {0}
    entries = await service.database.run(audit.recent, 10, privacy.FORGOTTEN)
    assert len(entries) == 2 and all("u-dan" not in json.dumps(e) for e in entries)


async def test_forget_removes_the_pseudonym_kept_for_reports(
    database: Database, tracker_database: TrackerDatabase
) -> None:
    await a_commune_history(database, tracker_database)
    await privacy.purge_message_logs(database, tracker_database, 90, NOW)
    exported = await privacy.export_user(database, tracker_database, "u-binh")
    assert exported["tables"]["report_daily_citizens"] == [{"day": "2026-07-26"}]
    await privacy.forget_user(database, tracker_database, "u-binh", "cli")
    report = await report_figures.build(database, tracker_database, *JULY, now=NOW)
    assert report.citizens_guided == 1 and report.messages_in == 3  # counts stay anonymous


def withdraw_event(service: Service, user_id: str) -> dict:
    return {
        "event_name": "user_withdraw",
        "app_id": service.settings.zalo_app_id,
        "sender": {"id": user_id},
        "recipient": {"id": "sandbox-oa"},
        "user_id_by_app": "app-scoped-id",
        "timestamp": str(int(time.time() * 1000)),
    }


async def test_user_withdraw_event_forgets_the_citizen_without_a_reply(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    await service.say("u-withdraw", "xin chào")
    await service.settle()
    replies = len(await service.messages("u-withdraw"))
    with caplog.at_level(logging.INFO):
        resp = await service.post_event(withdraw_event(service, "u-withdraw"))
        await service.settle()
    assert resp.status == 200
    data = await privacy.export_user(service.database, service.brain.tracker_database, "u-withdraw")
    assert all(rows == [] for rows in data["tables"].values())  # its own inbox record too
    assert len(await service.messages("u-withdraw")) == replies
    [entry] = await service.database.run(audit.recent, 10, privacy.FORGOTTEN)
    assert entry["officer"] == "zalo:user_withdraw" and "u-withdraw" not in json.dumps(entry)
    assert any("data-deletion request" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if "u-withdraw" in r.getMessage()]


async def test_a_shared_info_form_is_stored_without_the_citizens_details(
    service: Service,
) -> None:
    """The README's promise: of the OA's user-info form only the phone's keyed hash is kept."""
    event = service.event("u-form", "user_submit_info", "0912 345 678")
    event["info"] = {
        **event["info"],
        "name": "Nguyễn Văn Bình",
        "address": "Số 7 ngõ 3, thôn Đông",
        "ward": "Phường Mẫu",
        "district": "Huyện Mẫu",
        "city": "Tỉnh Mẫu",
    }
    assert (await service.post_event(event)).status == 200
    await service.settle()
    [(payload,)] = await service.database.run(
        lambda db: db.conn.execute("SELECT payload FROM inbox WHERE user_id = 'u-form'").fetchall()
    )
    secret = service.app[SERVICES].secret
    phone_hash = keyed_hash("0912345678", secret)
    # The hash's hex digits may hold "912" by chance (a clean-clone run failed on that).
    readable = payload.replace(phone_hash, "")
    for value in ("Nguyễn Văn Bình", "Số 7", "thôn Đông", "Phường Mẫu", "Huyện", "Tỉnh", "912"):
        assert value not in readable
    assert json.loads(payload)["info"] == {"phone_hash": phone_hash}
    assert await service.database.run(dossier_records.shared_phone, "u-form") == phone_hash


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_the_data_folder_and_the_secret_key_are_readable_by_the_service_user_only(
    service: Service,
) -> None:
    await service.say("u-modes", "/greet")
    await service.settle()
    assert mode(service.settings.data_dir) == 0o700
    assert mode(service.settings.data_dir / "secret.key") == 0o600


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's database files; PostgreSQL keeps its own")
async def test_the_sqlite_databases_are_readable_by_the_service_user_only(
    service: Service,
) -> None:
    await service.say("u-modes", "/greet")
    await service.settle()
    created = [service.settings.database_path]
    created += list(service.settings.data_dir.glob("citizenbot.db-*"))  # SQLite's -wal and -shm
    for path in created:
        assert mode(path) == 0o600, path
    assert mode(service.brain.tracker_database) == 0o600


async def test_a_receipt_is_forgotten_with_the_citizen_who_received_it(service: Service) -> None:
    await service.say("u-receipt", "/greet")
    await service.settle()
    seen = {
        **withdraw_event(service, "sandbox-oa"),
        "event_name": "user_seen_message",
        "recipient": {"id": "u-receipt"},
        "message": {"msg_ids": ["m-1"]},
    }
    assert (await service.post_event(seen)).status == 200
    await service.settle()
    key = parse_event(seen).key
    assert await service.database.run(inbox.status_of, key) == "done"
    where = environment(service.settings.data_dir, service.settings.database_url)
    code, output = await cli(where, "user", "forget", "u-receipt", "--yes")
    assert code == 0, output
    assert await service.database.run(inbox.status_of, key) is None
    assert await table(service.database, "inbox") == []


# --- the commands ------------------------------------------------------------------------


def environment(data_dir: Path, database_url: str) -> dict[str, str]:
    """Where the commands find the service's data: its folder, and its PostgreSQL database
    when the tests run on PostgreSQL."""
    return {"CITIZENBOT_DATA_DIR": str(data_dir), "CITIZENBOT_DATABASE_URL": database_url}


async def cli(where: dict[str, str], *args: str, answer: str = "") -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=PROJECT,
        env={**os.environ, **where},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(answer.encode()), 120)
    return process.returncode or 0, out.decode() + err.decode()


async def test_purge_command_dry_run_shows_counts_and_changes_nothing(
    database: Database, tmp_path: Path
) -> None:
    long_ago = dt.datetime.now(TIMEZONE) - dt.timedelta(days=200)
    await received(database, "old", "u-an", long_ago)
    where = environment(tmp_path, database.url)
    output = await run_cli("purge", "--dry-run", env=where)
    assert "inbox: 1 events deleted" in output and "dry run" in output
    assert len(await table(database, "inbox")) == 1
    output = await run_cli("purge", env=where)
    assert "inbox: 1 events deleted" in output
    assert await table(database, "inbox") == []


async def test_purge_command_purges_every_communes_database(
    database: Database, tmp_path: Path
) -> None:
    content = content_copy(tmp_path)
    settings = Settings(data_dir=tmp_path, content_dir=content, database_url=database.url)
    await add_commune(settings, Commune.in_sandbox("xa-a"))
    commune = Database.from_settings(commune_config.settings_of(settings, "xa-a"))
    await commune.open()
    try:
        long_ago = dt.datetime.now(TIMEZONE) - dt.timedelta(days=200)
        await received(database, "old", "u-an", long_ago)
        await received(commune, "old-a", "u-an", long_ago)
        await received(commune, "new-a", "u-an", dt.datetime.now(TIMEZONE))
        output = await run_cli("purge", env=environment(tmp_path, database.url))
        assert "commune xa-a:\n  inbox: 1 events deleted" in output
        assert await table(database, "inbox") == []
        assert [row["key"] for row in await table(commune, "inbox")] == ["new-a"]
    finally:
        await commune.close()


async def test_user_commands_export_then_forget_after_confirmation(
    database: Database, tmp_path: Path
) -> None:
    await received(database, "hello", "u-an", RECENT)
    await received(database, "other", "u-binh", RECENT)
    target = tmp_path / "u-an.json"
    where = environment(tmp_path, database.url)
    code, output = await cli(where, "user", "export", "u-an", "--to", str(target))
    assert code == 0 and str(target) in output
    exported = json.loads(target.read_text(encoding="utf-8"))
    assert [row["key"] for row in exported["tables"]["inbox"]] == ["hello"]
    assert target.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only

    code, output = await cli(where, "user", "forget", "u-an", answer="no\n")
    assert code == 1 and "inbox 1" in output and "nothing changed" in output
    assert len(await table(database, "inbox")) == 2
    code, output = await cli(where, "user", "forget", "u-an", answer="yes\n")
    assert code == 0 and "inbox: 1 deleted" in output
    assert [row["key"] for row in await table(database, "inbox")] == ["other"]
    code, output = await cli(where, "user", "forget", "u-an", "--yes")
    assert code == 0 and "inbox: 0 deleted" in output
