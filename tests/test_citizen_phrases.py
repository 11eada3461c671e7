"""Every phrase the assistant tells citizens to type (gõ "menu", nhắn "xem lời nhắc") does
what the assistant says it does, sent through the service, inside and outside the
reminder form. A phrase added to content/ or domain.yml needs its row in PHRASES."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from rasa.shared.core.events import ActionExecuted, UserUttered

from bot.content.checks import SAMPLES
from tests.conftest import PROJECT, Service
from tests.test_reminders import turn

SOURCES = [
    PROJECT / "domain.yml",
    PROJECT / "content" / "ui.yml",
    *sorted((PROJECT / "content" / "guides").glob("*.yml")),
    *sorted((PROJECT / "content" / "campaigns").glob("*.yml")),
]
QUOTED = re.compile(r'["“«]([^"“”«»]+)["”»]')
# What comes right before a phrase to type: «gõ "…"», «nhắn "…"», «ví dụ: "…"», and after
# one such phrase, «hoặc "…"» or «, "…"».
CUE = re.compile(r"(?:\bgõ|\bnhắn|\bví dụ)\s*:?\s*$", re.IGNORECASE)
NEXT = re.compile(r"^\s*(?:,|hoặc)\s*$")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

ANYTIME = "anytime"  # said on its own, outside any form and inside the reminder form
REMINDER_TIME = "reminder time"  # the answer to "nhắc vào ngày giờ nào?"
BIRTH_DATE = "birth date"  # the answer to "Bé sinh ngày nào?"


@dataclass(frozen=True)
class Phrase:
    purpose: str
    intent: str | None  # None: an answer to a form's question, any intent
    actions: tuple[str, ...]  # each must run on this turn
    reply: str  # a piece of the answer that shows the purpose was served
    context: str = ANYTIME


PHRASES = {
    "menu": Phrase("show the main menu", "help", ("utter_help",), "Anh/chị chọn một mục"),
    "làm giấy khai sinh cần gì": Phrase(
        "ask what a procedure needs",
        "proc_birth_registration",
        ("action_show_guide",),
        "Giấy tờ cần chuẩn bị – Đăng ký khai sinh",
    ),
    "bảo hiểm y tế": Phrase(
        "name a procedure", "proc_health_insurance", ("action_show_guide",), "BẢO HIỂM Y TẾ"
    ),
    "khai sinh": Phrase(
        "name a procedure", "proc_birth_registration", ("action_show_guide",), "KHAI SINH"
    ),
    "tạm trú": Phrase(
        "name a procedure", "proc_temporary_residence", ("action_show_guide",), "TẠM TRÚ"
    ),
    "căn cước": Phrase("name a procedure", "proc_id_card", ("action_show_guide",), "CĂN CƯỚC"),
    "phản ánh": Phrase(
        "send a complaint or suggestion", "give_feedback", ("feedback_form",), "phản ánh"
    ),
    "hủy theo dõi hồ sơ": Phrase(
        "stop news of one's dossiers", "unsubscribe", ("action_unsubscribe",), "ngừng báo tin"
    ),
    "hủy nhận tin": Phrase(
        "stop every message from the commune",
        "unsubscribe",
        ("action_unsubscribe",),
        "không gửi tin thông báo",
    ),
    "68 tuổi, thẻ căn cước làm năm 2016": Phrase(
        "work out an ID card's renewal", "proc_id_card", ("action_show_guide",), "Không phải đổi."
    ),
    "xem lời nhắc": Phrase(
        "list one's reminders", "set_reminder", ("action_set_reminder",), "chưa có lời nhắc nào"
    ),
    "nhắc tôi thứ 6 đi nhận kết quả lúc 8h": Phrase(
        "set a reminder",
        "set_reminder",
        ("action_set_reminder", "reminder_form"),
        'nhắc anh/chị "đi nhận kết quả" vào 8 giờ sáng thứ Sáu',
    ),
    "thứ 6 lúc 8h": Phrase(
        "say when to be reminded", None, ("reminder_form",), "8 giờ sáng thứ Sáu", REMINDER_TIME
    ),
    "20/12 lúc 14h30": Phrase(
        "say when to be reminded", None, ("reminder_form",), "2 giờ 30 chiều", REMINDER_TIME
    ),
    "20/11/2026": Phrase(
        "give the child's birth date",
        None,
        ("birth_deadline_form",),
        "Bé sinh ngày 20/11/2026",
        BIRTH_DATE,
    ),
}
# What opens each context: the reminder form asks for a time, the birth form for a date.
OPENERS = {
    ANYTIME: "nhắc tôi đi nộp hồ sơ",
    REMINDER_TIME: "nhắc tôi đi nộp hồ sơ",
    BIRTH_DATE: '/set_reminder{"reminder_kind": "birth_deadline"}',
}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def phrases_to_type(text: str) -> Iterator[str]:
    """The quoted phrases `text` tells the citizen to type (not menu names, not quotes)."""
    end, typed = 0, False
    for match in QUOTED.finditer(text):
        between = text[end : match.start()]
        typed = bool(CUE.search(between) or (typed and NEXT.match(between)))
        if typed:
            yield match.group(1)
        end = match.end()


def told_to_citizens() -> set[str]:
    """Every phrase to type, its placeholders filled as `content check` fills them ("{age}
    tuổi, thẻ căn cước làm năm 2016" is said with the citizen's own age)."""
    found = set()
    for path in SOURCES:
        for text in strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            filled = PLACEHOLDER.sub(lambda m: SAMPLES.get(m[1], m[0]), text)
            found.update(phrases_to_type(filled))
    return found


async def turn_events(service: Service, user: str, text: str) -> tuple[str | None, list[str]]:
    """Say `text`; the intent it was read as and the actions that ran on that turn (the
    tracker store outlives the test's service: each test has its own user)."""
    await turn(service, user, text)
    tracker = await service.brain.agent.processor.tracker_store.retrieve(user)
    events = list(tracker.events)
    last = max(i for i, event in enumerate(events) if isinstance(event, UserUttered))
    actions = [e.action_name for e in events[last:] if isinstance(e, ActionExecuted)]
    return events[last].intent_name, actions


def test_every_phrase_told_to_citizens_has_its_purpose_in_the_table() -> None:
    assert told_to_citizens() == set(PHRASES)


def test_cues_find_phrases_to_type_and_skip_menu_names() -> None:
    text = 'Gõ "menu", ví dụ: "a" hoặc "b". Mở mục "Ví giấy tờ", tin nhắn từ "Cuc".'
    assert list(phrases_to_type(text)) == ["menu", "a", "b"]


async def check(service: Service, user: str, text: str, expected: Phrase) -> None:
    before = len(await service.messages(user))
    intent, actions = await turn_events(service, user, text)
    replies = " ".join(m.get("text", "") for m in (await service.messages(user))[before:])
    if expected.intent is not None:
        assert intent == expected.intent, (text, intent, actions)
    assert set(expected.actions) <= set(actions), (text, actions)
    assert expected.reply in replies, (text, replies)


@pytest.mark.parametrize("text", [t for t, p in PHRASES.items() if p.context == ANYTIME])
async def test_a_phrase_reaches_its_action_outside_a_form(service: Service, text: str) -> None:
    await check(service, f"u-phrase-{text}", text, PHRASES[text])


@pytest.mark.parametrize("text", list(PHRASES))
async def test_a_phrase_reaches_its_action_inside_the_form_that_asks(
    service: Service, text: str
) -> None:
    expected, user = PHRASES[text], f"u-phrase-form-{text}"
    await turn(service, user, OPENERS[expected.context])
    await check(service, user, text, expected)
