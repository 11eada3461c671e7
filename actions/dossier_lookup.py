"""Dossier look-up in the chat: code, then proof of ownership, then the status in words.

Nothing about a dossier is said before the owner is verified, and the answer to a wrong
code is the same as to a wrong owner, so codes cannot be probed. The digits a citizen types
are checked and dropped. What the check found goes in `dossier_lookup`, a slot no text or
payload of the citizen can fill; the status itself is shown only when storage holds a
verification of this citizen for this code.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.communes.conversation_ids import citizen_of
from bot.content import Library
from bot.dossiers.dossier_model import CODE, normalise_code
from bot.dossiers.status_wording import status_text
from bot.services import UsesServices
from bot.storage import dossier_records

FORM = "dossier_lookup_form"
# The outcomes of the check, in the `dossier_lookup` slot.
VERIFIED, LOCKED, STOPPED = "verified", "locked", "stopped"
# Words that look like an outcome (and "ok", an outcome of old): typed by a citizen they are
# only a wrong answer.
OUTCOME_WORDS = frozenset({"ok", VERIFIED, LOCKED, STOPPED})
# Ends the form at once: the rule after it answers from `dossier_lookup`.
DONE = {"requested_slot": None}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _say(library: Library, dispatcher: CollectingDispatcher, key: str, **values: str) -> None:
    dispatcher.utter_message(text=library.text(key).format(**values))


def _wants_to_be_told(tracker: Tracker) -> bool:
    """ "báo cho cháu khi có kết quả nhé" while the look-up asks for the code or the digits:
    the citizen has not moved on; subscribing needs the verified dossier first."""
    return (tracker.latest_message.get("intent") or {}).get("name") == "subscribe_dossier"


def _is_outcome_word(value: Any) -> bool:
    return re.sub(r"[\W_]+", "", str(value or "")).casefold() in OUTCOME_WORDS


class ValidateDossierLookupForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def validate_dossier_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        services = await self.services(tracker)
        found = CODE.search(str(value or ""))
        if found:
            code = normalise_code(found.group())
            user = citizen_of(tracker.sender_id)
            if await services.database.run(dossier_records.locked, code, user, _now()):
                return {"dossier_code": code, "dossier_lookup": LOCKED, **DONE}
            # The phone shared through the OA's user-info form proves ownership when it matches.
            shared = await services.database.run(dossier_records.shared_phone, user)
            if shared and await services.database.run(
                dossier_records.verify_shared_phone, code, user, shared, _now()
            ):
                return {"dossier_code": code, "dossier_lookup": VERIFIED, **DONE}
            return {"dossier_code": code, "dossier_lookup": None}
        if _wants_to_be_told(tracker):
            _say(services.content.library, dispatcher, "dossier_told_after_lookup")
            return {"dossier_code": None}
        if not re.search(r"\d", str(value or "")) and not _is_outcome_word(value):
            # the citizen moved on to something else
            return {"dossier_code": None, "dossier_lookup": STOPPED, **DONE}
        _say(services.content.library, dispatcher, "dossier_bad_code")
        return {"dossier_code": None}

    async def validate_id_last_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        code = tracker.get_slot("dossier_code")
        services = await self.services(tracker)
        library = services.content.library
        user = citizen_of(tracker.sender_id)
        typed = re.sub(r"\D", "", str(value or ""))
        if _is_outcome_word(value):
            outcome = await services.database.run(
                dossier_records.record_wrong_answer, code, user, _now()
            )
        elif len(typed) == 4:
            outcome = await services.database.run(
                dossier_records.verify, code, user, typed, None, _now()
            )
        elif not typed and _wants_to_be_told(tracker):
            _say(library, dispatcher, "dossier_told_after_lookup")
            return {"id_last_digits": None}
        elif not typed:  # no digits at all: the citizen moved on to something else
            return {"id_last_digits": None, "dossier_lookup": STOPPED, **DONE}
        else:
            _say(library, dispatcher, "dossier_ask_digits", code=code)
            return {"id_last_digits": None}
        if outcome == "wrong":
            _say(library, dispatcher, "dossier_wrong_digits", code=code)
            return {"id_last_digits": None}
        return {"id_last_digits": None, "dossier_lookup": outcome, **DONE}


class ActionAskDossierCode(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_dossier_code"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:  # type: ignore[override]
        _say((await self.services(tracker)).content.library, dispatcher, "dossier_ask_code")
        return []


class ActionAskIdLastDigits(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_id_last_digits"

    async def run(self, dispatcher, tracker, domain) -> list[EventType]:  # type: ignore[override]
        library = (await self.services(tracker)).content.library
        _say(library, dispatcher, "dossier_ask_digits", code=tracker.get_slot("dossier_code") or "")
        return []


class ActionDossierStatus(UsesServices, Action):
    """After the form: the status in plain words and a button to be told of changes."""

    def name(self) -> str:
        return "action_dossier_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        outcome = tracker.get_slot("dossier_lookup")
        code = tracker.get_slot("dossier_code")
        reset = [SlotSet("dossier_lookup", None)]
        if outcome == LOCKED:
            _say(library, dispatcher, "dossier_locked")
            return reset
        if outcome == STOPPED:
            _say(library, dispatcher, "dossier_stopped")
        user = citizen_of(tracker.sender_id)
        # The proof is the verification the form's check stored, never a slot's word.
        if outcome != VERIFIED or not await services.database.run(
            dossier_records.is_verified, code, user
        ):
            return reset + [SlotSet("dossier_code", None)]
        record = await services.database.run(dossier_records.get, code)
        text = status_text(library, code, record["status"], record["detail"])
        following = code in await services.database.run(dossier_records.subscriptions, user)
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


class ActionSubscribeDossier(UsesServices, Action):
    """Subscribe a verified owner; anyone else is asked to verify first."""

    def name(self) -> str:
        return "action_subscribe_dossier"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        code = next(tracker.get_latest_entity_values("dossier_code"), None)
        code = normalise_code(code) if code else tracker.get_slot("dossier_code")
        services = await self.services(tracker)
        if code and await services.database.run(
            dossier_records.is_verified, code, citizen_of(tracker.sender_id)
        ):
            await services.database.run(
                dossier_records.subscribe, code, citizen_of(tracker.sender_id)
            )
            _say(services.content.library, dispatcher, "dossier_subscribed", code=code)
            return [SlotSet("dossier_code", code)]
        return [SlotSet("dossier_code", code), FollowupAction(FORM)]
