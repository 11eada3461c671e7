"""What the service does with each recorded webhook event, one user at a time."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

from bot import privacy
from bot.brain.agent import Brain
from bot.communes.conversation_ids import conversation_id
from bot.content import LiveContent, address, render
from bot.content.office_hours import OfficeHours
from bot.conversation.rate_limit import RateLimit, SharedRateLimit
from bot.nlu.forms_of_address import Address, forms_of_address
from bot.nlu.other_questions import other_questions
from bot.storage import Database, dossier_records, handover_records, inbox, users
from bot.storage.database import is_temporary
from bot.zalo import events
from bot.zalo.client import ZaloClient
from bot.zalo.events import ZaloEvent
from bot.zalo.output import ZaloOutputChannel

log = logging.getLogger(__name__)

# Intents the webhook triggers directly: these events carry no text to understand.
FOLLOW_INTENT = "/EXTERNAL_follow"
NON_TEXT_INTENT = "/EXTERNAL_non_text"
# A button that opens an intent as such ("/request_home_support"), not one of its sections.
BARE_INTENT = re.compile(r"/\w+")


def officer_of(event: ZaloEvent) -> str | None:
    """Who wrote an OA echo from Zalo's OA chat tool (sender.admin_id), if a human did."""
    if not event.name.startswith("oa_send_"):
        return None
    sender = event.payload.get("sender")
    admin_id = sender.get("admin_id") if isinstance(sender, dict) else None
    return str(admin_id) if admin_id else None


