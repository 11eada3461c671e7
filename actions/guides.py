"""Stepwise guides: open a guide, show a section, walk its steps, answer follow-ups."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import card_renewal
from actions.replies import send
from bot.content import Guide, Library, passages, render, yes_no
from bot.content.content_model import Faq
from bot.content.faq import ASPECT_WORDS, best_faq
from bot.local_time import TIMEZONE
from bot.nlu.aspects import asked_aspect, folded, is_yes_no, tells_a_wait
from bot.nlu.other_questions import left_open
from bot.nlu.question import focus
from bot.services import UsesServices

# Questions that name no procedure, and the section they ask for by default. Right after a
# procedure's guide, a short one ("làm online được không", "ở đâu", "mất bao lâu") asks about
# that procedure; otherwise the intent's own guide (office hours, filing online…) answers.
FOLLOW_UPS = {
    "ask_documents": "documents",
    "ask_fee": "fees",
    "ask_processing_time": "time",
    "how_to_apply_online": "online",
    "ask_office_info": "where",
    "ask_result_delivery": "result",
}
# Longer than this, a question is a question of its own, not a follow-up.
FOLLOW_UP_MAX_WORDS = 10
# A procedure the model ranks among the next few beside a no-procedure intent was named in
# the question ("đổi thẻ căn cước cần mang giấy tờ gì" → ask_documents, then proc_id_card)
# when the question holds a word pair of its guide's title that few titles share.
NAMED_PROCEDURE_RANKS = 3
COMMON_TITLE_PAIR = 3  # "đăng ký" is in many titles: it names none of them


# "mất cả cccd với bằng lái": the model answers the ID card and ranks the driving licence
# next. A procedure ranked second with at least this confidence, whose guide holds a word
# pair of the question that the answered guide lacks, is offered as a button.
ALSO_NAMED_CONFIDENCE = 0.02
# Pairs across these name nothing: "sinh và", "cccd với"; nor do "năm nay", "hôm nay".
JOINING_WORDS = frozenset(
    {"va", "voi", "cho", "thi", "la", "cua", "de", "ma", "hay", "hoac", "o", "nay"}
)
# The paperwork every procedure has: "làm giấy" names none of them ("…chưa làm giấy chứng tử"
# offered birth registration, whose FAQs say "làm giấy khai sinh").
PAPERWORK_WORDS = frozenset({"lam", "giay", "to", "don", "ho", "so", "thu", "tuc", "nop", "xin"})
# Nor do words that only ask: "…làm ở đâu, bao lâu có" named the residence paper, whose FAQ
# asks "…bao lâu có?", beside the marital-status paper.
ASKING_WORDS = passages.QUESTION_WORDS | ASPECT_WORDS
# Nor does a copy of a record, nor the pair it makes with the next word: "trích lục khai tử"
# was offered birth registration, whose FAQs speak of a "trích lục khai sinh".
_COPY_OF = re.compile(r"\b(trich luc|ban sao|ban chinh)\b")
# Nor does an office, where many procedures are filed: "số điện thoại của công an xã" was
# offered the VNeID guide, whose summary says it is registered at the commune police; nor
# the officer the citizen addresses: "thưa cán bộ, ông nhà tôi mới mất…, nhờ cán bộ chỉ giúp"
# was answered with home support ("Nhờ cán bộ đến nhà hỗ trợ"), death registration second.
OFFICE_PAIRS = frozenset(
    {"cong an", "an xa", "an phuong", "an tinh", "uy ban", "ban xa", "mot cua", "bo phan"}
    | {"can bo", "nho can", "thua can"}
)

# VNeID named as the way of filing ("làm trên vneid được không" after the judicial record):
# the online way of the guide being read, not the VNeID account's guide.
VIA_VNEID = re.compile(r"\b(tren|qua|bang|vao|trong) (app |ung dung )?vneid\b")

# A "who" question is answered from the guide's `who` text unless another sentence holds
# this many times more of its words ("sinh năm 2001 có phải đổi căn cước" → the renewal list).
WHO_FIRST = 1.5

# A guide that does not say how its result is received, where to go or how to file online
# (a topic such as the commune's classes): the general guide on that does.
GENERAL_GUIDES = {
    "result": "ask_result_delivery",
    "where": "ask_office_info",
    "online": "how_to_apply_online",
}


def aspect_reply(
    library: Library,
    guide: Guide,
    aspect: str,
    text: str,
    general_for: tuple[str, ...] = ("result",),
) -> list[render.Reply]:
    """The guide's answer to the aspect asked, else (for the aspects `general_for` names) the
    general guide's on it, else []. A first question about a topic the guide does not place
    keeps the guide's own summary; a follow-up "ở đâu vậy" after it gets the office's."""
    replies = render.aspect_answer(library, guide, aspect, text)
    if replies or aspect not in general_for:
        return replies
    general = library.guide_for(GENERAL_GUIDES[aspect])
    return render.summary(library, general) if general not in (None, guide) else []


def current_guide(library: Library, tracker: Tracker) -> Guide | None:
    """The procedure guide the citizen is reading, if any."""
    guide = library.guide_by_id(tracker.get_slot("guide_id"))
    return guide if guide is not None and guide.kind == "procedure" else None


def _title_pairs(guide: Guide) -> set[str]:
    return {term for term in passages.terms(guide.title) if " " in term}


def _naming_title_pairs(library: Library) -> dict[str, set[str]]:
    """Each procedure's title pairs that few titles share, by intent ("đăng ký" names none)."""
    titles = {g.intent: _title_pairs(g) for g in library.guides.values() if g.kind == "procedure"}
    shared = Counter(pair for pairs in titles.values() for pair in pairs)
    return {
        intent: {pair for pair in pairs if shared[pair] < COMMON_TITLE_PAIR}
        for intent, pairs in titles.items()
    }


