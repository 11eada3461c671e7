"""The functions APScheduler's job store points at. The store keeps them by module path and
name, so these names must not move. A job keeps only ids and the path of its database; the
scheduler running on that database does the work."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.scheduler.service import Scheduler

_schedulers: dict[str, Scheduler] = {}


def key(database_path: Path) -> str:
    return str(Path(database_path).resolve())


def register(scheduler: Scheduler, database_path: Path) -> None:
    _schedulers[key(database_path)] = scheduler


def unregister(scheduler: Scheduler, database_path: Path) -> None:
    if _schedulers.get(key(database_path)) is scheduler:
        del _schedulers[key(database_path)]


def scheduler_for(database_path: Path) -> Scheduler | None:
    """The scheduler running in this process on that database, if any."""
    return _schedulers.get(key(database_path))


def _running(database: str) -> Scheduler:
    scheduler = _schedulers.get(database)
    if scheduler is None:
        raise RuntimeError(f"no scheduler runs on {database} in this process")
    return scheduler


async def run_campaign(database: str, campaign_id: str) -> None:
    await _running(database).run_campaign(campaign_id)


async def resume_campaign_run(database: str, run_id: int) -> None:
    await _running(database).runner.resume(run_id)


async def fire_reminder(database: str, reminder_id: int) -> None:
    await _running(database).fire_reminder(reminder_id)


async def purge_message_logs(database: str) -> None:
    await _running(database).purge_message_logs()
