"""Many communes on one deployment: each its own webhook, OA, database and locality, one model."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import pytest

from bot import privacy
from bot.communes import commune_config
from bot.communes.commune_config import Commune, CommuneError
from bot.communes.commune_setup import add_commune
from bot.content.checks import check_content
from bot.local_time import TIMEZONE
from bot.sandbox.zalo_sandbox import ZaloSandbox
from bot.settings import Settings
from bot.storage import Database, dossier_records, retention, tracker_reader
from bot.web.app import COMMUNES, SCHEDULER
from bot.zalo import signature
from tests.conftest import PROJECT, Service, run_cli
from tests.test_queue_bound import parse_metrics

QUESTION = "địa chỉ và số điện thoại bộ phận một cửa ở đâu"


def content_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECT / "content", tmp_path / "content"))


def write_locality(content: Path, slug: str, hotline: str) -> None:
    """The commune's locality.yml: the shared one with its own name and hotline."""
    shared = (content / "locality.yml").read_text(encoding="utf-8")
    lines = []
    for line in shared.splitlines():
        if line.startswith("hotline:"):
            line = f'hotline: "{hotline}"'
        elif line.startswith("name:"):
            line = f'name: "Xã {slug}"'
        lines.append(line)
    folder = content / "communes" / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "locality.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")


async def with_communes(tmp_path: Path, hotlines: dict[str, str]) -> tuple[Path, Path]:
    """A content copy and a data folder with these communes added, each with its hotline."""
    content = content_copy(tmp_path)
    data_dir = tmp_path / "var"
    settings = Settings(data_dir=data_dir, content_dir=content)
    for slug, hotline in hotlines.items():
        write_locality(content, slug, hotline)
        await add_commune(settings, Commune.in_sandbox(slug))
    return content, data_dir


async def post_to_commune(service: Service, slug: str, user_id: str, text: str) -> int:
    """What Zalo does for the commune's OA when a citizen writes."""
    commune = Commune.in_sandbox(slug)
    event = ZaloSandbox(commune.app_id, "", "", "", "").event(user_id, "user_send_text", text)
    return await post_event_to_commune(service, slug, event)


async def post_event_to_commune(service: Service, slug: str, event: dict) -> int:
    """The event, signed with the commune's OA secret key, to its webhook; the status."""
    commune = Commune.in_sandbox(slug)
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = signature.header_value(commune.app_id, body, event["timestamp"], commune.oa_secret_key)
    headers = {signature.HEADER: mac, "Content-Type": "application/json"}
    async with service.http.post(
        f"{service.url}/webhook/zalo/{slug}", data=body, headers=headers
    ) as resp:
        return resp.status


async def replies_in_commune(service: Service, slug: str, user_id: str) -> list[str]:
    url = f"{service.url}/sandbox/communes/{slug}/messages"
    async with service.http.get(url, params={"user_id": user_id}) as resp:
        return [m["message"].get("text", "") for m in (await resp.json())["messages"]]


