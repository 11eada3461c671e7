"""Delivers the notifications that status changes owe their followers, on the processing loop.

Each notification has an idempotency key that also keys its outbox row, so after a crash
between sending and recording, the retry finds the message already sent and only records.
A notification that cannot be sent (a temporary Zalo error, or any error here) is tried
again after a growing pause and set aside as failed after MAX_ATTEMPTS; rows are taken
when their next attempt is due, so one that keeps failing never holds another back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from bot.content import LiveContent
from bot.dossiers.status_wording import status_text
from bot.storage import Database, dossier_records
from bot.zalo.errors import TEMPORARY, TOKEN_ERRORS
from bot.zalo.push import Template
from bot.zalo.sender import Sender

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RETRY_CAP_SECONDS = 30 * 60
BATCH = 200


def retry_delay(attempts: int, base_seconds: float) -> float:
    """The pause after the `attempts`-th failed attempt: base, 2·base, 4·base… capped."""
    return min(base_seconds * 2 ** (attempts - 1), RETRY_CAP_SECONDS)


def _worth_retrying(error_code: int | None) -> bool:
    """Zalo may take it later: temporary errors, its 5xx, and a token an officer can renew."""
    return error_code is not None and (
        error_code in TEMPORARY or error_code in TOKEN_ERRORS or error_code >= 500
    )


class NotificationDispatcher:
    def __init__(
        self,
        database: Database,
        sender: Sender,
        content: LiveContent,
        template_id: str = "",
        interval_seconds: float = 5.0,
        retry_seconds: float = 30.0,
        on_result_ready: Callable[[str, str, dt.date], Awaitable[object]] | None = None,
    ) -> None:
        """`on_result_ready(user_id, code, pickup date)` runs once a citizen has been told
        a result is ready (the scheduler reminds them the day before)."""
        self._on_result_ready = on_result_ready
        self._database = database
        self._sender = sender
        self._content = content
        self._template_id = template_id
        self._interval = interval_seconds
        self._retry_seconds = retry_seconds
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start delivering (call on the processing loop); pending ones from before go first."""
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
        """One round over (at most BATCH) due notifications; returns how many it took."""
        batch = await self._database.run(dossier_records.pending_notifications, BATCH)
        for row in batch:
            await self._deliver(row)
        return len(batch)

    async def _deliver(self, row: dict) -> str:
        try:
            status, channel, error_code = await self._send(row)
        except Exception:
            log.exception("dossier %s: a notification could not be sent", row["code"])
            status, channel, error_code = "retry", None, None
        retry_at = None
        if status == "retry":
            attempts = row["attempts"] + 1
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            pause = dt.timedelta(seconds=retry_delay(attempts, self._retry_seconds))
            retry_at = (dt.datetime.now(dt.timezone.utc) + pause).isoformat(timespec="milliseconds")
        await self._database.run(
            dossier_records.settle_notification,
            row["idempotency_key"],
            status,
            channel,
            error_code,
            retry_at if status == "pending" else None,
        )
        return status

    async def _send(self, row: dict) -> tuple[str, str | None, int | None]:
        """Send one notification: "sent", "unreachable", "failed" (for good) or "retry"."""
        library = self._content.library
        text = status_text(library, row["code"], row["status"], row["detail"])
        template = (
            Template(self._template_id, {"ma_ho_so": row["code"], "trang_thai": row["status"]})
            if self._template_id
            else None
        )
        result = await self._sender.push(
            row["user_id"], {"text": text}, row["idempotency_key"], template
        )
        delivery = result.delivery
        if delivery.status in ("sent", "duplicate"):
            if row["status"] == "result_ready" and self._on_result_ready is not None:
                # Sent is sent: a reminder that cannot be scheduled (a pickup date of
                # 0001-01-01 has no day before) must not keep this row pending.
                try:
                    pickup = dt.date.fromisoformat(row["detail"]["pickup_date"][:10])
                    await self._on_result_ready(row["user_id"], row["code"], pickup)
                except Exception:
                    log.exception("dossier %s: no reminder before the pickup date", row["code"])
            return "sent", result.channel, delivery.error_code
        if delivery.status == "unreachable":
            return "unreachable", result.channel, delivery.error_code
        if _worth_retrying(delivery.error_code):
            return "retry", result.channel, delivery.error_code
        return "failed", result.channel, delivery.error_code
