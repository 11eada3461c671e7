"""When the model is unsure: its best guesses as buttons, or where an off-topic question is
asked, run by the real action on a real tracker."""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.clarify import ActionClarify, ActionDenyOrQuestion, clarify
from actions.guides import ActionAnswerAspect, also_named
from actions.officer_handover import fallback_streak
from bot.local_time import TIMEZONE
from tests.conftest import project_library


def _tracker(text: str, ranking: list[tuple[str, float]], slots: dict | None = None) -> Tracker:
    message = {
        "text": text,
        "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        "entities": [],
    }
    return Tracker("u-clarify", slots or {}, message, [], False, None, {}, "action_listen")


async def _run(action, tracker: Tracker) -> list[dict]:
    dispatcher = CollectingDispatcher()
    await action.run(dispatcher, tracker, {})
    return dispatcher.messages


async def test_an_unsure_question_offers_the_three_best_guesses_and_the_menu() -> None:
    ranking = [
        ("nlu_fallback", 0.3),
        ("proc_temporary_residence", 0.28),
        ("proc_permanent_residence", 0.22),
        ("proc_residence_info", 0.2),
        ("greet", 0.15),
        ("proc_land", 0.05),
    ]
    [message] = await _run(ActionClarify(), _tracker("dang ky o nha nguoi quen", ranking))
    assert "chưa rõ" in message["text"] and "gõ lại" in message["text"]  # what to do if none fits
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads == [
        "/proc_temporary_residence",
        "/proc_permanent_residence",
        "/proc_residence_info",
        "/help",
    ]


async def test_the_menu_is_offered_once_even_when_the_model_guesses_it() -> None:
    ranking = [("nlu_fallback", 0.5), ("help", 0.27), ("proc_residence_info", 0.25)]
    tracker = _tracker("chau oi cho bac hoi cai giay do xin o dau", ranking)
    [message] = await _run(ActionClarify(), tracker)
    assert [b["payload"] for b in message["buttons"]] == ["/proc_residence_info", "/help"]


async def test_something_else_is_offered_when_the_question_may_be_off_topic() -> None:
    # an off-topic question asked back was offered only the commune's procedures
    ranking = [
        ("nlu_fallback", 0.4),
        ("proc_land", 0.3),
        ("out_of_scope", 0.25),
        ("proc_business_registration", 0.2),
    ]
    tracker = _tracker("nha hang xom xay lan sang dat nha toi thi kien o dau", ranking)
    [message] = await _run(ActionClarify(), tracker)
    assert [(b["title"], b["payload"]) for b in message["buttons"]] == [
        ("Thủ tục đất đai", "/proc_land"),
        ("Hộ kinh doanh", "/proc_business_registration"),
        ("Việc khác", "/out_of_scope"),
        ("Xem các mục", "/help"),
    ]
    unlikely = [("nlu_fallback", 0.4), ("proc_land", 0.3), ("out_of_scope", 0.05)]
    [message] = await _run(ActionClarify(), _tracker("lam so do", unlikely))
    assert "/out_of_scope" not in [b["payload"] for b in message["buttons"]]


async def test_an_unsure_off_topic_question_is_told_where_it_is_asked() -> None:
    ranking = [("nlu_fallback", 0.3), ("proc_social_welfare", 0.25), ("unsubscribe", 0.2)]
    [message] = await _run(ActionClarify(), _tracker("rút bhxh một lần", ranking))
    assert "Bảo hiểm xã hội" in message["text"]


async def test_a_no_procedure_question_that_names_one_is_answered_for_it() -> None:
    ranking = [("ask_documents", 0.55), ("proc_id_card", 0.35), ("greet", 0.1)]
    tracker = _tracker("đổi thẻ căn cước cần mang giấy tờ gì", ranking)
    [message] = await _run(ActionAnswerAspect(), tracker)
    assert message["text"].startswith("Giấy tờ cần chuẩn bị – Thẻ căn cước")


