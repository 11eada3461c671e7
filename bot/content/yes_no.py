"""A yes/no question answered with its word first: "Phải. Công dân từ đủ 14 tuổi…".

The guide's text holds the answer; this picks the sentence of a section that shares the
most topic words with the question and reads its polarity. When the sentence says neither
yes nor no plainly, no answer word is given: the sentence itself goes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.content.passages import QUESTION_WORDS, sentences, terms, topic_words
from bot.nlu.aspects import folded
from bot.nlu.question import Kind, clauses
from bot.nlu.text import fold

# A negated verb, not any "không phải": "người ở không phải nơi thường trú phải đăng ký"
# says yes.
_ACTS = r"(lam|dang ky|den|nop|doi|xin|co|di|khai|mang|xuat trinh|cap|dong|ky)"
_NEGATIVE = re.compile(
    rf"\b(khong|chua|khong con) phai {_ACTS}\b|\b(khong|chua) (can|bat buoc|duoc|nen|the)\b"
    r"|\bmien\b|\bkhong co gia tri\b|\bkhong con\b|\bkhong ai (duoc|phai|can)\b"
)
_POSITIVE = re.compile(r"\b(phai|bat buoc|can|duoc|co the|nen)\b")
# "trẻ dưới 14 tuổi làm khi có yêu cầu": may, but need not
_ON_REQUEST = re.compile(r"\bkhi co (yeu cau|nhu cau)\b")
# "không cần là chủ nhà nhưng cần chủ hộ đồng ý" says no to one thing and yes to another:
# it answers "chủ hộ có cần ký không" with neither word.
_BUT_YES = re.compile(r"\bnhung (van |lai )?(phai|can|bat buoc)\b")
# "…chính sách người có công: ai được hưởng, xin kiểm tra lại…" names what to ask, it says
# neither yes nor no
_POINTER = re.compile(r"(?<!khong )\bai (duoc|phai|can)\b|\b(the nao|ra sao|bao nhieu)\b")
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


@dataclass(frozen=True)
class _Measure:
    """A quantity a question may give and a guide's rules bound: an age, a stay."""

    given: re.Pattern[str]  # groups: n, unit
    group: re.Pattern[str]
    at_least: re.Pattern[str]  # groups: whom (men or women, optional), n, unit (optional)
    below: re.Pattern[str]
    units: dict[str, int]  # a unit word's worth in the measure's base unit; absent = 1

    def value(self, match: re.Match[str]) -> int:
        return int(match["n"]) * self.units.get(match.groupdict().get("unit") or "", 1)


# "bé 5 tuổi", "con 14t"; a condition may name whom it is for ("Nam từ đủ 20 tuổi, nữ từ
# đủ 18 tuổi"); a range's lower end is a minimum ("từ đủ 70 đến dưới 75 tuổi").
AGE = _Measure(
    given=re.compile(r"\b(?P<n>\d{1,3}) ?(?:tuoi|t)\b"),
    group=re.compile(r"\b(?:tu du|tu|tren|duoi|chua du) \d{1,3} tuoi\b"),
    at_least=re.compile(
        r"\b(?:(?P<whom>nam|nu) )?(?:tu du|tu|du|tren) (?P<n>\d{1,3}) (?:tuoi|den)\b"
    ),
    below=re.compile(r"\b(?:(?P<whom>nam|nu) )?(?:duoi|chua du) (?P<n>\d{1,3}) tuoi\b"),
    units={},
)
# "ở nhờ 2 tuần" against "ở từ 30 ngày trở lên": a stay, in days. Only a bound that says
# "trở lên" or "dưới" is a rule; "trong 60 ngày" is a deadline.
STAY = _Measure(
    given=re.compile(r"\b(?P<n>\d{1,3}) (?P<unit>ngay|tuan|thang)\b"),
    group=re.compile(r"\b(?:tu|tren|duoi|it hon) \d{1,3} (?:ngay|tuan|thang)\b"),
    at_least=re.compile(r"\b(?:tu|tren) (?P<n>\d{1,3}) (?P<unit>ngay|tuan|thang) tro len\b"),
    below=re.compile(r"\b(?:duoi|it hon) (?P<n>\d{1,3}) (?P<unit>ngay|tuan|thang)\b"),
    units={"ngay": 1, "tuan": 7, "thang": 30},
)
MEASURES = (AGE, STAY)
# Whom a question is about. Folded, "năm" (year) is "nam": "năm 2019", "5 năm", "năm nay"
# are years, not men.
_MAN = re.compile(
    r"\b(?<!\d )(nam|con trai|chong|chu re|ban trai)\b(?! ?(\d{4}|nay|ngoai|sau|truoc|roi))"
)
_WOMAN = re.compile(r"\b(nu|con gai|vo|co dau|ban gai)\b")
# Verbs that ask the same: "có cần khai không" is answered by "phải đăng ký".
_SAME_ASK = {"must": "need", "need": "must"}


