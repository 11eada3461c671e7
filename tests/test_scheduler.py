"""The scheduler: local cron times, jobs that survive a restart, misfires, one scheduler per
database, and campaign files applied (and refused) while the service runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path

import pytest
from apscheduler.triggers.date import DateTrigger

from bot.clock import QuietHours
from bot.local_time import TIMEZONE
from bot.scheduler import citizen_reminders as scheduler_reminders
from bot.scheduler import jobs
from bot.scheduler.campaign_fanout import Pacer
from bot.scheduler.campaign_files import load_campaign
from bot.scheduler.job_scheduler import Scheduler
from bot.scheduler.scheduler_lock import SchedulerLocked
from bot.settings import Settings, SettingsError
from bot.storage import Database, campaign_records, reminder_records, users
from bot.web.app import SCHEDULER
from tests.conftest import PROJECT, Service, free_port
from tests.engines import ON_POSTGRES

MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TIMEZONE)  # a Monday, 10:00 local


class FakeClock:
    """Time that moves only when the code under test sleeps or a test says so."""

    def __init__(self, start: dt.datetime) -> None:
        self.moment = start
        self.slept = 0.0
        self.gate: asyncio.Event | None = None  # set: sleeping blocks until released
        self.sleeps_before_gate = 0

    def now(self) -> dt.datetime:
        return self.moment

    async def sleep(self, seconds: float) -> None:
        self.moment += dt.timedelta(seconds=seconds)
        self.slept += seconds
        if self.gate is not None:
            self.sleeps_before_gate -= 1
            if self.sleeps_before_gate < 0:
                await self.gate.wait()
        await asyncio.sleep(0)

    def close_gate_after(self, sleeps: int) -> asyncio.Event:
        """Sleeping blocks after `sleeps` more sleeps, until the returned event is set."""
        self.gate = asyncio.Event()
        self.sleeps_before_gate = sleeps
        return self.gate


def next_local(hour: int, minute: int = 0, second: float = 0) -> dt.datetime:
    """The next moment at this local time (within a day: users' 7-day window holds)."""
    now = dt.datetime.now(TIMEZONE)
    moment = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    moment += dt.timedelta(seconds=second)
    return moment if moment > now else moment + dt.timedelta(days=1)


def write_campaign(content: Path, name: str, body: str) -> Path:
    path = content / "campaigns" / f"{name}.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


def campaign_yaml(campaign_id: str, schedule: str, audience: str = "all_followers: true") -> str:
    return f"""
id: {campaign_id}
title: "Chiến dịch thử"
schedule:
  {schedule}
audience:
  {audience}
message_type: consultation
message:
  text: "Tháng cao điểm dịch vụ công trực tuyến: nộp hồ sơ tại nhà."
  buttons:
    - title: "Cách nộp online"
      payload: "/how_to_apply_online"
"""


def fresh_content(tmp_path: Path) -> Path:
    """A copy of the project's content without the sample campaigns."""
    copy = Path(shutil.copytree(PROJECT / "content", tmp_path / "content"))
    shutil.rmtree(copy / "campaigns", ignore_errors=True)
    (copy / "campaigns").mkdir()
    return copy


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return fresh_content(tmp_path)


def scheduler_of(service: Service) -> Scheduler:
    assert service.app is not None
    return service.app[SCHEDULER]


# --- time ------------------------------------------------------------------------------


def test_cron_fires_at_the_right_local_times(content: Path) -> None:
    path = write_campaign(
        content,
        "cron",
        campaign_yaml(
            "cron",
            'cron: {day_of_week: "mon,thu", hour: 9}\n  start: 2026-12-01\n  end: 2026-12-10',
        ),
    )
    campaign = load_campaign(path, *_context(content))
    runs = campaign.schedule.next_runs(MONDAY, 5)
    assert [f"{r:%a %d/%m %H:%M %z}" for r in runs] == [
        "Thu 03/12 09:00 +0700",
        "Mon 07/12 09:00 +0700",
        "Thu 10/12 09:00 +0700",
    ]
    assert runs[0].astimezone(dt.timezone.utc).hour == 2  # 09:00 in Hà Nội is 02:00 UTC


def test_an_interval_runs_from_its_start_at_the_same_local_time(content: Path) -> None:
    body = campaign_yaml("every", "every: {weeks: 2}\n  start: 2026-12-05 08:30")
    campaign = load_campaign(write_campaign(content, "every", body), *_context(content))
    runs = campaign.schedule.next_runs(MONDAY, 3)
    assert [f"{r:%d/%m %H:%M}" for r in runs] == ["05/12 08:30", "19/12 08:30", "02/01 08:30"]


def test_quiet_hours_span_midnight_and_end_in_the_morning() -> None:
    quiet = QuietHours.parse("21:00-07:00")
    assert quiet is not None
    late = dt.datetime(2026, 11, 23, 22, 30, tzinfo=TIMEZONE)
    assert quiet.contains(late) and quiet.contains(late.replace(hour=6, minute=59))
    assert not quiet.contains(late.replace(hour=7)) and not quiet.contains(late.replace(hour=20))
    assert quiet.end_after(late) == dt.datetime(2026, 11, 24, 7, 0, tzinfo=TIMEZONE)
    assert QuietHours.parse("off") is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CITIZENBOT_QUIET_HOURS", "9pm-7am"),
        ("CITIZENBOT_CAMPAIGN_RATE", "0"),
        ("CITIZENBOT_REMINDER_TIME", "8h"),
        ("CITIZENBOT_BIRTH_DEADLINE_REMINDER_DAYS", "7,-1"),
    ],
)
def test_malformed_scheduling_settings_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


