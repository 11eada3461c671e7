"""The aspect a question asks, and yes/no answers read from a guide's own text."""

from __future__ import annotations

import pytest

from actions.out_of_scope import referral
from bot.content import render, yes_no
from bot.nlu.aspects import asked_aspect, asked_parts, is_yes_no
from tests.conftest import project_library


@pytest.mark.parametrize(
    ("question", "aspect"),
    [
        ("lệ phí đăng ký tạm trú bao nhiêu", "fees"),
        ("le phi lam can cuoc het bao nhieu tien", "fees"),
        ("làm giấy khai sinh có mất tiền không", "fees"),
        ("nhiu tiền", "fees"),  # "nhiêu" typed "nhiu", "bao" left out
        ("nộp online có rẻ hơn không", "fees"),  # it got the online section
        ("răng lâu rứa", "time"),  # "sao lâu vậy" in the Central dialect: asked back
        ("răng mà đăng ký tạm trú lâu rứa", "time"),  # it got the summary
        ("ba 80 tuoi roi thi ba phai ra dau lam the bhyt", "where"),  # "ra đâu": the summary
        ("có đứa nói đã tìm ra dấu vết tiền tui bị lừa", None),
        # "có căn cước" is not "có cần", nor "phải làm lại những gì" a question of who
        ("hôm qua tôi mất ví, có căn cước với thẻ bhyt, giờ phải làm lại những gì", None),
        # an age asked, not an amount: it got the allowance's fees
        ("muốn nhận tiền trợ cấp người cao tuổi thì bao nhiêu tuổi mới được hưởng ạ", "who"),
        ("má tui 70 mấy tuổi, công an có gọi điện bắt chuyển tiền hông", None),  # age told
        ("em đăng ký tạm trú online mà 5 ngày rồi chưa thấy duyệt", "time"),  # a wait told
        # "mai táng phí" names the funeral allowance: these got death registration's fees
        ("hồ sơ mai táng phí nộp trong bao lâu", "deadline"),
        ("mai tang phi lam o dau", "where"),
        ("nộp trong bao lâu thì có kết quả", "time"),
        # Central "chi" for "gì": it got the summary
        ("muốn cho thằng cháu nội vô hộ khẩu nhà tui thì ba má nó phải làm giấy chi", "documents"),
        ("làm căn cước cần chi rứa", "documents"),
        ("cần chị ký không", None),
        # a wait told after filing: the marriage guide's sentence on collecting it came back
        ("e nop ho so ket hon roi ma chua thay hen ngay nhan", "time"),
        ("nộp hồ sơ rồi mà không thấy ai gọi", "time"),
        ("nộp hồ sơ tách khẩu rồi mà 2 tuần chưa thấy gì", "time"),  # it got the summary
        ("bà làm hồ sơ trợ cấp từ tháng 10 rồi mà giờ chưa thấy gì, bà phải hỏi ai ạ", "time"),
        ("nộp cả tuần rồi mà chưa thấy chi", "time"),  # "chi": "gì" in the Central dialect
        ("khai sinh quá hạn có bị phạt không", "deadline"),
        ("trong vòng bao nhiêu ngày phải đi khai tử", "deadline"),
        (
            "chuyển đến rồi thì trong bao nhiêu ngày phải đăng ký tạm trú, trễ có bị phạt không?",
            "deadline",
        ),
        ("ông mất năm 2019 chưa khai tử, giờ đăng kí còn được không", "deadline"),
        ("con sinh 3 tháng rồi giờ còn khai sinh được không", "deadline"),
        ("giấy độc thân xin từ tháng 3 giờ còn xài dc ko", "deadline"),
        ("giấy xác nhận có giá trị bao lâu", "deadline"),
        ("han dong bhyt ho gia dinh la khi nao", "deadline"),
        ("nhaf tôi 5 người, đóng bhyt hộ gia đình thì người thứ 5 bao nhiêu", "fees"),
        ("con gái 17 tuổi đăng ký kết hôn được chưa", "who"),
        ("mất bao lâu", "time"),
        ("bao giờ thì có kết quả ạ", "time"),
        ("mấy ngày thì xong", "time"),
        ("cần giấy tờ gì", "documents"),
        ("dang ky tam tru can nhung gi", "documents"),
        ("Xin hỏi tôi phải làm hồ sơ như thế nào và nộp ở đâu ạ?", "documents"),
        ("có cần giấy kết hôn của bố mẹ không?", "documents"),
        ("làm online được không", "online"),
        ("lam tren dien thoai dc ko", "online"),
        ("nhận kết quả qua bưu điện được không", "result"),
        ("lý lịch tư pháp nhận kết quả ở đâu", "result"),
        ("đổi bằng lái online thì nhận bằng qua đâu", "result"),
        ("lay giay khai sinh o dau vay", "result"),
        ("e nộp hồ sơ chứng thực online rồi thì lấy kết quả sao ạ", "result"),
        ("ở đâu", "where"),
        ("lam giay khai sinh cho con o dau", "where"),
        ("nộp ở xã hay huyện", "where"),
        ("đăng ký kết hôn thì về quê hay đăng ký chỗ trọ được ạ", "where"),
        ("làm căn cước ở chỗ tạm trú đc ko hay phải về quê", "where"),
        ("chứng thực giấy tờ ở xã mất bao nhiêu tiền một trang dzậy", "fees"),
        ("làm giấy khai sinh ở xã mất bao lâu", "time"),
        ("ai làm được", "who"),
        ("con 14 tuổi có phải làm căn cước không", "who"),
        ("ông bà đi khai sinh thay cho cháu được không", "who"),
        ("đến đâu đóng tiền", "where"),
        ("có làm thứ 7 ko", "where"),  # the place's days and hours
        ("mần giấy khai sinh cho con thì tới đâu mần vậy mấy chú", "where"),
        # an expiry told is weak beside what is asked of it; asked of, it is the deadline
        ("đổi bằng lái xe ô tô hết hạn cần giấy khám sức khỏe không", "documents"),
        ("the can cuoc cua toi het han roi thi di lam lai the nao, o dau", "where"),
        ("tạm trú hết hạn rồi thì phải làm sao", "deadline"),
        ("giấy xác nhận cư trú bao lâu thì hết hạn", "deadline"),
        ("người có công có được miễn tiền cước gửi không", "fees"),
        # a place in the story beside a question of no aspect: not asked
        (
            "con muốn nhập hộ khẩu cho vợ con về nhà con thì phải làm sao chú, vợ con hộ khẩu ở"
            " tỉnh khác ạ",
            None,
        ),
        # a question hanging on the first ("nếu phải thì…"): the first is asked first
        ("có phải đăng ký tạm trú không, nếu phải thì làm online được không", "who"),
        ("lệ phí bao nhiêu, nếu nộp online thì có rẻ hơn không", "fees"),
        ("chu nhat co lam viec khong", "where"),
        ("bản sao giấy khai sinh mất bao nhiêu một bản", "fees"),
        ("lm khai sinh bn lâu", "time"),
        ("mấy bữa thì có giấy", "time"),
        ("chứng thực bản sao ở đâu", "where"),
        ("chung thuc ban sao mat bao lau", "time"),
        ("tôi muốn đăng ký kết hôn", None),
        ("xin chào", None),
        # "phải làm gì" asks what to do, not who must
        ("ông nhà tôi mới mất, tài khoản VNeID của ông thì gia đình phải làm gì", None),
        ("mat the thi phai lam sao", None),
        ("con 14 tuổi phải làm căn cước không", "who"),
        ("khai tử thì cần mang những giấy gì", "documents"),
        ("không có sổ hộ khẩu thì xin giấy gì ở công an", "documents"),
        ("hồ sơ gồm những gì", "documents"),
        # two questions in one sentence: the first asked, not the one nearest the "?"
        ("khai tử thì cần mang những giấy gì, có mất tiền không?", "documents"),
        ("cần những giấy tờ gì và nộp ở đâu", "documents"),
        ("hộ chiếu thì nộp ở đâu, lệ phí bao nhiêu ạ?", "where"),
        # a place named in passing is weak beside a question of papers; one place or another
        # is a question of where
        ("làm khai sinh cho con ở xã được không, cần giấy tờ gì ạ?", "documents"),
        ("giờ xin cấp lại sổ được hông, nộp giấy ở xã hay phải lên huyện?", "where"),
        # "và" inside one question joins two things, not two questions
        ("tôi phải nộp thuế TNCN và GTGT bao nhiêu", "fees"),
        # an expiry told, and how to renew asked; an expiry asked
        ("giấy phép lái xe hạng A1 hết hạn đổi thế nào, đổi online được không", "online"),
        ("bang lai het han doi the nao", None),
        ("thẻ tạm trú hết hạn chưa", "deadline"),
        # an appointment at the office
        ("có cần hẹn trước không", "where"),
        ("lm onl dc k", "online"),
        ("chứng thực 10 bản thì hết bao nhiêu", "fees"),
        ("lam can cuoc co phai dat lich hen ko", "where"),
    ],
)
def test_the_aspect_asked_is_found_with_or_without_diacritics(question: str, aspect: str) -> None:
    assert asked_aspect(question) == aspect


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("con 14 tuổi có phải làm căn cước không", True),
        ("làm online được không ạ", True),
        ("co can giay ket hon cua bo me ko", True),
        ("lệ phí bao nhiêu", False),
        ("cho tôi hỏi làm căn cước ở đâu", False),
    ],
)
def test_yes_no_questions_are_recognised(question: str, expected: bool) -> None:
    assert is_yes_no(question) is expected


