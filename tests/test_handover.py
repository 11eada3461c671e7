"""Handover to an officer: the bot stops answering, officers see the queue and the
conversation, reply on Zalo and release; a timeout gives the citizen back to the bot."""

from __future__ import annotations

import datetime as dt

from bot.storage import handover
from tests.conftest import Service, button_titles, texts
from tests.dashboard import OfficerClient, add_officer


async def _open_handovers(service: Service) -> list[dict]:
    now = dt.datetime.now(dt.timezone.utc)
    rows = await service.database.run(handover.queue, now, dt.timedelta(hours=1))
    return [r for r in rows if r["status"] in handover.OPEN]


async def test_request_human_says_an_officer_will_reply_and_the_bot_goes_silent(
    service: Service,
) -> None:
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
    [row] = await service.database.run(lambda db: list(db["handovers"].rows))
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
    for _ in range(3):
        await service.say("u-lost", "/nlu_fallback")
        await service.settle()
    [row] = await _open_handovers(service)
    assert (row["user_id"], row["reason"]) == ("u-lost", "fallbacks")
    assert "báo cán bộ" in texts(await service.messages("u-lost"))[-1]
