"""Guides as chat replies: a summary with section buttons, sections, and single steps.

Everything here is pure (content in, text and buttons out), so it is tested directly and
`citizenbot content check` can render every guide to check Zalo's limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.content import passages, yes_no
from bot.content.content_model import Faq, Guide, Library
from bot.content.writing import HEDGE, hedges
from bot.nlu.aspects import is_yes_no
from bot.zalo.message_shapes import MAX_BUTTONS

# A message asking more than this many things besides the one answered: this many offered.
MAX_OFFERED_QUESTIONS = 3
# Every aspect a citizen can ask about a procedure (bot/nlu/aspects.py names them).
SECTIONS = ("documents", "fees", "time", "deadline", "online", "where", "result", "who")
# The guide field (content/guides/*.yml) each section is written in.
FIELDS = {
    "documents": "documents",
    "fees": "fees",
    "time": "processing_time",
    "deadline": "deadlines",
    "online": "online",
    "where": "office",
    "result": "result",
    "who": "who",
}


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def section_payload(guide: Guide, section: str) -> str:
    return f"/{guide.intent}" + json.dumps({"guide_section": section})


def _button(library: Library, key: str, payload: str) -> dict[str, str]:
    return {"title": library.ui["guide_buttons"][key], "payload": payload}


def section_buttons(
    library: Library, guide: Guide, exclude: str = "", limit: int = MAX_BUTTONS
) -> list[dict[str, str]]:
    """The sections this guide has (but `exclude`), then steps and an officer."""
    sections = [
        _button(library, key, section_payload(guide, key))
        for key in ("documents", "fees", "time", "online")
        if key != exclude and section_text(library, guide, key)
    ]
    tail = [_button(library, "steps", "/next_step"), _button(library, "human", "/request_human")]
    return sections[: limit - len(tail)] + tail


def summary(library: Library, guide: Guide) -> list[Reply]:
    """The opening: summary with the first buttons, then a second message with the rest."""
    reviewed = library.text("last_reviewed").format(date=guide.last_reviewed.strftime("%d/%m/%Y"))
    text = f"{guide.title.upper()}\n\n{guide.summary}\n\n{reviewed}"
    buttons = section_buttons(library, guide, limit=2 * 3)
    if len(buttons) <= 3:
        return [Reply(text, buttons)]
    return [Reply(text, buttons[:3]), Reply(library.text("guide_more"), buttons[3:])]


def section_text(library: Library, guide: Guide, section: str) -> str:
    """The body of one section, or "" when this guide does not have it."""
    if section == "documents" and guide.documents:
        return "\n".join(f"{n}. {item}" for n, item in enumerate(guide.documents, 1))
    if section == "fees":
        return guide.fees
    if section == "time":
        return "\n\n".join(part for part in (guide.processing_time, guide.deadlines) if part)
    if section == "deadline":
        return guide.deadlines
    if section == "online" and guide.online:
        return "\n\n".join(
            f"{r.portal}: {r.path}" + (f"\n{r.url}" if r.url else "") for r in guide.online
        )
    if section == "where":
        return guide.office
    if section == "result":
        return guide.result
    if section == "who":
        return guide.who
    return ""


def section(library: Library, guide: Guide, name: str) -> list[Reply]:
    body = section_text(library, guide, name)
    if not body:
        return summary(library, guide)
    title = library.ui["section_titles"][name]
    text = f"{title} – {guide.title}\n\n{body}"
    return [Reply(text, section_buttons(library, guide, exclude=name))]


def aspect_answer(library: Library, guide: Guide, aspect: str, question: str) -> list[Reply]:
    """The section a question asks for, opening with the answer; [] when the guide lacks it.

    A yes/no question about who must or may ("con 14 tuổi có phải làm căn cước không")
    opens with its answer word and the sentence of the guide's `who` text that says so.
    """
    if not section_text(library, guide, aspect):
        return []
    replies = section(library, guide, aspect)
    if aspect == "who" and is_yes_no(question):
        told = [
            passage
            for passage in passages.of_guide(guide)
            if passage.section != "who" or yes_no.fits(question, passage.text)
        ]
        match = passages.best(question, told, guide.title, within="who")
        words = library.ui["yes_no"]
        found = yes_no.below_minimum(question, guide.who, words)
        if found is None:  # an age below every minimum answers whatever is asked of it
            found = (
                yes_no.polarity(question, match.passage.text, words)
                if match is not None
                else yes_no.answer(question, guide.who, words, ignore=guide.title)
            )
            subject = f"{guide.title} {guide.summary}"
            if (
                found is not None
                and found.word
                and yes_no.asks_beyond(question, found.sentence, subject)
            ):
                found = None  # "… có cần bố mẹ đi cùng không": not what its sentence says
        if found is not None:
            opening = f"{found.word} {_stated(guide, found.sentence)}".strip()
            # the section follows without the sentence just said
            title = library.ui["section_titles"][aspect]
            rest = _without(guide.who, found.sentence)
            text = f"{opening}\n\n{title} – {guide.title}" + (f"\n\n{rest}" if rest else "")
            replies[0] = Reply(text, replies[0].buttons)
    return replies


def _stated(guide: Guide, sentence: str) -> str:
    """One of the guide's sentences said on its own: a sentence cut at ";" ("…; người từ đủ
    70 đến dưới 75 tuổi…") opens in capitals and ends with a full stop ("…phải có thẻ căn
    cước;" read as unfinished), and keeps the hedge that closed it (an [S] fact)."""
    said = sentence[:1].upper() + sentence[1:].rstrip(" ;,:")
    if passages.hedged(guide, sentence) and not hedges(said):
        said = f"{said.rstrip('.')}; {HEDGE}"
    return said if said.endswith((".", "!", "?", ")")) else f"{said}."


