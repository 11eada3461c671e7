"""With Redis or PostgreSQL, service processes share one scheduler: one leads, the others
wait, and when the leader is killed (kill -9) another takes over within the lock's expiry;
a campaign run it left half-sent goes on without anyone getting its message twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import psycopg2
import pytest

from bot.local_time import TIMEZONE
from bot.scheduler.scheduler_lock import shared_leadership
from bot.settings import Settings
from bot.storage import Database, reminder_records, users
from tests.conftest import PROJECT, free_port
from tests.external_zalo import ExternalZalo, ServiceProcess, rows
from tests.test_scheduler import (
    campaign_yaml,
    fresh_content,
    scheduler_of,
    until,
    write_campaign,
)

LOCK_SECONDS = 2.0
# A process that leads and renews until it is killed.
LEAD = """
import asyncio
from bot.scheduler.scheduler_lock import shared_leadership
from bot.settings import Settings

async def main():
    leadership = shared_leadership(Settings.from_env())
    await leadership.acquire()
    print("leading", flush=True)
    await leadership.hold()

asyncio.run(main())
"""


def engine_env(request: pytest.FixtureRequest, engine: str) -> dict[str, str]:
    url = request.getfixturevalue(f"{engine}_url")
    name = "CITIZENBOT_REDIS_URL" if engine == "redis" else "CITIZENBOT_DATABASE_URL"
    return {name: url, "CITIZENBOT_SCHEDULER_LOCK_SECONDS": str(LOCK_SECONDS)}


@pytest.mark.parametrize("engine", ["redis", "postgres"])
async def test_each_commune_has_its_own_scheduler_lock(
    request: pytest.FixtureRequest, engine: str
) -> None:
    settings = Settings.from_env(engine_env(request, engine))
    held = [shared_leadership(settings, commune) for commune in ("", "xa-a", "xa-b")]
    again = shared_leadership(settings, "xa-a")
    assert again is not None and all(held)
    try:
        assert [await leadership.try_acquire() for leadership in held] == [True] * 3  # type: ignore[union-attr]
        assert await again.try_acquire() is False  # the same commune's: one leads
    finally:
        for leadership in (*held, again):
            await leadership.release()  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ["redis", "postgres"])
async def test_a_killed_leader_is_replaced_within_the_lock_expiry(
    request: pytest.FixtureRequest, engine: str
) -> None:
    env = engine_env(request, engine)
    leader = await asyncio.create_subprocess_exec(
        sys.executable, "-c", LEAD, cwd=PROJECT, env=env, stdout=asyncio.subprocess.PIPE
    )
    assert leader.stdout is not None
    try:
        assert await asyncio.wait_for(leader.stdout.readline(), 60) == b"leading\n"
        standby = shared_leadership(Settings.from_env(env))
        assert standby is not None
        elected = asyncio.create_task(standby.acquire())
        await asyncio.sleep(3 * LOCK_SECONDS)  # the leader renews: nobody else leads
        assert not elected.done()
        leader.kill()
        killed_at = time.monotonic()
        await asyncio.wait_for(elected, 3 * LOCK_SECONDS)
        assert time.monotonic() - killed_at < LOCK_SECONDS * 1.5
        await standby.release()
    finally:
        if leader.returncode is None:
            leader.kill()
        await leader.wait()


async def test_jobs_live_in_postgresql_and_survive_a_restart(
    start_service, postgres_url: str, tmp_path: Path
) -> None:
    content = fresh_content(tmp_path)
    write_campaign(content, "weekly", campaign_yaml("weekly", "cron: {day_of_week: mon, hour: 9}"))
    service = await start_service(content_dir=content, database_url=postgres_url)

    async def leads() -> bool:
        return scheduler_of(service).leading

    await until(leads, timeout=30)  # the advisory lock is free: this process leads
    at = dt.datetime.now(TIMEZONE).replace(microsecond=0) + dt.timedelta(days=3)
    reminder_id = await service.database.run(
        reminder_records.add, "u-pg-job", "personal", at.isoformat(), "đi nhận kết quả"
    )
    await scheduler_of(service).add_reminder_job(reminder_id, at)
    with psycopg2.connect(postgres_url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM apscheduler_jobs ORDER BY id")
        assert [job_id for (job_id,) in cursor] == [
            "campaign:weekly",
            "purge-message-logs",
            f"reminder:{reminder_id}",
        ]
    await service.restart()
    await until(leads, timeout=30)
    job = scheduler_of(service)._aps.get_job(f"reminder:{reminder_id}")  # type: ignore[union-attr]
    assert job is not None and job.next_run_time == at


async def test_a_leading_scheduler_keeps_no_idle_session_for_its_jobs(
    start_service, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    """Every commune of a deployment has a scheduler: an idle session each for its jobs would
    hold a hundred of PostgreSQL's connections for a hundred communes."""
    service = await start_service(
        content_dir=fresh_content(tmp_path), database_url=postgres_url, redis_url=redis_url
    )

    async def leads() -> bool:
        return scheduler_of(service).leading

    await until(leads, timeout=30)
    sessions = rows(
        postgres_url,
        "SELECT left(query, 30) FROM pg_stat_activity WHERE datname = current_database()"
        " AND pid <> pg_backend_pid() ORDER BY 1",
    )
    assert len(sessions) == 2, sessions  # the tables' connection and the inbox's LISTEN


