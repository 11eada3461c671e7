"""A long message from an elderly citizen: routed by its question, the first of two questions
answered and the second offered, and the citizen addressed as they speak."""

from __future__ import annotations

from tests.conftest import Service, texts

ELDERLY = (
    "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không, có ai đến nhà giúp không"
)


async def test_the_elderly_mans_card_question_is_answered_and_he_is_called_bac(
    service: Service,
) -> None:
    await service.say("u-bac", ELDERLY)
    await service.settle()
    replies = await service.messages("u-bac")
    assert texts(replies)[0].startswith("Không phải đổi.")
    assert "lúc bác khoảng 62 tuổi" in texts(replies)[0]
    offered = replies[-1]
    assert "Bác còn hỏi thêm" in offered["text"]
    payloads = [b["payload"] for b in offered["attachment"]["payload"]["buttons"]]
    assert payloads == ["có ai đến nhà giúp không"]
    assert not any("anh/chị" in text.lower() for text in texts(replies))


async def test_the_offered_question_is_answered_when_pressed_still_calling_him_bac(
    service: Service,
) -> None:
    await service.say("u-bac-2", ELDERLY)
    await service.settle()
    seen = len(await service.messages("u-bac-2"))
    await service.say("u-bac-2", "có ai đến nhà giúp không")
    await service.settle()
    replies = (await service.messages("u-bac-2"))[seen:]
    assert "HỖ TRỢ" in texts(replies)[0].upper()
    await service.say("u-bac-2", "menu")
    await service.settle()
    replies = texts((await service.messages("u-bac-2"))[seen:])
    assert any(text.startswith("Cháu có thể hướng dẫn bác") for text in replies)
    assert not any("anh/chị" in text.lower() for text in replies)


async def test_a_citizen_who_names_nobody_is_called_anh_chi(service: Service) -> None:
    await service.say("u-default", "menu")
    await service.settle()
    replies = texts(await service.messages("u-default"))
    assert replies[0].startswith("Tôi có thể hướng dẫn anh/chị")
    assert not any(mark in text for text in replies for mark in "\ue000\ue001\ue002\ue003")
