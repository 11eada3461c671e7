"""When the model is unsure, ask with its two or three best guesses as buttons instead of
guessing; a follow-up to the guide just read, or a topic the commune does not handle, gets
its answer instead."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.guides import (
    FOLLOW_UPS,
    another_case_follow_up,
    first_answer,
    follow_up_answer,
    passage_follow_up,
    told_follow_up,
)
from actions.out_of_scope import referral, say_out_of_scope
from actions.reminder_requests import start_birth_form, tells_a_newborn
from actions.replies import send
from bot.content import Guide, Library, passages
from bot.nlu.aspects import asked_aspect, folded, is_yes_no
from bot.nlu.senses import tells_a_death
from bot.services import UsesServices

# Below this, a candidate is noise rather than a meaning worth offering.
MIN_CANDIDATE_CONFIDENCE = 0.12
MAX_CANDIDATES = 3
# A yes/no question this long is a question, not a bare "không ạ" / "không phải đâu".
QUESTION_MIN_WORDS = 5
# A guess that would hurt when wrong is offered only when the message speaks of it: "ông bà
# tôi 85 tuổi đi lại khó khăn" was offered death registration.
DEATH = "proc_death_registration"
OFFERED_ONLY_WHEN_SAID = {
    DEATH: re.compile(
        r"\b(mat|chet|qua doi|khai tu|tu tran|bao tu|tu tuat|mai tang|dam tang|ma chay)\b"
    ),
    # a widower's "các con đi làm xa hết" was offered birth registration
    "proc_birth_registration": re.compile(
        r"\b(sinh|be|tre|em be|so sinh|(moi|vua) de|de (con|be|chau)|con (nho|moi))\b"
    ),
    # "làm sao mở lại" (a locked VNeID account) was offered "Đánh giá".
    "rate_service": re.compile(
        r"\b(hai long|danh gia|tot|te|kem|nhiet tinh|tan tinh|cham|thai do|phuc vu)\b"
    ),
}
# "vẫn không được", "vẫn chưa vào được": what was shown did not help; not a plain "no".
STILL_FAILING = re.compile(r"\bvan (khong|chua|ko|k|hong|chang)\b")
# The menu ("help") is always the last button: offered as a guess too, it showed twice.
NEVER_OFFERED = {
    "nlu_fallback",
    "out_of_scope",
    "affirm",
    "deny",
    "greet",
    "goodbye",
    "thank",
    "help",
}


def title_of(library: Library, intent: str) -> str | None:
    guide = library.guide_for(intent)
    return guide.button_title if guide else library.ui.get("intent_titles", {}).get(intent)


def clarify(
    dispatcher: CollectingDispatcher, library: Library, tracker: Tracker
) -> list[EventType]:
    """The follow-up's answer, the referral elsewhere, the procedure's aspect both guesses
    name, or the best guesses as buttons."""
    follow_up = follow_up_answer(library, tracker)
    if follow_up:  # "ai làm được?" right after a guide: that guide's answer
        send(dispatcher, follow_up)
        return []
    text = tracker.latest_message.get("text") or ""
    elsewhere = referral(library, text)
    if elsewhere:  # "rút bhxh một lần": where that is asked
        say_out_of_scope(dispatcher, library, elsewhere)
        return []
    if tells_a_newborn(text):  # "con toi sinh ngay 3/12", asked back: its deadline instead
        return start_birth_form(text)
    ranking = tracker.latest_message.get("intent_ranking") or []
    guessed = [intent["name"] for intent in ranking if intent["name"] != "nlu_fallback"]
    reading = library.guide_by_id(tracker.get_slot("guide_id"))  # a topic guide's too
    # another case of the guide just read, whatever the guesses: "2 đứa ở 2 tỉnh khác nhau
    # thì sao" after marriage was asked back with VNeID; "còn người lớn thì sao" had none
    another_case = another_case_follow_up(library, tracker)
    if another_case:
        send(dispatcher, another_case)
        return []
    if reading is not None and guessed[:1] == [reading.intent] and passages.asks_something(text):
        # "hai đứa phải cùng đi à" right after marriage, "có được giảm không" after paying
        # fees online: asked back with the guide just read alone
        passage = passage_follow_up(library, reading, text)
        if passage:
            send(dispatcher, passage)
            return []
    agreed = _procedure_and_aspect(library, ranking, text)
    if agreed is not None:
        guide, aspect = agreed
        send(dispatcher, first_answer(library, guide, text, aspect))
        return [SlotSet("guide_id", guide.id), SlotSet("guide_step", 0.0)]
    guesses = [
        intent["name"]
        for intent in ranking
        if intent["name"] not in NEVER_OFFERED
        and intent.get("confidence", 0) >= MIN_CANDIDATE_CONFIDENCE
        and _said(intent["name"], text)
    ]
    if tells_a_death(folded(text).split()) and DEATH not in guesses:
        # "vợ tôi mới mất tháng trước… phải làm những thủ tục gì": the death is in the story,
        # the question names nothing; asked back with social welfare and birth registration
        guesses.insert(0, DEATH)
    candidates = [(name, title) for name in guesses if (title := title_of(library, name))][
        :MAX_CANDIDATES
    ]
    if candidates:
        menu = {"title": library.ui["guide_buttons"]["menu"], "payload": "/help"}
        dispatcher.utter_message(
            text=library.text("clarify"),
            buttons=[{"title": title, "payload": f"/{name}"} for name, title in candidates]
            + _something_else(library, ranking)
            + [menu],
        )
    else:
        dispatcher.utter_message(
            text=library.text("fallback"),
            buttons=[{"title": library.ui["guide_buttons"]["menu"], "payload": "/help"}],
        )
    return []


def _procedure_and_aspect(
    library: Library, ranking: list[dict[str, Any]], text: str
) -> tuple[Guide, str] | None:
    """ "người khuyết tật có được miễn phí làm căn cước không": the model hesitates between
    the ID card (first) and fees (next), and the question asks a fee: both guesses agree on
    the ID card's fees, which answer it better than the two as buttons."""
    guesses = [
        intent["name"]
        for intent in ranking
        if intent["name"] != "nlu_fallback"
        and intent.get("confidence", 0) >= MIN_CANDIDATE_CONFIDENCE
    ][:2]
    if len(guesses) < 2 or guesses[1] not in FOLLOW_UPS:
        return None
    guide, aspect = library.guide_for(guesses[0]), FOLLOW_UPS[guesses[1]]
    if guide is None or guesses[0] in FOLLOW_UPS or guide.kind != "procedure":
        return None
    return (guide, aspect) if asked_aspect(text) == aspect else None