def test_the_sentence_sharing_the_question_topic_answers_it() -> None:
    body = (
        "Công dân từ đủ 14 tuổi phải có thẻ căn cước; trẻ dưới 14 tuổi làm khi có yêu cầu. "
        "Trẻ dưới 6 tuổi không phải đến."
    )
    words = project_library().ui["yes_no"]
    found = yes_no.answer("con 14 tuổi có phải làm căn cước không", body, words)
    assert found == yes_no.YesNo("Phải.", "Công dân từ đủ 14 tuổi phải có thẻ căn cước;")
    found = yes_no.answer("bé 5 tuổi có phải đến không", body, words)
    assert found is not None and found.word == "Không phải."


def test_the_sentence_for_the_age_asked_answers_it() -> None:
    body = (
        "Công dân từ đủ 14 tuổi phải có thẻ căn cước; trẻ dưới 14 tuổi làm khi có yêu cầu. "
        "Trẻ dưới 6 tuổi không phải đến."
    )
    words = project_library().ui["yes_no"]
    found = yes_no.answer("làm căn cước cho bé 5 tuổi được không", body, words)
    # Not "Cần." from "căn cước", nor the sentence of the 14-year-olds; made on request, the
    # card may be made ("Được."), it need not be
    assert found == yes_no.YesNo("Được.", "trẻ dưới 14 tuổi làm khi có yêu cầu.")
    assert yes_no.fits("con 14t có phải làm không", "Công dân từ đủ 14 tuổi phải có thẻ")
    assert not yes_no.fits("con 14t có phải làm không", "trẻ dưới 14 tuổi làm khi có yêu cầu")
    assert yes_no.fits("có phải làm không", "trẻ dưới 14 tuổi làm khi có yêu cầu")
    assert yes_no.fits("trẻ dưới 14 tuổi làm thế nào", "trẻ dưới 14 tuổi làm khi có yêu cầu")


