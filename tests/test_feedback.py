"""Feedback tickets: the chat form, the lifecycle, the answer pushed to the citizen, the
due date in working days."""

from __future__ import annotations

import datetime as dt

from bot.local_time import TIMEZONE
from bot.storage import feedback_records, handover_records
from tests.conftest import Service, button_titles, texts
from tests.dashboard import OfficerClient, add_officer, file_ticket

DESCRIPTION = "Sáng thứ Hai tôi đến bộ phận một cửa lúc 8 giờ nhưng không có cán bộ nào ở bàn."


async def test_feedback_form_asks_topic_description_photo_and_gives_a_ticket_number(
    service: Service,
) -> None:
    ticket = await file_ticket(service, "u-fb", DESCRIPTION)
    replies = await service.messages("u-fb")
    assert button_titles(replies[0])[:4] == [
        "Thủ tục hành chính",
        "Thái độ cán bộ",
        "Hệ thống trực tuyến",
        "Việc khác",
    ]
    assert "kể rõ sự việc" in replies[1]["text"]
    assert "Không có ảnh" in button_titles(replies[2])
    assert feedback_records.number(ticket["id"]) in replies[-1]["text"]
    assert (ticket["topic"], ticket["description"], ticket["status"]) == (
        "attitude",
        DESCRIPTION,
        "received",
    )
    assert ticket["photo_url"] is None


async def test_a_topic_named_in_the_opening_message_is_not_asked_again(service: Service) -> None:
    user = "u-fb-named"
    await service.say(user, "tôi muốn góp ý về thái độ cán bộ ở bộ phận một cửa")
    await service.settle()
    [asked] = await service.messages(user)
    assert "kể rõ sự việc" in asked["text"]
    for text in (DESCRIPTION, "Không có ảnh"):
        await service.say(user, text)
        await service.settle()
    [ticket] = await service.database.run(feedback_records.queue)
    assert (ticket["topic"], ticket["description"]) == ("attitude", DESCRIPTION)


async def test_an_opening_message_that_tells_what_happened_is_the_description(
    service: Service,
) -> None:
    user = "u-fb-told"
    report = (
        "Thưa cán bộ, tôi ở xóm 3, đèn đường trước nhà hỏng cả tháng nay tối đi lại nguy hiểm"
        " lắm, nhờ xã cho người sửa giúp"
    )
    await service.say(user, report)
    await service.settle()
    [asked] = await service.messages(user)
    assert "Việc khác" in button_titles(asked)  # the topic; the story is not asked again
    for text in ("Việc khác", "Không có ảnh"):
        await service.say(user, text)
        await service.settle()
    [ticket] = [
        t for t in await service.database.run(feedback_records.queue) if t["user_id"] == user
    ]
    assert (ticket["topic"], ticket["description"]) == ("other", report)


async def test_an_opening_message_naming_two_topics_gets_the_topic_question(
    service: Service,
) -> None:
    await service.say("u-fb-two", "phan anh thai do can bo va he thong bi loi")
    await service.settle()
    [asked] = await service.messages("u-fb-two")
    assert "Thái độ cán bộ" in button_titles(asked)


async def test_a_topic_typed_in_own_words_is_taken_not_asked_again_in_silence(
    service: Service,
) -> None:
    user = "u-fb-typed"
    for text in ("/give_feedback", "Giao thông"):  # typed, not pressed: a matter of its own
        await service.say(user, text)
        await service.settle()
    assert "kể rõ sự việc" in texts(await service.messages(user))[-1]
    for text in ("/give_feedback", "thái độ cán bộ", DESCRIPTION, "Không có ảnh"):
        await service.say("u-fb-typed-2", text)
        await service.settle()
    [ticket] = [
        t
        for t in await service.database.run(feedback_records.queue)
        if t["user_id"] == "u-fb-typed-2"
    ]
    assert ticket["topic"] == "attitude"