async def test_a_procedure_ranked_low_is_named_when_the_question_holds_its_title() -> None:
    ranking = [("ask_documents", 0.98), ("proc_id_card", 0.02), ("proc_vneid", 0.0)]
    tracker = _tracker("Đi đổi thẻ căn cước thì cần mang theo giấy tờ gì?", ranking)
    [message] = await _run(ActionAnswerAspect(), tracker)
    assert message["text"].startswith("Giấy tờ cần chuẩn bị – Thẻ căn cước")


async def test_a_question_that_names_no_procedure_is_not_answered_for_the_runner_up() -> None:
    ranking = [("ask_documents", 0.9), ("proc_marriage_registration", 0.08), ("greet", 0.02)]
    tracker = _tracker("đi làm giấy tờ ở xã thì cần mang theo những gì", ranking)
    messages = await _run(ActionAnswerAspect(), tracker)
    assert not any("Đăng ký kết hôn" in m["text"] for m in messages)


def _user(intent: str) -> dict:
    return {"event": "user", "parse_data": {"intent": {"name": intent}}}


def _action(name: str) -> dict:
    return {"event": "action", "name": name}


def test_answers_a_form_took_are_not_counted_as_misunderstandings() -> None:
    form_answers = [_user("nlu_fallback"), _action("dossier_lookup_form")] * 4
    misunderstood = [_user("nlu_fallback"), _action("action_clarify")]
    events = [{"event": "session_started"}, *form_answers, *misunderstood]
    tracker = Tracker("u", {}, {}, events, False, None, {}, "action_listen")
    assert fallback_streak(tracker) == 1
    tracker = Tracker("u", {}, {}, [*events, *misunderstood], False, None, {}, "action_listen")
    assert fallback_streak(tracker) == 2


async def test_a_yes_no_question_read_as_a_no_is_asked_about_not_acknowledged() -> None:
    ranking = [("deny", 0.7), ("proc_id_card", 0.2), ("affirm", 0.05)]
    tracker = _tracker("bác 70 tuổi rồi có phải đổi không", ranking)
    [message] = await _run(ActionDenyOrQuestion(), tracker)
    assert message["response"] is None
    assert [b["payload"] for b in message["buttons"]][0] == "/proc_id_card"


async def test_a_plain_no_is_acknowledged() -> None:
    for text in ("dạ không ạ", "không phải, tôi hỏi việc khác", "thôi không cần đâu cháu"):
        [message] = await _run(ActionDenyOrQuestion(), _tracker(text, [("deny", 0.9)]))
        assert message["response"] == "utter_deny", text


async def test_still_failing_after_a_guide_is_offered_an_officer() -> None:
    # "vẫn không được" after the online-filing guide was answered "Dạ vâng ạ".
    slots = {"guide_id": "nop-ho-so-truc-tuyen"}
    for text in ("vẫn không được", "van chua vao dc ad"):
        tracker = _tracker(text, [("deny", 0.8)], slots)
        [message] = await _run(ActionDenyOrQuestion(), tracker)
        assert [b["payload"] for b in message["buttons"]] == ["/request_human"], text


async def test_death_registration_is_offered_only_when_a_death_is_spoken_of() -> None:
    ranking = [("nlu_fallback", 0.4), ("proc_death_registration", 0.3), ("give_feedback", 0.2)]
    [message] = await _run(ActionClarify(), _tracker("ông bà tôi 85 tuổi đi lại khó khăn", ranking))
    assert "/proc_death_registration" not in [b["payload"] for b in message["buttons"]]
    [message] = await _run(ActionClarify(), _tracker("bà tôi mới mất thì làm gì", ranking))
    assert "/proc_death_registration" in [b["payload"] for b in message["buttons"]]


