"""Campaign runs through the service and the sandbox, on a clock the tests control: the
OA's rules, quiet hours, restarts and crashes mid-run, opt-outs, Zalo's refusals; and
the officers' side (files checked with their line, preview, list, report)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.content.content_model import ContentError
from bot.local_time import TIMEZONE
from bot.scheduler import jobs
from bot.scheduler.campaign_fanout import delivery_key
from bot.scheduler.campaign_files import load_campaign, load_context
from bot.storage import campaign_records, outbox, users
from bot.storage.database import open_store
from tests.conftest import PROJECT, Service, button_titles
from tests.test_reminders import turn
from tests.test_scheduler import (
    FakeClock,
    campaign_yaml,
    fresh_content,
    next_local,
    scheduler_of,
    until,
    write_campaign,
)

TEXT = "Tháng cao điểm dịch vụ công trực tuyến: nộp hồ sơ tại nhà."


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return fresh_content(tmp_path)


def audience_of(user_ids: list[str]) -> str:
    return "users: [" + ", ".join(user_ids) + "]"


async def campaign_service(start_service, content: Path, users_: list[str], **overrides) -> Service:
    """A service with one campaign ("dvc") to these users, who all wrote to the OA today."""
    write_campaign(
        content,
        "dvc",
        campaign_yaml("dvc", "cron: {day_of_week: mon, hour: 9}", audience_of(users_)),
    )
    service = await start_service(content_dir=content, **overrides)
    for user_id in users_:
        await service.database.run(users.interacted, user_id)
    return service


async def run_campaign(service: Service, clock: FakeClock) -> None:
    """What the campaign's job does when its schedule fires."""
    scheduler_of(service).clock = clock
    await jobs.run_campaign(scheduler_of(service), "dvc")


async def received(service: Service, user_ids: list[str]) -> dict[str, int]:
    """How many campaign messages each user got from the sandbox."""
    counts = {}
    for user_id in user_ids:
        counts[user_id] = sum(m.get("text") == TEXT for m in await service.messages(user_id))
    return counts


async def sent_at_least(service: Service, user_ids: list[str], count: int) -> bool:
    return sum((await received(service, user_ids)).values()) >= count


async def report(service: Service, run_id: int) -> dict[tuple[str, str | None], int]:
    rows = await service.database.run(campaign_records.delivery_counts, run_id)
    return {(status, detail): count for status, detail, count in rows}


def older(db, user_id: str, days: int) -> None:
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)).isoformat()
    db.conn.execute("UPDATE users SET last_interaction_at = ? WHERE user_id = ?", (when, user_id))


def local_hour(timestamp: str) -> int:
    return dt.datetime.fromisoformat(timestamp).astimezone(TIMEZONE).hour


def last_run(db) -> int:
    return db.conn.execute("SELECT max(id) FROM campaign_runs").fetchone()[0]


# --- sending by the OA's rules -----------------------------------------------------------


async def test_each_eligible_recipient_gets_the_message_once_and_the_others_are_counted(
    start_service, content: Path
) -> None:
    people = [f"u-c{n}" for n in range(5)] + ["u-old", "u-unfollowed", "u-out", "u-never"]
    service = await campaign_service(start_service, content, people[:-1])
    await service.database.run(older, "u-old", 8)
    await service.database.run(users.unfollowed, "u-unfollowed")
    await service.database.run(campaign_records.opt_out, "u-out")
    path = content / "campaigns" / "dvc.yml"
    path.write_text(path.read_text().replace(audience_of(people[:-1]), audience_of(people)))
    await scheduler_of(service).reload_campaigns()
    await run_campaign(service, FakeClock(next_local(9)))
    assert await received(service, people) == {p: int(p.startswith("u-c")) for p in people}
    [message] = [m for m in await service.messages("u-c0")]
    assert button_titles(message) == ["Cách nộp online"]
    run_id = await service.database.run(last_run)
    assert await report(service, run_id) == {
        ("sent", "consultation"): 5,
        ("skipped", "outside_7_day_window"): 2,  # u-old, and u-never who never wrote
        ("skipped", "not_following"): 1,
        ("skipped", "opted_out"): 1,
    }
    assert await service.database.run(campaign_records.run_status, run_id) == "done"


