"""`citizenbot backup` while the service runs, and restoring from it."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot.storage import inbox, sql
from bot.storage.backup import backup, expire
from tests.conftest import Service, run_cli
from tests.engines import ON_POSTGRES


@pytest.mark.skipif(ON_POSTGRES, reason="copies the SQLite file; PostgreSQL has pg_dump")
async def test_backup_of_a_running_service_restores_to_the_same_state(
    service: Service, start_service
) -> None:
    await service.say("u-backup", "/greet")
    await service.settle()
    backups = service.settings.data_dir / "backups"
    output = await run_cli(
        "backup", "--to", str(backups), env={"CITIZENBOT_DATA_DIR": str(service.settings.data_dir)}
    )
    copy = next(backups.glob("citizenbot-*.db"))
    assert str(copy) in output

    # Restore (README: stop the service, copy the backup over var/citizenbot.db, start).
    restored_dir = service.settings.data_dir.parent / "restored"
    restored_dir.mkdir()
    shutil.copy(copy, restored_dir / "citizenbot.db")
    restored = await start_service(data_dir=restored_dir)
    events = await restored.database.run(
        lambda db: [row["user_id"] for row in sql.rows(db, "SELECT * FROM inbox")]
    )
    assert "u-backup" in events
    key = (await restored.database.run(lambda db: sql.rows(db, "SELECT * FROM inbox")))[0]["key"]
    assert await restored.database.run(inbox.status_of, key) == "done"


def test_backups_older_than_the_message_retention_are_deleted(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc)
    names = [
        "citizenbot-20260801T030000Z.db",  # 114 days old: goes
        "tracker-20260801T030000Z.db",  # its tracker copy: goes
        "citizenbot-20260901T030000Z.db",  # 83 days old: stays
        "other-20260101T030000Z.db",  # not one of ours: stays
        "citizenbot-notes.db",  # no stamp: stays
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    deleted = expire(tmp_path, {"citizenbot", "tracker"}, 90, now)
    assert sorted(p.name for p in deleted) == sorted(names[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[2:])


def test_a_backup_and_its_directory_are_readable_by_the_service_user_only(tmp_path: Path) -> None:
    """A backup holds citizens' messages and the OA's tokens, like the database itself."""
    source = tmp_path / "citizenbot.db"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE inbox (key TEXT)")
    conn.close()
    copy = backup(source, tmp_path / "backups")
    assert copy.stat().st_mode & 0o777 == 0o600
    assert copy.parent.stat().st_mode & 0o777 == 0o700
