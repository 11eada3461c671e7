"""Stepwise guides: open a guide, show a section, walk its steps, answer follow-ups."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import send
from bot import content
from bot.content import render
from bot.content.faq import best_faq

# Follow-up questions that name no procedure, and the section of the current guide they want.
ASPECTS = {"ask_documents": "documents", "ask_fee": "fees", "ask_processing_time": "time"}


class ActionShowGuide(Action):
    def name(self) -> str:
        return "action_show_guide"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = content.current()
        intent = tracker.get_intent_of_latest_message()
        guide = library.guide_for(intent)
        if guide is None:
            dispatcher.utter_message(text=library.text("no_guide"))
            return []
        section = next(tracker.get_latest_entity_values("guide_section"), None)
        faq = best_faq(guide, tracker.latest_message.get("text") or "")
        if section in render.SECTIONS:
            send(dispatcher, render.section(library, guide, section))
        elif faq is not None:
            send(dispatcher, render.faq_answer(library, guide, faq))
        else:
            send(dispatcher, render.summary(library, guide))
        return [SlotSet("guide_id", guide.id), SlotSet("guide_step", 0.0)]


class ActionAnswerAspect(Action):
    """ "Lệ phí bao nhiêu?" after a guide answers that guide's fees; with none, ask which."""

    def name(self) -> str:
        return "action_answer_aspect"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = content.current()
        section = ASPECTS.get(tracker.get_intent_of_latest_message() or "", "documents")
        guide = library.guide_by_id(tracker.get_slot("guide_id"))
        if guide is not None:
            send(dispatcher, render.section(library, guide, section))
            return []
        choices = [
            {"title": g.title, "payload": render.section_payload(g, section)}
            for intent in library.ui["popular_procedures"]
            if (g := library.guide_for(intent)) is not None
        ]
        dispatcher.utter_message(text=library.text("which_procedure"), buttons=choices[:5])
        return []


async def show_step(
    dispatcher: CollectingDispatcher, tracker: Tracker, offset: int
) -> list[EventType]:
    """Move `offset` steps through the current guide (clamped to its first and last step)."""
    library = content.current()
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


class ActionNextStep(Action):
    def name(self) -> str:
        return "action_next_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await show_step(dispatcher, tracker, +1)


class ActionPreviousStep(Action):
    def name(self) -> str:
        return "action_previous_step"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return await show_step(dispatcher, tracker, -1)