@dataclass(frozen=True)
class _Limit:
    measure: _Measure
    whom: str  # "nam", "nu" or "" for everyone
    minimum: bool  # else a maximum, exclusive
    bound: int

    def holds(self, value: int) -> bool:
        return value >= self.bound if self.minimum else value < self.bound


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


def _given(question: str, measure: _Measure) -> int | None:
    found = measure.given.search(measure.group.sub("", folded(question)))
    return None if found is None else measure.value(found)


def _limits(question: str, sentence: str) -> list[_Limit]:
    """The limits of `sentence` that apply to whom the question asks about."""
    plain, gender = folded(sentence), _gender(question)
    return [
        _Limit(measure, whom, minimum, measure.value(found))
        for measure in MEASURES
        for minimum, pattern in ((True, measure.at_least), (False, measure.below))
        for found in pattern.finditer(plain)
        if not (whom := found.groupdict().get("whom") or "") or gender in (None, whom)
    ]


def _measure_fits(value: int, limits: list[_Limit]) -> bool:
    """Limits that differ for men and women fit when the question does not say which."""
    fits = [(limit.whom, limit.holds(value)) for limit in limits]
    if len({fit for whom, fit in fits if whom}) > 1:
        return True
    return all(fit for _, fit in fits)


def fits(question: str, sentence: str) -> bool:
    """False when `sentence` speaks of a group the question's age or stay is not in: "bé 5
    tuổi" is answered by "trẻ dưới 14 tuổi…", not by "công dân từ đủ 14 tuổi…"."""
    limits = _limits(question, sentence)
    return all(
        _measure_fits(value, [limit for limit in limits if limit.measure is measure])
        for measure in MEASURES
        if (value := _given(question, measure)) is not None
    )


def _bounds_given(question: str, sentence: str) -> bool:
    """The sentence bounds a quantity the question gives (whether it holds it: `fits`)."""
    return any(_given(question, limit.measure) is not None for limit in _limits(question, sentence))


def speaks_to(statement: str, body: str) -> bool:
    """A rule of `body` bounds the age or stay `statement` gives: "cháu nó 14 tuổi rồi"
    after the ID card's guide is told who must have a card."""
    return any(_bounds_given(statement, sentence) for sentence in sentences(body))