def named_guide(library: Library, tracker: Tracker) -> Guide | None:
    """The procedure guide the model ranks next to a no-procedure intent, if the question
    names it."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    asked = passages.terms(tracker.latest_message.get("text") or "")
    naming = _naming_title_pairs(library)
    for ranked in ranking[1 : NAMED_PROCEDURE_RANKS + 1]:
        if naming.get(ranked["name"], set()) & asked:
            return library.guide_for(ranked["name"])
    return None


def _naming_terms(guide: Guide) -> frozenset[str]:
    """The word pairs a guide is asked by: its title, summary and FAQ questions (its other
    sections name other procedures' papers: "thẻ căn cước" among a licence's documents)."""
    written = [guide.title, guide.summary]
    written += [example for faq in guide.faqs for example in (faq.question, *faq.examples)]
    return passages.terms(" ".join(written))


def also_named(library: Library, tracker: Tracker, answered: Guide) -> Guide | None:
    """A second procedure or topic the question names beside the one answered, if any
    ("…thẻ căn cước bị mất thì có cách nào cán bộ đến nhà làm cho ông không?"); not the
    general guide of an aspect ("nhận kết quả", "nộp online"): "xin lý lịch tư pháp qua bưu
    điện…, nhận kết quả về nhà luôn đc không" was answered by the results guide, named first."""
    ranking = tracker.latest_message.get("intent_ranking") or []
    if len(ranking) < 2 or ranking[1]["confidence"] < ALSO_NAMED_CONFIDENCE:
        return None
    if ranking[1]["name"] in FOLLOW_UPS:  # an aspect, which the answered guide's sections tell
        return None
    other = library.guide_for(ranking[1]["name"])
    if other is None or other.id == answered.id:
        return None
    text = tracker.latest_message.get("text") or ""
    return other if _distinct_pairs(text, other, answered) else None


