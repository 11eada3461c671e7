"""POST /webhook/zalo: verify, record durably, answer 200 at once, process in the background.

Zalo wants an answer within 2 seconds and retries (then unsubscribes the app) otherwise,
so a signed event is acknowledged as soon as it is on disk. A body that is not a Zalo event
(signed or not) gets 400 with the reason, never a 5xx.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from aiohttp import web

from bot.logs import REQUEST_ID
from bot.settings import Settings
from bot.storage import Database, inbox
from bot.storage.database import UNAVAILABLE
from bot.zalo import signature
from bot.zalo.events import (
    MalformedEvent,
    ZaloEvent,
    parse_event,
    redact_shared_info,
    timestamp_of,
)

log = logging.getLogger(__name__)
PROBE_ANSWER = "citizenbot's Zalo webhook"


class ZaloWebhook:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        submit: Callable[[ZaloEvent], None],
        secret: bytes,
    ) -> None:
        self._settings = settings
        self._database = database
        self._submit = submit
        self._secret = secret  # keys the hash of a phone shared through the OA's form
        # False while shutting down: Zalo gets 503 and retries later, nothing is lost.
        self.accepting = True

    def register(self, app: web.Application, path: str = "/webhook/zalo") -> None:
        app.router.add_post(path, self.handle)
        app.router.add_get(path, self.probe, allow_head=False)

    async def probe(self, request: web.Request) -> web.Response:
        """Some integrations report that Zalo's developer console checks the URL with a GET."""
        return _answer(200, PROBE_ANSWER)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.accepting:
            return _answer(503, "shutting down; retry later")
        raw = await request.read()
        try:
            payload = json.loads(raw)
            timestamp = timestamp_of(payload) if isinstance(payload, dict) and payload else None
        except (ValueError, RecursionError):  # Recursion: nested ~1,000 deep
            return _refuse(raw, "the body is not JSON")
        except MalformedEvent as exc:
            return _refuse(raw, str(exc))
        if payload == {}:
            # Setting the webhook URL in Zalo's developer console may POST `{}`, unsigned:
            # there is nothing to verify, record or process.
            log.info("webhook: answered a probe (an empty JSON object)")
            return _answer(200, PROBE_ANSWER)
        if timestamp is None:
            return _refuse(raw, "the body is not a Zalo event")
        if not signature.is_valid(
            request.headers.get(signature.HEADER),
            self._settings.zalo_app_id,
            raw,
            timestamp,
            self._settings.zalo_oa_secret_key,
        ):
            log.warning("webhook: refused an event with a wrong or missing signature")
            return _answer(401, "wrong or missing X-ZEvent-Signature")
        age = time.time() - int(timestamp) / 1000
        if abs(age) > self._settings.replay_window_seconds:
            log.warning("webhook: refused an event %d s outside the replay window", int(age))
            return _answer(403, "the event timestamp is outside the replay window")
        try:
            event = redact_shared_info(parse_event(payload), self._secret)
        except MalformedEvent as exc:
            log.error("webhook: refused a signed event that is not understood (%s)", exc)
            return _answer(400, str(exc))
        REQUEST_ID.set(event.request_id)
        try:
            is_new = await self._database.run(
                inbox.record,
                event.key,
                event.name,
                event.user_id,
                event.timestamp_ms,
                event.payload,
            )
        except UNAVAILABLE as exc:  # locked past the busy timeout, disk full…
            # Not on disk, so not acknowledged: Zalo retries the same event later.
            log.error("webhook: could not record the event (%s); answered 503", exc)
            return _answer(503, "the event could not be recorded; retry later")
        if is_new:
            self._submit(event)
        return _answer(200, "accepted" if is_new else "duplicate")


def _refuse(raw: bytes, reason: str) -> web.Response:
    log.warning("webhook: refused a body that is not a Zalo event (%d bytes): %s", len(raw), reason)
    return _answer(400, reason)


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
