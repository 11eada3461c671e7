"""Feedback (phản ánh, kiến nghị) in the chat: a Rasa form asks the topic, a description
and an optional photo, then files a ticket whose number the citizen keeps.

Every answer is taken as typed (from_text slots), so a description that sounds like
another question is still a description. "Huỷ" (the button, or typed) cancels.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.communes.conversation_ids import citizen_of
from bot.content import Library
from bot.nlu.aspects import asked_aspect, is_yes_no
from bot.nlu.text import fold
from bot.services import UsesServices
from bot.storage import feedback_records

SLOTS = ("feedback_topic", "feedback_description", "feedback_photo")
CANCELLED = "cancelled"
NO_PHOTO = "none"
CANCEL_PAYLOAD = "/deny"
MIN_DESCRIPTION = 10  # characters: "abc" tells an officer nothing
REQUEST_HUMAN = "request_human"
HAND_OVER = "action_request_human"  # actions/officer_handover.py
# An opening message with this many words besides those of asking to give feedback already
# tells what happened ("đèn đường trước nhà hỏng cả tháng nay…"): it is the description, not
# asked for again. "tôi muốn góp ý về thái độ cán bộ ở bộ phận một cửa" has 6.
DESCRIBED_MIN_WORDS = 8
# A typed answer to "về việc gì?" this short names a matter ("Giao thông", "điện nước").
TOPIC_NAME_MAX_WORDS = 4
_ASKING = (
    "toi tui em minh chau bac co chu anh chi ong ba con ad a da thua kinh gui chao xin muon can"
    " phan kien nghi gop y khieu nai to cao bao ve viec voi den len cho xa phuong uy ban bo nhe"
    " nha oi"
)
ASKING_WORDS = frozenset(_ASKING.split())


def plain(text: str) -> str:
    """Folded, lower case, words only, single spaces: how typed words are compared ("hủy,"
    and "nhắc," are "huy" and "nhac")."""
    return " ".join(re.findall(r"\w+", fold(text).lower()))


def wants_to_cancel(library: Library, text: str) -> bool:
    return text.strip() == CANCEL_PAYLOAD or plain(text) in library.ui["feedback_cancel_words"]


def says_no_photo(library: Library, text: str) -> bool:
    """The button typed out, a word of skipping ("ko", "bỏ qua") or no word at all ("?"):
    none of these is more of the story (they ended up in tickets' descriptions)."""
    typed = plain(text)
    return (
        not typed
        or typed == plain(library.ui["feedback_no_photo"])
        or typed in library.ui["feedback_no_photo_words"]
    )


def topic_of(library: Library, text: str) -> str | None:
    """The topic a button title, its number (1–4), a typed title or its key names."""
    typed = plain(text)
    for number, (topic, title) in enumerate(library.ui["feedback_topics"].items(), 1):
        if typed in (str(number), plain(title), topic):
            return topic
    return None


def named_topic(library: Library, text: str) -> str | None:
    """The one topic the words of an opening message name ("góp ý về thái độ cán bộ"), so it
    is not asked again; None when none or several do."""
    typed = f" {plain(text)} "
    named = {
        topic
        for topic, words in library.ui.get("feedback_topic_words", {}).items()
        if any(f" {plain(word)} " in typed for word in words)
    }
    return named.pop() if len(named) == 1 else None


def typed_topic(library: Library, text: str) -> str | None:
    """A topic typed in the citizen's own words instead of pressed: the one its words name,
    else "other" for a short name of a matter ("Giao thông", "đường ngập", "điện nước"); None
    for a question or a long message, which is not a topic's name."""
    if text.startswith("/"):
        return None
    named = named_topic(library, text)
    if named is not None:
        return named
    short = len(plain(text).split()) <= TOPIC_NAME_MAX_WORDS
    return "other" if short and not (asked_aspect(text) or is_yes_no(text)) else None


def described(text: str) -> bool:
    """Whether an opening message already tells what happened, not only that the citizen
    wants to give feedback."""
    if text.startswith("/"):
        return False
    told = [word for word in plain(text).split() if word not in ASKING_WORDS]
    return len(told) >= DESCRIBED_MIN_WORDS


def _opening_message(tracker: Tracker, slot: str) -> str | None:
    """The message that opened the form, while nothing has been asked yet and `slot` is
    empty; None after that."""
    if tracker.get_slot("requested_slot") is not None or tracker.get_slot(slot):
        return None
    return (tracker.latest_message.get("text") or "").strip()


def photo_url(tracker: Tracker) -> str | None:
    """The URL of an image the citizen just sent (Zalo puts it in the attachments)."""
    metadata = tracker.latest_message.get("metadata") or {}
    for attachment in metadata.get("attachments") or []:
        if isinstance(attachment, dict) and attachment.get("type") == "image":
            url = (attachment.get("payload") or {}).get("url")
            if isinstance(url, str) and url.startswith(("https://", "http://")):
                return url
    return None


def asks_for_officer(tracker: Tracker) -> bool:
    """Whether the citizen's last message asks for an officer: "cho tôi gặp cán bộ" typed
    when the form asked for a photo was filed as more of the story, and nobody was called."""
    return tracker.get_intent_of_latest_message() == REQUEST_HUMAN


def cancel_button(library: Library) -> dict[str, str]:
    return {"title": library.ui["feedback_cancel"], "payload": CANCEL_PAYLOAD}


class ValidateFeedbackForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_feedback_form"

    @staticmethod
    def _cancel() -> dict[str, Any]:
        # Filling every slot ends the form; the submit action sees the mark and files nothing.
        return dict.fromkeys(SLOTS, CANCELLED)

    async def extract_feedback_topic(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """At the form's start, the topic its opening message already names."""
        opening = _opening_message(tracker, "feedback_topic")
        if opening is None:
            return {}
        topic = named_topic((await self.services(tracker)).content.library, opening)
        return {} if topic is None else {"feedback_topic": topic}

    async def extract_feedback_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """At the form's start, an opening message that already tells what happened."""
        opening = _opening_message(tracker, "feedback_description")
        return {"feedback_description": opening} if opening and described(opening) else {}

    async def validate_feedback_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        library = (await self.services(tracker)).content.library
        typed = str(value)
        if wants_to_cancel(library, typed):
            return self._cancel()
        topic = topic_of(library, typed) or typed_topic(library, typed)
        if topic is None:
            dispatcher.utter_message(text=library.text("feedback_topic_not_understood"))
        return {"feedback_topic": topic}

    async def validate_feedback_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        library = (await self.services(tracker)).content.library
        text = str(value).strip()
        if wants_to_cancel(library, text):
            return self._cancel()
        if len(text) < MIN_DESCRIPTION or text.startswith("/"):
            dispatcher.utter_message(text=library.text("feedback_description_too_short"))
            return {"feedback_description": None}
        return {"feedback_description": text}

    async def validate_feedback_photo(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        """A photo, or none; words typed instead are more of the story ("hôm thứ 3 tôi lên
        nộp hồ sơ, cán bộ quát tháo…" was dropped and the ticket filed without it)."""
        url = photo_url(tracker)
        if url is not None:
            return {"feedback_photo": url}
        library = (await self.services(tracker)).content.library
        typed = (tracker.latest_message.get("text") or "").strip()
        if wants_to_cancel(library, typed):
            return self._cancel()
        if typed.startswith("/") or says_no_photo(library, typed) or asks_for_officer(tracker):
            return {"feedback_photo": NO_PHOTO}
        told = tracker.get_slot("feedback_description") or ""
        return {"feedback_photo": NO_PHOTO, "feedback_description": f"{told}\n{typed}".strip()}


class ActionAskFeedbackTopic(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_feedback_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        buttons = [
            {"title": title, "payload": title} for title in library.ui["feedback_topics"].values()
        ]
        dispatcher.utter_message(
            text=library.text("feedback_ask_topic"), buttons=[*buttons, cancel_button(library)]
        )
        return []


class ActionAskFeedbackDescription(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_feedback_description"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        dispatcher.utter_message(
            text=library.text("feedback_ask_description"), buttons=[cancel_button(library)]
        )
        return []


class ActionAskFeedbackPhoto(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_feedback_photo"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        no_photo = library.ui["feedback_no_photo"]
        dispatcher.utter_message(
            text=library.text("feedback_ask_photo"),
            buttons=[{"title": no_photo, "payload": no_photo}],
        )
        return []


class ActionSubmitFeedback(UsesServices, Action):
    """File the ticket and give the citizen its number (or confirm the cancellation)."""

    def name(self) -> str:
        return "action_submit_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        reset: list[EventType] = [SlotSet(slot, None) for slot in SLOTS]
        topic = tracker.get_slot("feedback_topic")
        if topic == CANCELLED or topic not in feedback_records.TOPICS:
            dispatcher.utter_message(text=library.text("feedback_cancelled"))
            return reset
        photo = tracker.get_slot("feedback_photo")
        ticket = await services.database.run(
            feedback_records.create,
            citizen_of(tracker.sender_id),
            topic,
            tracker.get_slot("feedback_description"),
            None if photo in (None, NO_PHOTO) else photo,
            services.settings.feedback_sla_days,
        )
        text = library.text("feedback_received").format(
            number=ticket.number, sla_days=services.settings.feedback_sla_days
        )
        dispatcher.utter_message(text=text)
        if asks_for_officer(tracker):  # then the officer asked for at the photo step
            return [*reset, FollowupAction(HAND_OVER)]
        return reset