def _distinct_pairs(text: str, guide: Guide, other: Guide) -> set[str]:
    """The word pairs of `text` that name `guide` and not `other`."""
    asked = passages.terms(_COPY_OF.sub("", folded(text)))
    return {
        term
        for term in asked & (_naming_terms(guide) - _naming_terms(other) - OFFICE_PAIRS)
        if " " in term
        and not set(term.split()) & JOINING_WORDS
        and not set(term.split()) <= PAPERWORK_WORDS
        and not set(term.split()) <= ASKING_WORDS
    }


# A procedure's paper named as what to bring, in a question: "làm căn cước cho con có cần
# mang giấy khai sinh không" asks the ID card's papers, not birth registration ("phải có
# giấy khai sinh" in a story may be the paper the citizen now needs: not this).
_PAPERS_NAMED = re.compile(
    r"\b(mang|dem|cam|xuat trinh|can) (theo |ca |them )?(giay|ban sao|trich luc|to|so) "
    r"(?P<named>\w+ \w+)\b[^,.?]{0,20}\b(khong|ko|k|hong|chua|gi|nua)\b"
)


def named_as_papers(library: Library, tracker: Tracker, answered: Guide) -> Guide | None:
    """The procedure asked, when the one answered is only named as a paper to bring and the
    model ranks next one the message names before it."""
    text = tracker.latest_message.get("text") or ""
    if not _names_as_papers(text, answered):
        return None
    ranking = tracker.latest_message.get("intent_ranking") or []
    for ranked in ranking[1 : NAMED_PROCEDURE_RANKS + 1]:
        other = library.guide_for(ranked["name"])
        if ranked["name"] in FOLLOW_UPS or other is None or other.kind != "procedure":
            continue
        if other.id != answered.id and named_first(text, other, answered):
            return other
    return None


def _names_as_papers(text: str, guide: Guide) -> bool:
    """Whether the message names `guide`'s procedure as a paper to bring ("có cần mang giấy
    khai sinh không")."""
    named = _title_pairs(guide)
    return any(m["named"] in named for m in _PAPERS_NAMED.finditer(folded(text)))


def named_first(text: str, guide: Guide, other: Guide) -> bool:
    """Whether the message names `guide` before `other`: "thẻ căn cước … có phải đổi không,
    có ai đến nhà giúp không" asks about the card first, whichever the model ranks first."""
    plain = f" {folded(text)} "

    def first_at(pairs: set[str]) -> int:
        found = [plain.find(f" {pair} ") for pair in pairs]
        return min((at for at in found if at >= 0), default=len(plain))

    # by its title's words only ("thẻ căn cước"): "lệ phí đăng ký tạm trú" names no other
    # procedure before the one it asks, though "lệ phí đăng ký" is in the next one's FAQs
    title_named = _distinct_pairs(text, guide, other) & _title_pairs(guide)
    return first_at(title_named) < first_at(_distinct_pairs(text, other, guide))


def follow_up_answer(
    library: Library, tracker: Tracker, default_aspect: str | None = None
) -> list[render.Reply]:
    """The answer of the guide just read (a procedure's, or a topic's such as the commune's
    classes) to a short follow-up question, or [] when there is none."""
    text = tracker.latest_message.get("text") or ""
    guide = library.guide_by_id(tracker.get_slot("guide_id"))
    if guide is None or len(text.split()) > FOLLOW_UP_MAX_WORDS:
        return []
    aspect = asked_aspect(text) or default_aspect
    if aspect is None and (yes_no.speaks_to(text, guide.who or "") or _tells_whom(guide, text)):
        aspect = "who"  # a story's age, stay or plight, told without a question, that `who` names
    if aspect == "who" and (faq := best_faq(guide, text)) is not None:
        return render.faq_answer(library, guide, faq)  # "có phải về quê cắt khẩu không"
    if aspect == "who" and (found := _sentence_over_who(guide, text)) is not None:
        return render.passage_answer(library, guide, found.passage.text)
    return aspect_reply(library, guide, aspect, text, tuple(GENERAL_GUIDES)) if aspect else []


_HAS_NONE = re.compile(r"\b(khong|chua|ko|k) (co|huong|duoc huong)\b(?!\s*$)")