def below_minimum(question: str, body: str, words: dict[str, dict[str, str]]) -> YesNo | None:
    """ "No", when the question gives an age or a stay below every minimum of a sentence of
    `body` that says what one may (or must) do, and no rule of `body` admits it: "nam 19
    tuổi đăng ký kết hôn được không" → "Không được. Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi."."""
    asked = _verb(_plain(question))
    for measure in MEASURES:
        value = _given(question, measure)
        if value is None:
            continue
        ruled = [
            (s, [lim for lim in _limits(question, s) if lim.measure is measure])
            for s in sentences(body)
        ]
        ruled = [(s, limits) for s, limits in ruled if limits]
        if any(_measure_fits(value, limits) for _, limits in ruled):
            continue
        for sentence, limits in ruled:
            told = _verb(_plain(sentence))
            if all(limit.minimum and value < limit.bound for limit in limits) and (
                told in (asked, _SAME_ASK.get(asked))
                or (asked in ("may", "age") and told == "plain")
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
    or a stay the sentence's group holds counts as one more shared word."""
    asked = topic_words(question) - topic_words(ignore)
    typed = _accented_words(question)
    scored = [
        (_shared(asked, typed, s) + _bounds_given(question, s), -n, s)
        for n, s in enumerate(sentences(body))
        if fits(question, s)
    ]
    best = max(scored, default=(0, 0, ""))
    return best[2] if best[0] >= MIN_SHARED else None


def answer(
    question: str, body: str, words: dict[str, dict[str, str]], ignore: str = ""
) -> YesNo | None:
    """The yes/no answer `body` gives to `question`; `words` is ui.yml's yes_no table."""
    sentence = best_sentence(question, body, ignore)
    return None if sentence is None else polarity(question, sentence, words)


def polarity(question: str, sentence: str, words: dict[str, dict[str, str]]) -> YesNo | None:
    """The answer word `sentence` gives to the yes/no `question`, if it says yes or no plainly
    for the asker: an exception below an age or a stay the question does not give is read out
    with no word ("ở nhờ có cần khai không" is not "Không cần." from "dưới 30 ngày…"); the
    usual case from an age or stay up is answered ("thuê trọ đi học" → "Phải."). None for
    a sentence that names what to ask: it answers nothing, so it does not open the answer."""
    limits = _limits(question, sentence)
    if any(not limit.minimum and _given(question, limit.measure) is None for limit in limits):
        return YesNo("", sentence)
    plain = _plain(sentence)
    verb = _asking_verb(question)
    if _POINTER.search(plain):
        return None
    if _ON_REQUEST.search(plain):  # yes to "được không", no to "có bắt buộc không"
        if verb == "may":
            return YesNo(words["positive"][verb], sentence)
        if re.search(r"\bbat buoc\b", _plain(question)):
            return YesNo(words["negative"]["must"], sentence)
        return YesNo("", sentence)
    if negative := _NEGATIVE.search(plain):
        if _BUT_YES.search(plain):
            return YesNo("", sentence)
        # "không được" (may not) is not "không cần" / "không phải" (need not): between the
        # two, the sentence's own word: "…thì không cần làm" answers "ủy quyền xin được
        # không" with "Không cần.", not "Không được."
        said = _verb(negative.group())
        own = said != verb and "may" in (said, verb) and said != "plain"
        return YesNo(words["negative"][said if own else verb], sentence)
    if _POSITIVE.search(plain):
        return YesNo(words["positive"][verb], sentence)
    return YesNo("", sentence)


_MODALS = frozenset({"co", "phai", "can", "duoc", "nen", "buoc"})
_CLOSINGS = frozenset({"khong", "chua", "hong", "hem", "ko", "k"})


def _asking_clauses(question: str) -> Iterator[str]:
    """The message's asking clauses, folded ("căn cước" taken out: it is no "cần")."""
    for clause in clauses(question):
        if clause.kind is Kind.ASK:
            yield _plain(question[clause.start : clause.end])


def _asked_part(question: str) -> list[str]:
    """The words the first yes/no question asks about, between its last modal verb and its
    closing word: "làm căn cước có cần bố mẹ đi cùng không" → bố mẹ đi cùng; before a modal
    that closes it, back to the modal or the "thì" before, less who and what age: "chứng thực
    giấy tờ tại nhà được không" → chứng thực giấy tờ tại nhà ("con mới 10 tuổi thì làm được
    chưa": the age is the case, "làm" what is asked)."""
    for asking in _asking_clauses(question):
        plain = asking.split()
        closing = _last(plain, _CLOSINGS, len(plain))
        if closing is None:
            continue
        modal = _last(plain, _MODALS, closing)
        if modal is None:
            return []
        if modal == closing - 1:
            before = _last(plain, _MODALS | {"thi"}, modal)
            told = plain[(before if before is not None else -1) + 1 : modal]
            return [word for word in told if not (word.isdigit() or word in _THE_CASE)]
        return plain[modal + 1 : closing]
    return []


# Who is asked about and their age are the case a yes/no is asked of, not what it asks:
# "làm căn cước cho bé 5 tuổi được không" asks whether it can be done.
_THE_CASE = frozenset(
    {"be", "tre", "con", "chau", "em", "anh", "chi", "ong", "ba", "bo", "me", "cha", "vo"}
    | {"chong", "nguoi", "toi", "tui", "minh", "tuoi"}
)


def _last(plain: list[str], words: frozenset[str], before: int) -> int | None:
    """The position of the last of `words` before position `before`."""
    return next((n for n in range(before - 1, -1, -1) if plain[n] in words), None)


def asks_beyond(question: str, sentence: str, subject: str) -> bool:
    """Whether the yes/no asks about something neither `sentence` nor the guide's `subject`
    (its title and summary) speaks of: "con 15 tuổi làm căn cước có cần bố mẹ đi cùng không"
    is not answered "Cần." by "công dân từ đủ 14 tuổi phải có thẻ căn cước"."""
    asked = " ".join(_asked_part(question))
    words = topic_words(asked) - topic_words(subject)
    if not words or words & topic_words(sentence):
        return False
    pairs = {
        term for term in terms(asked) if " " in term and not set(term.split()) & QUESTION_WORDS
    }
    return not pairs & terms(subject)


def _asking_verb(question: str) -> str:
    """The modal verb of the message's asking clauses, not of its story: "…nên phải về. vậy 6
    tuổi có làm được ko" asks "được"."""
    found = (_verb(asking) for asking in _asking_clauses(question))
    return next((verb for verb in found if verb != "plain"), None) or _verb(_plain(question))


def _verb(plain: str) -> str:
    """The kind of the first modal verb in folded text: "có phải…?" → must."""
    return next((kind for key, kind in _VERBS if re.search(rf"\b{key}\b", plain)), "plain")