async def test_a_question_typed_for_the_topic_gets_a_hint_and_the_topic_question_again(
    service: Service,
) -> None:
    for text in ("/give_feedback", "xã mình làm việc mấy giờ vậy ạ"):
        await service.say("u-fb-hint", text)
        await service.settle()
    hint, asked = (await service.messages("u-fb-hint"))[-2:]
    assert "chưa rõ chủ đề" in hint["text"] and "Việc khác" in hint["text"]
    assert "Việc khác" in button_titles(asked)


async def test_a_description_that_sounds_like_a_question_is_kept_as_the_description(
    service: Service,
) -> None:
    text = "Làm giấy khai sinh cho con mà cán bộ bắt nộp thêm giấy tờ không có trong quy định"
    ticket = await file_ticket(service, "u-fb-proc", text)
    assert ticket["description"] == text
    assert "ĐĂNG KÝ KHAI SINH" not in " ".join(texts(await service.messages("u-fb-proc")))


async def test_a_photo_sent_at_the_photo_step_is_attached_to_the_ticket(service: Service) -> None:
    for text in ("/give_feedback", "2", DESCRIPTION):
        await service.say("u-photo", text)
        await service.settle()
    image = service.event("u-photo", "user_send_image")
    image["message"]["attachments"] = [
        {"type": "image", "payload": {"url": "https://photo.example/anh.jpg", "thumbnail": ""}}
    ]
    assert (await service.post_event(image)).status == 200
    await service.settle()
    [ticket] = await service.database.run(feedback_records.queue)
    assert ticket["photo_url"] == "https://photo.example/anh.jpg"


async def test_words_typed_at_the_photo_step_are_added_to_the_description(
    service: Service,
) -> None:
    # the story told after a short first answer was dropped, and the ticket filed without it
    more = "hôm thứ 3 tôi lên nộp hồ sơ, cán bộ quát tháo, không hướng dẫn gì cả"
    for text in ("/give_feedback", "2", DESCRIPTION, more):
        await service.say("u-more", text)
        await service.settle()
    [ticket] = await service.database.run(feedback_records.queue)
    assert ticket["description"] == f"{DESCRIPTION}\n{more}"
    assert ticket["photo_url"] is None
    assert feedback_records.number(ticket["id"]) in texts(await service.messages("u-more"))[-1]
    # "Huỷ" there still cancels
    for text in ("/give_feedback", "2", DESCRIPTION, "huỷ"):
        await service.say("u-more-cancel", text)
        await service.settle()
    assert len(await service.database.run(feedback_records.queue)) == 1


async def test_an_officer_asked_for_at_the_photo_step_is_called_after_the_ticket(
    service: Service,
) -> None:
    # "cho tôi gặp cán bộ" was filed as more of the story, and nobody was called
    for text in ("/give_feedback", "2", DESCRIPTION, "cho tôi gặp cán bộ"):
        await service.say("u-fb-officer", text)
        await service.settle()
    [ticket] = await service.database.run(feedback_records.queue)
    assert ticket["description"] == DESCRIPTION
    replies = texts(await service.messages("u-fb-officer"))
    assert any(feedback_records.number(ticket["id"]) in reply for reply in replies)
    assert replies[-1].startswith("Dạ, tôi đã báo cán bộ của xã")
    now, hour = dt.datetime.now(dt.timezone.utc), dt.timedelta(hours=1)
    handover = await service.database.run(handover_records.open_for, "u-fb-officer", now, hour)
    assert handover is not None and handover["status"] == "waiting"


async def test_skipping_words_at_the_photo_step_are_not_added_to_the_description(
    service: Service,
) -> None:
    # tickets ended with "bỏ qua" or "?", typed to skip the photo
    for number, skip in enumerate(("bỏ qua", "?", "ko co", "Không ạ", "ok")):
        user = f"u-skip-{number}"
        for text in ("/give_feedback", "2", DESCRIPTION, skip):
            await service.say(user, text)
            await service.settle()
        assert "số phiếu PA-" in texts(await service.messages(user))[-1]
    tickets = await service.database.run(feedback_records.queue)
    assert [ticket["description"] for ticket in tickets] == [DESCRIPTION] * 5