def _tells_whom(guide: Guide, text: str) -> bool:
    """A plight `who` names, told without a question: "bà ở một mình, không có lương hưu"
    after social allowances is whom the allowance is for, not a question about pensions."""
    said_none = _HAS_NONE.sub(" ", folded(text))  # "không có" here says, it does not ask
    if "?" in text or is_yes_no(text) or passages.asks_something(said_none):
        return False
    shared = passages.terms(text) & passages.terms(guide.who or "")
    return any(
        " " in term and not set(term.split()) & passages.QUESTION_WORDS
        for term in shared - passages.terms(guide.title)
    )


def told_follow_up(library: Library, tracker: Tracker) -> list[render.Reply]:
    """The current guide's `who` answer to an age or a stay told without a question ("con
    trai tôi mới 19 tuổi" after marriage), which the model may read as a "no" or as out of
    scope; [] for anything else."""
    if asked_aspect(tracker.latest_message.get("text") or ""):
        return []
    return follow_up_answer(library, tracker)


# The paperwork every procedure has and the words that ask how much, how long or where say
# nothing of what is asked about ("làm đơn ở đâu", "nộp hồ sơ mất bao lâu").
_SAYS_NOTHING = PAPERWORK_WORDS | {"bao", "nhieu", "lau", "dau", "may", "tien", "ngay", "khong"}


def covered_follow_up(library: Library, tracker: Tracker) -> list[render.Reply]:
    """The current guide's answer to a short question whose every word, and every pair of
    neighbouring words, the guide holds: "nếu không đăng ký thì bị phạt bao nhiêu" right after
    temporary residence, which the model reads as a traffic fine (out of scope), asks that
    guide's deadlines and fines; "học phí cấp 3 bao nhiêu" does not ("học phí" is not in it,
    though each word is). A question of an aspect that names nothing else ("làm đơn ở đâu",
    read as off topic after social allowances) asks it of that guide. [] for anything else."""
    guide = library.guide_by_id(tracker.get_slot("guide_id"))
    text = tracker.latest_message.get("text") or ""
    words = [word for word in folded(text).split() if word not in _SAYS_NOTHING]
    said = {word for word in words if word not in passages.QUESTION_WORDS}
    pairs = {f"{a} {b}" for a, b in zip(words, words[1:], strict=False) if {a, b} <= said}
    if guide is None:
        return []
    if not said:
        return follow_up_answer(library, tracker) if asked_aspect(text) else []
    held = _terms_of(guide)
    return follow_up_answer(library, tracker) if said | pairs <= held else []


# "con tui học lớp 3 thì sao", "nếu 1 người ở nước ngoài thì sao": the question just answered,
# asked again of another case: a person, a number, or something the guide speaks of ("hôm
# nay trời đẹp thì sao" is none of these).
# The question may end with whom it is asked of: "chủ nhà không chịu ký thì sao em".
_ANOTHER_CASE = re.compile(
    r"\bthi (sao|the nao|ra sao|lam sao)"
    r"( (a|ad|vay|ha|nhi|ta|em|anh|chi|ban|bac|chau|co|chu|con))?( (a|ad|oi))?$"
)
_CASE_NAMED = re.compile(
    r"\b(nguoi|con|be|tre|toi|tui|minh|em|vo|chong|ong|ba|bo|me|cha|chau|\d+)\b"
)


def another_case_follow_up(library: Library, tracker: Tracker) -> list[render.Reply]:
    """Right after a guide, "X thì sao" is about that guide: its sentence on that case, or
    that the guide does not say and an officer will (the model reads "con tui học lớp 3 thì
    sao" after health insurance as off topic). [] for anything else."""
    guide = current_guide(library, tracker)
    text = tracker.latest_message.get("text") or ""
    short = len(text.split()) <= FOLLOW_UP_MAX_WORDS
    plain = folded(text)
    if guide is None or not short or not _ANOTHER_CASE.search(plain):
        return []
    if not _CASE_NAMED.search(plain) and not passages.topic_words(text) & _terms_of(guide):
        return []
    if _names_another_procedure(library, text, guide):
        return []  # "còn khai sinh thì sao" after marriage asks about birth registration
    return passage_follow_up(library, guide, text) or render.guide_silent(library, guide)


