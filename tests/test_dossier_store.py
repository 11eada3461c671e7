"""Dossier records, idempotent ingest, owner verification and lockout (no chat involved)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
import yaml

from bot.dossiers.dossier_model import CODE_PATTERN, InvalidDossier, mask_name, parse_update
from bot.storage import dossier_records
from bot.storage.database import open_connection, open_store
from bot.storage.sql import Store
from tests.engines import ON_POSTGRES

SECRET = b"test-secret"
CODE = "000.00.24.H26-250101-0001"
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def body(**changes) -> dict:
    base = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "id_number": "001099012345",
        "status": "received",
        "occurred_at": "2026-11-20T08:00:00+07:00",
    }
    return {**base, **changes}


@pytest.fixture
def db(tmp_path: Path, database_url_for) -> Iterator[Store]:
    path = tmp_path / "db.sqlite"
    store = open_store(path, database_url_for(path))
    yield store
    store.conn.close()  # PostgreSQL's session ends with the test


def test_the_python_code_pattern_is_the_one_the_nlu_uses() -> None:
    data = yaml.safe_load((Path(__file__).parent.parent / "nlu" / "entities.yml").read_text())
    [regex] = [r for r in data["nlu"] if r.get("regex") == "dossier_code"]
    assert CODE_PATTERN in regex["examples"]


def test_personal_data_is_reduced_to_what_verification_needs() -> None:
    update = parse_update(CODE, body(), SECRET)
    assert update.applicant_masked == "Nguyễn V. A."
    assert (update.phone_last4, update.id_last4) == ("5678", "2345")
    assert "0912" not in repr(update) and "001099012345" not in repr(update)
    assert mask_name("Lê Thị Hồng Nhung") == "Lê T. H. N."


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"status": "need_documents"}, "detail.missing"),
        ({"status": "result_ready", "detail": {"pickup_place": "Một cửa"}}, "detail.pickup_date"),
        ({"status": "rejected"}, "detail.reason"),
        ({"occurred_at": "hôm qua"}, "occurred_at"),
        ({"occurred_at": "2026-11-20T08:00:00"}, "occurred_at"),
        ({"phone": "12345", "id_number": ""}, "phone"),
        ({"phone": "", "id_number": ""}, "phone"),
        ({"applicant_name": ""}, "applicant_name"),
    ],
)
def test_invalid_updates_name_the_field(changes: dict, field: str) -> None:
    with pytest.raises(InvalidDossier) as error:
        parse_update(CODE, body(**changes), SECRET)
    assert error.value.field == field


def test_a_code_of_the_wrong_format_is_refused() -> None:
    with pytest.raises(InvalidDossier) as error:
        parse_update("HS-123", body(), SECRET)
    assert error.value.field == "code"


def test_the_same_update_twice_changes_nothing(db) -> None:
    update = parse_update(CODE, body(), SECRET)
    first = dossier_records.ingest(db, update, "api")
    second = dossier_records.ingest(db, update, "api")
    assert (first.created, first.changed) == (True, True)
    assert (second.created, second.changed) == (False, False)
    assert len(dossier_records.history(db, CODE)) == 1


def test_a_status_change_owes_one_notification_per_follower(db) -> None:
    dossier_records.ingest(db, parse_update(CODE, body(), SECRET), "api")
    dossier_records.subscribe(db, CODE, "u1")
    dossier_records.subscribe(db, CODE, "u2")
    ready = body(
        status="result_ready",
        occurred_at="2026-11-22T10:00:00+07:00",
        detail={"pickup_place": "Bộ phận Một cửa", "pickup_date": "2026-11-25"},
    )
    result = dossier_records.ingest(db, parse_update(CODE, ready, SECRET), "api")
    again = dossier_records.ingest(db, parse_update(CODE, ready, SECRET), "csv")
    assert (result.notifications, again.notifications) == (2, 0)
    assert {n["user_id"] for n in dossier_records.pending_notifications(db)} == {"u1", "u2"}
    assert dossier_records.get(db, CODE)["status"] == "result_ready"


def test_an_older_update_arriving_late_does_not_roll_the_status_back(db) -> None:
    dossier_records.ingest(
        db,
        parse_update(
            CODE, body(status="processing", occurred_at="2026-11-21T08:00:00+07:00"), SECRET
        ),
        "api",
    )
    dossier_records.subscribe(db, CODE, "u1")
    late = dossier_records.ingest(db, parse_update(CODE, body(), SECRET), "csv")
    assert late.notifications == 0
    assert dossier_records.get(db, CODE)["status"] == "processing"
    assert len(dossier_records.history(db, CODE)) == 2


def test_owner_is_verified_by_the_last_4_digits_of_phone_or_id(db) -> None:
    dossier_records.ingest(db, parse_update(CODE, body(), SECRET), "api")
    assert dossier_records.verify(db, CODE, "u-phone", "5678", None, NOW) == "verified"
    assert dossier_records.verify(db, CODE, "u-id", "2345", None, NOW) == "verified"
    assert dossier_records.is_verified(db, CODE, "u-id")


def test_five_misses_lock_the_code_for_that_user_for_an_hour(db) -> None:
    dossier_records.ingest(db, parse_update(CODE, body(), SECRET), "api")
    outcomes = [dossier_records.verify(db, CODE, "u-guess", "0000", None, NOW) for _ in range(5)]
    assert outcomes == ["wrong"] * 4 + ["locked"]
    assert dossier_records.verify(db, CODE, "u-guess", "5678", None, NOW) == "locked"
    assert dossier_records.verify(db, CODE, "u-other", "5678", None, NOW) == "verified"
    later = NOW + dt.timedelta(hours=1, minutes=1)
    assert dossier_records.verify(db, CODE, "u-guess", "5678", None, later) == "verified"


def test_an_unknown_code_behaves_exactly_like_a_wrong_owner(db) -> None:
    unknown = "G22.39-250715-0001"
    outcomes = [dossier_records.verify(db, unknown, "u-probe", "5678", None, NOW) for _ in range(5)]
    assert outcomes == ["wrong"] * 4 + ["locked"]


def followed_update(db, user: str = "u1") -> str:
    """A status change owing `user` one notification; its idempotency key."""
    dossier_records.ingest(db, parse_update(CODE, body(), SECRET), "api")
    dossier_records.subscribe(db, CODE, user)
    later = body(status="processing", occurred_at="2026-11-21T08:00:00+07:00")
    dossier_records.ingest(db, parse_update(CODE, later, SECRET), "api")
    [row] = dossier_records.pending_notifications(db)
    return row["idempotency_key"]


def test_a_notification_waiting_out_its_back_off_is_not_taken(db) -> None:
    key = followed_update(db)
    soon = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    dossier_records.settle_notification(db, key, "pending", None, -32, soon.isoformat())
    assert dossier_records.pending_notifications(db) == []
    later = (soon + dt.timedelta(seconds=1)).isoformat()
    [row] = dossier_records.pending_notifications(db, now=later)
    assert (row["idempotency_key"], row["attempts"]) == (key, 1)


def test_a_notification_pending_minutes_past_its_due_time_is_stuck(db) -> None:
    followed_update(db)
    now = dt.datetime.now(dt.timezone.utc)
    assert dossier_records.notification_counts(db, now) == {"pending": 1, "stuck": 0, "failed": 0}
    later = now + dossier_records.STUCK_AFTER + dt.timedelta(seconds=1)
    health = dossier_records.notification_health(db, later)
    assert health.counts == {"pending": 1, "stuck": 1, "failed": 0}
    [problem] = health.problems
    assert (problem["code"], problem["dossier_status"], problem["status"]) == (
        CODE,
        "processing",
        "pending",
    )
    assert "user_id" not in problem


@pytest.mark.skipif(ON_POSTGRES, reason="an SQLite file made by an older version")
def test_a_database_from_before_back_off_opens_with_its_notifications_due(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite_utils.Database(path)
    old.conn.executescript(
        "CREATE TABLE dossier_notifications (idempotency_key TEXT PRIMARY KEY, code TEXT"
        " NOT NULL, event_id INTEGER NOT NULL, user_id TEXT NOT NULL, status TEXT NOT NULL,"
        " channel TEXT, error_code INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
        " created_at TEXT NOT NULL, updated_at TEXT NOT NULL);"
        "INSERT INTO dossier_notifications VALUES ('dossier:1:u1', 'C', 1, 'u1', 'pending',"
        " NULL, NULL, 0, '2026-11-20T01:00:00.000+00:00', '2026-11-20T01:00:00.000+00:00');"
    )
    old.conn.close()
    db = sqlite_utils.Database(open_connection(path))
    [row] = db["dossier_notifications"].rows
    assert row["next_attempt_at"] == row["created_at"]
