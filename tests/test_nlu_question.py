"""Long messages: the question found behind greetings, introductions, stories and thanks."""

import time

import pytest

from bot.nlu.question import focus, questions

# message → the questions it asks, in order (each with the story clause it leans on)
LONG_MESSAGES = {
    "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không, có ai đến nhà giúp "
    "không": [
        "thẻ căn cước làm năm 2016 có phải đổi không",
        "có ai đến nhà giúp không",
    ],
    "chao chau, bac 72 tuoi, the can cuoc lam nam 2016 co phai doi khong, co ai den nha giup "
    "khong": ["the can cuoc lam nam 2016 co phai doi khong", "co ai den nha giup khong"],
    "con tôi mới sinh được 2 tháng. giờ làm giấy tờ gì": [
        "con tôi mới sinh được 2 tháng, giờ làm giấy tờ gì"
    ],
    "Dạ chào anh chị. Tôi tên là Lan, ở thôn 3. Tôi đã làm hồ sơ tạm trú tuần trước. Cho tôi "
    "hỏi bao giờ có kết quả ạ? Cảm ơn.": [
        "Tôi đã làm hồ sơ tạm trú tuần trước, bao giờ có kết quả ạ"
    ],
    "xin chào, cho bác hỏi làm căn cước ở đâu": ["làm căn cước ở đâu"],
    "chao ad cho minh hoi lam can cuoc o dau": ["lam can cuoc o dau"],
    "Chào cháu. Bác năm nay 80 tuổi rồi, đi lại khó khăn. Bác muốn làm lại căn cước thì có ai "
    "đến nhà làm cho bác không cháu?": [
        "đi lại khó khăn, Bác muốn làm lại căn cước thì có ai đến nhà làm cho bác không cháu"
    ],
    "Kính gửi ủy ban xã. Tôi ở xóm 2. Bố tôi mới mất hôm qua. Xin hỏi làm giấy khai tử cần "
    "những gì ạ. Tôi xin cảm ơn.": ["Bố tôi mới mất hôm qua, làm giấy khai tử cần những gì ạ"],
    "dạ em chào anh chị, em 19 tuổi, em muốn đăng ký kết hôn thì cần giấy tờ gì ạ": [
        "em muốn đăng ký kết hôn thì cần giấy tờ gì ạ"
    ],
    "alo ad, minh o tro, lam tam tru o dau vay": ["minh o tro, lam tam tru o dau vay"],
    "Chào cô chú, cháu là sinh viên, cháu cần xác nhận cư trú để nộp hồ sơ học bổng, làm ở đâu ạ": [
        "cháu cần xác nhận cư trú để nộp hồ sơ học bổng",
        "làm ở đâu ạ",
    ],
    "chào xã, nhà tôi ở thôn Đông, mẹ tôi 90 tuổi có được trợ cấp người cao tuổi không": [
        "mẹ tôi 90 tuổi có được trợ cấp người cao tuổi không"
    ],
    "Cháu ơi. Ông nhà bác mất được một tuần. Sổ đỏ đứng tên ông. Giờ bác muốn sang tên thì "
    "làm sao hả cháu": ["Sổ đỏ đứng tên ông, Giờ bác muốn sang tên thì làm sao hả cháu"],
    "xin chao. toi muon hoi. lam giay khai sinh cho con mat bao lau. le phi bao nhieu": [
        "lam giay khai sinh cho con mat bao lau",
        "le phi bao nhieu",
    ],
    "Chào bạn, mình mất ví hôm qua, mất cả căn cước, làm lại ở đâu, mất bao lâu": [
        "mất cả căn cước, làm lại ở đâu",
        "mất bao lâu",
    ],
    "dạ thưa cán bộ, tôi 65 tuổi, tôi muốn hỏi thủ tục chứng thực bản sao sổ hộ khẩu": [
        "thủ tục chứng thực bản sao sổ hộ khẩu"
    ],
    "chào chị, chị cho em hỏi, hồ sơ 000.00.24.H26-250101-0001 của em xong chưa ạ": [
        "hồ sơ 000.00.24.H26-250101-0001 của em xong chưa ạ"
    ],
    "Chào cháu! Bác ở ấp 4. Con gái bác lấy chồng nước ngoài. Bác muốn hỏi giấy xác nhận độc "
    "thân xin ở đâu?": ["Con gái bác lấy chồng nước ngoài, giấy xác nhận độc thân xin ở đâu"],
    "chào ub xã, lệ phí tạm trú là bao nhiêu vậy, nộp online được không": [
        "lệ phí tạm trú là bao nhiêu vậy",
        "nộp online được không",
    ],
    "Chào cháu. Bác hỏi chút: con bác đi làm xa, bác đăng ký tạm vắng cho nó được không?": [
        "con bác đi làm xa, bác đăng ký tạm vắng cho nó được không"
    ],
    "em chao anh, em o thon 5, em can lam lai giay khai sinh vi bi mat": [
        "em can lam lai giay khai sinh vi bi mat"
    ],
    "Chào. Tôi năm nay 58 tuổi. Căn cước của tôi hết hạn năm nay, tôi có phải đi đổi không?": [
        "Căn cước của tôi hết hạn năm nay, tôi có phải đi đổi không"
    ],
    "xin chào ạ, cho con hỏi bà nội con 85 tuổi có được nhận trợ cấp không ạ, làm ở đâu ạ": [
        "bà nội con 85 tuổi có được nhận trợ cấp không ạ",
        "làm ở đâu ạ",
    ],
    "Chao co, con o xom 3, con muon dang ky thuong tru cho vo, can nhung giay to gi a": [
        "con muon dang ky thuong tru cho vo",
        "can nhung giay to gi a",
    ],
    "Alo. Ad ơi cho em gặp cán bộ tư pháp với ạ. Em cảm ơn": [
        "Ad ơi cho em gặp cán bộ tư pháp với ạ"
    ],
    "Chào cháu, bác là thương binh, bác muốn hỏi về chế độ trợ cấp hàng tháng, cảm ơn cháu": [
        "chế độ trợ cấp hàng tháng"
    ],
    "tôi ở thôn 3. hôm qua tôi nộp hồ sơ cấp đổi sổ đỏ. bao giờ lấy được kết quả": [
        "hôm qua tôi nộp hồ sơ cấp đổi sổ đỏ, bao giờ lấy được kết quả"
    ],
}


