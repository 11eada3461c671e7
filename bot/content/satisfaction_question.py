"""The one satisfaction question, the same in the chat (after a guide) and in the pushes
that follow a closed ticket or a released handover."""

from __future__ import annotations

import json

from bot.content import Library
from bot.content.render import Reply
from bot.storage.ratings import SCORES


def rating_payload(score: str, subject: str) -> str:
    """A hidden button payload Rasa reads as rate_service with the score and what is rated."""
    return "/rate_service" + json.dumps({"rating": score, "rating_subject": subject})


def question(library: Library, subject: str, lead: str = "") -> Reply:
    """ "Are you satisfied?" with one button per score; `lead` goes before the question."""
    choices = library.ui["satisfaction_choices"]
    text = library.text("satisfaction_question")
    return Reply(
        f"{lead}\n\n{text}" if lead else text,
        [{"title": choices[score], "payload": rating_payload(score, subject)} for score in SCORES],
    )
