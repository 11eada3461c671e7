"""Off-topic questions: say what the assistant does, and where such a question is asked."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.guides import told_follow_up
from actions.replies import send
from bot.content import Library
from bot.nlu.aspects import folded
from bot.services import UsesServices


def referral(library: Library, text: str) -> str | None:
    """The answer of the first off-topic topic (content/ui.yml) the text names, if any."""
    plain = f" {folded(text)} "
    for topic in library.ui.get("out_of_scope_topics") or []:
        if any(re.search(rf"\b{re.escape(folded(word))}\b", plain) for word in topic["words"]):
            return library.locality.fill(topic["answer"])
    return None


class ActionOutOfScope(UsesServices, Action):
    def name(self) -> str:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        found = referral(library, tracker.latest_message.get("text") or "")
        told = [] if found else told_follow_up(library, tracker)
        if told:
            send(dispatcher, told)
        else:
            say_out_of_scope(dispatcher, library, found or library.text("out_of_scope"))
        return []


def say_out_of_scope(dispatcher: CollectingDispatcher, library: Library, opening: str) -> None:
    dispatcher.utter_message(
        text=f"{opening}\n\n{library.text('out_of_scope_offer')}",
        buttons=[{"title": library.ui["guide_buttons"]["menu"], "payload": "/help"}],
    )
