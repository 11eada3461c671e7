"""The first reply answers the aspect asked; short follow-ups ask about the guide just read."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions import guides
from bot.content import address
from bot.nlu.forms_of_address import Address
from tests.conftest import Service, button_titles, project_library, texts


def _guide(intent: str):
    guide = project_library().guide_for(intent)
    assert guide is not None
    return guide


async def _replies(service: Service, user: str, text: str) -> list[dict]:
    await service.say(user, text)
    await service.settle()
    return await service.messages(user)


async def _reply_texts(service: Service, user: str, text: str, before: int = 0) -> list[str]:
    return texts(await _replies(service, user, text))[before:]


async def _reply_after(service: Service, user: str, opening: str, question: str) -> list[str]:
    """The replies to `question` asked right after `opening`."""
    seen = len(await _reply_texts(service, user, opening))
    return await _reply_texts(service, user, question, seen)


async def test_a_fee_question_is_answered_with_the_fee_first(service: Service) -> None:
    replies = await _reply_texts(service, "u-fee", "lệ phí đăng ký tạm trú bao nhiêu vậy ad")
    assert "15.000" in replies[0] and "7.000" in replies[0]


async def test_a_question_that_hangs_on_the_first_is_offered_after_its_answer(
    service: Service,
) -> None:
    # "nếu phải thì…" asks on top of the first question: that one is answered first. The
    # online section came back first and the yes/no was lost.
    student = (
        "Em chào anh chị, em là sinh viên năm 2 thuê trọ ở phường, quê em ở Nghệ An. Cho em hỏi"
        " em có phải đăng ký tạm trú không, nếu phải thì làm online trên VNeID được không ạ?"
    )
    replies = await _replies(service, "u-student", student)
    assert texts(replies)[0].startswith("Phải.")
    offered = replies[-1]
    assert [b["payload"] for b in offered["attachment"]["payload"]["buttons"]] == [
        "nếu phải thì làm online trên VNeID được không ạ"
    ]


async def test_a_documents_question_gets_the_documents_not_the_summary(service: Service) -> None:
    replies = await _reply_texts(service, "u-docs", "dang ky ket hon can giay to gi")
    guide = _guide("proc_marriage_registration")
    assert guide.documents[0] in replies[0]
    assert guide.summary not in replies[0]


async def test_a_yes_no_question_about_who_opens_with_the_answer_word(service: Service) -> None:
    replies = await _reply_texts(service, "u-14", "con 14 tuổi có phải làm căn cước không")
    assert replies[0].startswith("Phải. ")
    opening = replies[0].split("\n")[0]
    assert "14 tuổi" in opening
    assert opening.endswith(".")  # its sentence was cut at ";" and read as unfinished


async def test_a_yes_no_question_about_a_young_child_gets_the_childrens_rule(
    service: Service,
) -> None:
    replies = await _reply_texts(service, "u-5", "làm căn cước cho bé 5 tuổi được không")
    first_line = replies[0].split("\n")[0]
    assert "dưới 14 tuổi" in first_line
    assert not first_line.startswith(("Cần.", "Phải."))


async def test_an_age_below_the_legal_minimum_gets_no_first(service: Service) -> None:
    replies = await _reply_texts(service, "u-19", "nam 19 tuổi có đăng ký kết hôn được không")
    assert replies[0].startswith("Không được. Nam từ đủ 20 tuổi")


async def test_follow_ups_after_a_guide_ask_about_that_guide(service: Service) -> None:
    user = "u-follow-ups"
    guide = _guide("proc_birth_registration")
    seen = len(await _reply_texts(service, user, "làm giấy khai sinh cho con"))
    asked = {
        "làm online được không": guide.online[0].path,
        "ở đâu": guide.office,
        "mất bao lâu": guide.processing_time,
        "có làm thứ 7 ko": guide.office,  # where it is filed says when it is open
        "ai làm được": guide.who,
    }
    for question, expected in asked.items():
        replies = await _reply_texts(service, user, question, before=seen)
        seen += len(replies)
        assert address.speak(expected)[:60] in replies[0], (question, replies)


async def test_an_age_told_after_a_guide_gets_whom_the_guide_is_for(service: Service) -> None:
    # Read by the model as a "no" and as out of scope: "Dạ vâng ạ" and "chưa hướng dẫn được".
    told = {
        ("làm căn cước cho con", "cháu nó 14 tuổi rồi"): "proc_id_card",
        ("đăng ký kết hôn", "con trai tôi mới 19 tuổi"): "proc_marriage_registration",
        # "lương hưu" sent it to social insurance's referral: she says she has none
        ("trợ cấp cho người già", "bà ở một mình, không có lương hưu"): "proc_social_welfare",
        # read as the same procedure again: its summary came back a second time
        ("trợ cấp xã hội", "nhà bác thuộc hộ nghèo"): "proc_social_welfare",
    }
    for n, ((opening, story), intent) in enumerate(told.items()):
        user = f"u-told-{n}"
        seen = len(await _reply_texts(service, user, opening))
        replies = await _reply_texts(service, user, story, before=seen)
        assert _guide(intent).who.split(". ")[0] in replies[0], story


async def test_an_age_told_in_a_yes_no_question_gets_the_rule_for_that_age(
    service: Service,
) -> None:
    # "nhận tiền trợ cấp hàng tháng" matched the result's "Cách nhận … tiền trợ cấp hằng
    # tháng, xin kiểm tra lại": the 81-year-old without a pension was told nothing of her right
    daughter = (
        "cháu chào cô chú ạ, mẹ cháu năm nay 81 tuổi, không có lương hưu, cháu muốn hỏi mẹ"
        " cháu có được nhận tiền trợ cấp hàng tháng không ạ"
    )
    replies = await _reply_texts(service, "u-81", daughter)
    assert "từ đủ 75 tuổi trở lên không có lương hưu" in replies[0].split("\n")[0]


async def test_a_fine_asked_after_a_guide_is_that_guides_not_out_of_scope(
    service: Service,
) -> None:
    # Read by the model as a traffic fine: "việc này trợ lý của xã chưa hướng dẫn được".
    user = "u-fine"
    seen = len(await _reply_texts(service, user, "đăng ký tạm trú cho người thuê trọ"))
    replies = await _reply_texts(service, user, "neu ko dang ky thi bi phat bao nhieu", seen)
    assert "xử phạt" in replies[0] and "xin kiểm tra lại" in replies[0]
    # a word the guide does not hold is still something the commune does not handle
    seen += len(replies)
    replies = await _reply_texts(service, user, "xsmb hôm nay bao nhiêu", seen)
    assert "chỉ hướng dẫn về thủ tục hành chính" in replies[0]


async def test_a_who_question_after_a_guide_gets_the_sentence_that_answers_it(
    service: Service,
) -> None:
    # it got the marriage guide's `who` (ages, consent), which says nothing of being there
    replies = await _reply_after(
        service, "u-both", "đăng ký kết hôn", "2 người có phải cùng có mặt không"
    )
    assert "hai người phải cùng có mặt" in replies[0].split("\n")[0]


async def test_an_aspect_asked_of_nothing_else_after_a_guide_is_that_guides(
    service: Service,
) -> None:
    # read as out of scope after social allowances: "việc này trợ lý của xã chưa hướng dẫn được"
    replies = await _reply_after(service, "u-don", "trợ cấp cho người già", "làm đơn ở đâu")
    assert address.speak(_guide("proc_social_welfare").office)[:60] in replies[0]


async def test_a_short_question_after_a_guide_gets_the_sentence_it_asks_for(
    service: Service,
) -> None:
    # each got the guide's summary again, or was asked back with the guide alone
    asked = {
        ("đăng ký kết hôn", "hai đứa phải cùng đi à"): "hai người phải cùng đến",
        ("lam ly lich tu phap", "so 1 hay so 2"): "cần phiếu số 1 hay số 2",
        # a topic guide's sentence too: asked back with "Nộp phí online" alone
        ("nộp lệ phí online bằng gì được", "có được giảm không"): "được giảm đến 31/12/2026",
        # VNeID named as the way of filing, not its own guide
        ("lam ly lich tu phap", "lam tren vneid dc ko"): _guide("proc_judicial_record")
        .online[0]
        .path[:40],
    }
    for n, ((opening, question), expected) in enumerate(asked.items()):
        user = f"u-short-{n}"
        seen = len(await _reply_texts(service, user, opening))
        replies = await _reply_texts(service, user, question, before=seen)
        assert expected in replies[0], (question, replies)
    # asked without a guide read before, it is not the judicial record's
    replies = await _reply_texts(service, "u-short-vneid", "lam tren vneid dc ko")
    assert _guide("proc_judicial_record").online[0].path[:40] not in replies[0]


async def test_another_case_asked_after_a_guide_stays_with_that_guide(service: Service) -> None:
    # "X thì sao" was read as off topic: "việc này trợ lý của xã chưa hướng dẫn được"
    user = "u-case-abroad"
    seen = len(await _reply_texts(service, user, "đăng ký kết hôn ở đâu"))
    replies = await _reply_texts(service, user, "nếu 1 người ở nước ngoài thì sao", seen)
    assert "yếu tố nước ngoài" in replies[0]
    # a case the guide does not speak of: said so, with the officer, inside that guide
    user = "u-case-school"
    seen = len(await _reply_texts(service, user, "bảo hiểm y tế hộ gia đình đóng bao nhiêu"))
    replies = await _replies(service, user, "con tui học lớp 3 thì sao")
    answer = replies[seen:]
    assert texts(answer)[0].startswith("Trường hợp này hướng dẫn chưa nói rõ")
    assert _guide("proc_health_insurance").title in texts(answer)[0]
    assert "Hỏi cán bộ" in button_titles(answer[0])
    # small talk shaped alike names no case of the guide
    seen += len(answer)
    replies = await _reply_texts(service, user, "hôm nay trời đẹp thì sao", seen)
    assert not replies[0].startswith("Trường hợp này")
    # asked back with the guide just read as the only guess: the same answer
    user = "u-case-friend"
    seen = len(await _reply_texts(service, user, "đăng ký tạm trú cần giấy tờ gì"))
    replies = await _reply_texts(service, user, "ở nhà người quen thì sao", seen)
    assert replies[0].startswith("Trường hợp này hướng dẫn chưa nói rõ")
    # ended with whom it is asked of: "chủ nhà không chịu ký thì sao em" was off topic
    seen += len(replies)
    replies = await _reply_texts(service, user, "chủ nhà không chịu ký thì sao em", seen)
    assert "Chủ nhà không chịu xác nhận thì" in replies[0]


async def test_a_paper_to_bring_is_not_the_procedure_asked(service: Service) -> None:
    # "giấy khai sinh" as what to bring made each of these birth registration
    asked = {
        "làm căn cước cho con có cần mang giấy khai sinh không": "proc_id_card",
        "dang ky thuong tru cho con co can giay khai sinh ko": "proc_permanent_residence",
    }
    for n, (question, intent) in enumerate(asked.items()):
        replies = await _reply_texts(service, f"u-papers-{n}", question)
        assert _guide(intent).title in replies[0], (question, replies)
        assert _guide("proc_birth_registration").title not in " ".join(replies)
        assert "hạn đăng ký khai sinh" not in " ".join(replies)  # nor its deadline reminder
    # nor asked right after the guide it is a paper of (it got birth registration's papers)
    card, papers = "lamf the can cuoc cho be 5 tuooir o dau", "co can mang giay khai sinh khong"
    replies = await _reply_after(service, "u-papers-after", card, papers)
    assert _guide("proc_id_card").title in replies[0], replies
    assert _guide("proc_birth_registration").title not in " ".join(replies)


async def test_where_after_a_topic_guide_gets_the_offices_address(service: Service) -> None:
    # The classes' guide names no place: "ở đâu vậy" was answered "Dạ vâng".
    user = "u-where-class"
    seen = len(
        await _reply_texts(service, user, "có lớp hướng dẫn cài vneid cho người già không ad")
    )
    replies = await _reply_texts(service, user, "ở đâu vậy", before=seen)
    office = _guide("ask_office_info")
    assert replies[0].startswith(office.title.upper())


async def test_an_answer_offers_the_other_sections_as_buttons(service: Service) -> None:
    await service.say("u-buttons", "xin cho biết lệ phí cấp lại thẻ căn cước")
    await service.settle()
    first = (await service.messages("u-buttons"))[0]
    titles = button_titles(first)
    labels = project_library().ui["guide_buttons"]
    assert labels["documents"] in titles and labels["fees"] not in titles


async def test_a_second_procedure_in_the_same_question_is_offered_as_a_button(
    service: Service,
) -> None:
    user = "u-two-procedures"
    await service.say(user, "e bị mất ví, mất cả cccd với bằng lái, giờ làm lại thế nào ạ")
    await service.settle()
    messages = await service.messages(user)
    library = project_library()
    # Either is answered first (the model weighs the two about equally); the other is offered.
    first, second = (_guide("proc_id_card"), _guide("proc_driver_license"))
    if first.summary not in messages[0]["text"]:
        first, second = second, first
    assert first.summary in messages[0]["text"]
    # "e bị mất ví" names her "em": she is answered as "bạn"
    young = Address("bạn", "mình")
    offer = next(
        m for m in messages if m.get("text") == address.speak(library.text("also_named"), young)
    )
    buttons = offer["attachment"]["payload"]["buttons"]
    assert [b["title"] for b in buttons] == [second.button_title]
    seen = len(messages)
    await service.say(user, buttons[0]["payload"])
    await service.settle()
    assert second.summary in texts(await service.messages(user))[seen]


async def test_a_time_word_names_no_second_procedure(service: Service) -> None:
    # "năm nay" is in the health-insurance FAQs: she was offered "Bảo hiểm y tế" as well.
    messages = await _replies(
        service,
        "u-this-year",
        "Chào cháu, bác năm nay 76 tuổi, ở một mình, không có lương hưu. Bác nghe nói người già"
        " được nhà nước trợ cấp, vậy bác phải làm giấy tờ gì hả cháu?",
    )
    assert _guide("proc_social_welfare").title in messages[0]["text"]
    offered = [title for m in messages for title in button_titles(m)]
    assert _guide("proc_health_insurance").button_title not in offered


def test_paperwork_names_no_second_procedure() -> None:
    # "…chưa làm giấy chứng tử" was offered birth registration: its FAQs say "làm giấy khai sinh"
    death, birth = _guide("proc_death_registration"), _guide("proc_birth_registration")
    text = "bố em mất 2 tháng rồi mà chưa làm giấy chứng tử, giờ làm có bị phạt không ạ"
    assert not guides._distinct_pairs(text, birth, death)
    assert "khai sinh" in guides._distinct_pairs("mất giấy khai sinh thì sao", birth, death)
    # nor a copy of a record: "trích lục khai tử" was offered birth registration
    text = "tôi cần trích lục khai tử của bố để làm thủ tục thừa kế, xin ở đâu"
    assert not guides._distinct_pairs(text, birth, death)


def test_the_officer_addressed_names_no_procedure() -> None:
    # "thưa cán bộ…, nhờ cán bộ chỉ giúp" named home support ("Nhờ cán bộ đến nhà hỗ trợ")
    # before death registration, which was then offered second
    death, home = _guide("proc_death_registration"), _guide("request_home_support")
    text = (
        "Dạ thưa cán bộ, ông nhà tôi mới mất hôm qua, tôi 75 tuổi rồi không biết làm giấy tờ"
        " gì, nhờ cán bộ chỉ giúp tôi với"
    )
    assert not guides._distinct_pairs(text, home, death)
    assert "den nha" in guides._distinct_pairs("có cán bộ đến nhà giúp không", home, death)


async def test_the_cards_year_told_after_the_renewal_rule_is_worked_out(service: Service) -> None:
    # told the rule for his age and asked for the card's year, he typed the example given:
    # it got the ID card's `who`
    user = "u-renewal-year"
    asked = "Tôi năm nay 68 tuổi, nghe nói thẻ căn cước cũ vẫn dùng được, có cần đi làm lại không"
    replies = await _reply_texts(service, user, asked)
    assert replies[0].startswith("Tùy năm làm thẻ.")
    example = replies[0].split('"')[1]
    replies = await _reply_texts(service, user, example, len(replies))
    assert replies[0].startswith("Không phải đổi.")


async def test_a_topic_asked_beside_a_procedure_is_offered_as_a_button(service: Service) -> None:
    # Only procedures were offered: the home visit he asked for was dropped.
    messages = await _replies(
        service,
        "u-card-at-home",
        "Chào cháu, ông 80 tuổi rồi, mắt kém, không biết dùng điện thoại. Ông muốn làm lại cái"
        " thẻ căn cước bị mất thì có cách nào cán bộ đến nhà làm cho ông không?",
    )
    assert _guide("proc_id_card").title.upper() in messages[0]["text"]
    assert [_guide("request_home_support").button_title] in [button_titles(m) for m in messages]


async def test_a_result_question_gets_the_guides_result_section(service: Service) -> None:
    replies = await _reply_texts(
        service, "u-result", "đăng ký vneid mức 2 xong thì nhận kết quả qua đâu"
    )
    result = _guide("proc_vneid").result
    assert result and address.speak(result)[:60] in replies[0]


async def test_a_dossier_waited_on_gets_the_time_and_the_way_to_look_it_up(
    service: Service,
) -> None:
    # She got the allowance's summary: how long it takes, and where to follow her dossier.
    messages = await _replies(
        service,
        "u-waited",
        "bà đã làm hồ sơ trợ cấp từ tháng 10 rồi mà giờ chưa thấy gì, bà phải hỏi ai ạ",
    )
    time_title = project_library().ui["section_titles"]["time"]
    assert messages[0]["text"].startswith(time_title)
    assert "10 ngày làm việc" in messages[0]["text"]
    offered = [
        b["payload"]
        for m in messages
        for b in m.get("attachment", {}).get("payload", {}).get("buttons", [])
    ]
    assert "/check_dossier_status" in offered


async def test_a_bedridden_persons_card_asked_at_home_is_not_answered_by_age(
    service: Service,
) -> None:
    # "Được. Công dân từ đủ 14 tuổi phải có thẻ căn cước": her age fitted the card's `who`,
    # but she asked whether the card can be made at home.
    replies = await _reply_texts(
        service,
        "u-card-bedridden",
        "me toi 85 tuoi nam liet giuong, lam can cuoc co duoc lam tai nha khong",
    )
    at_home = next(f for f in _guide("proc_id_card").faqs if f.id == "can-cuoc-lam-tai-nha")
    assert replies[0].startswith(address.speak(at_home.answer)[:60])


def test_a_yes_no_follow_up_an_faq_answers_gets_that_faq() -> None:
    # "cháu có phải về quê cắt khẩu không" right after permanent residence got its `who`
    library = project_library()
    text = "cháu có phải về quê cắt khẩu không"
    slots = {"guide_id": _guide("proc_permanent_residence").id}
    tracker = Tracker("u", slots, {"text": text}, [], False, None, {}, "action_listen")
    [reply] = guides.follow_up_answer(library, tracker)
    assert reply.text.startswith("Không phải.") and "giấy chuyển hộ khẩu" in reply.text
