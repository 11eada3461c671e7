"""A conversation's id in Rasa's tracker store: the Zalo user id, prefixed by the commune.

Zalo user ids are per OA, and the tracker store is shared by every commune, so a commune's
conversations are kept apart by `<commune>:<user id>`; the default commune (the
single-commune setup) keeps the bare user id, as before communes existed.
"""

from __future__ import annotations

from bot.storage.tracker_reader import Senders

SEPARATOR = ":"  # Zalo user ids are digits; a commune's slug never holds one (slugs.py)


def conversation_id(commune: str, user_id: str) -> str:
    """The tracker's sender id of `user_id` writing to `commune` ("" the default commune)."""
    return f"{commune}{SEPARATOR}{user_id}" if commune else user_id


def commune_of(conversation: str) -> str:
    """The commune a conversation belongs to ("" the default commune)."""
    commune, separator, _ = conversation.partition(SEPARATOR)
    return commune if separator else ""


def citizen_of(conversation: str) -> str:
    """The Zalo user id a conversation is with, the one the commune's OA sends to."""
    _, separator, user_id = conversation.partition(SEPARATOR)
    return user_id if separator else conversation


def senders_of(commune: str) -> Senders:
    """A commune's conversations in the tracker store (`<commune>:<user id>`, a range the
    sender index serves), or the default commune's (ids without a commune)."""
    if not commune:
        return Senders(not_like=conversation_id("%", "%"))
    first = conversation_id(commune, "")
    return Senders(low=first, high=first[:-1] + chr(ord(SEPARATOR) + 1))