async def test_users_beyond_7_days_get_the_zbs_template_when_one_is_configured(
    start_service, content: Path
) -> None:
    service = await campaign_service(start_service, content, ["u-recent", "u-old"])
    await service.database.run(older, "u-old", 30)
    path = content / "campaigns" / "dvc.yml"
    path.write_text(
        path.read_text() + "zbs_template:\n  template_id: tpl-dvc\n  data: {chien_dich: DVC}\n"
    )
    await scheduler_of(service).reload_campaigns()
    await run_campaign(service, FakeClock(next_local(9)))
    [template] = await service.messages("u-old")
    assert template == {"template_id": "tpl-dvc", "template_data": {"chien_dich": "DVC"}}
    assert await received(service, ["u-recent"]) == {"u-recent": 1}


async def test_the_run_keeps_the_configured_rate(start_service, content: Path) -> None:
    people = [f"u-rate{n}" for n in range(41)]
    service = await campaign_service(start_service, content, people, campaign_rate=20.0)
    clock = FakeClock(next_local(9))
    await run_campaign(service, clock)
    assert clock.slept == pytest.approx(40 / 20)  # 41 sends, 40 gaps of 1/20 s
    assert sum((await received(service, people)).values()) == 41


async def tag_in_the_oa(service: Service, tag: str, user_ids: list[str]) -> None:
    """What an officer does in Zalo's OA manager (the sandbox stands in for it)."""
    async with service.http.post(f"{service.url}/sandbox/tags/{tag}", json={"users": user_ids}):
        pass


def with_audience(content: Path, people: list[str], audience: str) -> None:
    path = content / "campaigns" / "dvc.yml"
    path.write_text(path.read_text().replace(audience_of(people), audience))


async def test_topic_and_tag_audiences_reach_only_their_members(
    start_service, content: Path
) -> None:
    people = ["u-topic", "u-tagged", "u-neither"]
    service = await campaign_service(start_service, content, people)
    await service.database.run(campaign_records.opt_out, "u-topic")
    [confirmation] = await turn(service, "u-topic", '/subscribe_topic{"topic": "vneid"}')
    assert "tài khoản định danh điện tử VNeID" in confirmation["text"]
    await tag_in_the_oa(service, "phu-huynh", ["u-tagged"])
    path = content / "campaigns" / "dvc.yml"
    body = path.read_text()
    for audience, member in (("topic: vneid", "u-topic"), ("tag: phu-huynh", "u-tagged")):
        path.write_text(body.replace(audience_of(people), audience))
        await scheduler_of(service).reload_campaigns()
        await run_campaign(service, FakeClock(next_local(9)))
        counts = await received(service, people)
        assert counts[member] == 1 and counts["u-neither"] == 0


async def test_a_tag_run_lists_the_tag_from_zalo_anew_page_by_page(
    start_service, content: Path
) -> None:
    parents = [f"u-parent{n:03}" for n in range(120)]  # three of Zalo's pages of 50
    service = await campaign_service(start_service, content, parents)
    with_audience(content, parents, "tag: phu-huynh")
    await scheduler_of(service).reload_campaigns()
    await tag_in_the_oa(service, "phu-huynh", parents)
    await run_campaign(service, FakeClock(next_local(9)))
    first = await service.database.run(last_run)
    assert await report(service, first) == {("sent", "consultation"): 120}
    # An officer untags most of them in the OA manager: the next run lists the tag again.
    await tag_in_the_oa(service, "phu-huynh", parents[:3])
    await run_campaign(service, FakeClock(next_local(10)))
    second = await service.database.run(last_run)
    assert second != first and await report(service, second) == {("sent", "consultation"): 3}
    assert await received(service, parents[:4]) == {
        **{p: 2 for p in parents[:3]},
        parents[3]: 1,
    }


async def test_when_zalo_cannot_list_a_tag_the_run_uses_the_last_list_and_says_so(
    start_service, content: Path, monkeypatch, capsys
) -> None:
    parents = ["u-tag-a", "u-tag-b"]
    service = await campaign_service(start_service, content, parents)
    with_audience(content, parents, "tag: phu-huynh")
    await scheduler_of(service).reload_campaigns()
    await tag_in_the_oa(service, "phu-huynh", parents)
    await run_campaign(service, FakeClock(next_local(9)))
    await tag_in_the_oa(service, "phu-huynh", ["u-tag-a"])
    attempts = service.settings.zalo_max_attempts
    await service.faults({"times": attempts, "http_status": 503, "endpoint": "read"})
    await run_campaign(service, FakeClock(next_local(10)))
    run = await service.database.run(campaign_records.get_run, await service.database.run(last_run))
    assert "Zalo could not list it" in run["note"]
    assert await report(service, run["id"]) == {("sent", "consultation"): 2}  # the last list
    monkeypatch.setenv("CITIZENBOT_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", service.settings.database_url)
    monkeypatch.setenv("CITIZENBOT_CONTENT_DIR", str(content))
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, main, ["campaign", "preview", "dvc"]) == 0
    preview = capsys.readouterr().out
    assert "Audience now: 2 (" in preview and "tag members as listed from Zalo at" in preview


