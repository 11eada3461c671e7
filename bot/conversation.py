"""What the service does with each recorded webhook event, one user at a time."""

from __future__ import annotations

import logging

from bot.brain import Brain
from bot.storage import Database, inbox, users
from bot.zalo import events
from bot.zalo.client import ZaloClient
from bot.zalo.events import ZaloEvent
from bot.zalo.output import ZaloOutputChannel

log = logging.getLogger(__name__)

# Intents the webhook triggers directly: these events carry no text to understand.
FOLLOW_INTENT = "/EXTERNAL_follow"
NON_TEXT_INTENT = "/EXTERNAL_non_text"


class Conversations:
    def __init__(self, database: Database, client: ZaloClient, brain: Brain) -> None:
        self._database = database
        self._client = client
        self._brain = brain

    async def handle(self, event: ZaloEvent) -> None:
        try:
            await self._dispatch(event)
        except Exception as exc:
            await self._database.run(inbox.finish, event.key, f"{exc.__class__.__name__}: {exc}")
            raise
        await self._database.run(inbox.finish, event.key)

    async def _dispatch(self, event: ZaloEvent) -> None:
        user_id = event.user_id
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
        else:
            log.info("event %s recorded; nothing to answer", event.name)

    async def _reply(self, event: ZaloEvent, text: str) -> None:
        assert event.user_id is not None
        output = ZaloOutputChannel(self._client, event.key)
        await self._brain.handle(event.user_id, text, output, metadata={"zalo_event": event.name})
