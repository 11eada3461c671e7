"""A precise question is answered by the guide's sentence that holds its rarer words."""

from __future__ import annotations

from actions import guides
from bot.content import passages, render
from bot.content.faq import best_faq
from bot.content.passages import Passage
from tests.conftest import Service, project_library, texts

SENTENCES = [
    Passage("who", "Hai người đăng ký kết hôn phải cùng có mặt."),
    Passage("documents", "Tờ khai đăng ký kết hôn."),
    Passage("result", "Hai người phải cùng đến nhận giấy chứng nhận kết hôn."),
    Passage("fees", "Miễn lệ phí đăng ký kết hôn."),
]


def test_the_sentence_holding_the_questions_rarer_words_answers_it() -> None:
    found = passages.best("nhận giấy chứng nhận thì một người đi lấy được không", SENTENCES)
    assert found is not None and found.passage.section == "result"


def test_words_of_the_procedures_name_do_not_pick_a_sentence() -> None:
    assert passages.best("đăng ký kết hôn thế nào", SENTENCES, ignore="Đăng ký kết hôn") is None


def test_a_question_about_what_the_guide_does_not_say_gets_no_sentence() -> None:
    question = "vợ chồng cùng họ hàng ba đời có bị cấm không, đi xét nghiệm gen ở bệnh viện nào"
    assert passages.best(question, SENTENCES, ignore="Đăng ký kết hôn") is None


def test_within_keeps_to_one_section_and_rarity_counts_over_all() -> None:
    found = passages.best("hai người phải cùng có mặt không", SENTENCES, within="who")
    assert found is not None and found.passage.section == "who"
    assert passages.best("miễn lệ phí không", SENTENCES, within="who") is None


def test_a_link_is_no_words_of_its_sentence() -> None:
    # the commune's map link "…/?q=UBND+xa" answered "ubnd xa o dau" without the address
    assert "ubnd" not in passages.terms(
        "Xem đường đi trên bản đồ: https://maps.google.com/?q=UBND+xa"
    )
    office = project_library().guide_for("ask_office_info")
    assert office is not None
    for question in ("ubnd xa o dau", "ủy ban phường có làm việc thứ bảy không"):
        opening = guides.first_answer(project_library(), office, question)[0].text
        assert "Giờ làm việc" in opening and "Xem đường đi" in opening


def test_every_sentence_of_a_guide_is_a_passage_with_its_section() -> None:
    guide = project_library().guide_for("proc_marriage_registration")
    assert guide is not None
    found = passages.of_guide(guide)
    assert {p.section for p in found} >= {"summary", "who", "documents", "fees", "step"}
    assert all(p.text and "\n" not in p.text for p in found)


async def test_a_narrow_question_is_answered_by_its_sentence_not_the_summary(
    service: Service,
) -> None:
    guide = project_library().guide_for("proc_residence_info")
    assert guide is not None
    await service.say("u-passage", "bị thu sổ hộ khẩu rồi thì giờ dùng giấy gì thay thế ạ")
    await service.settle()
    first = texts(await service.messages("u-passage"))[0]
    assert "thay cho sổ hộ khẩu" in first.split("\n")[0]
    assert guide.summary not in first


def test_a_sentence_is_said_with_what_to_do_when_it_does_not_hold() -> None:
    # "con sinh ở nhà không có giấy chứng sinh" got only "Giấy chứng sinh do bệnh viện…"
    library = project_library()
    guide = library.guide_for("proc_birth_registration")
    assert guide is not None
    [reply] = render.passage_answer(library, guide, "Giấy chứng sinh do bệnh viện, trạm y tế cấp.")
    said = reply.text.split("\n")[0]
    assert said.startswith("Giấy chứng sinh do bệnh viện, trạm y tế cấp. Nếu không có: văn bản")
    assert said.endswith("thì làm giấy cam đoan về việc sinh.")
    # a sentence followed by another of its own is said alone
    [reply] = render.passage_answer(library, guide, guide.documents[0])
    assert reply.text.split("\n")[0] == guide.documents[0]


async def test_a_request_without_a_question_gets_the_guide_not_a_sentence(
    service: Service,
) -> None:
    """ "làm giấy" matched "làm giấy cam đoan" of one document: the citizen got that line."""
    guide = project_library().guide_for("proc_birth_registration")
    assert guide is not None
    await service.say("u-request", "cho hỏi làm giấy khai sinh")
    await service.settle()
    first = texts(await service.messages("u-request"))[0]
    assert guide.summary in first


def test_questions_and_requests_are_told_apart() -> None:
    for asked in ("quên pass vneid giờ lm s ad", "giấy khai sinh bản sao hết bao nhiêu"):
        assert passages.asks_something(asked), asked
    requests = (
        "cho hỏi làm giấy khai sinh",
        "tôi muốn đăng ký kết hôn",
        # How to go about it all: the guide, not "Cách nhận … tiền trợ cấp, xin kiểm tra lại".
        "bà 76 tuổi muốn hỏi làm sao để được nhận tiền trợ cấp người già",
    )
    for request in requests:
        assert not passages.asks_something(request), request


def test_an_faq_asking_another_aspect_is_not_the_answer() -> None:
    guide = project_library().guide_for("proc_marriage_registration")
    assert guide is not None
    fee_faq = best_faq(guide, "đăng ký kết hôn mất bao nhiêu tiền")
    assert fee_faq is not None
    assert best_faq(guide, "đăng ký kết hôn mất bao lâu") != fee_faq


def test_a_copy_is_not_a_question() -> None:
    # "bản sao" folds to "ban sao": "chứng thực bản sao sổ đỏ" got the sentence on signatures
    assert not passages.asks_something("chứng thực bản sao sổ đỏ")
    assert not passages.asks_something("cho 5 sao")
    assert passages.asks_something("quên mật khẩu vneid thì làm sao")
    assert passages.asks_something("tại sao hồ sơ bị trả lại")