async def wait_for_reply(service: Service, slug: str, user_id: str, seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while not (found := await replies_in_commune(service, slug, user_id)):
        assert time.monotonic() < deadline, f"commune {slug} did not answer"
        await asyncio.sleep(0.05)
    return "\n".join(found)


async def test_each_of_100_communes_answers_with_its_own_hotline(
    start_service, tmp_path: Path
) -> None:
    hotlines = {f"xa-{n:03d}": f"0209 555 {n:03d}" for n in range(100)}
    content, data_dir = await with_communes(tmp_path, hotlines)
    # A hundred OAs refresh their tokens at once on the embedded sandbox, which shares the
    # loop: the tests' 1 s Zalo timeout could lose a refresh's answer (and with it the
    # single-use refresh token) that the sandbox did give.
    service = await start_service(content_dir=content, data_dir=data_dir, zalo_timeout_seconds=10.0)
    assert service.app is not None
    assert service.app[COMMUNES].slugs == sorted(hotlines)
    # The same Zalo user id in every commune: a hundred conversations, never mixed.
    statuses = await asyncio.gather(
        *(post_to_commune(service, slug, "citizen-1", QUESTION) for slug in hotlines)
    )
    assert set(statuses) == {200}
    await service.app[COMMUNES].drain()
    for slug, hotline in hotlines.items():
        reply = await wait_for_reply(service, slug, "citizen-1")
        assert hotline in reply, (slug, reply)
        assert "0209 555" not in reply.replace(hotline, ""), (slug, reply)
    # The default commune still answers at /webhook/zalo with its own locality.
    await service.say("citizen-1", QUESTION)
    await service.settle()
    assert "0000 000 000" in "\n".join(m["text"] for m in await service.messages("citizen-1"))


async def test_a_commune_added_while_running_is_served_without_a_restart(
    start_service, tmp_path: Path
) -> None:
    content = content_copy(tmp_path)
    service = await start_service(content_dir=content)
    assert await post_to_commune(service, "phuong-moi", "u-1", QUESTION) == 404
    out = await run_cli("commune", "add", "phuong-moi", env=service.environment())
    assert "/webhook/zalo/phuong-moi" in out
    write_locality(content, "phuong-moi", "0209 777 001")
    assert await post_to_commune(service, "phuong-moi", "u-1", QUESTION) == 200
    assert "0209 777 001" in await wait_for_reply(service, "phuong-moi", "u-1")


async def test_a_commune_webhook_refuses_an_event_signed_for_another_commune(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111", "xa-b": "0209 222"})
    service = await start_service(content_dir=content, data_dir=data_dir)
    commune_a = Commune.in_sandbox("xa-a")
    event = ZaloSandbox(commune_a.app_id, "", "", "", "").event("u-1", "user_send_text", "chào")
    body = json.dumps(event).encode()
    mac = signature.header_value(
        commune_a.app_id, body, event["timestamp"], commune_a.oa_secret_key
    )
    async with service.http.post(
        f"{service.url}/webhook/zalo/xa-b", data=body, headers={signature.HEADER: mac}
    ) as resp:
        assert resp.status == 401


async def test_a_communes_events_are_recorded_in_its_own_database(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert await post_to_commune(service, "xa-a", "u-own", QUESTION) == 200
    assert service.app is not None
    await service.app[COMMUNES].drain()
    commune = service.app[COMMUNES].get("xa-a")
    assert commune is not None
    count = "SELECT COUNT(*) FROM inbox WHERE user_id = 'u-own'"
    assert await commune.services.database.run(lambda db: db.conn.execute(count).fetchone()[0]) == 1
    assert await service.database.run(lambda db: db.conn.execute(count).fetchone()[0]) == 0


async def test_metrics_give_each_communes_figures_beside_the_default_communes(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111", "xa-b": "0209 222"})
    service = await start_service(content_dir=content, data_dir=data_dir)
    for user_id in ("u-1", "u-2"):
        assert await post_to_commune(service, "xa-a", user_id, QUESTION) == 200
    await service.say("u-3", QUESTION)
    await service.settle()
    await service.app[COMMUNES].drain()
    async with service.http.get(f"{service.url}/metrics") as resp:
        metrics = parse_metrics(await resp.text())
    processed = "citizenbot_events_processed_total"
    assert metrics[processed] == 1  # the default commune's series, unlabelled as before
    assert metrics[processed + '{commune="xa-a"}'] == 2
    assert metrics[processed + '{commune="xa-b"}'] == 0
    assert metrics['citizenbot_inbox_pending_events{commune="xa-a"}'] == 0
    assert metrics['citizenbot_queued_events{commune="xa-b"}'] == 0


async def test_a_communes_daily_purge_takes_its_conversations_and_keeps_their_intents(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-purge": "0209 333"})
    service = await start_service(content_dir=content, data_dir=data_dir, message_retention_days=30)
    assert await post_to_commune(service, "xa-purge", "u-1", QUESTION) == 200
    await service.app[COMMUNES].drain()
    commune = service.app[COMMUNES].get("xa-purge")
    assert commune is not None
    tracker = service.brain.tracker_database
    assert tracker_reader.count_sender(tracker, "xa-purge:u-1") > 0

    class Later:
        def now(self) -> dt.datetime:
            return dt.datetime.now(TIMEZONE) + dt.timedelta(days=31)

    commune.scheduler.clock = Later()
    result = await commune.scheduler.purge_message_logs()
    assert result.changed["inbox"] == 1 and result.changed["tracker_events"] > 0
    assert tracker_reader.count_sender(tracker, "xa-purge:u-1") == 0
    today = dt.datetime.now(TIMEZONE).date()
    kept = await commune.services.database.run(retention.archive, today, today)
    assert sum(kept.intents().values()) == 1  # its citizen's one message, counted for its report


async def test_a_commune_that_was_never_added_is_not_found(service: Service) -> None:
    assert await post_to_commune(service, "xa-khong-co", "u-1", QUESTION) == 404


async def test_a_dossier_update_for_a_commune_lands_in_its_database_only(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    service = await start_service(content_dir=content, data_dir=data_dir, api_token="tok-tinh")
    code = "000.00.24.H26-251120-0099"
    update = {
        "procedure": "Đăng ký khai sinh",
        "applicant_name": "Phạm Văn Dũng",
        "phone": "0912345678",
        "status": "received",
        "occurred_at": "2026-11-20T08:00:00+07:00",
    }
    async with service.http.put(
        f"{service.url}/api/communes/xa-a/dossiers/{code}",
        json=update,
        headers={"Authorization": "Bearer tok-tinh"},
    ) as resp:
        assert resp.status in (200, 201), await resp.text()
    assert service.app is not None
    commune = service.app[COMMUNES].get("xa-a")
    assert commune is not None
    assert await commune.services.database.run(dossier_records.get, code) is not None
    assert await service.database.run(dossier_records.get, code) is None


async def communes_with_a_campaign(tmp_path: Path) -> tuple[Path, Path]:
    """Communes xa-a, with a campaign of its own (enabled), and xa-b, without."""
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111", "xa-b": "0209 222"})
    shared = (content / "campaigns" / "vneid-muc-2.yml").read_text(encoding="utf-8")
    own = shared.replace("id: vneid-muc-2", "id: xa-a-vneid").replace(
        "enabled: false", "enabled: true"
    )
    (content / "communes" / "xa-a" / "campaigns").mkdir()
    (content / "communes" / "xa-a" / "campaigns" / "vneid.yml").write_text(own, encoding="utf-8")
    return content, data_dir


async def test_a_commune_runs_its_own_campaigns_only(start_service, tmp_path: Path) -> None:
    content, data_dir = await communes_with_a_campaign(tmp_path)
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert service.app is not None
    communes = service.app[COMMUNES]
    assert set(communes.get("xa-a").scheduler.campaigns) == {"xa-a-vneid"}
    assert communes.get("xa-b").scheduler.campaigns == {}
    assert "xa-a-vneid" not in service.app[SCHEDULER].campaigns


async def test_every_commune_leads_its_own_scheduler(start_service, tmp_path: Path) -> None:
    """On PostgreSQL and Redis too: the scheduler's lock is one per commune, not one per
    deployment (else one commune's campaigns and reminders would run and the others' wait)."""
    content, data_dir = await communes_with_a_campaign(tmp_path)
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert service.app is not None
    communes = service.app[COMMUNES]
    schedulers = {"": service.app[SCHEDULER]}
    schedulers |= {slug: communes.get(slug).scheduler for slug in ("xa-a", "xa-b")}
    assert {slug: scheduler.leading for slug, scheduler in schedulers.items()} == {
        "": True,
        "xa-a": True,
        "xa-b": True,
    }


async def test_every_commune_keeps_its_own_scheduled_jobs(start_service, tmp_path: Path) -> None:
    """On PostgreSQL too (one database, a schema per commune): APScheduler's jobs of one
    commune are not another's to run."""
    content, data_dir = await communes_with_a_campaign(tmp_path)
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert service.app is not None
    communes = service.app[COMMUNES]

    def job_ids(scheduler) -> set[str]:
        return {job.id for job in scheduler._aps.get_jobs()}

    assert "campaign:xa-a-vneid" in job_ids(communes.get("xa-a").scheduler)
    assert "campaign:xa-a-vneid" not in job_ids(communes.get("xa-b").scheduler)
    assert "campaign:xa-a-vneid" not in job_ids(service.app[SCHEDULER])


async def test_campaign_list_of_a_commune_shows_its_campaigns(tmp_path: Path) -> None:
    content, data_dir = await communes_with_a_campaign(tmp_path)
    env = {"CITIZENBOT_DATA_DIR": str(data_dir), "CITIZENBOT_CONTENT_DIR": str(content)}
    listed = await run_cli("campaign", "list", "--commune", "xa-a", env=env)
    assert "xa-a-vneid" in listed and "vneid-muc-2" not in listed
    assert "vneid-muc-2" in await run_cli("campaign", "list", env=env)


def test_content_check_names_a_broken_commune_file(tmp_path: Path) -> None:
    content = content_copy(tmp_path)
    write_locality(content, "xa-a", "0209 111")
    locality = content / "communes" / "xa-a" / "locality.yml"
    locality.write_text(locality.read_text(encoding="utf-8").replace("hotline:", "# hotline:"))
    problems = [str(p) for p in check_content(content, PROJECT / "domain.yml")]
    assert [p for p in problems if p.startswith(f"{locality}:")] == [
        f"{locality}:3: error: missing hotline"
    ]


async def test_an_edit_to_a_communes_locality_is_served_without_a_restart(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111 111"})
    service = await start_service(
        content_dir=content, data_dir=data_dir, content_reload_seconds=0.1
    )
    assert service.app is not None
    watcher = service.app[COMMUNES].get("xa-a").watcher
    write_locality(content, "xa-a", "0209 222 222")
    for _ in range(200):
        if watcher.status.loads == 2:
            break
        await asyncio.sleep(0.05)
    assert await post_to_commune(service, "xa-a", "u-edit", QUESTION) == 200
    reply = await wait_for_reply(service, "xa-a", "u-edit")
    assert "0209 222 222" in reply and "0209 111 111" not in reply


async def test_a_backup_copies_every_communes_database(tmp_path: Path) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    env = {"CITIZENBOT_DATA_DIR": str(data_dir), "CITIZENBOT_CONTENT_DIR": str(content)}
    await run_cli("backup", "--to", str(tmp_path / "backups"), env=env)
    assert len(list((tmp_path / "backups" / "communes" / "xa-a").glob("citizenbot-*.db"))) == 1


@pytest.mark.parametrize("name", ["..", "../var", "%2e%2e", "Xa-A", "xa_a", "-xa", ""])
def test_a_commune_name_that_is_not_a_slug_names_no_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(CommuneError):
        commune_config.load(Settings(data_dir=tmp_path), name)


async def test_a_withdraw_to_a_commune_forgets_its_citizen_there_only(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    service = await start_service(content_dir=content, data_dir=data_dir)
    assert service.app is not None
    communes = service.app[COMMUNES]
    await service.say("u-rut", QUESTION)  # the same user id writes to the default commune
    assert await post_to_commune(service, "xa-a", "u-rut", QUESTION) == 200
    await service.settle()
    await communes.drain()
    database_a = communes.get("xa-a").services.database
    tracker = service.brain.tracker_database

    async def stored_in_a() -> dict:
        exported = await privacy.export_user(database_a, tracker, "u-rut", "xa-a:u-rut")
        return exported["tables"]

    assert (await stored_in_a())[privacy.TRACKER] != []
    withdraw = {
        "event_name": "user_withdraw",
        "app_id": Commune.in_sandbox("xa-a").app_id,
        "sender": {"id": "u-rut"},
        "recipient": {"id": "sandbox-oa"},
        "user_id_by_app": "app-scoped-id",
        "timestamp": str(int(time.time() * 1000)),
    }
    assert await post_event_to_commune(service, "xa-a", withdraw) == 200
    await communes.drain()
    assert all(rows == [] for rows in (await stored_in_a()).values())
    in_default = await privacy.export_user(service.database, tracker, "u-rut")
    assert in_default["tables"][privacy.TRACKER] != []


async def test_a_dossier_csv_for_a_commune_is_imported_into_its_database(tmp_path: Path) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    csv_file = tmp_path / "updates.csv"
    csv_file.write_text(
        "code,procedure,applicant_name,phone,id_number,status,occurred_at\n"
        "000.00.24.H26-251101-0001,Đăng ký khai sinh,Trần Thị Bình,0987654321,,received,"
        "2026-11-20T08:00:00+07:00\n",
        encoding="utf-8",
    )
    env = {"CITIZENBOT_DATA_DIR": str(data_dir), "CITIZENBOT_CONTENT_DIR": str(content)}
    out = await run_cli("dossier", "import", str(csv_file), "--commune", "xa-a", env=env)
    assert "1 rows accepted" in out
    database = Database(data_dir / "communes" / "xa-a" / "citizenbot.db")
    await database.open()
    try:
        assert await database.run(dossier_records.get, "000.00.24.H26-251101-0001") is not None
    finally:
        await database.close()
    assert not (data_dir / "citizenbot.db").exists()


async def test_healthz_names_a_commune_whose_content_edit_was_refused(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111", "xa-b": "0209 222"})
    service = await start_service(
        content_dir=content, data_dir=data_dir, content_reload_seconds=0.1
    )
    locality = content / "communes" / "xa-b" / "locality.yml"
    locality.write_text(locality.read_text(encoding="utf-8") + "hotline: [broken\n")
    for _ in range(200):
        async with service.http.get(f"{service.url}/healthz") as resp:
            health = await resp.json()
        if health["communes"]["content_errors"]:
            break
        await asyncio.sleep(0.05)
    assert health["communes"] == {"served": 2, "content_errors": ["xa-b"]}


async def test_a_commune_without_its_own_locality_is_not_served(
    start_service, tmp_path: Path
) -> None:
    content, data_dir = await with_communes(tmp_path, {"xa-a": "0209 111"})
    (content / "communes" / "xa-a" / "locality.yml").unlink()
    service = await start_service(content_dir=content, data_dir=data_dir)
    # Not the shared locality's hotline in its answers: no answer, and Zalo retries later.
    assert await post_to_commune(service, "xa-a", "u-1", QUESTION) == 503
