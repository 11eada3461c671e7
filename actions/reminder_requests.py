"""Reminders in the chat: set one (said back in words, confirmed first), list them, and
the reminders before the birth-registration deadline offered after the birth guide.

Two forms carry the multi-turn parts, because the answers ("thứ 6 lúc 8h", "20/11/2026")
mean nothing to the intent classifier on their own.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.communes.conversation_ids import citizen_of
from bot.content import Library
from bot.local_time import TIMEZONE
from bot.nlu.aspects import folded
from bot.nlu.text import fold
from bot.scheduler import citizen_reminders
from bot.scheduler.citizen_reminders import wording
from bot.services import Services, UsesServices
from bot.settings import Settings
from bot.storage import reminder_records as reminder_store
from bot.storage import users

REMINDER_FORM = "reminder_form"
BIRTH_FORM = "birth_deadline_form"
BIRTH_KIND = "birth_deadline"
REMINDER_SLOTS = ("reminder_at", "reminder_subject", "reminder_confirmed")
BIRTH_SLOTS = ("child_birth_date", "birth_reminders_confirmed")


def now() -> dt.datetime:
    return dt.datetime.now(TIMEZONE)


def words_of(text: str) -> str:
    """Lower case, no punctuation, single spaces: a short answer as typed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def plain(text: str) -> str:
    """Also without diacritics: for words whose folded form is unambiguous."""
    return fold(words_of(text))


def asks_for_list(text: str, library: Library) -> bool:
    """ "xem lời nhắc", "các lời nhắc đã đặt": the list, unless it says to cancel them."""
    words = library.ui["reminders"]
    folded = plain(text)
    return any(word in folded for word in words["list_words"]) and not any(
        word in folded.split() for word in words["cancel_words"]
    )


def declines(tracker: Tracker, library: Library) -> bool:
    """ "không", "thôi", "dừng", "hủy lời nhắc"…: no to the reminder being set. The model
    reads a bare "dừng" as a yes, so words first. "hủy nhận tin" or "hủy theo dõi hồ sơ"
    is not a no: the unsubscribe action does what it says and ends the form."""
    text = tracker.latest_message.get("text") or ""
    if words_of(text) in library.ui["reminders"]["decline_words"]:
        return True
    if asks_for_list(text, library):
        return False
    # Not skipping the fallback: a guess the model is unsure of must never count as a "no".
    intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
    return intent == "deny" or (intent == "unsubscribe" and "nhac" in plain(text).split())


def yes_no(library: Library, yes: str = "button_yes") -> list[dict[str, str]]:
    ui = library.ui["reminders"]
    return [
        {"title": ui[yes], "payload": "/affirm"},
        {"title": ui["button_no"], "payload": "/deny"},
    ]


def reset(slots: tuple[str, ...]) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


async def window_note_needed(services: Services, user_id: str, moments: list[dt.datetime]) -> bool:
    """True when a reminder falls beyond Zalo's 7 days and no template can carry it."""
    if services.settings.reminder_template_id:
        return False
    user = await services.database.run(users.get, user_id)
    last = dt.datetime.fromisoformat(user["last_interaction_at"]) if user else now()
    return citizen_reminders.beyond_window(moments, last, has_template=False)


async def show_reminders(
    services: Services, dispatcher: CollectingDispatcher, user_id: str
) -> None:
    """The citizen's reminders with their cancel buttons, or that there are none."""
    library = services.content.library
    rows = await services.database.run(reminder_store.scheduled_for_user, user_id)
    if not rows:
        dispatcher.utter_message(text=wording(library, "none"))
        return
    message, buttons = listing(library, rows)
    dispatcher.utter_message(text=message, buttons=buttons)


def end_reminder_forms(tracker: Tracker) -> list[EventType]:
    """Leave a reminder form half-way (nothing is set): for a request that stops messages."""
    if tracker.active_loop_name not in (REMINDER_FORM, BIRTH_FORM):
        return []
    return [ActiveLoop(None), SlotSet("requested_slot", None), *reset(REMINDER_SLOTS + BIRTH_SLOTS)]


def listing(library: Library, rows: list[dict[str, Any]]) -> tuple[str, list[dict[str, str]]]:
    """The user's reminders as one message, with a cancel button for each (and for all)."""
    lines = [wording(library, "list")]
    for n, row in enumerate(rows, 1):
        when = citizen_reminders.when_words(dt.datetime.fromisoformat(row["remind_at"]), library)
        lines.append(
            wording(library, "item", n=n, when=when, subject=citizen_reminders.label(row, library))
        )
    buttons = [
        {
            "title": wording(library, "cancel_button", n=n),
            "payload": f'/unsubscribe{{"reminder_id": "{row["id"]}"}}',
        }
        for n, row in enumerate(rows[:4], 1)
    ]
    buttons.append(
        {
            "title": wording(library, "cancel_all_button"),
            "payload": '/unsubscribe{"reminder_id": "all"}',
        }
    )
    return "\n".join(lines), buttons