def test_the_procedures_own_name_does_not_pick_the_answer() -> None:
    """ "tạm vắng" shares "tạm" with the title "tạm trú", and only with the sentence about
    foreigners: no sentence answers it, so none goes first."""
    library = project_library()
    guide = library.guide_for("proc_temporary_residence")
    assert guide is not None
    words = library.ui["yes_no"]
    question = "tạm vắng có cần khai báo không"
    assert yes_no.answer(question, guide.who, words, ignore=guide.title) is None


def test_a_word_typed_with_other_diacritics_is_another_word() -> None:
    """Folded, "dẫn" (bring the child) is "dân" (citizen): it picked "Công dân từ đủ 14
    tuổi phải có thẻ căn cước" and answered "Cần."."""
    words = project_library().ui["yes_no"]
    body = "Công dân từ đủ 14 tuổi phải có thẻ căn cước; trẻ dưới 14 tuổi làm khi có yêu cầu."
    question = "làm căn cước cho con nhỏ có cần dẫn nó theo không"
    assert yes_no.answer(question, body, words, ignore="Thẻ căn cước") is None
    # Typed without diacritics, a word still matches its accented form.
    found = yes_no.answer("tre em co yeu cau lam duoc khong", body, words, ignore="Thẻ căn cước")
    assert found is not None and found.sentence.startswith("trẻ dưới 14 tuổi")