async def test_the_pacer_keeps_the_rate_without_bursting_after_a_stall() -> None:
    clock = FakeClock(MONDAY)
    pacer = Pacer(clock, rate=20)
    for _ in range(101):
        await pacer.wait()
    assert clock.slept == pytest.approx(100 / 20)
    clock.moment += dt.timedelta(seconds=30)  # a long stall (quiet hours, a slow Zalo)
    before = clock.slept
    for _ in range(3):
        await pacer.wait()
    assert clock.slept - before == pytest.approx(2 / 20)


# --- the service's scheduler -----------------------------------------------------------


async def test_a_campaign_job_is_scheduled_at_its_next_local_cron_time(
    start_service, content: Path
) -> None:
    write_campaign(content, "weekly", campaign_yaml("weekly", "cron: {day_of_week: mon, hour: 9}"))
    service = await start_service(content_dir=content)
    scheduler = scheduler_of(service)
    expected = scheduler.campaigns["weekly"].schedule.next_runs(dt.datetime.now(TIMEZONE), 1)[0]
    assert scheduler.next_run("weekly") == expected
    assert f"{expected:%a %H:%M}" == "Mon 09:00"


async def test_jobs_survive_a_restart(start_service, content: Path) -> None:
    write_campaign(content, "weekly", campaign_yaml("weekly", "cron: {day_of_week: mon, hour: 9}"))
    service = await start_service(content_dir=content)
    at = dt.datetime.now(TIMEZONE).replace(microsecond=0) + dt.timedelta(days=3)
    reminder_id = await service.database.run(
        reminder_records.add, "u-restart", "personal", at.isoformat(), "đi nhận kết quả"
    )
    await scheduler_of(service).add_reminder_job(reminder_id, at)
    before = scheduler_of(service).next_run("weekly")
    await service.restart()
    scheduler = scheduler_of(service)
    assert scheduler.next_run("weekly") == before
    job = scheduler._aps.get_job(f"reminder:{reminder_id}")  # type: ignore[union-attr]
    assert job is not None and job.next_run_time == at


@pytest.mark.skipif(
    ON_POSTGRES,
    reason="SQLite's file lock; on PostgreSQL and Redis a second scheduler waits to take over "
    "(tests/test_scheduler_leader.py)",
)
async def test_a_second_scheduler_on_the_same_database_is_refused_clearly(
    start_service, brain
) -> None:
    first = await start_service()
    second = Service(Settings(**{**first.settings.__dict__, "port": free_port()}), brain)
    with pytest.raises(SchedulerLocked, match="only one may run per database") as refused:
        await second.start()
    await second.close()
    assert str(first.settings.database_path) in str(refused.value)
    assert "pid" in str(refused.value)


async def test_a_reminder_due_while_the_service_was_down_fires_at_start(
    start_service, content: Path
) -> None:
    service = await start_service(content_dir=content)
    await service.database.run(_recent_user, "u-late")
    await service.stop()
    now = dt.datetime.now(TIMEZONE)
    database = Database.from_settings(service.settings)  # saved while the service was down
    await database.open()
    late = await database.run(
        reminder_records.add, "u-late", "personal", (now - dt.timedelta(hours=1)).isoformat(), "họp"
    )
    missed = await database.run(
        reminder_records.add, "u-late", "personal", (now - dt.timedelta(hours=7)).isoformat(), "cũ"
    )
    await database.close()
    await service.start()
    await _until(lambda: _statuses(service, late, missed), ("sent", "missed"))
    [message] = await service.messages("u-late")
    assert "họp" in message["text"]


async def test_a_reminder_a_worker_process_saved_gets_its_job_while_the_scheduler_runs(
    start_service, content: Path
) -> None:
    service = await start_service(content_dir=content, content_reload_seconds=0.1)
    scheduler_of(service).reminders_from_other_processes = True  # as with CITIZENBOT_WORKERS > 1
    await service.database.run(_recent_user, "u-from-a-worker")
    soon = (dt.datetime.now(TIMEZONE) + dt.timedelta(seconds=1)).isoformat()
    worker = Database.from_settings(service.settings)  # a worker's connection, no scheduler
    await worker.open()
    saved = await worker.run(reminder_records.add, "u-from-a-worker", "personal", soon, "nộp hồ sơ")
    await worker.close()
    await _until(lambda: _statuses(service, saved), ("sent",))
    [message] = await service.messages("u-from-a-worker")
    assert "nộp hồ sơ" in message["text"]


