"""The other two ways updates come in: `citizenbot dossier import FILE.csv` and a poller of a
provincial system (a fake source here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.dossiers.dossier_model import parse_update
from bot.dossiers.poller import Batch, Poller
from bot.storage import Database, dossier_records, sql
from bot.storage.database import open_store
from tests.conftest import PROJECT

HEADER = (
    "code,procedure,applicant_name,phone,id_number,status,occurred_at,"
    "missing,pickup_place,pickup_date,reason\n"
)


def run_import(tmp_path: Path, lines: str, database_url: str) -> subprocess.CompletedProcess:
    csv_file = tmp_path / "updates.csv"
    csv_file.write_text(HEADER + lines, encoding="utf-8")
    env = {
        **os.environ,
        "CITIZENBOT_DATA_DIR": str(tmp_path / "var"),
        "CITIZENBOT_DATABASE_URL": database_url,
        "RASA_TELEMETRY_ENABLED": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "dossier", "import", str(csv_file)],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_csv_import_reports_each_rejected_row_and_changes_nothing_for_it(
    tmp_path: Path, database_url_for
) -> None:
    database_url = database_url_for(tmp_path / "var" / "citizenbot.db")
    rows = (
        "000.00.24.H26-251101-0001,Đăng ký khai sinh,Trần Thị Bình,0987654321,,received,"
        "2026-11-20T08:00:00+07:00,,,,\n"
        "G22.39-251102-0002,Cấp căn cước,Lê Văn Cường,,001099012345,need_documents,"
        "2026-11-21T09:00:00+07:00,,,,\n"  # no 'missing': rejected
        "HS-3,Chứng thực,Phạm Thị Dung,0912345678,,received,2026-11-21T09:00:00+07:00,,,,\n"
        "H26.123-251103-0003,Đăng ký kết hôn,Võ Văn Em,0912345678,,result_ready,"
        "2026-11-22T10:00:00+07:00,,Bộ phận Một cửa,2026-11-25,\n"
    )
    result = run_import(tmp_path, rows, database_url)
    assert result.returncode == 1  # some rows were rejected
    assert "updates.csv:3: rejected G22.39-251102-0002: detail.missing" in result.stdout
    assert "updates.csv:4: rejected HS-3: code" in result.stdout
    assert "2 rows accepted, 2 rejected" in result.stdout
    db = open_store(tmp_path / "var" / "citizenbot.db", database_url)
    dossiers = sql.rows(db, "SELECT * FROM dossiers")
    assert {row["code"] for row in dossiers} == {
        "000.00.24.H26-251101-0001",
        "H26.123-251103-0003",
    }
    assert "0987654321" not in str(dossiers)  # only hash and last 4 digits


def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    tmp_path: Path, database_url_for
) -> None:
    database_url = database_url_for(tmp_path / "var" / "citizenbot.db")
    row = (
        "000.00.24.H26-251101-0001,Đăng ký khai sinh,Trần Thị Bình,0987654321,,received,"
        "2026-11-20T08:00:00+07:00,,,,\n"
    )
    assert run_import(tmp_path, row, database_url).returncode == 0
    assert run_import(tmp_path, row, database_url).returncode == 0
    db = open_store(tmp_path / "var" / "citizenbot.db", database_url)
    assert db.conn.execute("SELECT COUNT(*) FROM dossier_events").fetchone()[0] == 1


class FakeProvincialSource:
    """Serves pages of updates after a cursor, like a provincial API would."""

    name = "fake-province"

    def __init__(self, pages: list[list[tuple[str, dict]]]) -> None:
        self.pages = pages
        self.cursors_seen: list[str | None] = []

    async def fetch(self, cursor: str | None) -> Batch:
        self.cursors_seen.append(cursor)
        page = int(cursor or 0)
        updates = self.pages[page] if page < len(self.pages) else []
        return Batch(updates, str(min(page + 1, len(self.pages))))


async def test_poller_ingests_pages_and_resumes_from_its_cursor(
    tmp_path: Path, database_url_for
) -> None:
    body = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": "Trần Thị Bình",
        "phone": "0987654321",
        "status": "received",
        "occurred_at": "2026-11-20T08:00:00+07:00",
    }
    source = FakeProvincialSource(
        [
            [("000.00.24.H26-251101-0001", body), ("bad-code", body)],
            [
                (
                    "000.00.24.H26-251101-0001",
                    {**body, "status": "processing", "occurred_at": "2026-11-21T08:00:00+07:00"},
                )
            ],
        ]
    )
    database = Database(tmp_path / "db.sqlite", url=database_url_for(tmp_path / "db.sqlite"))
    await database.open()
    first = await Poller(source, database, b"secret").poll_once()
    assert (first.accepted, len(first.rejected)) == (1, 1)
    # A new poller (after a restart) continues from the stored cursor.
    second = await Poller(source, database, b"secret").poll_once()
    assert second.accepted == 1 and source.cursors_seen == [None, "1"]
    record = await database.run(dossier_records.get, "000.00.24.H26-251101-0001")
    assert record["status"] == "processing"
    await database.close()


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("2026-11-22T03:00:00Z", "2026-11-22T03:00:00+00:00"),
        ("2026-11-22T10:00:00.5+07:00", "2026-11-22T10:00:00.500000+07:00"),
        ("2026-11-22t03:00:00.123456789z", "2026-11-22T03:00:00.123456+00:00"),
    ],
)
def test_rfc3339_times_as_other_systems_write_them_are_accepted(written: str, stored: str) -> None:
    """ "Z" and 1 to 9 fraction digits (Java's Instant.toString()), which Python 3.10's
    fromisoformat alone refuses."""
    body = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": "Nguyễn Văn An",
        "phone": "0912345678",
        "status": "received",
        "occurred_at": written,
    }
    assert parse_update("000.00.24.H26-251120-0042", body, b"k").occurred_at == stored
