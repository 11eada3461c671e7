"""Sends OA messages: one aiohttp session, fresh tokens, retries with backoff, and an
outbox row per message so that nothing is sent twice and every result is on record."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.content import address
from bot.settings import Settings
from bot.storage import Database, outbox
from bot.storage.timestamps import utc_now
from bot.zalo.access_token import AccessTokens, RefreshTokenLost
from bot.zalo.errors import (
    TOKEN_ERRORS,
    UNREACHABLE,
    ZaloApiError,
    ZaloNoAnswer,
    ZaloUnavailable,
)

log = logging.getLogger(__name__)
CONSULTATION = "/v3.0/oa/message/cs"
TEMPLATE = "/v3.0/oa/message/template"  # ZBS template message by user id
CONVERSATION = "/v2.0/oa/conversation"  # the latest messages between the OA and a user
CONVERSATION_PAGE = 10  # the most Zalo returns per call
CLOCK_SKEW_MS = 60_000  # Zalo's clock against ours, when matching a message to its send
USER_LIST = "/v3.0/oa/user/getlist"
USER_LIST_PAGE = 50  # the most Zalo returns per call
USER_LIST_OFFSET_CAP = 10_000  # Zalo stops paging near here: segment big audiences by tag
SANDBOX_WAIT_SECONDS = 30.0  # the longest a first call waits for the embedded sandbox


@dataclass(frozen=True)
class Delivery:
    status: str  # sent | failed | unreachable | duplicate (sent before under this key)
    error_code: int | None = None
    message_id: str | None = None


class ZaloClient:
    def __init__(self, settings: Settings, database: Database, session: aiohttp.ClientSession):
        self._settings = settings
        self._database = database
        self._session = session
        self.tokens = AccessTokens(settings, database, session)
        self._sandbox_listening = not settings.sandbox  # a real OA API is always up

    async def _until_sandbox_listens(self) -> None:
        """The embedded sandbox is served on this service's own port, which listens only once
        startup is over; a restart's resumed replies and notifications were sent before it,
        their retries spent on "connection refused" and the messages given up. The first
        call waits for the port (at most SANDBOX_WAIT_SECONDS), then tries as usual."""
        if self._sandbox_listening:
            return
        api = urlsplit(self._settings.zalo_api_base)
        deadline = asyncio.get_running_loop().time() + SANDBOX_WAIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            try:
                _, writer = await asyncio.open_connection(api.hostname, api.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            break
        self._sandbox_listening = True

    async def send_message(
        self, user_id: str, message: dict[str, Any], idempotency_key: str
    ) -> Delivery:
        """Send a consultation message once per key, whatever happens around it."""
        # A form of address not yet put in by the sender (a push, a campaign): the default.
        body = {"recipient": {"user_id": user_id}, "message": address.speak_all(message)}
        return await self.send(CONSULTATION, body, user_id, idempotency_key)

    async def send_template(
        self, user_id: str, template_id: str, data: dict[str, str], idempotency_key: str
    ) -> Delivery:
        """A ZBS template message (pre-approved by Zalo): reaches users outside the 7 days."""
        data = address.speak_all(data)
        body = {"user_id": user_id, "template_id": template_id, "template_data": data}
        return await self.send(TEMPLATE, body, user_id, idempotency_key)

    async def send(
        self, endpoint: str, body: dict[str, Any], user_id: str, idempotency_key: str
    ) -> Delivery:
        """POST `body` to `endpoint` once per key: retried when temporary, recorded always."""
        previous = await self._database.run(outbox.state, idempotency_key)
        if previous is not None and previous[0] == "sent":
            return Delivery("duplicate")
        # Zalo has no idempotency key: a send whose answer never came may have arrived, so
        # before sending it again Zalo's conversation history is asked. A row still pending
        # from an earlier process was cut short by a crash.
        begun_at = previous[1] if previous is not None else utc_now()
        unanswered = previous is not None and previous[0] == "pending"
        await self._database.run(outbox.begin, idempotency_key, user_id, endpoint, body)
        attempts = 0
        error: ZaloApiError | None = None
        while attempts < self._settings.zalo_max_attempts:
            if unanswered and (found := await self._arrived_already(user_id, body, begun_at)):
                await self._database.run(
                    outbox.settle, idempotency_key, "sent", attempts, None, None, found
                )
                return Delivery("duplicate", message_id=found)
            attempts += 1
            try:
                data = await self._call(endpoint, body)
            except ZaloApiError as exc:
                error = exc
                if not exc.temporary:
                    break
            except (ZaloUnavailable, RefreshTokenLost) as exc:
                error = ZaloApiError(-200 if isinstance(exc, ZaloUnavailable) else -216, str(exc))
                unanswered = isinstance(exc, ZaloNoAnswer)
                if isinstance(exc, RefreshTokenLost):
                    break
            else:
                message_id = (data.get("data") or {}).get("message_id")
                await self._database.run(
                    outbox.settle, idempotency_key, "sent", attempts, None, None, message_id
                )
                return Delivery("sent", message_id=message_id)
            if attempts < self._settings.zalo_max_attempts:  # no wait after the last try
                await self._back_off(attempts)
        assert error is not None
        status = "unreachable" if error.code in UNREACHABLE else "failed"
        log.warning("message %s to a user not delivered: %s", idempotency_key, error)
        await self._database.run(
            outbox.settle, idempotency_key, status, attempts, error.code, error.message
        )
        return Delivery(status, error_code=error.code)

    async def _arrived_already(
        self, user_id: str, body: dict[str, Any], begun_at: str
    ) -> str | None:
        """The id of a message with this text that the OA sent to the user since `begun_at`
        and that no outbox row claims; None when there is none or Zalo cannot say (then the
        message is sent again: twice is better than never)."""
        text = (body.get("message") or {}).get("text")
        if not text:
            return None  # a template or an image: Zalo's history shows no comparable text
        since = dt.datetime.fromisoformat(begun_at).timestamp() * 1000 - CLOCK_SKEW_MS
        query = {"user_id": user_id, "offset": 0, "count": CONVERSATION_PAGE}
        try:  # one try: when Zalo is down the send's own retries wait for it
            recent = (await self._get(CONVERSATION, query)).get("data")
            recent = recent if isinstance(recent, list) else []
        except (ZaloApiError, ZaloUnavailable, RefreshTokenLost) as exc:
            log.warning("could not check whether a message cut short arrived: %s", exc)
            return None
        claimed = await self._database.run(outbox.message_ids_of, user_id)
        for message in recent:
            message_id = str(message.get("message_id") or "")
            if (
                message.get("src") == 0  # sent by the OA
                and message.get("message") == text
                and float(message.get("time") or 0) >= since
                and message_id
                and message_id not in claimed
            ):
                return message_id
        return None

    async def tag_members(self, tag: str) -> list[str]:
        """The user ids the OA has under `tag` (officers tag citizens in the OA's manager),
        paged 50 at a time; temporary failures are retried, others raise ZaloApiError."""
        members: list[str] = []
        offset = 0
        while offset < USER_LIST_OFFSET_CAP:
            query = {"offset": offset, "count": USER_LIST_PAGE, "tag_name": tag}
            page = (await self._read(USER_LIST, query)).get("data") or {}
            users = page.get("users") or []
            members.extend(str(user["user_id"]) for user in users if user.get("user_id"))
            offset += len(users)
            if len(users) < USER_LIST_PAGE or offset >= int(page.get("total") or 0):
                return members
        log.warning("tag %r lists more than %d users: Zalo pages no further", tag, offset)
        return members

    async def _read(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        """GET with Zalo's `data` parameter, retried with backoff while the failure is temporary."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._get(path, query)
            except ZaloUnavailable as exc:
                error: Exception = exc
            except ZaloApiError as exc:
                if not exc.temporary:
                    raise
                error = exc
            if attempts >= self._settings.zalo_max_attempts:
                raise error
            await self._back_off(attempts)

    async def _back_off(self, attempts: int) -> None:
        """Exponential backoff between tries of one call."""
        await asyncio.sleep(self._settings.zalo_backoff_seconds * 2 ** (attempts - 1))

    async def _get(self, path: str, query: dict[str, Any]) -> dict[str, Any]:
        """One GET with Zalo's JSON-in-a-parameter convention (`?data={…}`)."""
        return await self._call(path, None, {"data": json.dumps(query)})

    async def _call(
        self, path: str, body: dict[str, Any] | None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One OA API call (POST `body`, or GET with `params`); on a token error refresh once
        and try again."""
        await self._until_sandbox_listens()
        token = await self.tokens.current()
        try:
            return await self._request(path, body, params, token)
        except ZaloApiError as exc:
            if exc.code not in TOKEN_ERRORS and exc.code != 401:
                raise
        token = await self.tokens.refresh(rejected_token=token)
        return await self._request(path, body, params, token)

    async def _request(
        self,
        path: str,
        body: dict[str, Any] | None,
        params: dict[str, str] | None,
        token: str,
    ) -> dict[str, Any]:
        url = f"{self._settings.zalo_api_base}{path}"
        timeout = aiohttp.ClientTimeout(total=self._settings.zalo_timeout_seconds)
        method = "GET" if body is None else "POST"
        try:
            async with self._session.request(
                method,
                url,
                json=body,
                params=params,
                headers={"access_token": token},
                timeout=timeout,
            ) as resp:
                if resp.status == 401:
                    raise ZaloApiError(401, "HTTP 401")
                if resp.status >= 500:
                    raise ZaloUnavailable(f"HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise ZaloNoAnswer(exc.__class__.__name__) from exc
        if not isinstance(data, dict):
            raise ZaloUnavailable("the answer was not a JSON object")
        code = data.get("error", 0)
        if code != 0:
            raise ZaloApiError(int(code), str(data.get("message", "")))
        return data