async def test_a_death_told_in_the_story_is_offered_though_the_model_missed_it() -> None:
    # the model's ranking for the widower's message: death registration nowhere near
    widower = (
        "Kính gửi cán bộ xã, tôi tên là Hùng năm nay 68 tuổi, vợ tôi mới mất tháng trước, các"
        " con đi làm xa hết. Tôi muốn hỏi bây giờ tôi phải làm những thủ tục gì cho bà ấy, có"
        " phải lên xã không hay làm ở nhà được. Cảm ơn cán bộ."
    )
    ranking = [
        ("nlu_fallback", 0.5),
        ("proc_social_welfare", 0.25),
        ("proc_birth_registration", 0.19),
        ("thank", 0.19),
    ]
    [message] = await _run(ActionClarify(), _tracker(widower, ranking))
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == "/proc_death_registration"
    assert "/proc_birth_registration" not in payloads  # "các con" is not a birth
    # nor offered when nobody died
    [message] = await _run(ActionClarify(), _tracker("ông tôi 85 tuổi ở một mình", ranking))
    assert "/proc_death_registration" not in [b["payload"] for b in message["buttons"]]


async def test_another_case_with_no_guess_stays_with_the_guide_just_read() -> None:
    # "Xin lỗi, tôi chưa hiểu ý…" right after health insurance
    guide = project_library().guide_for("proc_health_insurance")
    assert guide is not None
    ranking = [("nlu_fallback", 0.5), ("out_of_scope", 0.1), ("greet", 0.08)]
    tracker = _tracker("còn người lớn thì sao", ranking, {"guide_id": guide.id})
    [message] = await _run(ActionClarify(), tracker)
    assert message["text"].startswith("Trường hợp này hướng dẫn chưa nói rõ")
    assert guide.title in message["text"]


async def test_another_case_asked_back_with_another_guess_stays_with_the_guide() -> None:
    # "2 đứa ở 2 tỉnh khác nhau thì sao" after marriage was asked back with VNeID
    library = project_library()
    marriage = library.guide_for("proc_marriage_registration")
    assert marriage is not None
    ranking = [("nlu_fallback", 0.5), ("proc_vneid", 0.29), ("out_of_scope", 0.29)]
    slots = {"guide_id": marriage.id}
    tracker = _tracker("2 đứa ở 2 tỉnh khác nhau thì sao", ranking, slots)
    [message] = await _run(ActionClarify(), tracker)
    assert marriage.title in message["text"]
    # but a case that names another procedure is that procedure's question
    ranking = [("nlu_fallback", 0.5), ("proc_birth_registration", 0.4)]
    [message] = await _run(ActionClarify(), _tracker("còn khai sinh thì sao", ranking, slots))
    assert "/proc_birth_registration" in [b["payload"] for b in message["buttons"]]
    # unless the guide just read speaks of that procedure itself: the birth guide's papers
    # say the parents' marriage paper is not needed (it was asked back with marriage)
    birth = library.guide_for("proc_birth_registration")
    assert birth is not None
    ranking = [("nlu_fallback", 0.5), ("proc_marriage_registration", 0.4)]
    slots = {"guide_id": birth.id}
    tracker = _tracker("neu bo me chua dang ky ket hon thi sao", ranking, slots)
    [message] = await _run(ActionClarify(), tracker)
    assert "không còn phải nộp giấy chứng nhận kết hôn của cha mẹ" in message["text"]


async def test_rating_is_offered_only_when_the_service_is_judged() -> None:
    ranking = [("nlu_fallback", 0.4), ("rate_service", 0.3), ("proc_vneid", 0.2)]
    [message] = await _run(ActionClarify(), _tracker("làm sao mở lại", ranking))
    assert "/rate_service" not in [b["payload"] for b in message["buttons"]]
    [message] = await _run(ActionClarify(), _tracker("cán bộ phục vụ chậm", ranking))
    assert "/rate_service" in [b["payload"] for b in message["buttons"]]


async def test_a_procedure_and_the_aspect_asked_guessed_together_get_that_aspect() -> None:
    # "Căn cước" and "Lệ phí" as buttons, when the question asks the ID card's fee
    ranking = [("nlu_fallback", 0.5), ("proc_id_card", 0.47), ("ask_fee", 0.26)]
    tracker = _tracker("cho hỏi người khuyết tật có được miễn phí làm căn cước không", ranking)
    dispatcher = CollectingDispatcher()
    events = await ActionClarify().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"].startswith("Lệ phí – Thẻ căn cước")
    assert {"event": "slot", "name": "guide_id", "value": "can-cuoc", "timestamp": None} in events
    # a question asking something else than the aspect guessed is still asked back
    tracker = _tracker("người khuyết tật làm căn cước ở đâu", ranking)
    [message] = await _run(ActionClarify(), tracker)
    assert [b["payload"] for b in message["buttons"]][:2] == ["/proc_id_card", "/ask_fee"]


