"""Satisfaction: the question after a guide read to its last step, and the answers
(button scores, or what the citizen wrote about the service)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.feedback_form import plain
from actions.replies import send
from bot.communes.conversation_ids import citizen_of
from bot.content import Library
from bot.content.satisfaction_question import question
from bot.nlu.aspects import NEGATIONS
from bot.services import UsesServices
from bot.storage import ratings


def score_of(library: Library, tracker: Tracker) -> str | None:
    """The score a button carried, one of the choices typed out in full, or the verdict the
    citizen's own words give ("nhân viên một cửa thái độ rất tệ" is unsatisfied)."""
    entity = next(tracker.get_latest_entity_values("rating"), None)
    if entity in ratings.SCORES:
        return entity
    typed = plain(tracker.latest_message.get("text") or "")
    choices = library.ui["satisfaction_choices"]
    chosen = next((score for score, title in choices.items() if plain(title) == typed), None)
    return chosen or verdict_of(library, typed)


def verdict_of(library: Library, typed: str) -> str | None:
    """The first score (in ui.yml's order) one of whose phrases the folded words hold."""
    padded = f" {typed} ".replace(" cam on ", " ")  # "cảm ơn" folds to "ổn"
    for score, phrases in library.ui.get("satisfaction_words", {}).items():
        for phrase in phrases:
            at = padded.find(f" {plain(phrase)} ")
            if at < 0:
                continue
            negated = padded[:at].split()[-1:] in ([word] for word in NEGATIONS)
            return "unsatisfied" if negated else score
    return None


class ActionAskSatisfactionAfterGuide(UsesServices, Action):
    """Runs after every step shown; asks once per guide, when its last step was reached."""

    def name(self) -> str:
        return "action_ask_satisfaction_after_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        guide = library.guide_by_id(tracker.get_slot("guide_id"))
        step = int(tracker.get_slot("guide_step") or 0)
        if guide is None or not guide.steps or step != len(guide.steps):
            return []
        if tracker.get_slot("satisfaction_asked") == guide.id:
            return []
        send(dispatcher, [question(library, f"guide:{guide.id}")])
        return [SlotSet("satisfaction_asked", guide.id)]


class ActionRecordRating(UsesServices, Action):
    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library, database = services.content.library, services.database
        score = score_of(library, tracker)
        text = tracker.latest_message.get("text") or ""
        comment = None if text.startswith("/") else text  # a button's payload says nothing
        if score is None:
            # Words about the service, not a score: keep them, then ask for a score.
            await database.run(ratings.record, citizen_of(tracker.sender_id), None, "service", text)
            send(dispatcher, [question(library, "service")])
            return []
        subject = next(tracker.get_latest_entity_values("rating_subject"), None) or "service"
        await database.run(
            ratings.record, citizen_of(tracker.sender_id), score, str(subject), comment
        )
        if score == "unsatisfied":
            dispatcher.utter_message(
                text=library.text("satisfaction_sorry"),
                buttons=[{"title": library.ui["feedback_button"], "payload": "/give_feedback"}],
            )
        else:
            dispatcher.utter_message(text=library.text("satisfaction_thanks"))
        return []