def test_a_sentence_that_says_neither_yes_nor_no_goes_first_without_a_word() -> None:
    words = project_library().ui["yes_no"]
    found = yes_no.answer(
        "trẻ dưới 14 tuổi làm thế nào", "Trẻ dưới 14 tuổi làm khi có yêu cầu.", words
    )
    assert found == yes_no.YesNo("", "Trẻ dưới 14 tuổi làm khi có yêu cầu.")


def test_an_aspect_answer_opens_with_the_section_asked() -> None:
    library = project_library()
    guide = library.guide_for("proc_temporary_residence")
    assert guide is not None
    replies = render.aspect_answer(library, guide, "fees", "lệ phí tạm trú bao nhiêu")
    assert replies[0].text.startswith(library.ui["section_titles"]["fees"])
    assert guide.fees in replies[0].text
    titles = [b["title"] for b in replies[0].buttons]
    assert library.ui["guide_buttons"]["fees"] not in titles


def test_an_aspect_the_guide_lacks_gives_no_answer() -> None:
    library = project_library()
    guide = library.guide_for("proc_temporary_residence")
    assert guide is not None
    assert render.aspect_answer(library, guide, "no-such-aspect", "?") == []


@pytest.mark.parametrize(
    ("question", "where"),
    [
        ("cho hỏi quyết toán thuế TNCN ở đâu", "cơ quan thuế"),
        ("tra cuu phat nguoi xe may", "Cảnh sát giao thông"),
        ("ad ơi cho e hỏi nộp phạt giao thông online ở đâu", "Cảnh sát giao thông"),
        ("rút bhxh một lần làm sao", "Bảo hiểm xã hội"),
        ("xsmb hom nay", "không có tin này"),
        ("toi muon xin giay phep xay dung nha o nong thon thi lam o dau", "địa chính – xây dựng"),
    ],
)
def test_near_domain_questions_are_told_where_they_are_asked(question: str, where: str) -> None:
    found = referral(project_library(), question)
    assert found is not None and where in found


def test_other_off_topic_questions_get_no_referral() -> None:
    assert referral(project_library(), "hôm nay ăn gì") is None


def test_a_topic_one_says_one_has_none_of_is_not_referred() -> None:
    library = project_library()
    assert referral(library, "bà ở một mình, không có lương hưu") is None
    assert referral(library, "mẹ tôi chưa hưởng lương hưu ngày nào") is None
    found = referral(library, "tôi không rút bhxh một lần được thì hỏi ai")
    assert found is not None and "Bảo hiểm xã hội" in found


def test_a_negation_that_is_not_of_the_verb_does_not_make_a_no() -> None:
    words = project_library().ui["yes_no"]
    body = "Người đến ở từ 30 ngày tại nơi không phải nơi thường trú phải đăng ký tạm trú."
    found = yes_no.answer("sinh viên thuê trọ có phải đăng ký tạm trú không", body, words)
    assert found is not None and found.word == "Phải."
    found = yes_no.answer(
        "ở 2 tuần có phải đăng ký tạm trú không",
        "Ở dưới 30 ngày thì không phải đăng ký tạm trú.",
        words,
    )
    assert found is not None and found.word == "Không phải."


def test_the_asking_clause_names_the_aspect_not_the_story() -> None:
    message = (
        "Chào cán bộ, tôi có đứa con trai sắp cưới vợ, nhà gái ở xã bên cạnh. Tôi muốn hỏi "
        "giúp cháu là đi đăng ký kết hôn thì hai đứa cần chuẩn bị những giấy tờ gì ạ?"
    )
    assert asked_aspect(message) == "documents"


@pytest.mark.parametrize(
    "question",
    [
        "mức chuẩn trợ giúp xh năm nay bn ạ",
        "trợ cấp hằng tháng được bao nhiêu",
        "tiền trợ cấp là bao nhiêu",
    ],
)
def test_an_allowances_amount_is_asked_as_its_fees(question: str) -> None:
    assert asked_aspect(question) == "fees"


def test_how_many_days_or_years_is_not_an_amount() -> None:
    assert asked_aspect("được bao nhiêu ngày thì phải đổi") == "time"
    assert asked_aspect("con được bao nhiêu tuổi thì làm căn cước") != "fees"


