"""POST /webhook/zalo: verify, record durably, answer 200 at once, process in the background.

Zalo wants an answer within 2 seconds and retries (then unsubscribes the app) otherwise,
so a signed event is always acknowledged once it is on disk, even one we cannot use.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable

from aiohttp import web

from bot.logs import REQUEST_ID
from bot.settings import Settings
from bot.storage import Database, inbox
from bot.zalo import signature
from bot.zalo.events import MalformedEvent, ZaloEvent, parse_event, timestamp_of

log = logging.getLogger(__name__)


class ZaloWebhook:
    def __init__(
        self, settings: Settings, database: Database, submit: Callable[[ZaloEvent], None]
    ) -> None:
        self._settings = settings
        self._database = database
        self._submit = submit
        # False while shutting down: Zalo gets 503 and retries later, nothing is lost.
        self.accepting = True

    def register(self, app: web.Application, path: str = "/webhook/zalo") -> None:
        app.router.add_post(path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        if not self.accepting:
            return _answer(503, "shutting down; retry later")
        raw = await request.read()
        try:
            payload = json.loads(raw)
            timestamp = timestamp_of(payload) if isinstance(payload, dict) else None
        except (ValueError, RecursionError, MalformedEvent):  # Recursion: nested ~1,000 deep
            payload, timestamp = None, None
        if timestamp is None:
            log.warning("webhook: refused a body that is not a Zalo event (%d bytes)", len(raw))
            return _answer(400, "the body is not a Zalo event")
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
            event = parse_event(payload)
        except MalformedEvent as exc:
            # Signed by Zalo but unreadable: acknowledge, or Zalo retries and unsubscribes us.
            log.error("webhook: signed event not understood (%s); acknowledged and ignored", exc)
            return _answer(200, "ignored: " + str(exc))
        REQUEST_ID.set(event.request_id)
        try:
            is_new = await self._database.run(
                inbox.record, event.key, event.name, event.user_id, event.timestamp_ms, payload
            )
        except sqlite3.OperationalError as exc:  # locked past the busy timeout, disk full…
            # Not on disk, so not acknowledged: Zalo retries the same event later.
            log.error("webhook: could not record the event (%s); answered 503", exc)
            return _answer(503, "the event could not be recorded; retry later")
        if is_new:
            self._submit(event)
        return _answer(200, "accepted" if is_new else "duplicate")


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