# Every way of asking for a reminder names it: "nhắc", "hẹn", "nhớ giùm", "báo", "lịch".
ASKS_A_REMINDER = re.compile(r"\b(nhac|hen|nho|bao|dat lich|lich)\b")
# A birth certificate lost, copied or corrected: no newborn, no 60-day deadline to remind of.
NOT_A_NEWBORN = re.compile(
    r"\b(bi mat|lam mat|mat giay|that lac|bi rach|lam lai|cap lai|ban sao|trich luc|sua|"
    r"cai chinh|doi ten|thay doi ten|doi ho|doi que|doi dan toc)\b"
)

# "con e 2 tháng tuổi rồi chưa làm khai sinh", "bé được 70 ngày": the 60 days are over, there
# is no deadline left to remind of.
AGE_TOLD = re.compile(
    r"\b(\d+) (ngay|tuan|thang|nam) (tuoi|roi)\b|\bduoc (\d+) (ngay|tuan|thang|nam)\b"
    r"|\b(\d+) (tuoi)\b"
)
DAYS_IN = {"ngay": 1, "tuan": 7, "thang": 30, "nam": 365, "tuoi": 365}


def past_the_deadline(plain: str) -> bool:
    """The child's age told is at or past the birth registration's 60 days."""
    for match in AGE_TOLD.finditer(plain):
        number, unit = [part for part in match.groups() if part][:2]
        if int(number) * DAYS_IN[unit] >= citizen_reminders.BIRTH_REGISTRATION_DAYS:
            return True
    return False


class ActionSetReminder(UsesServices, Action):
    """ "nhắc tôi …": starts the reminder form (or the birth-deadline one); "xem lời nhắc"
    lists the reminders instead."""

    def name(self) -> str:
        return "action_set_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library, settings = services.content.library, services.settings
        text = tracker.latest_message.get("text") or ""
        at = citizen_reminders.reminder_time(
            text, now(), dt.time.fromisoformat(settings.reminder_time)
        )
        if not ASKS_A_REMINDER.search(folded(text)) and not text.startswith("/"):
            if tells_a_newborn(text):
                return start_birth_form(text)  # "con tôi sinh ngày 1/12": its deadline
            # a bare "10/12 lúc 14h" (e.g. to a form just stopped) says no reminder is wanted
            dispatcher.utter_message(text=wording(library, "how_to_ask"))
            return []
        kind = next(tracker.get_latest_entity_values("reminder_kind"), None)
        if kind == BIRTH_KIND or (at is None and asks_birth_reminder(text)):
            return start_birth_form(text)
        if at is None and asks_for_list(text, library):
            await show_reminders(services, dispatcher, citizen_of(tracker.sender_id))
            return []
        return [
            SlotSet("reminder_at", at.isoformat() if at else None),
            SlotSet("reminder_subject", citizen_reminders.reminder_subject(text)),
            SlotSet("reminder_confirmed", None),
            SlotSet("requested_slot", None),  # inside the form: its question starts over
            FollowupAction(REMINDER_FORM),
        ]


# A birth date told this long ago or less is a newborn's: its registration deadline is news.
NEWBORN_DAYS = 365


def tells_a_newborn(text: str) -> bool:
    """ "con tôi sinh ngày 1/12": a birth date told, on or before today, within a year."""
    born = citizen_reminders.stated_birth_date(text, now())
    today = now().date()
    return born is not None and today - dt.timedelta(days=NEWBORN_DAYS) <= born <= today


def asks_birth_reminder(text: str) -> bool:
    """ "nhắc tôi hạn khai sinh", "nhắc hạn khai sinh" (the offer's button, typed), but not
    "nhắc tôi thứ 6 đi lấy giấy khai sinh"."""
    return bool(ASKS_A_REMINDER.search(folded(text))) and bool(
        re.search(r"\bhan\b.*\bkhai sinh\b", plain(text))
    )


def start_birth_form(text: str) -> list[EventType]:
    """The birth-deadline form, with the birth date already filled if the message says it."""
    born = citizen_reminders.stated_birth_date(text, now())
    return [
        SlotSet("child_birth_date", born.isoformat() if born else None),
        SlotSet("birth_reminders_confirmed", None),
        SlotSet("requested_slot", None),
        FollowupAction(BIRTH_FORM),
    ]


class ValidateReminderForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_reminder_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # A "no" at any point ends the form: with only the answered question left, nothing
        # is missing (the submit action then says nothing was set).
        declined = tracker.slots.get("reminder_confirmed") is False
        return ["reminder_confirmed"] if declined else domain_slots

    async def extract_reminder_at(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "reminder_at":
            return {}
        return answer(await self.services(tracker), tracker, "reminder_at", "reminder_confirmed")

    async def extract_reminder_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "reminder_confirmed":
            return {}
        return answer(await self.services(tracker), tracker, "reminder_at", "reminder_confirmed")

    async def validate_reminder_at(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None or dt.datetime.fromisoformat(value) > now():
            return {"reminder_at": value}
        dispatcher.utter_message(
            text=wording((await self.services(tracker)).content.library, "past")
        )
        return {"reminder_at": None}

    async def validate_reminder_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"reminder_confirmed": value}


def answer(
    services: Services, tracker: Tracker, time_slot: str, confirm_slot: str
) -> dict[str, Any]:
    """A reply inside a reminder form: no, a (new) date or time, or yes; {} when it is none
    of these (the form steps aside and the message is answered as usual: "xem lời nhắc"
    lists the reminders, "nhắc tôi thứ 6 đi họp" starts a new one, "menu" shows the menu)."""
    library, settings = services.content.library, services.settings
    text = tracker.latest_message.get("text") or ""
    if declines(tracker, library):
        return {confirm_slot: False}
    intent = tracker.get_intent_of_latest_message(skip_fallback_intent=False)
    if asks_for_list(text, library) or (
        intent == "set_reminder"
        and citizen_reminders.reminder_subject(text)
        and "nhac" in plain(text)
    ):
        return {}
    if time_slot == "child_birth_date":
        moment = citizen_reminders.birth_date(text, now())
    else:
        pending = tracker.get_slot(time_slot)  # the day already proposed, kept for a new hour
        moment = citizen_reminders.reminder_time(
            text,
            now(),
            dt.time.fromisoformat(settings.reminder_time),
            dt.datetime.fromisoformat(pending).date() if pending else None,
        )
    requested = tracker.get_slot("requested_slot")
    confirming = requested == confirm_slot
    if moment is not None:  # while confirming, a new time asks the question again
        return {time_slot: moment.isoformat(), **({confirm_slot: None} if confirming else {})}
    if confirming and (intent == "affirm" or plain(text) in library.ui["reminders"]["yes_words"]):
        return {confirm_slot: True}
    if intent == "nlu_fallback" and requested:  # not understood: asked again, not dropped
        return {requested: None}
    return {}


class ActionAskReminderAt(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_reminder_at"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        dispatcher.utter_message(text=wording(library, "ask_time"))
        return []


class ActionAskReminderConfirmed(UsesServices, Action):
    """The reminder said back in words ("8 giờ sáng thứ Sáu, ngày 27/11/2026"), yes or no."""

    def name(self) -> str:
        return "action_ask_reminder_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        at = dt.datetime.fromisoformat(tracker.get_slot("reminder_at"))
        when = citizen_reminders.when_words(at, library)
        subject = tracker.get_slot("reminder_subject")
        text = (
            wording(library, "confirm_subject", subject=subject, when=when)
            if subject
            else wording(library, "confirm", when=when)
        )
        if await window_note_needed(services, citizen_of(tracker.sender_id), [at]):
            text += "\n\n" + wording(library, "window_note")
        dispatcher.utter_message(text=text, buttons=yes_no(library))
        return []


class ActionSaveReminder(UsesServices, Action):
    def name(self) -> str:
        return "action_save_reminder"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        at_text = tracker.get_slot("reminder_at")
        if tracker.get_slot("reminder_confirmed") is True and at_text:
            at = dt.datetime.fromisoformat(at_text)
            subject = tracker.get_slot("reminder_subject")
            await citizen_reminders.schedule(
                services.database,
                services.reminder_jobs,
                citizen_of(tracker.sender_id),
                "personal",
                at,
                subject,
            )
            when = citizen_reminders.when_words(at, library)
            dispatcher.utter_message(text=wording(library, "saved", when=when))
        else:
            dispatcher.utter_message(text=wording(library, "not_saved"))
        return reset(REMINDER_SLOTS)


class ActionOfferBirthDeadline(UsesServices, Action):
    """After the birth-registration guide: offer reminders before the 60-day deadline
    (once a conversation), or go straight to them when the message said the birth date
    ("bé sinh ngày 20/11"); a date alone is not a birth date."""

    def name(self) -> str:
        return "action_offer_birth_deadline"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if next(tracker.get_latest_entity_values("guide_section"), None):
            return []  # a section of the guide, not its opening
        text = tracker.latest_message.get("text") or ""
        born = citizen_reminders.stated_birth_date(text, now())
        if (born is not None and born <= now().date()) or asks_birth_reminder(text):
            return [SlotSet("birth_deadline_offered", True), *start_birth_form(text)]
        plain = folded(text)
        offered = tracker.get_slot("birth_deadline_offered")
        if offered or NOT_A_NEWBORN.search(plain) or past_the_deadline(plain):
            return []
        library = (await self.services(tracker)).content.library
        birth = library.guide_for("proc_birth_registration")
        if birth is not None and tracker.get_slot("guide_id") not in (None, birth.id):
            return []  # another guide answered: "làm căn cước… có cần mang giấy khai sinh"
        button = {
            "title": wording(library, "birth_offer_button"),
            "payload": f'/set_reminder{{"reminder_kind": "{BIRTH_KIND}"}}',
        }
        dispatcher.utter_message(text=wording(library, "birth_offer"), buttons=[button])
        return [SlotSet("birth_deadline_offered", True)]


def birth_reminder_times(settings: Settings, born: dt.date) -> tuple[dt.date, list[dt.datetime]]:
    deadline = citizen_reminders.birth_deadline(born)
    times = citizen_reminders.birth_reminder_times(
        deadline,
        settings.birth_deadline_reminder_days,
        dt.time.fromisoformat(settings.reminder_time),
        now(),
    )
    return deadline, times


class ValidateBirthDeadlineForm(UsesServices, FormValidationAction):
    def name(self) -> str:
        return "validate_birth_deadline_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        declined = tracker.slots.get("birth_reminders_confirmed") is False
        return ["birth_reminders_confirmed"] if declined else domain_slots

    async def extract_child_birth_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "child_birth_date":
            return {}
        services = await self.services(tracker)
        return answer(services, tracker, "child_birth_date", "birth_reminders_confirmed")

    async def extract_birth_reminders_confirmed(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != "birth_reminders_confirmed":
            return {}
        services = await self.services(tracker)
        return answer(services, tracker, "child_birth_date", "birth_reminders_confirmed")

    async def validate_child_birth_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None:
            return {"child_birth_date": None}
        services = await self.services(tracker)
        born = dt.date.fromisoformat(value)
        if born > now().date():
            dispatcher.utter_message(text=wording(services.content.library, "birth_future"))
            return {"child_birth_date": None}
        _, times = birth_reminder_times(services.settings, born)
        if not times:  # too late for a reminder: the submit action says what to do instead
            return {"child_birth_date": value, "birth_reminders_confirmed": False}
        return {"child_birth_date": value}

    async def validate_birth_reminders_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        return {"birth_reminders_confirmed": value}


class ActionAskChildBirthDate(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_child_birth_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        library = (await self.services(tracker)).content.library
        dispatcher.utter_message(text=wording(library, "birth_ask_date"))
        return []


class ActionAskBirthRemindersConfirmed(UsesServices, Action):
    def name(self) -> str:
        return "action_ask_birth_reminders_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        born = dt.date.fromisoformat(tracker.get_slot("child_birth_date"))
        deadline, times = birth_reminder_times(services.settings, born)
        text = wording(
            library,
            "birth_confirm",
            born=f"{born:%d/%m/%Y}",
            deadline=citizen_reminders.day_words(deadline, library),
            times="; ".join(citizen_reminders.when_words(moment, library) for moment in times),
        )
        if await window_note_needed(services, citizen_of(tracker.sender_id), times):
            text += "\n\n" + wording(library, "window_note")
        dispatcher.utter_message(text=text, buttons=yes_no(library, "button_agree"))
        return []


class ActionSaveBirthReminders(UsesServices, Action):
    def name(self) -> str:
        return "action_save_birth_reminders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        services = await self.services(tracker)
        library = services.content.library
        born_text = tracker.get_slot("child_birth_date")
        if not born_text:
            dispatcher.utter_message(text=wording(library, "not_saved"))
            return reset(BIRTH_SLOTS)
        born = dt.date.fromisoformat(born_text)
        deadline, times = birth_reminder_times(services.settings, born)
        deadline_words = citizen_reminders.day_words(deadline, library)
        if deadline < now().date():
            born_words = f"{born:%d/%m/%Y}"
            dispatcher.utter_message(
                text=wording(library, "birth_late", born=born_words, deadline=deadline_words)
            )
        elif not times:
            dispatcher.utter_message(
                text=wording(library, "birth_too_close", deadline=deadline_words)
            )
        elif tracker.get_slot("birth_reminders_confirmed") is True:
            for moment in times:
                await citizen_reminders.schedule(
                    services.database,
                    services.reminder_jobs,
                    citizen_of(tracker.sender_id),
                    BIRTH_KIND,
                    moment,
                    due_on=deadline,
                )
            dispatcher.utter_message(text=wording(library, "birth_saved", count=len(times)))
        else:
            dispatcher.utter_message(text=wording(library, "not_saved"))
        return reset(BIRTH_SLOTS)
