"""Off-topic questions: say what the assistant does, and where such a question is asked."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.guides import another_case_follow_up, covered_follow_up, told_follow_up
from actions.replies import send
from bot.content import Library
from bot.nlu.aspects import NEGATIONS, folded
from bot.services import UsesServices

# "bà không có lương hưu" tells why she asks for social allowance; it asks nothing of BHXH.
_NEGATED = re.compile(rf"\b({'|'.join(NEGATIONS)})( (co|duoc|huong|nhan|lanh))? $")


def referral(library: Library, text: str) -> str | None:
    """The answer of the first off-topic topic (content/ui.yml) the text names, if any;
    a topic named only to say one has none of it ("không có lương hưu") is not asked."""
    plain = f" {folded(text)} "
    for topic in library.ui.get("out_of_scope_topics") or []:
        for word in topic["words"]:
            for found in re.finditer(rf"\b{re.escape(folded(word))}\b", plain):
                if not _NEGATED.search(plain[: found.start()]):
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
        told = (
            []
            if found
            else told_follow_up(library, tracker)
            or covered_follow_up(library, tracker)
            or another_case_follow_up(library, tracker)
        )
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