# --- quiet hours -----------------------------------------------------------------------


async def test_quiet_hours_pause_the_run_and_it_resumes_at_their_end(
    start_service, content: Path
) -> None:
    people = [f"u-night{n}" for n in range(10)]
    service = await campaign_service(start_service, content, people, campaign_rate=2.0)
    start = next_local(20, 59, 58)  # 2 messages a second: 4 go out before 21:00
    await run_campaign(service, FakeClock(start))
    first = await received(service, people)
    assert sum(first.values()) == 4
    run_id = await service.database.run(last_run)
    run = await service.database.run(campaign_records.get_run, run_id)
    morning = (start + dt.timedelta(days=1)).replace(hour=7, minute=0, second=0)
    assert run["status"] == "paused"
    assert dt.datetime.fromisoformat(run["resume_at"]) == morning
    job = scheduler_of(service)._aps.get_job(f"campaign-run:{run_id}")  # type: ignore[union-attr]
    assert job.next_run_time == morning
    scheduler_of(service).clock = FakeClock(morning)
    await jobs.resume_campaign_run(scheduler_of(service), run_id)
    assert await received(service, people) == {p: 1 for p in people}
    assert await service.database.run(campaign_records.run_status, run_id) == "done"


async def test_a_run_firing_in_quiet_hours_sends_nothing_until_morning(
    start_service, content: Path
) -> None:
    service = await campaign_service(start_service, content, ["u-q1", "u-q2"])
    await run_campaign(service, FakeClock(next_local(23, 30)))
    assert await received(service, ["u-q1", "u-q2"]) == {"u-q1": 0, "u-q2": 0}
    run = await service.database.run(campaign_records.get_run, await service.database.run(last_run))
    assert run["status"] == "paused" and local_hour(run["resume_at"]) == 7


# --- restarts, crashes, opt-outs ---------------------------------------------------------


async def test_a_restart_mid_run_sends_no_duplicate_and_loses_no_one(
    start_service, content: Path
) -> None:
    people = [f"u-restart{n}" for n in range(30)]
    service = await campaign_service(
        start_service, content, people, campaign_rate=1000.0, quiet_hours="off"
    )
    clock = FakeClock(next_local(9))
    gate = clock.close_gate_after(12)  # the run stalls after 13 sends: the service stops then
    scheduler_of(service).clock = clock
    run = asyncio.create_task(jobs.run_campaign(scheduler_of(service), "dvc"))
    await until(lambda: sent_at_least(service, people, 13))
    before = await received(service, people)  # the sandbox restarts empty with the service
    await service.restart()
    await run
    assert not gate.is_set()
    run_id = await service.database.run(last_run)
    await _until_done(service, run_id)
    after = await received(service, people)
    assert {p: before[p] + after[p] for p in people} == {p: 1 for p in people}
    assert sum(before.values()) == 13


async def test_recipients_caught_mid_send_by_a_crash_are_settled_from_the_outbox(
    start_service, content: Path
) -> None:
    people = [f"u-crash{n}" for n in range(5)]
    service = await campaign_service(start_service, content, people, quiet_hours="off")
    campaign = scheduler_of(service).campaigns["dvc"]
    run_id = await service.database.run(
        campaign_records.start_run,
        "dvc",
        "2026-11-23T02:00:00.000+00:00",
        campaign.message,
        None,
        "users",
        tuple(people),
    )
    # As if the process died with three recipients claimed and none settled:
    # u-crash0's request went out unanswered, u-crash1's was accepted by Zalo,
    # u-crash2's had not been sent yet.
    for user_id in people[:3]:
        assert await service.database.run(campaign_records.claim, run_id, user_id)
    endpoint = "/v3.0/oa/message/cs"
    for user_id in people[:2]:
        key = delivery_key(run_id, user_id)
        await service.database.run(outbox.begin, key, user_id, endpoint, campaign.message)
    await service.database.run(outbox.settle, delivery_key(run_id, "u-crash1"), "sent", 1)
    await service.restart()
    await _until_done(service, run_id)
    # Not sent again: u-crash0 (in doubt) and u-crash1 (sent before the crash).
    assert await received(service, people) == {p: int(p not in people[:2]) for p in people}
    assert await report(service, run_id) == {
        ("in_doubt", None): 1,
        ("sent", "consultation"): 4,
    }


