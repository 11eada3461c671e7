"""Handover to an officer: the bot stops answering, officers see the queue and the
conversation, reply on Zalo and release; a timeout gives the citizen back to the bot."""

from __future__ import annotations

import datetime as dt

from bot.content.office_hours import OfficeHours
from bot.local_time import TIMEZONE
from bot.storage import handover_records, sql
from bot.web.app import WORKER
from tests.conftest import Service, button_titles, texts
from tests.dashboard import OfficerClient, add_officer

# Inside and outside the office hours of content/locality.yml (7:30–11:30, 13:30–17:00,
# Monday to Friday).
MONDAY_MORNING = dt.datetime(2026, 12, 7, 9, 0, tzinfo=TIMEZONE)
SATURDAY_NIGHT = dt.datetime(2026, 12, 5, 22, 0, tzinfo=TIMEZONE)


def office_clock_at(service: Service, moment: dt.datetime) -> None:
    conversations = service.app[WORKER].conversations
    assert conversations is not None
    conversations.office_clock = lambda: moment


async def _open_handovers(service: Service) -> list[dict]:
    now = dt.datetime.now(dt.timezone.utc)
    rows = await service.database.run(handover_records.queue, now, dt.timedelta(hours=1))
    return [r for r in rows if r["status"] in handover_records.OPEN]


async def test_request_human_says_an_officer_will_reply_and_the_bot_goes_silent(
    service: Service,
) -> None:
    office_clock_at(service, MONDAY_MORNING)
    await service.say("u-human", "/request_human")
    await service.settle()
    await service.say("u-human", "/greet")
    await service.say("u-human", "cho tôi hỏi về đất đai")
    await service.settle()
    replies = texts(await service.messages("u-human"))
    assert len(replies) == 1 and "báo cán bộ" in replies[0]
    [row] = await _open_handovers(service)
    assert (row["user_id"], row["reason"], row["status"]) == ("u-human", "asked", "waiting")


async def test_officer_sees_the_conversation_replies_and_releases_to_the_bot(
    service: Service,
) -> None:
    await service.say("u-queue", "/request_human")
    await service.settle()
    await service.say("u-queue", "Nhà tôi ở thôn 3, cần xác nhận cư trú gấp")
    await service.settle()
    [row] = await _open_handovers(service)
    await add_officer(service, "truc", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("truc")
    status, queue = await officer.get("/admin/handovers")
    assert status == 200 and "u-queue" in queue
    status, page = await officer.get(f"/admin/handovers/{row['id']}")
    assert "Nhà tôi ở thôn 3, cần xác nhận cư trú gấp" in page and "báo cán bộ" in page
    await officer.post(f"/admin/handovers/{row['id']}/reply", {"text": "Anh mang CCCD tới xã."})
    await officer.get(f"/admin/handovers/{row['id']}")
    await officer.post(f"/admin/handovers/{row['id']}/release", {})
    await officer.close()
    messages = await service.messages("u-queue")
    assert messages[-2]["text"] == "Anh mang CCCD tới xã."
    assert button_titles(messages[-1]) == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]
    assert await _open_handovers(service) == []
    await service.say("u-queue", "/greet")
    await service.settle()
    assert "Xin chào" in texts(await service.messages("u-queue"))[-1]


async def test_the_bot_answers_again_once_the_handover_timed_out(service: Service) -> None:
    await service.say("u-timeout", "/request_human")
    await service.settle()
    long_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=2)).isoformat()
    await service.database.run(
        lambda db: db.conn.execute("UPDATE handovers SET requested_at = ?", (long_ago,))
    )
    await service.say("u-timeout", "/greet")
    await service.settle()
    assert "Xin chào" in texts(await service.messages("u-timeout"))[-1]
    [row] = await service.database.run(lambda db: sql.rows(db, "SELECT * FROM handovers"))
    assert row["status"] == "expired"