def test_a_clause_asking_a_fee_says_more_than_a_yes_no_one() -> None:
    message = (
        "Chào cháu, bác năm nay tròn 60 tuổi. Bác muốn hỏi đổi thẻ thì lệ phí thế nào, "
        "người già như bác có được miễn không cháu?"
    )
    assert asked_aspect(message) == "fees"


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("nam 19 tuổi có đăng ký kết hôn được không", "Không được."),
        ("Con gái 17 tuổi đã đăng ký kết hôn được chưa?", "Không được."),
        ("con tôi 17 tuổi đủ tuổi kết hôn chưa", "Chưa đủ tuổi."),
    ],
)
def test_an_age_below_the_minimum_is_answered_no(question: str, word: str) -> None:
    words = project_library().ui["yes_no"]
    body = "Hai người muốn kết hôn, cả hai tự nguyện. Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi."
    assert yes_no.below_minimum(question, body, words) == yes_no.YesNo(
        word, "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi."
    )


@pytest.mark.parametrize(
    "question",
    [
        "con gái tôi 19 tuổi đăng ký kết hôn được không",  # women from 18
        "con tôi 19 tuổi kết hôn được không",  # a man or a woman?
        "tôi sinh năm 2001, nam 24 tuổi, kết hôn được không",  # "năm" is a year
    ],
)
def test_an_age_a_rule_may_admit_is_not_answered_no(question: str) -> None:
    words = project_library().ui["yes_no"]
    body = "Hai người muốn kết hôn, cả hai tự nguyện. Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi."
    assert yes_no.below_minimum(question, body, words) is None


def test_an_age_range_is_read_and_cận_nghèo_is_not_cần() -> None:
    """ "hộ cận nghèo" folds to "ho can ngheo": it answered "Được." to a 72-year-old whose
    right depends on being poor, and to a 60-year-old, whom the range leaves out."""
    words = project_library().ui["yes_no"]
    body = (
        "Người từ đủ 75 tuổi trở lên không có lương hưu; người từ đủ 70 đến dưới 75 tuổi "
        "thuộc hộ nghèo, hộ cận nghèo."
    )
    sentence = "người từ đủ 70 đến dưới 75 tuổi thuộc hộ nghèo, hộ cận nghèo."
    assert yes_no.polarity("bà 72 tuổi có được không", sentence, words).word == ""
    assert not yes_no.fits("ông 60 tuổi có được hưởng không", sentence)
    found = yes_no.below_minimum("ông 60 tuổi có được hưởng không", body, words)
    assert found is not None and found.word == "Không được."


def test_a_sentence_cut_at_a_semicolon_opens_the_answer_in_capitals() -> None:
    library = project_library()
    guide = library.guide_for("proc_social_welfare")
    question = "tôi năm nay 70 tuổi, nhà thuộc hộ cận nghèo, có được hưởng trợ cấp gì không ạ"
    [first, *_] = render.aspect_answer(library, guide, "who", question)
    assert first.text.startswith("Người từ đủ 70 đến dưới 75 tuổi")
    # the section after it ends the sentence the clause was taken from ("…hằng tháng; Trợ…")
    assert "hằng tháng. Trợ cấp xã hội hằng tháng khác" in first.text


def test_two_things_asked_with_và_are_two_parts() -> None:
    assert asked_parts("cần những giấy tờ gì và nộp ở đâu") == ["cần những giấy tờ gì", "nộp ở đâu"]
    assert asked_parts("le phi bao nhieu va mat bao lau") == ["le phi bao nhieu", "mat bao lau"]
    # not when a part asks nothing of its own
    assert asked_parts("giấy khai sinh và căn cước cần gì") == ["giấy khai sinh và căn cước cần gì"]


def test_the_answer_sentence_is_not_said_twice_and_keeps_its_hedge() -> None:
    """The 14-year rule is [S] in the procedures spec: the guide hedges its sentence, so the
    opening that states it is hedged too; the section after it no longer repeats it."""
    library = project_library()
    guide = library.guide_for("proc_id_card")
    [first, *_] = render.aspect_answer(
        library, guide, "who", "con 14 tuổi có phải làm căn cước không"
    )
    opening, _, rest = first.text.partition("\n\n")
    assert opening == (
        "Phải. Công dân từ đủ 14 tuổi phải có thẻ căn cước; xin kiểm tra lại với bộ phận một cửa."
    )
    assert first.text.count("từ đủ 14 tuổi phải có") == 1
    assert "Trẻ dưới 14 tuổi làm khi có yêu cầu" in rest  # the rest of the section follows