def test_words_that_only_ask_name_no_second_procedure() -> None:
    # "bao lâu có" is in the residence paper's FAQ ("…mất tiền không, bao lâu có?"): it was
    # offered beside the marital-status paper, and the question of time was not
    library = project_library()
    marital = library.guide_for("proc_marital_status")
    text = "xin giấy xác nhận độc thân để đi làm hồ sơ vay vốn thì làm ở đâu, bao lâu có"
    ranking = [("proc_marital_status", 0.7), ("proc_residence_info", 0.25)]
    assert also_named(library, _tracker(text, ranking), marital) is None
    text = "xin giấy xác nhận độc thân và giấy xác nhận cư trú ở đâu"
    assert also_named(library, _tracker(text, ranking), marital) is not None


def test_the_general_guide_of_an_aspect_is_not_a_second_procedure_named() -> None:
    # "nhận kết quả" named before "lý lịch tư pháp" made the results guide the answer, and
    # the procedure asked only a button
    text = "nộp hồ sơ xong thì nhận kết quả về nhà được không, xin lý lịch tư pháp qua bưu điện ạ"
    library = project_library()
    judicial = library.guide_for("proc_judicial_record")
    ranking = [("proc_judicial_record", 0.6), ("ask_result_delivery", 0.3)]
    assert also_named(library, _tracker(text, ranking), judicial) is None
    # a second procedure ranked next is still offered
    ranking = [("proc_judicial_record", 0.6), ("proc_id_card", 0.3)]
    text = "xin lý lịch tư pháp và làm lại thẻ căn cước"
    assert also_named(library, _tracker(text, ranking), judicial) == library.guide_for(
        "proc_id_card"
    )


def test_an_office_names_no_second_procedure() -> None:
    # "công an xã" is in the VNeID guide's summary (registered there): it was offered beside
    # the office's phone number
    library = project_library()
    office = library.guide_for("ask_office_info")
    ranking = [("ask_office_info", 0.7), ("proc_vneid", 0.14)]
    text = "cho toi hoi so dien thoai cua cong an xa"
    assert also_named(library, _tracker(text, ranking), office) is None


async def test_a_short_question_after_a_topic_guide_gets_its_faq() -> None:
    # "số điện thoại bao nhiêu" right after the office's address was asked back
    library = project_library()
    office = library.guide_for("ask_office_info")
    assert office is not None
    ranking = [("nlu_fallback", 0.5), ("ask_office_info", 0.4), ("out_of_scope", 0.2)]
    tracker = _tracker("so dien thoai bao nhieu", ranking, {"guide_id": office.id})
    [message] = await _run(ActionClarify(), tracker)
    assert library.locality.values["hotline"] in message["text"]


def test_a_newborns_birth_date_asked_back_gets_its_deadline() -> None:
    # "con toi sinh ngay 3/12" was asked back with "Đặt lời nhắc" and "Đăng ký khai sinh"
    born = dt.datetime.now(TIMEZONE).date() - dt.timedelta(days=4)
    ranking = [("nlu_fallback", 0.5), ("set_reminder", 0.45), ("proc_birth_registration", 0.3)]
    dispatcher = CollectingDispatcher()
    events = clarify(
        dispatcher, project_library(), _tracker(f"con toi sinh ngay {born:%d/%m}", ranking)
    )
    assert ("followup", "birth_deadline_form", None) in [
        (e["event"], e["name"], e.get("value")) for e in events
    ]
    assert ("slot", "child_birth_date", born.isoformat()) in [
        (e["event"], e["name"], e.get("value")) for e in events
    ]
    # a birth date years ago is no newborn's: asked back as before
    old = f"con toi sinh ngay {born:%d/%m}/2010"
    assert clarify(dispatcher, project_library(), _tracker(old, ranking)) == []
