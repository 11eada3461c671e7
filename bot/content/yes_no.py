"""A yes/no question answered with its word first: "Phải. Công dân từ đủ 14 tuổi…".

The guide's text holds the answer; this picks the sentence of a section that shares the
most topic words with the question and reads its polarity. When the sentence says neither
yes nor no plainly, no answer word is given: the sentence itself goes first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.content.passages import sentences, topic_words
from bot.nlu.aspects import folded

# A negated verb, not any "không phải": "người ở không phải nơi thường trú phải đăng ký"
# says yes.
_ACTS = r"(lam|dang ky|den|nop|doi|xin|co|di|khai|mang|xuat trinh|cap|dong|ky)"
_NEGATIVE = re.compile(
    rf"\b(khong|chua|khong con) phai {_ACTS}\b|\b(khong|chua) (can|bat buoc|duoc|nen|the)\b"
    r"|\bmien\b|\bkhong co gia tri\b|\bkhong con\b"
)
_POSITIVE = re.compile(r"\b(phai|bat buoc|can|duoc|co the|nen)\b")
# Which answer word fits the question's verb: "có phải…?" → "Phải.", "được không?" → "Được."
_VERBS = (("phai", "must"), ("bat buoc", "must"), ("can", "need"), ("duoc", "may"))


@dataclass(frozen=True)
class YesNo:
    word: str  # the answer word, from content/ui.yml's yes_no texts
    sentence: str


def best_sentence(question: str, body: str) -> str | None:
    """The sentence of `body` sharing the most topic words with `question` (ties: first)."""
    asked = topic_words(question)
    scored = [(len(asked & topic_words(s)), -n, s) for n, s in enumerate(sentences(body))]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] > 0 else None


def answer(question: str, body: str, words: dict[str, dict[str, str]]) -> YesNo | None:
    """The yes/no answer `body` gives to `question`; `words` is ui.yml's yes_no table."""
    sentence = best_sentence(question, body)
    return None if sentence is None else polarity(question, sentence, words)


def polarity(question: str, sentence: str, words: dict[str, dict[str, str]]) -> YesNo:
    """The answer word `sentence` gives to the yes/no `question`, if it says yes or no plainly."""
    plain = folded(sentence)
    asked = folded(question)
    verb = next((kind for key, kind in _VERBS if re.search(rf"\b{key}\b", asked)), "plain")
    if _NEGATIVE.search(plain):
        return YesNo(words["negative"][verb], sentence)
    if _POSITIVE.search(plain):
        return YesNo(words["positive"][verb], sentence)
    return YesNo("", sentence)