def _without(body: str, sentence: str) -> str:
    """`body` with `sentence` (one of its sentences or ";"-clauses) taken out."""
    at = body.find(sentence)
    if at < 0:
        return body
    before, rest = body[:at], body[at + len(sentence) :]
    after = rest.lstrip(" ;,:.")
    ended_a_sentence = sentence.rstrip().endswith(".") or rest.lstrip().startswith(".")
    if ended_a_sentence and before.rstrip().endswith((";", ",")):
        before = before.rstrip()[:-1] + ". "  # "…hằng tháng; [taken out.] Trợ cấp…"
    if not before.strip() or before.rstrip().endswith((".", "!", "?", "\n")):
        after = after[:1].upper() + after[1:]
    return (before + after).strip()


def step(library: Library, guide: Guide, number: int) -> list[Reply]:
    """Step `number` (1-based) with Next/Back buttons; past the last step, a closing line."""
    total = len(guide.steps)
    heading = library.text("step_heading").format(n=number, total=total)
    buttons = []
    if number < total:
        buttons.append(_button(library, "next", "/next_step"))
    if number > 1:
        buttons.append(_button(library, "back", "/previous_step"))
    buttons.append(_button(library, "human", "/request_human"))
    replies = [Reply(f"{heading} – {guide.title}\n\n{guide.steps[number - 1]}", buttons)]
    if number == total:
        replies.append(Reply(library.text("steps_done")))
    return replies


def passage_answer(library: Library, guide: Guide, sentence: str) -> list[Reply]:
    """The guide's sentence that answers a precise question, with the way into the guide."""
    said = " ".join([_stated(guide, sentence), *passages.exceptions_after(guide, sentence)])
    return [Reply(f"{said}\n\n({guide.title})", section_buttons(library, guide))]


def guide_silent(library: Library, guide: Guide) -> list[Reply]:
    """The guide says nothing on the case asked: an officer will, with the way into the guide."""
    return [
        Reply(f"{library.text('guide_silent')}\n\n({guide.title})", section_buttons(library, guide))
    ]


def also_asked(library: Library, questions: list[str]) -> list[Reply]:
    """The message's other questions, offered: each written out in full (a button shows only
    its first 20 characters) and a button that asks it."""
    offered = questions[:MAX_OFFERED_QUESTIONS]
    if not offered:
        return []
    listed = "\n".join(f"– {q}" for q in offered)
    buttons = [{"title": q, "payload": q} for q in offered]
    return [Reply(f"{library.text('also_asked')}\n{listed}", buttons)]


def faq_answer(library: Library, guide: Guide, faq: Faq) -> list[Reply]:
    """An FAQ's answer, with the way into the whole guide."""
    buttons = [
        _button(library, "full_guide", f"/{guide.intent}"),
        _button(library, "steps", "/next_step"),
        _button(library, "human", "/request_human"),
    ]
    return [Reply(f"{faq.answer}\n\n({guide.title})", buttons)]