def _names_another_procedure(library: Library, text: str, guide: Guide) -> bool:
    """The message names a procedure other than `guide` by its title's less common words,
    which `guide` does not speak of itself ("nếu bố mẹ chưa đăng ký kết hôn thì sao" after
    birth registration, whose papers say the parents' marriage paper is not needed)."""
    asked = passages.terms(text) - _terms_of(guide)
    return any(
        pairs & asked
        for intent, pairs in _naming_title_pairs(library).items()
        if intent != guide.intent
    )


def _terms_of(guide: Guide) -> frozenset[str]:
    return frozenset().union(
        passages.terms(guide.title), *(passages.terms(p.text) for p in passages.of_guide(guide))
    )


def passage_follow_up(library: Library, guide: Guide, text: str) -> list[render.Reply]:
    """The guide's FAQ or sentence a short question about the guide just read points to
    ("hai đứa phải cùng đi à" after marriage, "số 1 hay số 2" after the judicial record, "số
    điện thoại bao nhiêu" after the office's address), or []."""
    if len(text.split()) > FOLLOW_UP_MAX_WORDS:
        return []
    faq = best_faq(guide, text)
    if faq is not None:
        return render.faq_answer(library, guide, faq)
    found = passages.best(focus(text), passages.of_guide(guide), ignore=guide.title)
    return render.passage_answer(library, guide, found.passage.text) if found else []


def _tells_an_age_or_stay(guide: Guide, text: str) -> bool:
    """A short message asking nothing that gives an age or a stay the guide's `who` bounds."""
    short = len(text.split()) <= FOLLOW_UP_MAX_WORDS
    return short and not passages.asks_something(text) and yes_no.speaks_to(text, guide.who or "")


def first_answer(
    library: Library, guide: Guide, text: str, default_aspect: str | None = None
) -> list[render.Reply]:
    """The opening reply to a question about `guide`: what it works out (an ID card's
    renewal from an age and a year), else the FAQ it matches, else the aspect asked (or
    `default_aspect`), else the guide's sentence that answers it, else the summary with
    section buttons."""
    worked_out = worked_out_answer(library, guide, text)
    if worked_out:
        return worked_out
    faq = best_faq(guide, text)
    if faq is not None:
        return render.faq_answer(library, guide, faq) + render.also_asked(
            library,
            left_open(text, lambda q: _asks_faq(guide, faq, q), only_one=is_yes_no(faq.question)),
        )
    aspect = asked_aspect(text) or default_aspect
    if aspect is None and _tells_an_age_or_stay(guide, text):
        aspect = "who"  # "cháu nó 14 tuổi rồi": whom the guide is for, at that age
    if aspect not in (None, "who") and render.section_text(library, guide, aspect):
        return aspect_reply(library, guide, aspect, text)
    found = _sentence_over_who(guide, text) if aspect == "who" else _asked_sentence(guide, text)
    if found is not None:
        return render.passage_answer(library, guide, found.passage.text)
    replies = aspect_reply(library, guide, aspect, text) if aspect else []
    return replies or render.summary(library, guide)


def _asks_faq(guide: Guide, faq: Faq, question: str) -> bool:
    """Whether one of a message's questions is the one an FAQ answers: the FAQ it matches
    alone, or the aspect the FAQ asks ("BHYT hộ gia đình năm nay đóng bao nhiêu?" answers
    "mỗi người đóng bao nhiêu một năm"), and a yes or no for a yes/no FAQ; whether one paper
    is needed is not which papers ("Đăng ký kết hôn có cần giấy xác nhận độc thân không?"
    leaves "cần những giấy tờ gì" open)."""
    aspect = asked_aspect(faq.question)
    answers = {aspect}
    if is_yes_no(faq.question):
        answers = {"who"} if aspect == "documents" else {aspect, "who"}
    return asked_aspect(question) in answers or best_faq(guide, question) is faq