def _something_else(library: Library, ranking: list[dict[str, Any]]) -> list[dict[str, str]]:
    """ "Việc khác" when the model also thinks the question may be off topic: an off-topic
    question asked back was offered only the commune's procedures."""
    off_topic = any(
        intent["name"] == "out_of_scope" and intent.get("confidence", 0) >= MIN_CANDIDATE_CONFIDENCE
        for intent in ranking[: MAX_CANDIDATES + 1]
    )
    title = library.ui["intent_titles"]["out_of_scope"]
    return [{"title": title, "payload": "/out_of_scope"}] if off_topic else []


def _said(intent: str, text: str) -> bool:
    cue = OFFERED_ONLY_WHEN_SAID.get(intent)
    return cue is None or bool(cue.search(folded(text)))


class ActionClarify(UsesServices, Action):
    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return clarify(dispatcher, (await self.services(tracker)).content.library, tracker)


class ActionAffirmOrFollowUp(UsesServices, Action):
    """ "Ai làm được?" can read as a "được" (yes) to the model: right after a guide, a message
    that asks an aspect is a follow-up; any other yes is acknowledged."""

    def name(self) -> str:
        return "action_affirm_or_follow_up"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        follow_up = follow_up_answer((await self.services(tracker)).content.library, tracker)
        if follow_up:
            send(dispatcher, follow_up)
        else:
            dispatcher.utter_message(response="utter_affirm")
        return []


class ActionDenyOrQuestion(UsesServices, Action):
    """A yes/no question ends in "không" too: "bác 70 tuổi rồi có phải đổi không" read as a
    "no" got "Dạ vâng ạ". A question is answered (or asked back about); a plain no is
    acknowledged."""

    def name(self) -> str:
        return "action_deny_or_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        text = tracker.latest_message.get("text") or ""
        library = (await self.services(tracker)).content.library
        if is_yes_no(text) and len(text.split()) >= QUESTION_MIN_WORDS:
            return clarify(dispatcher, library, tracker)
        elif told := told_follow_up(library, tracker):  # "cháu nó 14 tuổi rồi" read as a no
            send(dispatcher, told)
        elif STILL_FAILING.search(folded(text)):
            dispatcher.utter_message(
                text=library.text("still_failing"),
                buttons=[
                    {
                        "title": library.ui["intent_titles"]["request_human"],
                        "payload": "/request_human",
                    }
                ],
            )
        else:
            dispatcher.utter_message(response="utter_deny")
        return []
