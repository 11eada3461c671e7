"""The functions APScheduler's job store points at, and the executor that runs them.

The store keeps a job's function by module path and name, so these names must not move, and
its arguments: the path of its database, then ids. Only the scheduler running on that
database loads the job; when it runs it, its executor (`JobsOfScheduler`) puts itself in the
path's place, so no registry of running schedulers is needed to find it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.job import Job


class ScheduledWork(Protocol):
    """What the jobs ask of the scheduler that runs them (bot/scheduler/job_scheduler.py)."""

    async def run_campaign(self, campaign_id: str) -> object: ...

    async def resume_campaign_run(self, run_id: int) -> object: ...

    async def fire_reminder(self, reminder_id: int) -> object: ...

    async def purge_message_logs(self) -> object: ...


def key(database_path: Path) -> str:
    """How a job names its database (its first argument)."""
    return str(Path(database_path).resolve())


class JobsOfScheduler(AsyncIOExecutor):
    """APScheduler's asyncio executor, calling each job's function with `scheduler` in
    place of the database's path."""

    def __init__(self, scheduler: ScheduledWork) -> None:
        super().__init__()
        self._work = scheduler  # not `_scheduler`: BaseExecutor keeps the AsyncIOScheduler there

    def _do_submit_job(self, job: Job, run_times: list[dt.datetime]) -> None:
        # A copy: the job itself goes back to the store after this, and the scheduler is
        # not something to store.
        bound = Job.__new__(Job)
        bound.__setstate__(job.__getstate__())
        bound._jobstore_alias = job._jobstore_alias
        bound.args = (self._work, *job.args[1:])
        super()._do_submit_job(bound, run_times)


async def run_campaign(scheduler: ScheduledWork, campaign_id: str) -> None:
    await scheduler.run_campaign(campaign_id)


async def resume_campaign_run(scheduler: ScheduledWork, run_id: int) -> None:
    await scheduler.resume_campaign_run(run_id)


async def fire_reminder(scheduler: ScheduledWork, reminder_id: int) -> None:
    await scheduler.fire_reminder(reminder_id)


async def purge_message_logs(scheduler: ScheduledWork) -> None:
    await scheduler.purge_message_logs()