async def test_cancel_button_files_nothing(service: Service) -> None:
    for text in ("/give_feedback", "Việc khác", "/deny"):
        await service.say("u-cancel", text)
        await service.settle()
    assert await service.database.run(feedback_records.queue) == []
    assert "đã huỷ" in texts(await service.messages("u-cancel"))[-1]


async def test_a_too_short_description_is_asked_again(service: Service) -> None:
    for text in ("/give_feedback", "Việc khác", "tệ"):
        await service.say("u-short", text)
        await service.settle()
    assert "hơi ngắn" in " ".join(texts(await service.messages("u-short"))[-2:])
    assert await service.database.run(feedback_records.queue) == []


async def test_officers_answer_reaches_the_citizen_and_the_history_records_who_and_when(
    service: Service,
) -> None:
    ticket = await file_ticket(service, "u-answer", DESCRIPTION)
    await add_officer(service, "handler", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("handler")
    base = f"/admin/feedback/{ticket['id']}"
    await officer.get(base)
    assert (await officer.post(f"{base}/take", {}))[0] == 200
    status, _ = await officer.post(f"{base}/answer", {"answer": "Xã đã nhắc nhở cán bộ trực."})
    await officer.close()
    assert status == 200
    last = (await service.messages("u-answer"))[-1]["text"]
    assert "Xã đã nhắc nhở cán bộ trực." in last and feedback_records.number(ticket["id"]) in last
    stored = await service.database.run(feedback_records.get, ticket["id"])
    assert (stored["status"], stored["answered_by"], stored["answer_delivery"]) == (
        "answered",
        "handler",
        "sent",
    )
    history = await service.database.run(feedback_records.history, ticket["id"])
    assert [(e["status"], e["officer"]) for e in history] == [
        ("received", None),
        ("in_progress", "handler"),
        ("answered", "handler"),
    ]


async def test_closing_a_ticket_asks_the_citizen_how_satisfied_they_are(service: Service) -> None:
    ticket = await file_ticket(service, "u-close", DESCRIPTION)
    await add_officer(service, "closer", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("closer")
    await officer.get(f"/admin/feedback/{ticket['id']}")
    await officer.post(f"/admin/feedback/{ticket['id']}/close", {})
    await officer.close()
    last = (await service.messages("u-close"))[-1]
    assert button_titles(last) == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]
    assert "đã được xử lý xong" in last["text"]


async def test_an_answered_ticket_cannot_be_answered_twice(service: Service) -> None:
    ticket = await file_ticket(service, "u-twice", DESCRIPTION)
    await add_officer(service, "twice", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("twice")
    base = f"/admin/feedback/{ticket['id']}"
    await officer.get(base)
    await officer.post(f"{base}/answer", {"answer": "Lần một."})
    await officer.get(base)
    status, page = await officer.post(f"{base}/answer", {"answer": "Lần hai."})
    await officer.close()
    assert status == 409 and "không chuyển sang" in page
    assert "Lần hai." not in " ".join(texts(await service.messages("u-twice")))


def test_due_date_skips_the_weekend() -> None:
    friday = dt.datetime(2026, 11, 20, 9, 0, tzinfo=TIMEZONE)
    due = feedback_records.add_working_days(friday, 5).astimezone(TIMEZONE)
    assert (due.date(), due.hour) == (dt.date(2026, 11, 27), 9)


async def test_an_open_ticket_past_its_due_date_is_highlighted_as_overdue(
    service: Service,
) -> None:
    ticket = await file_ticket(service, "u-late", DESCRIPTION)
    past = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)).isoformat()
    await service.database.run(
        lambda db: db.conn.execute(
            "UPDATE feedback_tickets SET due_at = ? WHERE id = ?", (past, ticket["id"])
        )
    )
    await add_officer(service, "late", "feedback_handler")
    officer = OfficerClient(service)
    await officer.login("late")
    status, page = await officer.get("/admin/feedback")
    await officer.close()
    assert status == 200
    assert 'class="overdue"' in page and "Quá hạn" in page and "1 phiếu quá hạn" in page
