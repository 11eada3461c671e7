"""Delivers the notifications that status changes owe their followers, on the worker loop.

Each notification has an idempotency key that also keys its outbox row, so after a crash
between sending and recording, the retry finds the message already sent and only records.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot import content
from bot.dossiers.messages import status_text
from bot.storage import Database, dossiers
from bot.zalo.errors import TEMPORARY
from bot.zalo.push import Pusher, Template

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BATCH = 200


class NotificationDispatcher:
    def __init__(
        self,
        database: Database,
        pusher: Pusher,
        template_id: str = "",
        interval_seconds: float = 5.0,
        on_result_ready: Callable[[str, str, dt.date], Awaitable[object]] | None = None,
    ) -> None:
        """`on_result_ready(user_id, code, pickup date)` runs once a citizen has been told
        a result is ready (the scheduler reminds them the day before)."""
        self._on_result_ready = on_result_ready
        self._database = database
        self._pusher = pusher
        self._template_id = template_id
        self._interval = interval_seconds
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start delivering (call on the worker's loop); pending ones from before go first."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="dossier-notifications")

    def kick(self) -> None:
        """New notifications are waiting (safe to call from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                if await self.deliver_pending() == BATCH:
                    continue  # more are waiting
            except Exception:
                log.exception("dossier notifications: delivery round failed; retrying")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()

    async def deliver_pending(self) -> int:
        """One round over (at most BATCH) pending notifications; returns how many it took."""
        batch = await self._database.run(dossiers.pending_notifications, BATCH)
        for row in batch:
            await self._deliver(row)
        return len(batch)

    async def _deliver(self, row: dict) -> str:
        library = content.current()
        text = status_text(library, row["code"], row["status"], row["detail"])
        template = (
            Template(self._template_id, {"ma_ho_so": row["code"], "trang_thai": row["status"]})
            if self._template_id
            else None
        )
        result = await self._pusher.push(
            row["user_id"], {"text": text}, row["idempotency_key"], template
        )
        delivery = result.delivery
        if delivery.status in ("sent", "duplicate"):
            status = "sent"
            if row["status"] == "result_ready" and self._on_result_ready is not None:
                # Sent is sent: a reminder that cannot be scheduled (a pickup date of
                # 0001-01-01 has no day before) must not keep this row, and every row
                # behind it, pending for ever.
                try:
                    pickup = dt.date.fromisoformat(row["detail"]["pickup_date"][:10])
                    await self._on_result_ready(row["user_id"], row["code"], pickup)
                except Exception:
                    log.exception("dossier %s: no reminder before the pickup date", row["code"])
        elif delivery.status == "unreachable":
            status = "unreachable"
        elif delivery.error_code in TEMPORARY or delivery.error_code == -200:
            attempts = await self._database.run(
                dossiers.notification_attempts, row["idempotency_key"]
            )
            status = "failed" if attempts + 1 >= MAX_ATTEMPTS else "pending"
        else:
            status = "failed"
        await self._database.run(
            dossiers.settle_notification,
            row["idempotency_key"],
            status,
            result.channel,
            delivery.error_code,
        )
        return status