def worked_out_answer(library: Library, guide: Guide, text: str) -> list[render.Reply]:
    """What the guide's rule gives for the facts the message tells (an ID card's renewal from
    an age and a year), or []."""
    if guide.intent != "proc_id_card":
        return []
    worked_out = card_renewal.answer(library, text, dt.datetime.now(TIMEZONE).date())
    return [render.Reply(worked_out, render.section_buttons(library, guide))] if worked_out else []


def _asked_sentence(guide: Guide, text: str) -> passages.Match | None:
    """The guide's sentence a question's words point to; None for a request ("cho hỏi làm
    giấy khai sinh"), which asks for the guide."""
    question = focus(text)
    if not passages.asks_something(question):
        return None
    return passages.best(question, passages.of_guide(guide), ignore=guide.title)


def _sentence_over_who(guide: Guide, text: str) -> passages.Match | None:
    """For a question of who: the sentence that answers it, when `who` does not ("2 người có
    phải cùng có mặt không" after marriage is answered on receiving the certificate)."""
    question, sentences = focus(text), passages.of_guide(guide)
    if not passages.asks_something(question) or yes_no.speaks_to(text, guide.who or ""):
        return None  # a request, or "mẹ cháu 81 tuổi… được không": `who` answers it
    found = passages.best(question, sentences, ignore=guide.title)
    in_who = passages.best(question, sentences, guide.title, within="who") if found else None
    return None if in_who and found and found.evidence < WHO_FIRST * in_who.evidence else found


class ActionShowGuide(UsesServices, Action):
    def name(self) -> str:
        return "action_show_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        intent = tracker.get_intent_of_latest_message() or ""
        section = next(tracker.get_latest_entity_values("guide_section"), None)
        text = tracker.latest_message.get("text") or ""
        if intent in FOLLOW_UPS and section is None:
            replies = follow_up_answer(library, tracker, FOLLOW_UPS[intent])
            if replies:
                send(dispatcher, replies)
                return []
            named = named_guide(library, tracker)
            if named is not None:
                send(dispatcher, first_answer(library, named, text, FOLLOW_UPS[intent]))
                return [SlotSet("guide_id", named.id), SlotSet("guide_step", 0.0)]
        reading = current_guide(library, tracker)
        if intent == "proc_vneid" and reading is not None and self._files_via_vneid(text):
            online = aspect_reply(library, reading, "online", text, tuple(GENERAL_GUIDES))
            if online:
                send(dispatcher, online)
                return []
        guide = library.guide_for(intent)
        if guide is None:
            dispatcher.utter_message(text=library.text("no_guide"))
            return []
        if section in render.SECTIONS:
            send(dispatcher, render.section(library, guide, section))
        elif guide.id == tracker.get_slot("guide_id") and (
            told := worked_out_answer(library, guide, text)
            or told_follow_up(library, tracker)
            or self._asked_again(library, guide, text)
        ):  # "nhà bác thuộc hộ nghèo" right after this guide: whom it is for; "68 tuổi, thẻ
            # căn cước làm năm 2016" after the ID card's renewal rule: the renewal worked out
            send(dispatcher, told)
        elif reading and reading.id != guide.id and self._asks_its_papers(reading, guide, text):
            guide = reading  # "có cần mang giấy khai sinh không" right after the ID card
            send(dispatcher, first_answer(library, guide, text, "documents"))
        elif (asked := named_as_papers(library, tracker, guide)) is not None:
            guide = asked  # the procedure asked; the one named as its paper is not offered
            send(dispatcher, first_answer(library, guide, text))
        else:
            other = also_named(library, tracker, guide)
            if other is not None and named_first(text, other, guide):
                guide, other = other, guide  # the first question asked is answered first
            send(dispatcher, first_answer(library, guide, text))
            if other is not None:
                dispatcher.utter_message(
                    text=library.text("also_named"),
                    buttons=[{"title": other.button_title, "payload": f"/{other.intent}"}],
                )
        offer_dossier_lookup(library, dispatcher, text)
        return [SlotSet("guide_id", guide.id), SlotSet("guide_step", 0.0)]

    @staticmethod
    def _asks_its_papers(reading: Guide, named: Guide, text: str) -> bool:
        """A short question after `reading` that names the `named` procedure only as a
        paper to bring asks `reading`'s papers."""
        short = len(text.split()) <= FOLLOW_UP_MAX_WORDS
        return short and _names_as_papers(text, named)

    @staticmethod
    def _files_via_vneid(text: str) -> bool:
        short = len(text.split()) <= FOLLOW_UP_MAX_WORDS
        return short and asked_aspect(text) == "online" and bool(VIA_VNEID.search(folded(text)))

    @staticmethod
    def _asked_again(library: Library, guide: Guide, text: str) -> list[render.Reply]:
        """Right after this guide, a message whose first answer would be its summary again
        gets the sentence its words point to, if one holds them."""
        if first_answer(library, guide, text) != render.summary(library, guide):
            return []
        return passage_follow_up(library, guide, text)


