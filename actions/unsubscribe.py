"""What citizens let the OA push to them: "hủy nhận tin" stops it at once (campaigns,
reminders, dossier news), narrower requests stop only what they name, and a topic button
subscribes to that topic's campaigns."""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.reminder_requests import (
    asks_for_list,
    end_reminder_forms,
    listing,
    now,
    plain,
    show_reminders,
)
from bot.communes.conversation_ids import citizen_of
from bot.content import Library
from bot.nlu.dates import parse_datetimes
from bot.scheduler import citizen_reminders
from bot.scheduler.citizen_reminders import wording
from bot.services import Services, UsesServices
from bot.storage import campaign_records
from bot.storage import reminder_records as reminder_store

DOSSIER_STORE = "bot.storage.dossier_records"  # its unsubscribe(db, user_id, code_or_None) -> int


def said(library: Library, key: str, **values: Any) -> str:
    return library.locality.fill(library.ui["subscriptions"][key]).format(**values)


async def stop_dossier_news(services: Services, user_id: str, code: str | None) -> tuple[int, int]:
    """Stop a dossier's notifications (all, without a code) and its result-date reminders:
    (subscriptions stopped, reminders cancelled). Subscriptions are left alone when the
    dossier feature is not installed."""
    database = services.database
    cancelled = await citizen_reminders.cancel(
        database, services.reminder_jobs, user_id, dossier_code=code, kind="appointment"
    )
    if importlib.util.find_spec(DOSSIER_STORE) is None:
        return 0, len(cancelled)
    store = importlib.import_module(DOSSIER_STORE)
    return await database.run(store.unsubscribe, user_id, code), len(cancelled)


class ActionUnsubscribe(UsesServices, Action):
    def name(self) -> str:
        return "action_unsubscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        user_id = citizen_of(tracker.sender_id)
        text = tracker.latest_message.get("text") or ""
        reminder_id = next(tracker.get_latest_entity_values("reminder_id"), None)
        code = next(tracker.get_latest_entity_values("dossier_code"), None)
        # Stopping messages also stops a reminder being set (it is said that none was).
        ended = end_reminder_forms(tracker)
        if ended:
            dispatcher.utter_message(text=wording(library, "not_saved"))
        if reminder_id is not None:  # a cancel button under the list of reminders
            digits = str(reminder_id)
            ids = None if digits == "all" else [int(digits)] if digits.isdigit() else []
            cancelled = await citizen_reminders.cancel(
                services.database, services.reminder_jobs, user_id, ids
            )
            dispatcher.utter_message(text=wording(library, "cancelled", count=len(cancelled)))
        elif code is not None:
            stopped = await stop_dossier_news(services, user_id, code)
            key = "dossier_stopped" if any(stopped) else "dossier_not_followed"
            dispatcher.utter_message(text=said(library, key, code=code))
        elif asks_for_list(text, library):  # "xem lời nhắc đã đặt" read as a cancel
            await show_reminders(services, dispatcher, user_id)
        elif "nhac" in plain(text).split():
            await self._cancel_reminders(dispatcher, library, services, user_id, text)
        elif "ho so" in plain(text):
            stopped, _ = await stop_dossier_news(services, user_id, None)
            dispatcher.utter_message(text=said(library, "dossiers_stopped", count=stopped))
        else:
            await self._stop_everything(dispatcher, library, services, user_id)
        return ended

    async def _cancel_reminders(
        self,
        dispatcher: CollectingDispatcher,
        library: Library,
        services: Services,
        user_id: str,
        text: str,
    ) -> None:
        """ "hủy lời nhắc thứ 6": the reminders on that day; with none named, the only one,
        or the list to choose from."""
        rows = await services.database.run(reminder_store.scheduled_for_user, user_id)
        days = {found.value.date() for found in parse_datetimes(text, now())}
        named = [r for r in rows if dt.datetime.fromisoformat(r["remind_at"]).date() in days]
        chosen = named or (rows if len(rows) == 1 and not days else [])
        if not rows:
            dispatcher.utter_message(text=wording(library, "none"))
        elif chosen:
            chosen_ids = [r["id"] for r in chosen]
            cancelled = await citizen_reminders.cancel(
                services.database, services.reminder_jobs, user_id, chosen_ids
            )
            dispatcher.utter_message(text=wording(library, "cancelled", count=len(cancelled)))
        else:
            message, buttons = listing(library, rows)
            text = message + "\n\n" + wording(library, "which_to_cancel")
            dispatcher.utter_message(text=text, buttons=buttons)

    async def _stop_everything(
        self, dispatcher: CollectingDispatcher, library: Library, services: Services, user_id: str
    ) -> None:
        await services.database.run(campaign_records.opt_out, user_id)
        cancelled = await citizen_reminders.cancel(
            services.database, services.reminder_jobs, user_id
        )
        stopped, _ = await stop_dossier_news(services, user_id, None)
        parts = [said(library, "stopped_all")]
        if cancelled:
            parts.append(wording(library, "cancelled", count=len(cancelled)))
        if stopped:
            parts.append(said(library, "dossiers_stopped", count=stopped))
        parts.append(said(library, "still_ask"))
        dispatcher.utter_message(text=" ".join(parts))


class ActionSubscribeTopic(UsesServices, Action):
    """A campaign's "Nhận tin …" button: that topic's campaigns reach this citizen. Typed
    ("cho tôi nhận tin lại"), with no topic: campaigns reach them again after an opt-out."""

    def name(self) -> str:
        return "action_subscribe_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library, database = services.content.library, services.database
        topic = next(tracker.get_latest_entity_values("topic"), None)
        if topic is None:
            await database.run(campaign_records.opt_in, citizen_of(tracker.sender_id))
            dispatcher.utter_message(text=said(library, "news_resumed"))
            return []
        title = library.ui.get("topics", {}).get(topic)
        if title is None:
            dispatcher.utter_message(text=library.text("fallback"))
            return []
        await database.run(campaign_records.subscribe_topic, citizen_of(tracker.sender_id), topic)
        dispatcher.utter_message(text=said(library, "topic_subscribed", topic=title))
        return []
