"""Zalo webhook events as the service sees them.

Zalo sends every id and the timestamp as strings; follow/unfollow have another shape
and no msg_id, so their key is built from event name, user and timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TEXT = "user_send_text"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
SUBMIT_INFO = "user_submit_info"  # the citizen filled in the OA's user-info form
WITHDRAW = "user_withdraw"  # a data-deletion request: everything about the user goes
# What a user can send that is not text; each gets a polite "text only" answer.
NON_TEXT = frozenset(
    f"user_send_{kind}"
    for kind in (
        "image",
        "link",
        "audio",
        "video",
        "sticker",
        "location",
        "business_card",
        "file",
        "gif",
    )
)


class MalformedEvent(ValueError):
    """The body is not a Zalo event the service can read."""


@dataclass(frozen=True)
class ZaloEvent:
    name: str
    key: str
    user_id: str | None
    timestamp_ms: int
    payload: dict[str, Any]

    @property
    def request_id(self) -> str:
        """What logs call this event: its key, unless the key holds the user's id."""
        if self.user_id and self.user_id in self.key:
            return f"{self.name}:{self.timestamp_ms}"
        return self.key

    @property
    def text(self) -> str:
        message = self.payload.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        return text if isinstance(text, str) else ""

    @property
    def is_echo_or_receipt(self) -> bool:
        """The OA's own sends and delivery/seen receipts: record, never answer (reply loops)."""
        return self.name.startswith("oa_send_") or self.name in (
            "user_received_message",
            "user_seen_message",
        )


def timestamp_of(payload: dict[str, Any]) -> str:
    """The `timestamp` string exactly as sent (it is part of the signature)."""
    timestamp = payload.get("timestamp")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        return str(timestamp)
    # isascii: "²" and other Unicode digits pass isdigit() but not int()
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        raise MalformedEvent("timestamp must be a string of milliseconds")
    return timestamp


def parse_event(payload: Any) -> ZaloEvent:
    if not isinstance(payload, dict):
        raise MalformedEvent("the body must be a JSON object")
    name = payload.get("event_name")
    if not isinstance(name, str) or not name:
        raise MalformedEvent("event_name is missing")
    timestamp = int(timestamp_of(payload))
    user_id = _user_id(name, payload)
    message = payload.get("message")
    msg_id = message.get("msg_id") if isinstance(message, dict) else None
    if isinstance(msg_id, str) and msg_id:
        key = (
            f"{name}:{msg_id}" if name.startswith(("oa_send_", "user_seen", "user_rec")) else msg_id
        )
    else:
        key = f"{name}:{user_id}:{timestamp}"
    return ZaloEvent(name=name, key=key, user_id=user_id, timestamp_ms=timestamp, payload=payload)


def _user_id(name: str, payload: dict[str, Any]) -> str | None:
    if name in (FOLLOW, UNFOLLOW):
        holder = payload.get("follower")
    elif name.startswith("oa_send_"):
        holder = payload.get("recipient")
    elif name == WITHDRAW:  # its shape is not documented: the id wherever it is
        holder = next(
            (
                payload[part]
                for part in ("sender", "follower", "user")
                if isinstance(payload.get(part), dict) and payload[part].get("id") is not None
            ),
            None,
        )
    else:
        holder = payload.get("sender")
    user_id = holder.get("id") if isinstance(holder, dict) else None
    if user_id is None:
        user_id = payload.get("user_id_by_app")
    if user_id is not None and not isinstance(user_id, str | int):
        raise MalformedEvent("the user id must be a string")
    return str(user_id) if user_id is not None else None
