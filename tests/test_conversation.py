"""Events other than text, and the first guide, through the whole flow."""

from __future__ import annotations

from bot.storage import inbox, users
from tests.conftest import Service, button_titles, texts


async def test_follow_gets_a_welcome_and_the_main_menu(service: Service) -> None:
    resp = await service.post_event(service.event("u-follow", "follow"))
    assert resp.status == 200
    await service.settle()
    replies = await service.messages("u-follow")
    assert "quan tâm" in replies[0]["text"]
    assert "Khai sinh" in button_titles(replies[1])
    assert all(len(button_titles(m)) <= 5 for m in replies)


async def test_unfollow_marks_the_user_and_sends_nothing(service: Service) -> None:
    await service.say("u-leaving", "/greet")
    await service.post_event(service.event("u-leaving", "unfollow"))
    await service.settle()
    user = await service.database.run(users.get, "u-leaving")
    assert user["followed"] == 0
    assert len(await service.messages("u-leaving")) == 1


async def test_image_and_sticker_get_a_polite_text_only_reply(service: Service) -> None:
    for kind in ("user_send_image", "user_send_sticker", "user_send_location"):
        await service.post_event(service.event("u-image", kind))
    await service.settle()
    replies = texts(await service.messages("u-image"))
    assert len(replies) == 3
    assert all("chỉ đọc được tin nhắn chữ" in reply for reply in replies)


async def test_unknown_event_is_acknowledged_and_recorded(service: Service) -> None:
    event = service.event("u-unknown", "follow")
    event["event_name"] = "user_reacted_message"
    resp = await service.post_event(event)
    assert resp.status == 200
    await service.settle()
    key = f"user_reacted_message:u-unknown:{event['timestamp']}"
    assert await service.database.run(inbox.status_of, key) == "done"
    assert await service.messages("u-unknown") == []


async def test_the_oas_own_echo_is_never_answered(service: Service) -> None:
    event = service.event("u-echo", text="Xin chào")
    event["event_name"] = "oa_send_text"
    event["sender"], event["recipient"] = (
        {"id": "sandbox-oa", "admin_id": "officer-1"},
        {"id": "u-echo"},
    )
    assert (await service.post_event(event)).status == 200
    await service.settle()
    assert await service.messages("u-echo") == []


async def test_signed_event_of_an_unexpected_shape_gets_400_with_the_reason_not_500(
    service: Service,
) -> None:
    event = {"timestamp": service.event("u-odd")["timestamp"], "event_name": 42}
    resp = await service.post_event(event)
    assert resp.status == 400
    assert (await resp.json())["message"] == "event_name is missing"


async def test_birth_registration_guide_opens_with_summary_and_section_buttons(
    service: Service,
) -> None:
    await service.say("u-guide", "tôi muốn làm giấy khai sinh cho con")
    await service.settle()
    replies = await service.messages("u-guide")
    assert replies[0]["text"].startswith("ĐĂNG KÝ KHAI SINH")
    titles = button_titles(replies[0]) + button_titles(replies[1])
    for title in (
        "Giấy tờ cần chuẩn bị",
        "Lệ phí",
        "Thời gian",
        "Nộp trực tuyến",
        "Các bước",
        "Hỏi cán bộ",
    ):
        assert title in titles


async def test_guide_steps_go_forward_and_back(service: Service) -> None:
    for text in ("/proc_birth_registration", "/next_step", "/next_step", "/previous_step"):
        await service.say("u-steps", text)
    await service.settle()
    step_texts = [t for t in texts(await service.messages("u-steps")) if t.startswith("Bước")]
    assert [t.split(" – ")[0] for t in step_texts] == ["Bước 1/5", "Bước 2/5", "Bước 1/5"]


async def test_section_button_shows_that_section(service: Service) -> None:
    await service.say("u-section", '/proc_birth_registration{"guide_section": "fees"}')
    await service.settle()
    [reply] = await service.messages("u-section")
    assert reply["text"].startswith("Lệ phí – Đăng ký khai sinh")
    assert "miễn lệ phí" in reply["text"]


async def test_fee_question_after_a_guide_answers_that_guides_fee(service: Service) -> None:
    await service.say("u-context", "/proc_birth_registration")
    await service.say("u-context", "lệ phí bao nhiêu vậy ad")
    await service.settle()
    last = (await service.messages("u-context"))[-1]
    assert last["text"].startswith("Lệ phí – Đăng ký khai sinh")


async def test_fee_question_without_context_asks_which_procedure(service: Service) -> None:
    await service.say("u-nocontext", "lệ phí bao nhiêu vậy ad")
    await service.settle()
    [reply] = await service.messages("u-nocontext")
    assert "thủ tục nào" in reply["text"]
    assert "Đăng ký khai sinh" in button_titles(reply)


async def test_off_topic_message_gets_the_out_of_scope_answer(service: Service) -> None:
    await service.say("u-offtopic", "giá vàng hôm nay bao nhiêu")
    await service.settle()
    [reply] = await service.messages("u-offtopic")
    assert "chỉ hướng dẫn về thủ tục hành chính" in reply["text"]


async def test_help_shows_the_main_menu_in_messages_of_at_most_five_buttons(
    service: Service,
) -> None:
    await service.say("u-help", "menu")
    await service.settle()
    replies = await service.messages("u-help")
    assert len(replies) == 2
    assert [len(button_titles(m)) for m in replies] == [5, 5]


async def test_a_yes_no_question_gets_the_right_answer_word_first(service: Service) -> None:
    await service.say("u-yes-no", "có cần giấy kết hôn của bố mẹ không?")
    await service.settle()
    answer = (await service.messages("u-yes-no"))[0]
    assert answer["text"].startswith("Không cần."), answer["text"]
