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
from bot.nlu.text import fold

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
# "căn cước", "căn cứ", "căn hộ" fold to "can …", which is not the verb "cần".
_NOT_NEED = re.compile(r"\bcan (cuoc|cu|ho|nha|phong)\b")
# The age a question gives ("bé 5 tuổi", "con 14t"), and the age conditions of a sentence.
_AGE = re.compile(r"\b(\d{1,3}) ?(tuoi|t)\b")
_AT_LEAST = re.compile(r"\b(?:tu du|tu|du|tren) (\d{1,3}) tuoi\b")
_BELOW = re.compile(r"\b(?:duoi|chua du) (\d{1,3}) tuoi\b")
# "trẻ dưới 14 tuổi làm thế nào" names an age group, not the child's age.
_GROUP = re.compile(r"\b(?:tu du|tu|tren|duoi|chua du) \d{1,3} tuoi\b")


@dataclass(frozen=True)
class YesNo:
    word: str  # the answer word, from content/ui.yml's yes_no texts
    sentence: str


def _plain(text: str) -> str:
    return _NOT_NEED.sub("", folded(text))


def age_fits(question: str, sentence: str) -> bool:
    """False when `sentence` speaks of an age group the question's age is not in: "bé 5 tuổi"
    is answered by "trẻ dưới 14 tuổi…", not by "công dân từ đủ 14 tuổi…"."""
    given = _AGE.search(_GROUP.sub("", folded(question)))
    if given is None:
        return True
    age, plain = int(given[1]), folded(sentence)
    return all(age >= int(x) for x in _AT_LEAST.findall(plain)) and all(
        age < int(x) for x in _BELOW.findall(plain)
    )


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def _accented_words(text: str) -> dict[str, set[str]]:
    """The words typed with diacritics, by their folded form."""
    found: dict[str, set[str]] = {}
    for word in _words(text):
        plain = fold(word)
        if plain != word:
            found.setdefault(plain, set()).add(word)
    return found


def _shared(asked: set[str], typed: dict[str, set[str]], sentence: str) -> int:
    """The topic words `sentence` shares with the question; one the question typed with
    other diacritics is another word: folded, "dẫn" (lead) is "dân" (citizen)."""
    written = _words(sentence)
    return sum(
        1 for word in asked & topic_words(sentence) if word not in typed or typed[word] & written
    )


def best_sentence(question: str, body: str, ignore: str = "") -> str | None:
    """The sentence of `body` sharing the most topic words with `question` (ties: first);
    words of `ignore` (the guide's title) do not count: "tạm vắng" is not "tạm trú"."""
    asked = topic_words(question) - topic_words(ignore)
    typed = _accented_words(question)
    scored = [
        (_shared(asked, typed, s), -n, s)
        for n, s in enumerate(sentences(body))
        if age_fits(question, s)
    ]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] > 0 else None


def answer(
    question: str, body: str, words: dict[str, dict[str, str]], ignore: str = ""
) -> YesNo | None:
    """The yes/no answer `body` gives to `question`; `words` is ui.yml's yes_no table."""
    sentence = best_sentence(question, body, ignore)
    return None if sentence is None else polarity(question, sentence, words)


def polarity(question: str, sentence: str, words: dict[str, dict[str, str]]) -> YesNo:
    """The answer word `sentence` gives to the yes/no `question`, if it says yes or no plainly."""
    plain = _plain(sentence)
    asked = _plain(question)
    verb = next((kind for key, kind in _VERBS if re.search(rf"\b{key}\b", asked)), "plain")
    if _NEGATIVE.search(plain):
        return YesNo(words["negative"][verb], sentence)
    if _POSITIVE.search(plain):
        return YesNo(words["positive"][verb], sentence)
    return YesNo("", sentence)
