"""Zalo webhook events as the service sees them.

Zalo sends every id and the timestamp as strings; follow/unfollow have another shape
and no msg_id, so their key is built from event name, user and timestamp.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from bot.dossiers.dossier_model import keyed_hash, normalise_phone

TEXT = "user_send_text"
FOLLOW = "follow"
UNFOLLOW = "unfollow"
SUBMIT_INFO = "user_submit_info"  # the citizen filled in the OA's user-info form
WITHDRAW = "user_withdraw"  # a data-deletion request: everything about the user goes
# Delivery and seen receipts: sent by the OA's side, so the citizen is their recipient.
RECEIPTS = frozenset({"user_received_message", "user_seen_message"})
# What is kept of a user_submit_info form: the phone's keyed hash, under this name.
PHONE_HASH = "phone_hash"
# Zalo's timestamps are 13 digits of milliseconds; more could not be a time (nor an SQLite integer).
TIMESTAMP_DIGITS = 16
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
        return self.name.startswith("oa_send_") or self.name in RECEIPTS


def timestamp_of(payload: dict[str, Any]) -> str:
    """The `timestamp` string exactly as sent (it is part of the signature)."""
    timestamp = payload.get("timestamp")
    if isinstance(timestamp, int) and not isinstance(timestamp, bool):
        return str(timestamp)
    # isascii: "²" and other Unicode digits pass isdigit() but not int()
    if not isinstance(timestamp, str) or not (timestamp.isascii() and timestamp.isdigit()):
        raise MalformedEvent("timestamp must be a string of milliseconds")
    if len(timestamp) > TIMESTAMP_DIGITS:
        raise MalformedEvent(f"timestamp has more than {TIMESTAMP_DIGITS} digits")
    return timestamp


def parse_event(payload: Any) -> ZaloEvent:
    if not isinstance(payload, dict):
        raise MalformedEvent("the body must be a JSON object")
    try:  # JSON may escape half a UTF-16 pair ("\ud800"): no database can store it
        json.dumps(payload, ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        raise MalformedEvent("the event holds a lone UTF-16 surrogate") from exc
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
    """The citizen's OA-scoped id; `user_id_by_app` (app-scoped) only when there is none."""
    if name == WITHDRAW:
        user_id = _withdrawing_user(payload)
    else:
        if name in (FOLLOW, UNFOLLOW):
            holder = payload.get("follower")
        elif name.startswith("oa_send_") or name in RECEIPTS:
            holder = payload.get("recipient")  # the OA sent: the citizen received
        else:
            holder = payload.get("sender")
        user_id = holder.get("id") if isinstance(holder, dict) else None
    if user_id is None:
        user_id = payload.get("user_id_by_app")
    if user_id is not None and not isinstance(user_id, str | int):
        raise MalformedEvent("the user id must be a string")
    return str(user_id) if user_id is not None else None


def _withdrawing_user(payload: dict[str, Any]) -> object:
    """`user_withdraw`'s shape is not documented and no public integration shows one. Assumed
    until confirmed: the OA-scoped id in `sender.id`, else `follower.id`, else a top-level
    `user_id` (docs/reliability.md); `user_id_by_app` is the last resort."""
    for holder in ("sender", "follower"):
        part = payload.get(holder)
        if isinstance(part, dict) and part.get("id") is not None:
            return part["id"]
    return payload.get("user_id")


def redact_shared_info(event: ZaloEvent, secret: bytes) -> ZaloEvent:
    """A `user_submit_info` event without what the citizen typed into the OA's form (name,
    phone, address…): only the phone's keyed hash stays, which proves a dossier's owner.
    Done before the event is stored, so the inbox never holds the plain values."""
    if event.name != SUBMIT_INFO or "info" not in event.payload:
        return event
    info = event.payload["info"]
    phone = normalise_phone(str(info.get("phone") or "")) if isinstance(info, dict) else ""
    kept = {PHONE_HASH: keyed_hash(phone, secret)} if len(phone) == 10 else {}
    return dataclasses.replace(event, payload={**event.payload, "info": kept})