class Conversations:
    def __init__(
        self,
        database: Database,
        client: ZaloClient,
        brain: Brain,
        content: LiveContent,
        handover_timeout: dt.timedelta,
        message_limit: RateLimit | SharedRateLimit | None = None,
        commune: str = "",  # whose OA the events came to (bot/communes/); "" the default
    ) -> None:
        self._commune = commune
        self._database = database
        self._client = client
        self._brain = brain
        self._content = content
        self._handover_timeout = handover_timeout
        self._message_limit = RateLimit(0, 0) if message_limit is None else message_limit
        # The commune's clock for office hours; tests set it to a Monday morning or a night.
        self.office_clock: Callable[[], dt.datetime] = _now
        # Events handled whose inbox row could not be marked done yet (the database was
        # briefly unwritable): when tried again, only the marking is left to do.
        self._dispatched: set[str] = set()

    async def handle(self, event: ZaloEvent) -> None:
        """Handle the event and mark it done (or failed) in the inbox. A passing storage
        failure is raised with the row still pending: the queue tries the event again."""
        if event.key not in self._dispatched:
            try:
                await self._dispatch(event)
            except Exception as exc:
                if not is_temporary(exc):
                    error = f"{exc.__class__.__name__}: {exc}"
                    await self._database.run(inbox.finish, event.key, error)
                raise
            self._dispatched.add(event.key)
        await self._database.run(inbox.finish, event.key)
        self._dispatched.discard(event.key)

    async def _dispatch(self, event: ZaloEvent) -> None:
        user_id = event.user_id
        officer = officer_of(event)
        if officer and user_id is not None:
            # An officer is talking to this citizen in Zalo: the bot steps aside.
            await self._database.run(
                handover_records.officer_wrote,
                user_id,
                f"zalo:{officer}",
                _now(),
                self._handover_timeout,
            )
        if event.name == events.WITHDRAW:
            await self._forget(event)
            return
        if event.is_echo_or_receipt or user_id is None:
            return  # recorded in the inbox; answering an echo would start a reply loop
        if event.name == events.UNFOLLOW:
            await self._database.run(users.unfollowed, user_id)
        elif event.name == events.FOLLOW:
            await self._database.run(users.followed, user_id)
            await self._reply(event, FOLLOW_INTENT)
        elif event.name == events.TEXT:
            await self._database.run(users.interacted, user_id)
            await self._reply(event, event.text)
        elif event.name in events.NON_TEXT:
            await self._database.run(users.interacted, user_id)
            await self._reply(event, NON_TEXT_INTENT)
        elif event.name == events.SUBMIT_INFO:
            await self._remember_shared_phone(user_id, event.payload.get("info"))
        else:
            log.info("event %s recorded; nothing to answer", event.name)

    async def _forget(self, event: ZaloEvent) -> None:
        """Zalo's `user_withdraw`: the citizen asked for their data to be deleted. Everything
        about them goes (bot/privacy.py), this event's own record too; nothing is sent to
        them, and the log does not name them (its request id is `ZaloEvent.request_id`)."""
        if event.user_id is None:
            log.warning("user_withdraw without a user id: nothing could be deleted")
            return
        changed = await privacy.forget_user(
            self._database,
            self._brain.tracker_database,
            event.user_id,
            f"zalo:{event.name}",
            conversation=conversation_id(self._commune, event.user_id),
        )
        log.info(
            "data-deletion request (user_withdraw) honoured: %d rows deleted or anonymised",
            sum(changed.values()),
        )

    async def _remember_shared_phone(self, user_id: str, info: object) -> None:
        """A phone shared through the OA's user-info form can prove a dossier's owner; the
        webhook kept only its keyed hash (events.redact_shared_info), never the number."""
        phone_hash = info.get(events.PHONE_HASH) if isinstance(info, dict) else None
        if isinstance(phone_hash, str) and phone_hash:
            await self._database.run(dossier_records.remember_shared_phone, user_id, phone_hash)

    async def _reply(self, event: ZaloEvent, text: str) -> None:
        assert event.user_id is not None
        with_officer = await self._open_handover(event.user_id)
        if with_officer:
            # An officer answers (recorded in the inbox, shown in their queue).
            if with_officer["status"] == "waiting":
                form = await self._form_of_address(event.user_id, text)
                await self._acknowledge_outside_office_hours(
                    event.user_id, with_officer["id"], form
                )
            return
        if await self._over_message_limit(event):
            return
        form = await self._form_of_address(event.user_id, text)
        output = ZaloOutputChannel(self._client, event.key, form)
        metadata: dict[str, Any] = {"zalo_event": event.name}
        message = event.payload.get("message")
        if isinstance(message, dict) and message.get("attachments"):
            metadata["attachments"] = message["attachments"]  # e.g. a photo for a feedback
        conversation = conversation_id(self._commune, event.user_id)
        await self._brain.handle(conversation, text, output, metadata=metadata)
        started = await self._open_handover(event.user_id)
        if started and started["status"] == "waiting":  # told now, not at the next message
            await self._acknowledge_outside_office_hours(event.user_id, started["id"], form)
        others = [] if text.startswith("/") else other_questions(text)
        if others and not self._offered_a_topic(output):
            for offer in render.also_asked(self._content.library, others):
                await output.send_text_with_buttons(event.user_id, offer.text, offer.buttons)

    async def _open_handover(self, user_id: str) -> dict[str, Any] | None:
        return await self._database.run(
            handover_records.open_for, user_id, _now(), self._handover_timeout
        )

    def _offered_a_topic(self, output: ZaloOutputChannel) -> bool:
        """Whether the reply already offers a procedure or topic to open ("Bác có hỏi cả việc
        dưới đây: Cán bộ đến nhà", or the candidates of an asked-back question): the message's
        other questions are then not offered a second time as typed clauses."""
        library = self._content.library
        return any(
            library.guide_for(payload[1:]) is not None
            for button in output.buttons
            if BARE_INTENT.fullmatch(payload := str(button.get("payload", "")))
        )

    async def _form_of_address(self, user_id: str, text: str) -> Address:
        """How to name this citizen and the assistant: as this message says, else as an
        earlier one said ("bác"/"cháu" for the rest of the conversation), else the default."""
        said = None if text.startswith("/") else forms_of_address(text)
        if said is not None:
            await self._database.run(
                users.remember_form_of_address, user_id, said.citizen, said.assistant
            )
            return said
        stored = await self._database.run(users.form_of_address, user_id)
        return Address(*stored) if stored else address.DEFAULT

    async def _acknowledge_outside_office_hours(
        self, user_id: str, handover_id: int, form: Address
    ) -> None:
        """Outside office hours a citizen waiting for an officer is told, once per wait, when
        officers are back, rather than met with silence. Once: the outbox key is the wait's.
        In the conversation's form of address ("bạn" was told "anh/chị" here)."""
        library = self._content.library
        hours = OfficeHours.parse(library.locality.values.get("office_hours", ""))
        now = self.office_clock()
        if hours is None or hours.is_open(now):
            return
        opens = hours.next_opening(now)
        text = library.text("handover_outside_hours").format(
            time=f"{opens.hour}:{opens.minute:02d}", date=opens.strftime("%d/%m")
        )
        key = f"handover-{handover_id}-outside-office-hours"
        output = ZaloOutputChannel(self._client, key, form)
        await output.send_text_message(user_id, text)

    async def _over_message_limit(self, event: ZaloEvent) -> bool:
        """Too many messages in the window: recorded (inbox) but not understood; the first
        one over the limit gets a polite reply, the rest of the window gets nothing."""
        assert event.user_id is not None
        # Keyed by the conversation: a limit shared in Redis counts each commune's citizen
        # apart (a Zalo user id is the OA's, and two communes' ids may coincide).
        verdict = await self._message_limit.hit(conversation_id(self._commune, event.user_id))
        if verdict.allowed:
            return False
        if verdict.first_refusal:
            limit = self._message_limit
            log.warning(
                "more than %d messages in %g s from one citizen: the extra ones are recorded,"
                " not answered (one polite reply per %g s)",
                limit.limit,
                limit.window_seconds,
                limit.window_seconds,
            )
            output = ZaloOutputChannel(self._client, event.key)
            await output.send_text_message(
                event.user_id, self._content.library.text("rate_limited")
            )
        return True


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
