"""Messages the service starts (notifications, campaign messages, reminders, officers'
answers), sent by the OA's rules on who may receive what.

- A consultation message reaches a citizen who interacted with the OA in the last 7 days.
- Beyond that, only a ZBS template message (by user id) does, when an officer configured an
  approved template for this kind of message.
- Otherwise the citizen is not reachable: recorded, never retried as if it were temporary.
(ZNS by phone needs the citizen's phone and consent, which the service does not keep.)

The Sender (bot/zalo/sender.py) applies these rules to every such message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.content import address
from bot.nlu.forms_of_address import Address
from bot.storage import Database, users
from bot.zalo.client import Delivery, ZaloClient

INTERACTION_WINDOW = dt.timedelta(days=7)
NOT_REACHABLE = "unreachable"


@dataclass(frozen=True)
class Template:
    """An approved ZBS template and the values to fill it with."""

    template_id: str
    data: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PushResult:
    channel: str  # consultation | zbs_template | none
    delivery: Delivery


def within_window(last_interaction_at: str | None, now: dt.datetime) -> bool:
    if not last_interaction_at:
        return False
    return now - dt.datetime.fromisoformat(last_interaction_at) <= INTERACTION_WINDOW


class Pusher:
    def __init__(self, database: Database, client: ZaloClient) -> None:
        self._database = database
        self._client = client

    async def push(
        self,
        user_id: str,
        message: dict[str, Any],
        idempotency_key: str,
        template: Template | None = None,
        now: dt.datetime | None = None,
    ) -> PushResult:
        """Send once per key by the best channel the rules allow; say which and how it went."""
        now = now or dt.datetime.now(dt.timezone.utc)
        user = await self._database.run(users.get, user_id)
        if user and not user["followed"]:
            return PushResult("none", Delivery(NOT_REACHABLE, error_code=-213))
        if user and within_window(user["last_interaction_at"], now):
            form = await self._database.run(users.form_of_address, user_id)
            if form is not None:
                message = address.speak_all(message, Address(*form))
            delivery = await self._client.send_message(user_id, message, idempotency_key)
            if delivery.error_code not in (-230, -232) or template is None:
                return PushResult("consultation", delivery)
        if template is not None:
            delivery = await self._client.send_template(
                user_id, template.template_id, template.data, idempotency_key + ":zbs"
            )
            return PushResult("zbs_template", delivery)
        return PushResult("none", Delivery(NOT_REACHABLE, error_code=-230))
