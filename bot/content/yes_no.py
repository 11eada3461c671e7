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
# Which answer word fits the question's verb: "có phải…?" → "Phải.", "được không?" → "Được.",
# "đủ tuổi chưa?" → "Chưa đủ tuổi."
_VERBS = (
    ("du tuoi", "age"),
    ("phai", "must"),
    ("bat buoc", "must"),
    ("can", "need"),
    ("duoc", "may"),
)
# "căn cước", "căn cứ", "căn hộ", "cận nghèo" fold to "can …", which is not the verb "cần".
_NOT_NEED = re.compile(r"\bcan (cuoc|cu|ho|nha|phong|ngheo)\b")
# The age a question gives ("bé 5 tuổi", "con 14t"), and the age conditions of a sentence.
_AGE = re.compile(r"\b(\d{1,3}) ?(tuoi|t)\b")
# A condition may name whom it is for: "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi"; a range's
# lower end is a minimum: "từ đủ 70 đến dưới 75 tuổi".
_AT_LEAST = re.compile(r"\b(?:(nam|nu) )?(?:tu du|tu|du|tren) (\d{1,3}) (?:tuoi|den)\b")
_BELOW = re.compile(r"\b(?:(nam|nu) )?(?:duoi|chua du) (\d{1,3}) tuoi\b")
# Whom a question is about. Folded, "năm" (year) is "nam": "năm 2019", "5 năm", "năm nay"
# are years, not men.
_MAN = re.compile(
    r"\b(?<!\d )(nam|con trai|chong|chu re|ban trai)\b(?! ?(\d{4}|nay|ngoai|sau|truoc|roi))"
)
_WOMAN = re.compile(r"\b(nu|con gai|vo|co dau|ban gai)\b")
# "trẻ dưới 14 tuổi làm thế nào" names an age group, not the child's age.
_GROUP = re.compile(r"\b(?:tu du|tu|tren|duoi|chua du) \d{1,3} tuoi\b")


# A sentence answers a yes/no question when it shares this many of its topic words: one
# alone is often a common one ("số" of "một số nhóm" for "mã số riêng").
MIN_SHARED = 2


@dataclass(frozen=True)
class YesNo:
    word: str  # the answer word, from content/ui.yml's yes_no texts
    sentence: str


def _plain(text: str) -> str:
    return _NOT_NEED.sub("", folded(text))


def _gender(question: str) -> str | None:
    plain = folded(question)
    man, woman = _MAN.search(plain), _WOMAN.search(plain)
    return None if bool(man) == bool(woman) else ("nam" if man else "nu")


def _asked_age(question: str) -> int | None:
    given = _AGE.search(_GROUP.sub("", folded(question)))
    return None if given is None else int(given[1])


def _limits(question: str, sentence: str) -> list[tuple[str, bool, int]]:
    """The age limits of `sentence` that apply to whom the question asks about: (whom, is a
    minimum, years)."""
    plain, gender = folded(sentence), _gender(question)
    return [
        (whom, minimum, int(years))
        for minimum, pattern in ((True, _AT_LEAST), (False, _BELOW))
        for whom, years in pattern.findall(plain)
        if not whom or gender in (None, whom)
    ]


def age_fits(question: str, sentence: str) -> bool:
    """False when `sentence` speaks of an age group the question's age is not in: "bé 5
    tuổi" is answered by "trẻ dưới 14 tuổi…", not by "công dân từ đủ 14 tuổi…". Limits that
    differ for men and women fit when the question does not say which."""
    age = _asked_age(question)
    if age is None:
        return True
    fits = [
        (whom, age >= years if minimum else age < years)
        for whom, minimum, years in _limits(question, sentence)
    ]
    if len({fit for whom, fit in fits if whom}) > 1:
        return True
    return all(fit for _, fit in fits)


def too_young(question: str, body: str, words: dict[str, dict[str, str]]) -> YesNo | None:
    """ "No", when the question gives an age below every minimum of a sentence of `body` that
    says what one may (or must) do, and no age rule of `body` admits it: "nam 19 tuổi đăng
    ký kết hôn được không" → "Không được. Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi."."""
    age = _asked_age(question)
    ruled = [(s, _limits(question, s)) for s in sentences(body)]
    ruled = [(s, limits) for s, limits in ruled if limits]
    if age is None or any(age_fits(question, s) for s, _ in ruled):
        return None
    asked = _verb(_plain(question))
    for sentence, limits in ruled:
        told = _verb(_plain(sentence))
        if all(minimum and age < years for _, minimum, years in limits) and (
            told == asked or (asked in ("may", "age") and told == "plain")
        ):
            return YesNo(words["negative"][asked], sentence)
    return None


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
    words of `ignore` (the guide's title) do not count: "tạm vắng" is not "tạm trú". An age
    the sentence's age group holds counts as one more shared word."""
    asked = topic_words(question) - topic_words(ignore)
    typed = _accented_words(question)
    aged = _asked_age(question) is not None
    scored = [
        (_shared(asked, typed, s) + (aged and bool(_limits(question, s))), -n, s)
        for n, s in enumerate(sentences(body))
        if age_fits(question, s)
    ]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] >= MIN_SHARED else None


def answer(
    question: str, body: str, words: dict[str, dict[str, str]], ignore: str = ""
) -> YesNo | None:
    """The yes/no answer `body` gives to `question`; `words` is ui.yml's yes_no table."""
    sentence = best_sentence(question, body, ignore)
    return None if sentence is None else polarity(question, sentence, words)


def polarity(question: str, sentence: str, words: dict[str, dict[str, str]]) -> YesNo:
    """The answer word `sentence` gives to the yes/no `question`, if it says yes or no plainly."""
    plain = _plain(sentence)
    verb = _verb(_plain(question))
    if _NEGATIVE.search(plain):
        return YesNo(words["negative"][verb], sentence)
    if _POSITIVE.search(plain):
        return YesNo(words["positive"][verb], sentence)
    return YesNo("", sentence)


def _verb(plain: str) -> str:
    """The kind of the first modal verb in folded text: "có phải…?" → must."""
    return next((kind for key, kind in _VERBS if re.search(rf"\b{key}\b", plain)), "plain")