def test_a_sentence_naming_what_to_ask_says_neither_yes_nor_no() -> None:
    # "ai được hưởng" read as "được": "Được." to a 70-year-old who may not be entitled; it
    # does not open the answer at all
    words = project_library().ui["yes_no"]
    sentence = (
        "Trợ cấp xã hội hằng tháng khác và chính sách người có công: ai được hưởng, xin kiểm "
        "tra lại với bộ phận một cửa."
    )
    assert yes_no.polarity("giờ tôi có được hưởng trợ cấp gì không", sentence, words) is None
    # but "không ai được…" says no ("Phải." was read from its "được")
    nobody = "Từ 01/7/2026 không ai được yêu cầu cá nhân nộp phiếu số 2."
    found = yes_no.polarity("công ty có được đòi phiếu lý lịch tư pháp số 2 không", nobody, words)
    assert found.word == "Không được."


def test_a_sentence_said_on_its_own_keeps_its_hedge() -> None:
    library = project_library()
    guide = library.guide_for("proc_id_card")
    [reply] = render.passage_answer(library, guide, "trẻ dưới 14 tuổi làm khi có yêu cầu, qua")
    assert reply.text.startswith("Trẻ dưới 14 tuổi")  # not a sentence of the guide: as is
    clause = "trẻ dưới 14 tuổi làm khi có yêu cầu, qua cha mẹ hoặc người giám hộ;"
    [reply] = render.passage_answer(library, guide, clause)
    assert reply.text.startswith(
        "Trẻ dưới 14 tuổi làm khi có yêu cầu, qua cha mẹ hoặc người giám hộ; "
        "xin kiểm tra lại với bộ phận một cửa.\n\n"
    )


def test_one_common_shared_word_does_not_pick_the_answer() -> None:
    """ "mã số riêng" shares only "số" with "một số nhóm … không phải đăng ký": it opened
    with "Không phải." to a question that sentence does not answer."""
    library = project_library()
    guide = library.guide_for("proc_business_registration")
    assert guide is not None
    question = "Có giấy chứng nhận hộ kinh doanh rồi có phải đi đăng ký mã số riêng nữa không?"
    assert yes_no.answer(question, guide.who, library.ui["yes_no"], ignore=guide.title) is None


@pytest.mark.parametrize(
    ("question", "word"),
    [
        ("ở nhờ nhà bà con chừng 2 tuần thôi có cần khai tạm trú hông", "Không cần."),
        ("con về quê ăn tết 10 ngày có phải khai báo tạm trú không", "Không phải."),
        ("thue tro 3 thang co phai dang ky tam tru khong", "Phải."),
        ("ở nhờ nhà người quen có cần đk tạm trú ko", ""),  # how long? the rule, no word
        ("Sinh viên thuê trọ đi học có phải đăng ký tạm trú không?", "Phải."),  # the usual case
    ],
)
def test_a_stay_is_compared_with_the_30_days_of_the_rule(question: str, word: str) -> None:
    library = project_library()
    guide = library.guide_for("proc_temporary_residence")
    assert guide is not None
    replies = render.aspect_answer(library, guide, "who", question)
    opening = replies[0].text.split("\n")[0]
    assert "30 ngày" in opening
    assert opening.startswith(f"{word} ") if word else not opening.startswith(("Không", "Phải"))


def test_a_stay_below_every_minimum_is_answered_no() -> None:
    words = project_library().ui["yes_no"]
    body = "Người đến ở từ 30 ngày trở lên phải đăng ký tạm trú. Lệ phí 15.000 đồng."
    assert yes_no.below_minimum("ở 2 tuần có cần đăng ký không", body, words) == yes_no.YesNo(
        "Không cần.", "Người đến ở từ 30 ngày trở lên phải đăng ký tạm trú."
    )
    assert yes_no.below_minimum("ở 2 tháng có cần đăng ký không", body, words) is None


