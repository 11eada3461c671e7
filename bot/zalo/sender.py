"""The service's own messages to citizens (dossier notifications, campaign messages,
reminders, officers' answers): the OA's push rules (bot/zalo/push.py) over the process's
only Zalo client, always on the processing loop, whichever loop asks.

Refresh tokens are single-use, so a second client refreshing at the same time would burn the
token: the client is opened once, here, and the conversations reply through it too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp

from bot.conversation.processing_loop import ProcessingLoop
from bot.settings import Settings
from bot.storage import Database
from bot.zalo.client import ZaloClient
from bot.zalo.push import Pusher, PushResult, Template

T = TypeVar("T")


class Sender:
    def __init__(self, settings: Settings, database: Database, processing: ProcessingLoop) -> None:
        self._settings = settings
        self._database = database
        self._processing = processing
        self._session: aiohttp.ClientSession | None = None
        self._client: ZaloClient | None = None
        self._pusher: Pusher | None = None

    async def open(self) -> None:
        """Open the Zalo client on the processing loop (which must be running)."""
        await self._processing.call(self._open())

    async def _open(self) -> None:
        self._session = aiohttp.ClientSession()
        self._client = ZaloClient(self._settings, self._database, self._session)
        self._pusher = Pusher(self._database, self._client)

    @property
    def client(self) -> ZaloClient:
        """The Zalo client, for code already on the processing loop (the conversations)."""
        assert self._client is not None, "Sender.open() was not awaited"
        return self._client

    async def push(
        self,
        user_id: str,
        message: dict[str, Any],
        idempotency_key: str,
        template: Template | None = None,
        now: dt.datetime | None = None,
    ) -> PushResult:
        """Send once per key by the best channel the OA's rules allow (bot/zalo/push.py)."""
        assert self._pusher is not None, "Sender.open() was not awaited"
        return await self._on_processing_loop(
            self._pusher.push(user_id, message, idempotency_key, template, now)
        )

    async def tag_members(self, tag: str) -> list[str]:
        """The followers the OA gave `tag` (a campaign's audience)."""
        return await self._on_processing_loop(self.client.tag_members(tag))

    async def close(self) -> None:
        if self._session is not None:
            await self._on_processing_loop(self._session.close())

    async def _on_processing_loop(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._processing.is_current():
            return await coroutine
        return await self._processing.call(coroutine)
