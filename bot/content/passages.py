"""The sentence of a guide that answers a precise question.

A guide's sections answer the common aspects (fees, documents, where…), but citizens ask
narrower things: "một người đi lấy giấy kết hôn được không", "thẻ căn cước có gửi về nhà
qua bưu điện không". The answer is usually one sentence somewhere in the guide. This finds
it by the question's rarer words: a word in every sentence of the guide (its procedure's
name) says nothing about which sentence answers, a word in one sentence says much.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.content.content_model import Guide
from bot.content.writing import hedges
from bot.nlu.aspects import folded

# Words every question and answer shares: they say nothing about which sentence answers.
QUESTION_WORDS = frozenset(
    [
        "co",
        "khong",
        "phai",
        "can",
        "duoc",
        "lam",
        "thi",
        "la",
        "a",
        "ad",
        "admin",
        "oi",
        "cho",
        "hoi",
        "xin",
        "toi",
        "em",
        "anh",
        "chi",
        "bac",
        "chau",
        "con",
        "minh",
        "vay",
        "nhi",
        "nha",
        "ha",
        "gi",
        "nao",
        "the",
        "nhu",
        "sao",
        "va",
        "voi",
        "cua",
        "de",
        "khi",
        "nay",
        "do",
        "mot",
        "cac",
        "nhung",
        "da",
        "se",
        "dang",
        "bi",
        "hay",
        "hoac",
        "neu",
        "ma",
        "roi",
        "chua",
        "o",
        "tai",
        "tu",
        "di",
        "tui",
        "nay",
        "gio",
        "hong",
        "hem",
        "nhe",
        "ak",
        "ah",
        "hen",
        "nghen",
        "z",
        "v",
    ]
)
# Texts whose terms are kept: every guide sentence (about 1,500) and recent questions.
TERMS_CACHED = 8192
# Share of the question's words (weighted by rarity) a sentence must hold.
MIN_COVERAGE = 0.5
# What a question's word no sentence of the guide has weighs.
UNKNOWN_WEIGHT = 0.7
# A sentence must hold at least this much rarity: one word found in every other sentence
# does not make an answer.
MIN_EVIDENCE = 1.2


@dataclass(frozen=True)
class Passage:
    section: str  # a render.SECTIONS name, "summary", "step" or "faq"
    text: str


@dataclass(frozen=True)
class Match:
    passage: Passage
    evidence: float  # the rarity of the question's words it holds


# A question asks what one sentence can answer: how much, how long, when, where, who,
# which, whether, what to do in a case ("quên mật khẩu vneid thì lm s"). A request
# without a question word ("cho hỏi làm giấy khai sinh") asks for the whole guide.
_ASKS = re.compile(
    r"\b(bao nhieu|bao lau|bao gio|khi nao|luc nao|o dau|cho nao|noi nao|ai|gi|j|nao|may"
    r"|khong|ko|k|hong|chua|co phai|co can|co duoc|hay khong|(lam|lm) s"
    # "sao", but not "bản sao" (a copy), "sao y", "sao lục", "sao kê", "5 sao"
    r"|(?<!ban )(?<!\d )sao(?! (y|luc|ke|chep)\b))\b"
)


# "làm sao để được nhận trợ cấp" asks how to go about the whole procedure (its guide), not
# one sentence's case ("quên mật khẩu thì làm sao").
_HOW_TO = re.compile(r"\b(lam sao|lam the nao|bang cach nao|cach nao|phai lam gi|lam gi) de\b")


# A question ended by a particle, read before folding ("ạ" folds to "a" too, and is only
# polite): "hai đứa phải cùng đi à", "phải mang bản chính hả".
_ASKING_PARTICLE = re.compile(r"\b(à|hả|hở|chứ)\W*$")


def asks_something(question: str) -> bool:
    return bool(
        _ASKS.search(_HOW_TO.sub(" ", folded(question)))
        or _ASKING_PARTICLE.search(question.lower())
    )


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.;!?])\s+|\n+", text)
    return [part.strip() for part in parts if part.strip()]


def topic_words(text: str) -> set[str]:
    return {word for word in folded(text).split() if word not in QUESTION_WORDS}


# A link is no words of the sentence: the commune's map link "…/?q=UBND+xa" answered
# "ubnd xa o dau" with "Xem đường đi trên bản đồ: …" alone, without the address.
_LINK = re.compile(r"https?://\S+")


@functools.lru_cache(maxsize=TERMS_CACHED)
def terms(text: str) -> frozenset[str]:
    """Topic words and pairs of neighbouring words: most Vietnamese words are two syllables,
    and "quá hạn" is not "quá dài". Cached: a guide's sentences are read at every question."""
    plain = folded(_LINK.sub(" ", text)).split()
    pairs = {
        f"{a} {b}"
        for a, b in zip(plain, plain[1:], strict=False)
        if a not in QUESTION_WORDS or b not in QUESTION_WORDS
    }
    return frozenset(pairs | {word for word in plain if word not in QUESTION_WORDS})


