"""A long message from an elderly citizen: routed by its question, the first of two questions
answered and the second offered, and the citizen addressed as they speak."""

from __future__ import annotations

from actions.guides import first_answer
from bot.nlu.forms_of_address import Address, forms_of_address
from bot.nlu.other_questions import left_open, other_questions
from tests.conftest import Service, project_library, texts

ELDERLY = (
    "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không, có ai đến nhà giúp không"
)

WELFARE = (
    "Thưa cán bộ, tôi 70 tuổi, ở với con trai. Tôi muốn hỏi giờ tôi có được hưởng trợ cấp gì "
    "không, và làm ở đâu ạ?"
)
WELFARE_YES_NO = "ở với con trai, giờ tôi có được hưởng trợ cấp gì không"

WIDOWER_MARRYING = (
    "Thưa cán bộ, tôi năm nay 70 tuổi, vợ tôi mất năm ngoái, giờ tôi muốn đăng ký kết hôn với"
    " bà hàng xóm cũng góa chồng thì cần những giấy tờ gì, có phải xin giấy xác nhận độc thân"
    " không"
)


async def test_an_offered_question_is_written_out_in_full(service: Service) -> None:
    # a button shows 20 characters: "ở với con trai, giờ…" alone said nothing
    await service.say("u-welfare", WELFARE)
    await service.settle()
    replies = await service.messages("u-welfare")
    [offer] = [r for r in replies if r.get("text", "").startswith("Anh/chị còn hỏi thêm")]
    assert offer["text"].endswith(f"\n– {WELFARE_YES_NO}")
    assert [b["payload"] for b in offer["attachment"]["payload"]["buttons"]] == [WELFARE_YES_NO]


async def test_the_elderly_mans_card_question_is_answered_and_he_is_called_bac(
    service: Service,
) -> None:
    await service.say("u-bac", ELDERLY)
    await service.settle()
    replies = await service.messages("u-bac")
    assert texts(replies)[0].startswith("Không phải đổi.")
    assert "lúc bác khoảng 62 tuổi" in texts(replies)[0]
    # The home-support question is offered once: as the topic the model ranks next ("Bác có
    # hỏi cả việc dưới đây"), else as the question he typed ("Bác còn hỏi thêm…").
    offers = [
        [b["payload"] for b in reply["attachment"]["payload"]["buttons"]]
        for reply in replies[1:]
        if reply.get("text", "").startswith(("Bác có hỏi cả", "Bác còn hỏi thêm"))
    ]
    assert offers in ([["/request_home_support"]], [["có ai đến nhà giúp không"]])
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


async def test_the_question_an_faq_left_open_is_offered_and_answered_when_pressed(
    service: Service,
) -> None:
    # the FAQ answers his second question ("Không."): his first was never offered
    await service.say("u-widower", WIDOWER_MARRYING)
    await service.settle()
    replies = await service.messages("u-widower")
    assert texts(replies)[0].startswith("Không.")
    [offer] = [r for r in replies if r.get("text", "").startswith("Anh/chị còn hỏi thêm")]
    assert offer["text"].endswith("\n– cần những giấy tờ gì")  # cut from his story
    assert [b["payload"] for b in offer["attachment"]["payload"]["buttons"]] == [
        "cần những giấy tờ gì"
    ]
    await service.say("u-widower", "cần những giấy tờ gì")
    await service.settle()
    pressed = texts((await service.messages("u-widower"))[len(replies) :])
    assert pressed[0].startswith("Giấy tờ cần chuẩn bị – Đăng ký kết hôn")


def test_a_yes_no_faqs_answer_leaves_the_other_questions_open() -> None:
    library = project_library()
    licence = library.guide_for("proc_driver_license")
    assert licence is not None
    replies = first_answer(library, licence, "bằng lái xe máy có phải đổi không, lệ phí bao nhiêu")
    assert replies[0].text.startswith("Không phải đổi.")
    assert [b["payload"] for b in replies[-1].buttons] == ["lệ phí bao nhiêu"]
    assert len(first_answer(library, licence, "bằng lái xe máy có phải đổi không")) == 1