class ActionAnswerAspect(UsesServices, Action):
    """ "Lệ phí bao nhiêu?" after a guide answers that guide's fees; with none, ask which."""

    def name(self) -> str:
        return "action_answer_aspect"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        section = FOLLOW_UPS.get(tracker.get_intent_of_latest_message() or "", "documents")
        guide = current_guide(library, tracker) or named_guide(library, tracker)
        if guide is not None:
            text = tracker.latest_message.get("text") or ""
            aspect = asked_aspect(text) or section
            send(
                dispatcher,
                aspect_reply(library, guide, aspect, text)
                or render.section(library, guide, section),
            )
            offer_dossier_lookup(library, dispatcher, text)
            return [SlotSet("guide_id", guide.id)]
        choices = [
            {"title": g.button_title, "payload": render.section_payload(g, section)}
            for intent in library.ui["popular_procedures"]
            if (g := library.guide_for(intent)) is not None
        ]
        dispatcher.utter_message(text=library.text("which_procedure"), buttons=choices[:5])
        return []


def offer_dossier_lookup(library: Library, dispatcher: CollectingDispatcher, text: str) -> None:
    """A dossier filed and waited on ("làm hồ sơ từ tháng 10 rồi mà giờ chưa thấy gì"): after
    the time it takes, the way to look it up."""
    if tells_a_wait(text):
        title = library.ui["intent_titles"]["check_dossier_status"]
        dispatcher.utter_message(
            text=library.text("wait_told"),
            buttons=[{"title": title, "payload": "/check_dossier_status"}],
        )


def show_step(
    library: Library, dispatcher: CollectingDispatcher, tracker: Tracker, offset: int
) -> list[EventType]:
    """Move `offset` steps through the current guide (clamped to its first and last step)."""
    guide = library.guide_by_id(tracker.get_slot("guide_id"))
    if guide is None:
        dispatcher.utter_message(
            text=library.text("no_current_guide"),
            buttons=[{"title": library.ui["guide_buttons"]["menu"], "payload": "/help"}],
        )
        return []
    current = int(tracker.get_slot("guide_step") or 0)
    number = min(max(current + offset, 1), len(guide.steps))
    send(dispatcher, render.step(library, guide, number))
    return [SlotSet("guide_step", float(number))]


class ActionNextStep(UsesServices, Action):
    def name(self) -> str:
        return "action_next_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return show_step((await self.services(tracker)).content.library, dispatcher, tracker, +1)


class ActionPreviousStep(UsesServices, Action):
    def name(self) -> str:
        return "action_previous_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return show_step((await self.services(tracker)).content.library, dispatcher, tracker, -1)