async def leading(http: aiohttp.ClientSession, service: ServiceProcess) -> bool:
    async with http.get(f"{service.url}/healthz") as resp:
        return (await resp.json())["campaigns"]["leading"]


async def test_a_campaign_goes_on_after_its_leader_is_killed_and_nobody_gets_it_twice(
    model_dir: Path, tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    recipients = [f"u-leader-{n}" for n in range(30)]
    data_dir = tmp_path / "var"
    database = Database(data_dir / "citizenbot.db", url=postgres_url)  # both services' tables
    await database.open()
    for user_id in recipients:
        await database.run(users.interacted, user_id)
    await database.close()
    content = fresh_content(tmp_path)
    zalo = ExternalZalo()
    await zalo.start()
    env = {
        **zalo.env(),
        "CITIZENBOT_DATABASE_URL": postgres_url,
        "CITIZENBOT_REDIS_URL": redis_url,
        "CITIZENBOT_SCHEDULER_LOCK_SECONDS": str(LOCK_SECONDS),
        "CITIZENBOT_CONTENT_DIR": str(content),
        "CITIZENBOT_WORKERS": "1",
        "CITIZENBOT_CAMPAIGN_RATE": "4",  # 30 recipients: about 8 s
        "CITIZENBOT_QUIET_HOURS": "off",
    }
    first, second = (
        ServiceProcess(free_port(), data_dir, env, tmp_path / f"service-{n}.log") for n in (1, 2)
    )
    try:
        async with aiohttp.ClientSession() as http:
            await first.start()
            await second.start()
            assert await leading(http, first) and not await leading(http, second)
            at = dt.datetime.now(TIMEZONE) + dt.timedelta(seconds=4)
            audience = "users: [" + ", ".join(recipients) + "]"
            schedule = f'at: "{at:%Y-%m-%d %H:%M:%S}"'
            write_campaign(content, "dvc", campaign_yaml("dvc", schedule, audience))

            async def delivered_some() -> bool:
                return zalo.delivered() >= 8

            await until(delivered_some, timeout=60)
            assert zalo.delivered() < len(recipients)  # killed mid-run
            first.kill()
            assert await first.wait() == -signal.SIGKILL
            killed_at = time.monotonic()
            await until(lambda: leading(http, second), timeout=3 * LOCK_SECONDS)

            async def run_done() -> bool:
                return rows(postgres_url, "SELECT status FROM campaign_runs") == [("done",)]

            await until(run_done, timeout=60)
            assert time.monotonic() - killed_at < 60
    finally:
        first.kill()
        second.kill()
        await zalo.stop()
    got = Counter({user_id: len(zalo.messages(user_id)) for user_id in recipients})
    assert max(got.values()) == 1  # nobody twice
    deliveries = dict(
        rows(postgres_url, "SELECT status, count(*) FROM campaign_deliveries GROUP BY 1")
    )
    # Those whose request was on the wire at the kill are left in doubt, never sent again
    # (Zalo may or may not have received it).
    sent, in_doubt = deliveries["sent"], deliveries.get("in_doubt", 0)
    assert sent + in_doubt == len(recipients)
    assert sent <= sum(got.values()) <= sent + in_doubt