async def test_an_opt_out_mid_run_is_honoured_at_once_and_confirmed(
    start_service, content: Path
) -> None:
    people = [f"u-optout{n}" for n in range(10)]
    service = await campaign_service(start_service, content, people, campaign_rate=1000.0)
    clock = FakeClock(next_local(9))
    gate = clock.close_gate_after(3)
    scheduler_of(service).clock = clock
    run = asyncio.create_task(jobs.run_campaign(scheduler_of(service), "dvc"))
    await until(lambda: sent_at_least(service, people, 4))
    await service.say("u-optout9", "hủy nhận tin")
    await service.settle()
    gate.set()
    await run
    [confirmation] = await service.messages("u-optout9")
    assert "không gửi tin" in confirmation["text"]
    assert await received(service, people) == {p: int(p != "u-optout9") for p in people}
    run_id = await service.database.run(last_run)
    assert (await report(service, run_id))[("skipped", "opted_out")] == 1


async def test_a_bare_dung_opts_out_though_the_intent_model_hears_a_yes(
    start_service, content: Path
) -> None:
    service = await campaign_service(start_service, content, ["u-dung", "u-dung2", "u-yes"])
    for user_id, text in (("u-dung", "dừng"), ("u-dung2", "Dừng lại")):
        [confirmation] = await turn(service, user_id, text)
        assert "không gửi tin" in confirmation["text"]
        assert await service.database.run(campaign_records.opted_out, user_id)
    [reply] = await turn(service, "u-yes", "đúng")  # "đúng" folds to the same letters
    assert "không gửi tin" not in reply["text"]
    assert not await service.database.run(campaign_records.opted_out, "u-yes")


async def test_a_citizen_who_opted_out_can_ask_for_the_news_again_in_words(
    start_service, content: Path
) -> None:
    service = await campaign_service(start_service, content, ["u-back", "u-back2"])
    for user_id, text in (("u-back", "cho tôi nhận tin lại"), ("u-back2", "dang ky nhan tin")):
        await turn(service, user_id, "hủy nhận tin")
        assert await service.database.run(campaign_records.opted_out, user_id)
        [confirmation] = await turn(service, user_id, text)
        assert "xã sẽ gửi lại tin" in confirmation["text"]
        assert not await service.database.run(campaign_records.opted_out, user_id)
    await run_campaign(service, FakeClock(next_local(9)))
    assert await received(service, ["u-back", "u-back2"]) == {"u-back": 1, "u-back2": 1}


# --- Zalo's refusals -------------------------------------------------------------------


async def test_zalos_night_ban_puts_the_recipient_back_and_pauses_until_morning(
    start_service, content: Path
) -> None:
    service = await campaign_service(
        start_service,
        content,
        ["u-ban1", "u-ban2"],
        quiet_hours="off",  # only Zalo's own night rule is in play
        campaign_max_in_flight=1,
    )
    await service.faults({"times": 4, "error": -234})  # every attempt at the first message
    await run_campaign(service, FakeClock(next_local(22, 30)))
    run_id = await service.database.run(last_run)
    run = await service.database.run(campaign_records.get_run, run_id)
    assert run["status"] == "paused" and local_hour(run["resume_at"]) == 6
    assert await report(service, run_id) == {("queued", None): 2}


async def test_running_out_of_quota_stops_the_run_and_says_why(
    start_service, content: Path
) -> None:
    service = await campaign_service(
        start_service, content, ["u-quota1", "u-quota2", "u-quota3"], campaign_max_in_flight=1
    )
    await service.faults({"times": 1, "error": -211})
    await run_campaign(service, FakeClock(next_local(9)))
    run = await service.database.run(campaign_records.get_run, await service.database.run(last_run))
    assert run["status"] == "stopped" and "-211" in run["note"]


async def test_a_firing_while_the_previous_run_is_unfinished_is_skipped_and_recorded(
    start_service, content: Path
) -> None:
    service = await campaign_service(start_service, content, ["u-overlap"])
    await run_campaign(service, FakeClock(next_local(23)))  # paused until morning
    await run_campaign(service, FakeClock(next_local(23, 30)))
    statuses = [r["status"] for r in await service.database.run(campaign_records.runs_of, "dvc", 5)]
    assert statuses == ["skipped", "paused"]