def of_guide(guide: Guide) -> list[Passage]:
    """Every sentence of the guide, with the section it is written in."""
    return [Passage(section, s) for section, body in _bodies(guide) for s in sentences(body)]


# A sentence that opens with the case where the one before does not hold: "Giấy chứng sinh do
# bệnh viện cấp. Nếu không có: văn bản của người làm chứng; …".
_EXCEPTION = re.compile(r"^(neu|truong hop) (khong|chua)\b")


def exceptions_after(guide: Guide, sentence: str) -> list[str]:
    """The sentences right after `sentence` that say what to do when it does not hold (with
    the ";"-clauses that go on from them): "con sinh ở nhà không có giấy chứng sinh" got only
    "Giấy chứng sinh do bệnh viện, trạm y tế cấp."."""
    following: list[str] = []
    for part in next(_runs_from(guide, sentence), [sentence])[1:]:
        going_on = following and following[-1].endswith(";")
        if not (going_on or _EXCEPTION.match(folded(part))):
            break
        following.append(part)
    return following


def hedged(guide: Guide, sentence: str) -> bool:
    """Whether the guide asks to check `sentence` with the one-stop desk: a ";"-clause is
    covered by the "xin kiểm tra lại…" that closes its sentence ("Công dân từ đủ 14 tuổi
    phải có thẻ căn cước; trẻ dưới 14 tuổi…; xin kiểm tra lại với bộ phận một cửa.")."""
    for run in _runs_from(guide, sentence):
        for part in run:
            if hedges(part):
                return True
            if not part.endswith(";"):
                break
    return False


def _runs_from(guide: Guide, sentence: str) -> Iterator[list[str]]:
    """For each body of the guide that holds `sentence`, its sentences from that one on."""
    for _, body in _bodies(guide):
        parts = sentences(body)
        if sentence in parts:
            yield parts[parts.index(sentence) :]


def _bodies(guide: Guide) -> list[tuple[str, str]]:
    bodies = [
        ("summary", guide.summary),
        ("who", guide.who),
        *(("documents", item) for item in guide.documents),
        ("fees", guide.fees),
        ("time", guide.processing_time),
        ("deadline", guide.deadlines),
        ("where", guide.office),
        *(("online", route.path) for route in guide.online),
        ("result", guide.result),
        *(("step", step) for step in guide.steps),
        *(("faq", faq.answer) for faq in guide.faqs),
    ]
    return [(section, body or "") for section, body in bodies]


def best(
    question: str, passages: list[Passage], ignore: str = "", within: str | None = None
) -> Match | None:
    """The passage holding most of the question's rarer words, if it holds enough; only
    passages of section `within` when it is given (rarity still counts over all).

    Words of `ignore` (the guide's title: the procedure the model already recognised) do
    not count.
    """
    words = [terms(p.text) for p in passages]
    asked = terms(question) - terms(ignore)
    frequency = {word: sum(word in w for w in words) for word in asked}
    # A word no sentence has counts a little against every sentence: the question may ask
    # what the guide does not say (a story's words weigh in too, hence only a little).
    weight = {
        word: math.log((len(passages) + 1) / count) if count else UNKNOWN_WEIGHT
        for word, count in frequency.items()
    }
    total = sum(weight.values())
    if not total:
        return None
    scored = [
        (sum(weight.get(word, 0.0) for word in w & asked), -n)
        for n, w in enumerate(words)
        if within is None or passages[n].section == within
    ]
    evidence, position = max(scored, default=(0.0, 0))
    if evidence < MIN_EVIDENCE or evidence / total < MIN_COVERAGE:
        return None
    return Match(passages[-position], evidence)