async def test_an_officer_writing_from_the_oa_chat_tool_takes_the_conversation(
    service: Service,
) -> None:
    echo = service.event("u-oa", text="Chào anh, tôi là cán bộ xã.")
    echo["event_name"] = "oa_send_text"
    echo["sender"], echo["recipient"] = {"id": "sandbox-oa", "admin_id": "admin-7"}, {"id": "u-oa"}
    assert (await service.post_event(echo)).status == 200
    await service.say("u-oa", "/greet")
    await service.settle()
    assert await service.messages("u-oa") == []
    [row] = await _open_handovers(service)
    assert (row["status"], row["officer"], row["reason"]) == (
        "active",
        "zalo:admin-7",
        "officer_wrote",
    )


async def test_the_bots_own_echo_without_admin_id_takes_nothing_over(service: Service) -> None:
    echo = service.event("u-own", text="Xin chào")
    echo["event_name"] = "oa_send_text"
    echo["sender"], echo["recipient"] = {"id": "sandbox-oa"}, {"id": "u-own"}
    await service.post_event(echo)
    await service.settle()
    assert await _open_handovers(service) == []


async def test_three_misunderstood_messages_in_a_row_call_an_officer(service: Service) -> None:
    # "/nlu_fallback" is what the model concludes for a message it does not understand;
    # sent as is, the test does not depend on how the model scores some gibberish.
    office_clock_at(service, MONDAY_MORNING)  # outside office hours, a note on when follows
    for _ in range(3):
        await service.say("u-lost", "/nlu_fallback")
        await service.settle()
    [row] = await _open_handovers(service)
    assert (row["user_id"], row["reason"]) == ("u-lost", "fallbacks")
    assert "báo cán bộ" in texts(await service.messages("u-lost"))[-1]


async def test_outside_office_hours_a_waiting_citizen_is_told_once_when_officers_are_back(
    service: Service,
) -> None:
    office_clock_at(service, SATURDAY_NIGHT)
    await service.say("u-night", "/request_human")
    await service.settle()
    assert len(await service.messages("u-night")) == 2  # told at once, not when writing again
    for text in ("có ai không ạ", "tôi cần hỏi gấp"):
        await service.say("u-night", text)
        await service.settle()
    replies = texts(await service.messages("u-night"))
    assert len(replies) == 2 and "báo cán bộ" in replies[0]
    assert "ngoài giờ làm việc" in replies[1] and "từ 7:30 ngày 07/12" in replies[1]


async def test_the_out_of_hours_note_speaks_as_the_citizen_does(service: Service) -> None:
    # "mình cần gặp cán bộ" is answered as "bạn"; the note after it said "anh/chị"
    office_clock_at(service, SATURDAY_NIGHT)
    await service.say("u-minh", "minh can gap can bo")
    await service.settle()
    replies = texts(await service.messages("u-minh"))
    assert "ngoài giờ làm việc" in replies[-1] and "trả lời bạn" in replies[-1]
    assert not any("anh/chị" in reply for reply in replies)


async def test_inside_office_hours_a_waiting_citizen_gets_no_acknowledgement(
    service: Service,
) -> None:
    office_clock_at(service, MONDAY_MORNING.replace(hour=14))
    await service.say("u-day", "/request_human")
    await service.settle()
    for text in ("có ai không ạ", "tôi cần hỏi gấp"):
        await service.say("u-day", text)
        await service.settle()
    assert len(await service.messages("u-day")) == 1


def test_office_hours_are_read_from_the_sentence_officers_write() -> None:
    sample = OfficeHours.parse("Sáng 7:30–11:30, chiều 13:30–17:00, từ thứ Hai đến thứ Sáu")
    assert sample is not None
    assert sample.is_open(MONDAY_MORNING) and not sample.is_open(SATURDAY_NIGHT)
    lunch = MONDAY_MORNING.replace(hour=12)
    assert not sample.is_open(lunch)
    assert sample.next_opening(lunch) == MONDAY_MORNING.replace(hour=13, minute=30)
    saturdays = OfficeHours.parse("7h30-11h30, 13h30 - 17h, T2-T7")
    assert saturdays is not None and saturdays.days == frozenset(range(6))
    assert OfficeHours.parse("giờ hành chính") is None  # no time: cannot tell