async def test_a_campaign_firing_missed_beyond_the_grace_is_recorded_not_run(
    start_service, content: Path
) -> None:
    write_campaign(content, "late", campaign_yaml("late", "cron: {day_of_week: mon, hour: 9}"))
    service = await start_service(content_dir=content)
    scheduler = scheduler_of(service)
    seven_hours_ago = dt.datetime.now(TIMEZONE) - dt.timedelta(hours=7)
    scheduler._aps.add_job(  # type: ignore[union-attr]  # as if stored before a long outage
        jobs.run_campaign,
        DateTrigger(seven_hours_ago, timezone=TIMEZONE),
        args=[jobs.key(service.settings.database_path), "late"],
        id="campaign:late",
        replace_existing=True,
        misfire_grace_time=service.settings.campaign_misfire_grace_seconds,
    )

    async def missed() -> bool:
        runs = await service.database.run(campaign_records.runs_of, "late", 5)
        return [r["status"] for r in runs] == ["missed"]

    await until(missed)


async def test_editing_a_campaign_file_reschedules_it_while_running(
    start_service, content: Path
) -> None:
    path = write_campaign(
        content, "edit", campaign_yaml("edit", "cron: {day_of_week: mon, hour: 9}")
    )
    service = await start_service(content_dir=content, content_reload_seconds=0.05)
    scheduler = scheduler_of(service)
    assert f"{scheduler.next_run('edit'):%H:%M}" == "09:00"
    path.write_text(path.read_text().replace("hour: 9", "hour: 15"), encoding="utf-8")
    await _until_true(lambda: f"{scheduler.next_run('edit'):%H:%M}" == "15:00")


async def test_a_broken_campaign_file_is_refused_and_the_old_schedule_stays(
    start_service, content: Path
) -> None:
    path = write_campaign(
        content, "keep", campaign_yaml("keep", "cron: {day_of_week: mon, hour: 9}")
    )
    service = await start_service(content_dir=content)
    scheduler = scheduler_of(service)
    before = scheduler.next_run("keep")
    path.write_text(path.read_text().replace("hour: 9", "hour: 9, day_of_week: 1"))
    await scheduler.reload_campaigns()
    assert scheduler.next_run("keep") == before
    [error] = scheduler.status.errors
    assert "keep.yml" in error and "names" in error
    async with service.http.get(f"{service.url}/healthz") as resp:
        assert "keep.yml" in (await resp.json())["campaigns"]["errors"][0]


async def test_a_removed_campaign_loses_its_job_and_its_unfinished_run(
    start_service, content: Path
) -> None:
    path = write_campaign(
        content, "gone", campaign_yaml("gone", "cron: {day_of_week: mon, hour: 9}")
    )
    service = await start_service(content_dir=content)
    scheduler = scheduler_of(service)
    run_id = await service.database.run(
        campaign_records.start_run,
        "gone",
        "2026-11-23T02:00:00.000+00:00",
        {"text": "x"},
        None,
        "users",
        (),
    )
    path.unlink()
    await scheduler.reload_campaigns()
    assert scheduler.next_run("gone") is None
    assert await service.database.run(campaign_records.run_status, run_id) == "cancelled"


async def test_a_stored_job_runs_on_the_scheduler_of_its_database(
    start_service, content: Path
) -> None:
    service = await start_service(content_dir=content)
    await service.database.run(users.interacted, "u-job")
    soon = dt.datetime.now(TIMEZONE) + dt.timedelta(seconds=0.5)
    reminder_id = await scheduler_reminders.schedule(
        service.database, scheduler_of(service), "u-job", "personal", soon, "họp tổ dân phố"
    )
    stored = scheduler_of(service)._aps.get_job(f"reminder:{reminder_id}")  # type: ignore[union-attr]
    assert stored.args == (jobs.key(service.settings.database_path), reminder_id)

    async def sent() -> bool:
        return (await service.database.run(reminder_records.get, reminder_id))["status"] == "sent"

    await until(sent)


# --- helpers ---------------------------------------------------------------------------


def _context(content: Path):
    from bot.scheduler.campaign_files import load_context

    return load_context(content)


def _recent_user(db, user_id: str) -> None:
    from bot.storage import users

    users.interacted(db, user_id)


async def _statuses(service: Service, *reminder_ids: int) -> tuple:
    rows = [await service.database.run(reminder_records.get, rid) for rid in reminder_ids]
    return tuple(row["status"] for row in rows)


async def until(condition, timeout: float = 10) -> None:
    """Wait for the service (never for a time to come): `condition` is an async probe."""
    for _ in range(int(timeout / 0.01)):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting for the service")


async def _until(probe, expected, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.02)):
        if await probe() == expected:
            return
        await asyncio.sleep(0.02)
    assert await probe() == expected


async def _until_true(condition, timeout: float = 10) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    assert condition()