@pytest.mark.parametrize(("message", "asked"), list(LONG_MESSAGES.items()))
def test_long_messages_give_their_questions_in_order(message: str, asked: list[str]) -> None:
    assert [q.text for q in questions(message)] == asked


def test_the_elderly_mans_message_is_focused_on_his_two_questions() -> None:
    message = (
        "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không, "
        "có ai đến nhà giúp không"
    )
    assert focus(message) == (
        "thẻ căn cước làm năm 2016 có phải đổi không, có ai đến nhà giúp không"
    )


def test_an_unpunctuated_greeting_and_age_are_set_aside() -> None:
    message = "chao chau bac 72 tuoi the can cuoc lam nam 2016 co phai doi khong"
    assert focus(message) == "the can cuoc lam nam 2016 co phai doi khong"


@pytest.mark.parametrize(
    "message",
    [
        "xin chào",
        "cảm ơn cháu nhiều",
        "cảm ơn nhé, tôi hiểu rồi",
        "thôi tôi đi đây, chào bạn",
        "làm căn cước ở đâu",
        "tôi không biết",
        "đã làm hồ sơ rồi",
        "gửi hồ sơ online được không",
    ],
)
def test_messages_without_anything_to_set_aside_are_left_whole(message: str) -> None:
    assert focus(message) == message


def test_a_story_far_before_the_question_is_dropped_but_the_one_before_it_kept() -> None:
    message = "nhà tôi có 4 người. vợ tôi mới sinh em bé. làm khai sinh ở đâu"
    assert focus(message) == "vợ tôi mới sinh em bé, làm khai sinh ở đâu"


def test_numbers_and_dates_do_not_cut_a_clause() -> None:
    message = "chào ad, lệ phí 15.000 đ hẹn ngày 20/01/2026 đúng không"
    assert [q.text for q in questions(message)] == [
        "lệ phí 15.000 đ hẹn ngày 20/01/2026 đúng không"
    ]


def test_finding_questions_in_a_thousand_messages_takes_under_a_millisecond_each() -> None:
    messages = (list(LONG_MESSAGES) * 40)[:1000]
    started = time.perf_counter()
    for message in messages:
        questions(message)
    assert (time.perf_counter() - started) / len(messages) < 0.001


def test_the_tokenizer_can_featurize_only_a_long_messages_questions() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.tokenizer import VietnameseTokenizer

    focused = VietnameseTokenizer(
        {**VietnameseTokenizer.get_default_config(), "focus_questions": True}
    )
    message = "Chào cháu, bác 72 tuổi, cho bác hỏi lamf giaays khai sinh ở đâu"
    tokens = focused.tokenize(Message(data={"text": message}), "text")
    assert [t.text for t in tokens] == ["làm", "giấy", "khai", "sinh", "ở", "đâu"]
    assert [t.lemma for t in tokens] == ["lam", "giay", "khai", "sinh", "o", "dau"]
    assert message[tokens[0].start : tokens[0].end] == "lamf"


def test_the_tokenizer_keeps_a_short_messages_greeting() -> None:
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.tokenizer import VietnameseTokenizer

    focused = VietnameseTokenizer(
        {**VietnameseTokenizer.get_default_config(), "focus_questions": True}
    )
    tokens = focused.tokenize(Message(data={"text": "xin chao, co ai truc khong a"}), "text")
    assert [t.text for t in tokens] == ["xin", "chao", "co", "ai", "truc", "khong", "a"]