def test_questions_left_open_are_offered_one_per_aspect() -> None:
    fee_twice = "tach ho khau co mat le phi khong, het bao nhieu tien"
    assert left_open(fee_twice, lambda q: False, only_one=True) == [
        "tach ho khau co mat le phi khong"
    ]
    answered_first = left_open(WIDOWER_MARRYING, lambda q: "độc thân" in q, only_one=True)
    assert answered_first == ["cần những giấy tờ gì"]
    # one question asked: offered, it would get the same answer again
    home = "bà em yếu nằm một chỗ, chứng thực chữ ký thì cán bộ xã có xuống nhà làm không ạ"
    assert left_open(home, lambda q: False, only_one=True) == []
    # one question asked: offered, it would get the same answer again
    home = "bà em yếu nằm một chỗ, chứng thực chữ ký thì cán bộ xã có xuống nhà làm không ạ"
    assert left_open(home, lambda q: False, only_one=True) == []


def test_only_real_further_questions_are_offered() -> None:
    assert other_questions(ELDERLY) == ["có ai đến nhà giúp không"]
    assert other_questions("cho tôi hỏi làm căn cước ở đâu, mất bao lâu") == ["mất bao lâu"]
    story_first = (
        "Chào ad, tôi là bà nội, con dâu tôi mới sinh cháu ở bệnh viện huyện được 2 tuần, bố "
        "cháu đi làm xa chưa về. Tôi muốn hỏi làm giấy khai sinh cho cháu thì cần mang những "
        "giấy tờ gì"
    )
    assert other_questions(story_first) == []
    same_aspect = (
        "con gái tôi đang đi làm ở Nhật, cần giấy xác nhận độc thân. Cháu vẫn có hộ khẩu ở "
        "quê. Vậy tôi phải đi xin giấy này ở đâu ạ?"
    )
    assert other_questions(same_aspect) == []
    # two things asked with "và" in one clause: the second is offered
    assert other_questions("dang ky ket hon can nhung giay to gi va nop o dau a") == ["nop o dau a"]
    # the answer opens with the second question's aspect (where): the first is offered
    assert other_questions(WELFARE) == [WELFARE_YES_NO]
    # "và" joining two things of one question offers nothing
    assert other_questions("tôi phải nộp thuế TNCN và GTGT bao nhiêu") == []
    # whether it can still be done late is what the deadline answered first says
    widower = (
        "Thưa anh chị, tôi năm nay 67 tuổi, vợ tôi mất năm ngoái, lúc đó gia đình chưa làm giấy"
        " khai tử vì bận việc. Bây giờ làm có được không, có bị phạt không ạ?"
    )
    assert other_questions(widower) == []
    assert other_questions("giờ làm có được không, và làm ở đâu ạ?") == ["giờ làm có được không"]
    gplx = "tui mún đổi bằng lái xe máy qua thẻ nhựa, làm ở đâu, nhiu tiền"
    assert other_questions(gplx) == ["nhiu tiền"]
    # a story with "được… chưa" inside asks nothing: it was offered as a question
    mother = (
        "Chú ơi, con mới sinh em bé được 10 ngày, con muốn làm giấy khai sinh mà chồng con đi"
        " làm xa chưa về, con tự đi làm được không chú"
    )
    assert other_questions(mother) == []


def test_who_speaks_as_toi_of_a_grandchild_is_not_called_ban() -> None:
    text = "Thưa cán bộ, cháu tôi xin đi làm. Cháu nhờ tôi hỏi hộ làm lý lịch tư pháp thế nào"
    assert forms_of_address(text) is None
    assert forms_of_address("cho em hỏi làm căn cước ở đâu") == Address("bạn", "mình")