# --- officers' side --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("hour: 9}", "hour: 9, day_of_week: 1}"), "names"),
        (("message_type: consultation", "message_type: promotion"), "discontinued"),
        (("{day_of_week: mon, hour: 9}", "{day_of_week: mon}"), "needs an 'hour'"),
        (("all_followers: true", "topic: bong-da"), "unknown topic"),
        (('payload: "/how_to_apply_online"', 'payload: "/x"\n      extra: [1'), "YAML"),
    ],
)
def test_a_broken_campaign_file_is_rejected_with_its_file_and_line(
    content: Path, change: tuple[str, str], message: str
) -> None:
    body = campaign_yaml("bad", "cron: {day_of_week: mon, hour: 9}").replace(*change)
    path = write_campaign(content, "bad", body)
    with pytest.raises(ContentError, match=message) as rejected:
        load_campaign(path, *load_context(content))
    assert rejected.value.where.startswith(f"{path}:")


def test_the_sample_campaigns_are_valid_and_wait_for_an_officer_to_enable_them() -> None:
    from bot.scheduler.campaign_files import load_all
    from tests.conftest import PROJECT

    loaded, errors = load_all(PROJECT / "content")
    assert errors == []
    assert sorted(c.id for c in loaded.values()) == ["thang-cao-diem-dvc-truc-tuyen", "vneid-muc-2"]
    assert not any(c.enabled for c in loaded.values())


async def test_preview_list_and_report_show_what_officers_need(
    start_service, content: Path, monkeypatch, capsys
) -> None:
    service = await campaign_service(start_service, content, ["u-p1", "u-p2", "u-p3"])
    await service.database.run(older, "u-p3", 9)
    await run_campaign(service, FakeClock(next_local(9)))
    monkeypatch.setenv("CITIZENBOT_DATA_DIR", str(service.settings.data_dir))
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", service.settings.database_url)
    monkeypatch.setenv("CITIZENBOT_CONTENT_DIR", str(content))
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, main, ["campaign", "preview", "dvc"]) == 0
    preview = capsys.readouterr().out
    assert TEXT in preview and "[Cách nộp online] → /how_to_apply_online" in preview
    assert preview.count(" 09:00") == 5 and "Mon " in preview
    assert "Audience now: 3" in preview and "outside_7_day_window: 1" in preview
    assert await loop.run_in_executor(None, main, ["campaign", "list"]) == 0
    assert "dvc  [enabled]" in capsys.readouterr().out
    assert await loop.run_in_executor(None, main, ["campaign", "report", "dvc"]) == 0
    text = capsys.readouterr().out
    assert "done" in text and "sent: 2 (consultation: 2)" in text
    assert "skipped: 1 (outside_7_day_window: 1)" in text and "opted out: 0" in text
    write_campaign(content, "broken", "id: [")
    assert await loop.run_in_executor(None, main, ["campaign", "list"]) == 1
    assert "ERROR" in capsys.readouterr().out


async def _until_done(service: Service, run_id: int) -> None:
    async def done() -> bool:
        return await service.database.run(campaign_records.run_status, run_id) == "done"

    await until(done)


# A sender in its own process: tries to claim every recipient of the run, prints its own.
SENDER = """
import json, sys
from pathlib import Path
from bot.storage import campaign_records
from bot.storage.database import open_store
db = open_store(Path(sys.argv[1]), sys.argv[2])
recipients = json.loads(sys.argv[4])
print(json.dumps([u for u in recipients if campaign_records.claim(db, int(sys.argv[3]), u)]))
"""


def test_senders_in_several_processes_claim_each_recipient_once(
    tmp_path: Path, database_url_for
) -> None:
    path = tmp_path / "citizenbot.db"
    url = database_url_for(path)
    db = open_store(path, url)
    recipients = [f"u-{n}" for n in range(200)]
    run_id = campaign_records.start_run(
        db, "dvc", "2026-11-20T02:00:00+00:00", {"text": "Tin"}, None, "users", recipients
    )
    senders = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, str(path), url, str(run_id), json.dumps(recipients)],
            cwd=PROJECT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    claimed = [json.loads(sender.communicate(timeout=120)[0]) for sender in senders]
    assert sorted(user for mine in claimed for user in mine) == sorted(recipients)
