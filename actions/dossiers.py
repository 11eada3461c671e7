"""Dossier look-up in the chat: code, then proof of ownership, then the status in words.

Nothing about a dossier is said before the owner is verified, and the answer to a wrong
code is the same as to a wrong owner, so codes cannot be probed. The digits a citizen types
are checked and dropped: slots keep only "ok", "locked" or "stopped".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import content, runtime
from bot.dossiers.messages import status_text
from bot.dossiers.model import CODE, normalise_code
from bot.storage import dossiers

FORM = "dossier_lookup_form"
VERIFIED, LOCKED, STOPPED = "ok", "locked", "stopped"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _say(dispatcher: CollectingDispatcher, key: str, **values: str) -> None:
    dispatcher.utter_message(text=content.current().text(key).format(**values))


class ValidateDossierLookupForm(FormValidationAction):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def validate_dossier_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        found = CODE.search(str(value or ""))
        if found:
            code = normalise_code(found.group())
            rt = await runtime.current()
            user = tracker.sender_id
            if await rt.database.run(dossiers.locked, code, user, _now()):
                return {"dossier_code": code, "id_last_digits": LOCKED}
            # The phone shared through the OA's user-info form proves ownership when it matches.
            shared = await rt.database.run(dossiers.shared_phone, user)
            if shared and await rt.database.run(
                dossiers.verify_shared_phone, code, user, shared, _now()
            ):
                return {"dossier_code": code, "id_last_digits": VERIFIED}
            return {"dossier_code": code}
        if not re.search(r"\d", str(value or "")):  # the citizen moved on to something else
            return {"dossier_code": STOPPED, "id_last_digits": STOPPED}
        _say(dispatcher, "dossier_bad_code")
        return {"dossier_code": None}

    async def validate_id_last_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        if value in (VERIFIED, LOCKED, STOPPED):
            return {"id_last_digits": value}
        typed = re.sub(r"\D", "", str(value or ""))
        code = tracker.get_slot("dossier_code")
        if len(typed) != 4:
            if not typed:  # no digits at all: the citizen moved on to something else
                return {"id_last_digits": STOPPED}
            _say(dispatcher, "dossier_ask_digits", code=code)
            return {"id_last_digits": None}
        rt = await runtime.current()
        outcome = await rt.database.run(
            dossiers.verify, code, tracker.sender_id, typed, None, _now()
        )
        if outcome == "verified":
            return {"id_last_digits": VERIFIED}
        if outcome == "locked":
            return {"id_last_digits": LOCKED}
        _say(dispatcher, "dossier_wrong_digits", code=code)
        return {"id_last_digits": None}


class ActionAskDossierCode(Action):
    def name(self) -> str:
        return "action_ask_dossier_code"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:  # type: ignore[override]
        _say(dispatcher, "dossier_ask_code")
        return []


class ActionAskIdLastDigits(Action):
    def name(self) -> str:
        return "action_ask_id_last_digits"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:  # type: ignore[override]
        _say(dispatcher, "dossier_ask_digits", code=tracker.get_slot("dossier_code") or "")
        return []


class ActionDossierStatus(Action):
    """After the form: the status in plain words and a button to be told of changes."""

    def name(self) -> str:
        return "action_dossier_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        outcome = tracker.get_slot("id_last_digits")
        code = tracker.get_slot("dossier_code")
        reset = [SlotSet("id_last_digits", None)]
        if outcome == LOCKED:
            _say(dispatcher, "dossier_locked")
            return reset
        if outcome == STOPPED:
            _say(dispatcher, "dossier_stopped")
        if outcome != VERIFIED or not code or code == STOPPED:
            return reset + [SlotSet("dossier_code", None)]
        rt = await runtime.current()
        record = await rt.database.run(dossiers.get, code)
        library = content.current()
        text = status_text(library, code, record["status"], record["detail"])
        following = code in await rt.database.run(dossiers.subscriptions, tracker.sender_id)
        button = (
            {
                "title": library.ui["dossier_unsubscribe_button"],
                "payload": f'/unsubscribe{{"dossier_code": "{code}"}}',
            }
            if following
            else {
                "title": library.ui["dossier_subscribe_button"],
                "payload": f'/subscribe_dossier{{"dossier_code": "{code}"}}',
            }
        )
        dispatcher.utter_message(text=f"{record['applicant_masked']} – {text}", buttons=[button])
        return reset


class ActionSubscribeDossier(Action):
    """Subscribe a verified owner; anyone else is asked to verify first."""

    def name(self) -> str:
        return "action_subscribe_dossier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = next(tracker.get_latest_entity_values("dossier_code"), None)
        code = normalise_code(code) if code else tracker.get_slot("dossier_code")
        rt = await runtime.current()
        if code and await rt.database.run(dossiers.is_verified, code, tracker.sender_id):
            await rt.database.run(dossiers.subscribe, code, tracker.sender_id)
            _say(dispatcher, "dossier_subscribed", code=code)
            return [SlotSet("dossier_code", code)]
        return [SlotSet("dossier_code", code), FollowupAction(FORM)]