def test_a_yes_no_about_something_else_gets_no_answer_word_from_an_age() -> None:
    """ "Cần. Công dân từ đủ 14 tuổi phải có thẻ căn cước" answered whether a parent must come
    along: the age fitted the sentence, the question asked something it does not say."""
    library = project_library()
    guide = library.guide_for("proc_id_card")
    subject = f"{guide.title} {guide.summary}"
    sentence = "Công dân từ đủ 14 tuổi phải có thẻ căn cước."
    beyond = "con tôi 15 tuổi làm căn cước có cần bố mẹ đi cùng không"
    assert yes_no.asks_beyond(beyond, sentence, subject)
    assert not yes_no.asks_beyond("con 14 tuổi có phải làm căn cước không", sentence, subject)
    [first, *_] = render.aspect_answer(library, guide, "who", beyond)
    assert first.text.startswith(library.ui["section_titles"]["who"])
    # an age below every minimum still answers whatever is asked of it
    marriage = library.guide_for("proc_marriage_registration")
    asked = (
        "ny e 17t đã có bé r, nhà 2 bên đồng ý hết. phải đợi ny e đủ 18 mới đky kết hôn đc đúng"
        " ko ạ, đủ tuổi tính theo ngày sinh hay chỉ cần đủ năm là đc"
    )
    assert yes_no.asks_beyond(asked, "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi.", marriage.title)
    [first, *_] = render.aspect_answer(library, marriage, "who", asked)
    assert first.text.startswith("Chưa đủ tuổi.")


def test_a_yes_no_closed_by_its_modal_asks_about_the_words_before_it() -> None:
    # "Được. Nếu cha mẹ không đăng ký được thì ông bà…" answered whether the mother may
    # change the children's family name at the commune
    library = project_library()
    guide = library.guide_for("proc_birth_registration")
    subject = f"{guide.title} {guide.summary}"
    sentence = (
        "Nếu cha mẹ không đăng ký được thì ông bà, người thân khác hoặc người đang nuôi dưỡng"
        " trẻ đi đăng ký."
    )
    asked = "tui muốn đổi họ hai đứa qua họ mẹ thì ra xã làm được hông"
    assert yes_no.asks_beyond(asked, sentence, subject)
    # an age told before "thì" is the case, not what is asked
    card = library.guide_for("proc_id_card")
    assert not yes_no.asks_beyond(
        "con tui mới 10 tuổi thì làm căn cước được chưa",
        "Trẻ dưới 14 tuổi làm khi có yêu cầu, qua cha mẹ hoặc người giám hộ.",
        f"{card.title} {card.summary}",
    )


def test_no_to_one_thing_and_yes_to_another_gives_no_answer_word() -> None:
    # "Không được. Người về ở cùng người thân … không cần là chủ nhà nhưng cần chủ hộ … đồng ý"
    # answered "chủ nhà chịu cho nhập khẩu thì có được đăng ký thường trú không"
    words = project_library().ui["yes_no"]
    sentence = (
        "Người về ở cùng người thân không cần là chủ nhà nhưng cần chủ hộ hoặc chủ nhà đồng ý."
    )
    found = yes_no.polarity("chủ nhà chịu cho nhập khẩu thì có được không", sentence, words)
    assert found is not None and found.word == ""


def test_what_is_done_on_request_may_be_done_and_need_not_be() -> None:
    words = project_library().ui["yes_no"]
    sentence = "Trẻ dưới 14 tuổi làm khi có yêu cầu, qua cha mẹ hoặc người giám hộ."
    may = yes_no.polarity("con tôi 10 tuổi làm căn cước được không", sentence, words)
    assert may is not None and may.word == "Được."
    must = yes_no.polarity("con tui 8 tuổi có bắt buộc làm căn cước không", sentence, words)
    assert must is not None and must.word.startswith("Không")


def test_the_answer_word_fits_what_is_asked_and_what_the_sentence_says() -> None:
    words = project_library().ui["yes_no"]
    # the asking clause's verb, not the story's: "…nên phải về. vậy có làm được không"
    sentence = "Nếu cha mẹ không đăng ký được thì ông bà, người thân khác đi đăng ký."
    asked = "Mẹ nó bận nên phải đi làm xa. Vậy ông nội đi làm khai sinh cho cháu được không?"
    found = yes_no.polarity(asked, sentence, words)
    assert found is not None and found.word == "Được."
    # "không cần" is not "không được": asked "được không", the sentence's own word
    sentence = "Nếu xin giấy này chỉ để đăng ký kết hôn ở Việt Nam thì không cần làm."
    found = yes_no.polarity("tôi ủy quyền cho cháu đi xin giấy được không", sentence, words)
    assert found is not None and found.word == "Không cần."
