"""The service's scheduler: APScheduler on the main event loop, jobs in the service database
(its SQLite file, or PostgreSQL with CITIZENBOT_DATABASE_URL).

- Campaign schedules follow content/campaigns/*.yml (checked every few seconds, like the
  rest of content/); a broken file keeps its campaign's previous schedule.
- Reminders and paused campaign runs are one-off jobs.
- Only one scheduler runs at a time (bot/scheduler/scheduler_lock.py): on SQLite alone a
  second service is refused; with Redis or PostgreSQL every service process waits to lead,
  and one takes over when the leader dies.

Misfires: a firing missed while the service was down runs late if it is at most
`campaign_misfire_grace_seconds` (6 h) late, else it is recorded as missed; several
missed firings of one campaign coalesce into one run. Resuming a paused run is never
too late. APScheduler's SQLAlchemy job store is synchronous: the scheduler's own reads on
wake-up run on this loop (small indexed queries); everything we call runs in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy.pool import NullPool

from bot import privacy
from bot.clock import Clock, QuietHours, SystemClock, utc_iso
from bot.content import LiveContent
from bot.content.content_model import ContentError
from bot.content.loader import layered, locality_file
from bot.local_time import TIMEZONE
from bot.scheduler import citizen_reminders, jobs
from bot.scheduler.campaign_fanout import CampaignRunner
from bot.scheduler.campaign_files import Campaign, campaign_files, campaigns_dir, load_all
from bot.scheduler.scheduler_lock import SchedulerLock, shared_leadership
from bot.settings import Settings
from bot.storage import Database, campaign_records
from bot.storage import reminder_records as reminder_store
from bot.storage.tracker_reader import TrackerDatabase
from bot.zalo.sender import Sender

log = logging.getLogger(__name__)
T = TypeVar("T")

JOBS_TABLE = "apscheduler_jobs"
CAMPAIGN_JOB = "campaign:"
RUN_JOB = "campaign-run:"
REMINDER_JOB = "reminder:"
PURGE_JOB = "purge-message-logs"
PURGE_AT = dt.time(3, 0)  # local time: the quietest hour


def job_store(database_path: Path, url: str = "", schema: str | None = None) -> SQLAlchemyJobStore:
    """APScheduler's store of the jobs: a table of the service's database, in the commune's
    own schema on PostgreSQL (each commune's scheduler loads its own jobs only). It is read
    when a job is added or due: no connection is kept open between (a hundred communes'
    schedulers would hold a hundred)."""
    return SQLAlchemyJobStore(
        url=url or f"sqlite:///{database_path}",
        tablename=JOBS_TABLE,
        tableschema=schema,
        engine_options={"poolclass": NullPool},
    )


@dataclass
class SchedulerStatus:
    """What officers (and /healthz) see about campaigns."""

    campaigns: int = 0
    loaded_at: str = ""
    errors: list[str] = field(default_factory=list)
    # Whether this process runs the scheduler (with a shared lock, one process of several).
    leading: bool = False


class Scheduler:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        sender: Sender,
        content: LiveContent,
        # Rasa's tracker store, purged with the messages.
        tracker_database: TrackerDatabase | None = None,
        commune: str = "",  # whose scheduler ("" the default commune's): its conversations
        reminders_from_other_processes: bool = False,
    ) -> None:
        self.settings = settings
        self.tracker_database = tracker_database
        self.commune = commune
        self._lock = SchedulerLock(settings.database_path)
        # None: SQLite alone, the file lock.
        self._leadership = shared_leadership(settings, commune)
        self._leading: asyncio.Task[None] | None = None
        # Worker processes, and other service processes when the lock is shared, save
        # reminders without a scheduler: look for them as for edits.
        self.reminders_from_other_processes = (
            reminders_from_other_processes or self._leadership is not None
        )
        self._database = database
        self._sender = sender
        self._content = content
        self._key = jobs.key(settings.database_path)
        self._aps: AsyncIOScheduler | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._by_file: dict[str, Campaign] = {}
        self._snapshot: dict[str, tuple[int, int]] = {}
        self.campaigns: dict[str, Campaign] = {}  # live (enabled) campaigns by id
        self.status = SchedulerStatus()
        self._clock: Clock = SystemClock()
        self.runner = self._campaign_runner()

    def _campaign_runner(self) -> CampaignRunner:
        return CampaignRunner(
            self._database,
            self._sender.push,
            self._sender.tag_members,
            self._schedule_resume,
            self._clock,
            self.settings.campaign_rate,
            self.settings.campaign_max_in_flight,
            QuietHours.parse(self.settings.quiet_hours),
        )

    @property
    def clock(self) -> Clock:
        return self._clock

    @clock.setter
    def clock(self, clock: Clock) -> None:
        """Tests step time through their own clock; nothing then waits on the wall clock."""
        self._clock = self.runner.clock = clock

    @property
    def leading(self) -> bool:
        """This process runs the scheduler, its start done (jobs loaded, runs resumed)."""
        return self._watch_task is not None

    @property
    def _jobs_running(self) -> bool:
        return self._aps is not None and self._aps.running

    # --- life cycle ---------------------------------------------------------------------

    def take_lock(self) -> None:
        """The service's first start-up step: on SQLite alone, a second scheduler on this
        database fails (SchedulerLocked, naming the holder) before anything else has started.
        A shared lock is waited for by `start` instead."""
        if self._leadership is None:
            self._lock.acquire()

    async def start(self) -> None:
        """Lead the scheduler (after `take_lock` and once the Sender is open): at once on
        SQLite alone, and with a shared lock nobody holds; else in the background whenever
        this process is elected."""
        if self._leadership is None:
            await self._lead()
            return
        leads = await self._leadership.try_acquire()
        if leads:
            log.info("this process leads the scheduler")
            try:
                await self._lead()
            except BaseException:
                await self._leadership.release()
                raise
        self._leading = asyncio.create_task(self._lead_when_elected(leads), name="scheduler-lead")

    async def _lead_when_elected(self, leads: bool) -> None:
        """Wait for the lock, lead while it is renewed, step down when it is lost, and wait
        again (the lock lost for a moment: another process may lead meanwhile)."""
        assert self._leadership is not None
        while True:
            if not leads:
                await self._leadership.acquire()
                log.info("this process now leads the scheduler")
                try:
                    await self._lead()
                except Exception:
                    log.exception("the scheduler could not start here; another process may lead")
                    await self._leadership.release()
                    await asyncio.sleep(self.settings.scheduler_lock_seconds)
                    continue
            leads = False
            await self._leadership.hold()
            log.error("this process lost the scheduler's lock: its jobs stop here")
            await self._stop_leading()

    async def _lead(self) -> None:
        """Load the jobs, apply the campaign files, resume runs a stop (or a dead leader)
        interrupted, then watch the files."""
        try:
            self._aps = AsyncIOScheduler(
                jobstores={
                    "default": job_store(
                        self.settings.database_path,
                        self.settings.database_url,
                        self.settings.database_schema if self.settings.database_url else None,
                    )
                },
                executors={"default": jobs.JobsOfScheduler(self)},
                job_defaults={"coalesce": True, "max_instances": 1},
                timezone=TIMEZONE,
                event_loop=asyncio.get_running_loop(),
            )
            self._aps.add_listener(self._on_missed, EVENT_JOB_MISSED)
            await self._blocking(self._aps.start)
            await self._blocking(self._rekey_jobs)
            # The snapshot before the load: an edit made meanwhile is seen as a change.
            self._snapshot = await self._blocking(self._scan)
            await self.reload_campaigns()
            await self._schedule_reminders()
            await self._blocking(self._schedule_purge)
            for run_id in await self.runner.recover():
                self._spawn(self.runner.resume(run_id))
        except BaseException:
            await self._stop_leading()
            raise
        self._watch_task = asyncio.create_task(self._watch(), name="campaign-watcher")

    async def stop(self) -> None:
        """Stop sending (messages on their way finish), then the scheduler and the lock."""
        if self._leading is not None:
            self._leading.cancel()
            await asyncio.gather(self._leading, return_exceptions=True)
        await self._stop_leading()
        if self._leadership is not None:
            await self._leadership.release()
        self._lock.release()

    async def _stop_leading(self) -> None:
        """Stop this process's jobs and sends; a fresh runner waits for the next lead."""
        if self._watch_task is not None:
            self._watch_task.cancel()
            await asyncio.gather(self._watch_task, return_exceptions=True)
            self._watch_task = None
        await self.runner.stop()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self.runner = self._campaign_runner()
        self.status = SchedulerStatus()

    # --- campaigns ----------------------------------------------------------------------

    async def reload_campaigns(self) -> None:
        """Apply content/campaigns/: new and edited schedules take effect, removed or
        disabled campaigns stop (with their unfinished runs); a broken file changes nothing."""
        loop = asyncio.get_running_loop()
        try:
            content = self._content  # a commune's: its own campaigns (campaign_files.py)
            loaded, errors = await loop.run_in_executor(
                None, load_all, content.directory, content.overlay
            )
        except ContentError as exc:  # locality.yml or ui.yml is broken: keep everything
            errors, loaded = [exc], dict(self._by_file)
        for error in errors:
            log.error("campaign file rejected, its previous schedule stays: %s", error)
            path = error.where.rsplit(":", 1)[0]
            if path in self._by_file and path not in loaded:
                loaded[path] = self._by_file[path]
        self._by_file = loaded
        self.campaigns = {c.id: c for c in loaded.values() if c.enabled}
        await self._blocking(self._apply_schedules, dict(self.campaigns))
        orphaned = await self._database.run(campaign_records.unfinished_campaigns)
        for campaign_id in orphaned - set(self.campaigns):
            await self._database.run(
                campaign_records.cancel_runs, campaign_id, "the campaign was removed or disabled"
            )
        self.status = SchedulerStatus(
            campaigns=len(self.campaigns),
            loaded_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            errors=[str(error) for error in errors],
            leading=True,
        )

    def _apply_schedules(self, live: dict[str, Campaign]) -> None:
        """(Thread.) A job per live campaign; an unchanged schedule keeps its job, and so its
        next run time and any misfire the scheduler still has to handle."""
        assert self._aps is not None
        now = dt.datetime.now(TIMEZONE)
        existing = {job.id: job for job in self._aps.get_jobs() if job.id.startswith(CAMPAIGN_JOB)}
        for campaign in live.values():
            job_id = CAMPAIGN_JOB + campaign.id
            job = existing.pop(job_id, None)
            fingerprint = campaign.schedule.fingerprint
            if job is not None and job.name == fingerprint:
                continue
            trigger = campaign.schedule.trigger()
            next_run = trigger.get_next_fire_time(None, now)
            if next_run is None or next_run < now:  # a one-off date in the past never fires
                if job is not None:
                    job.remove()
                continue
            self._aps.add_job(
                jobs.run_campaign,
                trigger,
                args=[self._key, campaign.id],
                id=job_id,
                name=fingerprint,
                replace_existing=True,
                misfire_grace_time=self.settings.campaign_misfire_grace_seconds,
                # A firing while a long run is still sending reaches the runner, which records
                # it as skipped (APScheduler would only log it).
                max_instances=2,
            )
            log.info("campaign %s scheduled, next run %s", campaign.id, next_run)
        for job in existing.values():
            job.remove()

    async def run_campaign(self, campaign_id: str) -> int | None:
        """A firing of the campaign's schedule: a new run (returns when it ends or pauses)."""
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            log.warning("campaign %s fired but is no longer live", campaign_id)
            return None
        return await self.runner.start(campaign)

    async def resume_campaign_run(self, run_id: int) -> None:
        """A paused run's resume job: it goes on sending where it stopped."""
        await self.runner.resume(run_id)

    def next_run(self, campaign_id: str) -> dt.datetime | None:
        """The campaign's next firing, as known where the scheduler runs (None elsewhere)."""
        if not self._jobs_running:
            return None
        assert self._aps is not None
        job = self._aps.get_job(CAMPAIGN_JOB + campaign_id)
        return job.next_run_time if job else None

    async def _schedule_resume(self, run_id: int, at: dt.datetime) -> None:
        await self._blocking(
            self._add_job, jobs.resume_campaign_run, RUN_JOB + str(run_id), at, run_id, None
        )

    async def _watch(self) -> None:
        """Hot reload: the same poll as content/, over the files campaigns depend on (and
        reminders saved by worker processes)."""
        while True:
            await asyncio.sleep(self.settings.content_reload_seconds)
            snapshot = await self._blocking(self._scan)
            if snapshot != self._snapshot:
                self._snapshot = snapshot
                await self.reload_campaigns()
            if self.reminders_from_other_processes:
                try:
                    await self._schedule_reminders()
                except Exception:  # the database busy for a moment: the next poll retries
                    log.exception("could not look for reminders saved by the workers")

    def _scan(self) -> dict[str, tuple[int, int]]:
        directory, overlay = self._content.directory, self._content.overlay
        paths = campaign_files(campaigns_dir(directory, overlay)) + [
            locality_file(directory, overlay),
            layered(directory, overlay, "ui.yml"),
        ]
        return {
            str(path): (path.stat().st_mtime_ns, path.stat().st_size)
            for path in paths
            if path.exists()
        }

    # --- reminders ----------------------------------------------------------------------

    async def add_reminder_job(self, reminder_id: int, at: dt.datetime) -> None:
        """A job for a reminder saved here; where another process leads, its poll of the
        saved reminders gives it one."""
        if not self._jobs_running:
            return
        await self._blocking(
            self._add_job,
            jobs.fire_reminder,
            REMINDER_JOB + str(reminder_id),
            at,
            reminder_id,
            self.settings.reminder_misfire_grace_seconds,
        )

    async def remove_reminder_jobs(self, reminder_ids: list[int]) -> None:
        """Where another process leads, the job stays and finds its reminder cancelled."""
        if not self._jobs_running:
            return
        await self._blocking(self._remove_jobs, [REMINDER_JOB + str(i) for i in reminder_ids])

    async def fire_reminder(self, reminder_id: int) -> str | None:
        return await citizen_reminders.fire(
            self._database,
            self._sender.push,
            self._content.library,
            self.settings.reminder_template_id,
            reminder_id,
            self.clock.now(),
        )

    async def _schedule_reminders(self) -> None:
        """Give a job to every scheduled reminder without one (saved by another process)."""
        assert self._aps is not None
        pending = await self._database.run(reminder_store.scheduled)
        have = {job.id for job in await self._blocking(self._aps.get_jobs)}
        for reminder_id, remind_at in pending:
            if REMINDER_JOB + str(reminder_id) not in have:
                await self.add_reminder_job(reminder_id, dt.datetime.fromisoformat(remind_at))

    # --- personal data ------------------------------------------------------------------

    def _schedule_purge(self) -> None:
        """(Thread.) The daily purge of message logs past the retention period. A purge
        missed while the service was down runs at the next start (coalesced into one)."""
        assert self._aps is not None
        self._aps.add_job(
            jobs.purge_message_logs,
            CronTrigger(hour=PURGE_AT.hour, minute=PURGE_AT.minute, timezone=TIMEZONE),
            args=[self._key],
            id=PURGE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def purge_message_logs(self) -> privacy.Purge:
        return await privacy.purge_message_logs(
            self._database,
            self.tracker_database,
            self.settings.message_retention_days,
            self.clock.now(),
            commune=self.commune,
        )

    # --- plumbing -----------------------------------------------------------------------

    def _add_job(
        self,
        func: Callable[..., Coroutine[Any, Any, Any]],
        job_id: str,
        at: dt.datetime,
        arg: int,
        misfire_grace_time: int | None,
    ) -> None:
        assert self._aps is not None
        self._aps.add_job(
            func,
            DateTrigger(run_date=at, timezone=TIMEZONE),
            args=[self._key, arg],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=misfire_grace_time,
        )

    def _remove_jobs(self, job_ids: list[str]) -> None:
        assert self._aps is not None
        for job_id in job_ids:
            with contextlib.suppress(JobLookupError):  # it fired already
                self._aps.remove_job(job_id)

    def _rekey_jobs(self) -> None:
        """Jobs name their database by path: after the data directory moved, point them here."""
        assert self._aps is not None
        for job in self._aps.get_jobs():
            if job.args and job.args[0] != self._key:
                job.modify(args=(self._key, *job.args[1:]))

    def _on_missed(self, event: JobExecutionEvent) -> None:
        """Record what the service missed while it was down (for the delivery report)."""
        scheduled = utc_iso(event.scheduled_run_time)
        if event.job_id.startswith(CAMPAIGN_JOB):
            campaign_id = event.job_id.removeprefix(CAMPAIGN_JOB)
            self._spawn(self._database.run(campaign_records.record_missed, campaign_id, scheduled))
        elif event.job_id.startswith(REMINDER_JOB):
            reminder_id = int(event.job_id.removeprefix(REMINDER_JOB))
            self._spawn(self._database.run(reminder_store.settle, reminder_id, "missed"))

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
