"""Rasa's OutputChannel for Zalo: each bot reply becomes one or more OA messages.

Every message gets an idempotency key derived from the event that caused it, so
re-processing an event after a crash never sends the same reply twice.
"""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import OutputChannel

from bot.communes.conversation_ids import citizen_of
from bot.content import address
from bot.nlu.forms_of_address import Address
from bot.zalo import message_shapes
from bot.zalo.client import Delivery, ZaloClient


class ZaloOutputChannel(OutputChannel):
    @classmethod
    def name(cls) -> str:
        return "zalo"

    def __init__(self, client: ZaloClient, event_key: str, form: Address = address.DEFAULT) -> None:
        self._client = client
        self._event_key = event_key
        self._form = form
        self._sent = 0
        self.deliveries: list[Delivery] = []
        self.buttons: list[dict[str, Any]] = []  # every button offered, in order

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in message_shapes.split_text(text):
            await self._send(recipient_id, message_shapes.text(part))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        self.buttons.extend(buttons)
        for message in message_shapes.with_buttons(text, buttons):
            await self._send(recipient_id, message)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self._send(recipient_id, message_shapes.image(image))

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        """A message already in the OA's shape (e.g. a user-info request)."""
        await self._send(recipient_id, json_message)

    async def _send(self, recipient_id: str, message: dict[str, Any]) -> None:
        """`recipient_id`: Rasa's sender id, the conversation's (a commune's is prefixed);
        the commune's OA sends to the citizen's Zalo user id."""
        self._sent += 1
        key = f"{self._event_key}#{self._sent}"
        message = address.speak_all(message, self._form)
        user_id = citizen_of(recipient_id)
        self.deliveries.append(await self._client.send_message(user_id, message, key))
