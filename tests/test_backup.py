"""`citizenbot backup` while the service runs, and restoring from it."""

from __future__ import annotations

import shutil

from bot.storage import inbox
from tests.conftest import Service, run_cli


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
    events = await restored.database.run(lambda db: [row["user_id"] for row in db["inbox"].rows])
    assert "u-backup" in events
    key = (await restored.database.run(lambda db: list(db["inbox"].rows)))[0]["key"]
    assert await restored.database.run(inbox.status_of, key) == "done"
