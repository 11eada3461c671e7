"""Replies that point the citizen to the commune's officers."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.services import UsesServices


class ActionNotAvailableYet(UsesServices, Action):
    """Says plainly that the bot cannot do this over Zalo yet, and where it can be done."""

    def name(self) -> str:
        return "action_not_available_yet"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        intent = tracker.get_intent_of_latest_message() or ""
        text = library.ui["not_available"].get(intent) or library.ui["contact_officer"]
        dispatcher.utter_message(text=library.locality.fill(text))
        return []
