"""Handing a conversation to an officer: when the citizen asks, or after the bot has not
understood several messages in a row. From then on bot/conversation/event_handler.py keeps the bot
silent for that citizen until an officer releases the conversation or it times out."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from bot.communes.conversation_ids import citizen_of
from bot.services import Services, UsesServices
from bot.storage import handover_records

FALLBACK_INTENT = "nlu_fallback"
CLARIFY_ACTION = "action_clarify"


async def hand_over(services: Services, tracker: Tracker, reason: str) -> None:
    await services.database.run(
        handover_records.request,
        citizen_of(tracker.sender_id),
        reason,
        dt.datetime.now(dt.timezone.utc),
        dt.timedelta(minutes=services.settings.handover_timeout_minutes),
    )


def fallback_streak(tracker: Tracker) -> int:
    """How many of the citizen's last messages, in a row, the model did not understand: those
    the clarification answered. A form's answers ("0002" for the last 4 digits) are no
    misunderstanding, even when the model reads them as nothing."""
    streak = 0
    clarified = False  # the message being looked at was answered by the clarification
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "action" and event.get("name") == CLARIFY_ACTION:
            clarified = True
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT or not clarified:
            break
        streak += 1
        clarified = False
    return streak


class ActionRequestHuman(UsesServices, Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        await hand_over(services, tracker, "asked")
        dispatcher.utter_message(text=services.content.library.text("handover_started"))
        return []


class ActionHandOverAfterFallbacks(UsesServices, Action):
    """After the clarification: every Nth misunderstanding in a row calls an officer."""

    def name(self) -> str:
        return "action_hand_over_after_fallbacks"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        every = services.settings.handover_after_fallbacks
        streak = fallback_streak(tracker)
        if every <= 0 or streak == 0 or streak % every:
            return []
        await hand_over(services, tracker, "fallbacks")
        dispatcher.utter_message(text=services.content.library.text("handover_after_fallbacks"))
        return []
