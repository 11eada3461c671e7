"""The things a message asks besides what its answer opens with: the service offers them as
buttons ("Anh/chị còn hỏi thêm điều dưới đây…"), each sent back as the citizen's question."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.nlu.aspects import asked_aspect, asked_parts, asks_yes_no, folded
from bot.nlu.question import questions

# "…chưa làm giấy khai tử. Bây giờ làm có được không, có bị phạt không?": whether it can still
# be done is what the deadline answered first says ("quá hạn vẫn đăng ký được").
STILL_DOABLE = re.compile(
    r"((bay )?gio |nay |bay gio )?(lam|dang ky|di lam|lam lai|dang ky lai)"
    r"( lai| bay gio| bay h)? (co )?(duoc|dc|dk) (khong|ko|k|hong|ha)( a)?"
)
# A first question longer than this carries the story before it: offered, it is cut to the
# words after its last "thì" ("vợ tôi mất năm ngoái, giờ tôi muốn đăng ký kết hôn với bà
# hàng xóm cũng góa chồng thì cần những giấy tờ gì" → "cần những giấy tờ gì").
SHORT_QUESTION_WORDS = 12
_THEN = re.compile(r"\s(?:thì|thi)\s", re.IGNORECASE)


def asked_questions(text: str) -> list[tuple[str, str | None]]:
    """Each thing the message asks, in order, with the aspect it asks: the parts of its
    questions that ask an aspect or a yes or no ("…cần giấy tờ gì, có phải xin giấy xác
    nhận độc thân không" → two)."""
    asked = [(part, asked_aspect(part)) for q in questions(text) for part in asked_parts(q.text)]
    return [(part, aspect) for part, aspect in asked if aspect or asks_yes_no(part)]


def other_questions(text: str) -> list[str]:
    """The things a message asks after its first, each a question of its own (a yes/no, or
    one asking an aspect: "…có phải đổi không, có ai đến nhà giúp không", "cần giấy tờ gì
    và nộp ở đâu"). The whole message is answered first, by the model, which reads its
    questions (bot/nlu/question.py); a story clause, or the aspect that answer opens with, is
    never offered."""
    asked = asked_questions(text)
    answered = asked_aspect(text)  # the aspect the answer opens with: not offered again
    later = [q for q, aspect in asked[1:] if aspect is None or aspect != answered]
    if asked and asked[0][1] != answered and any(a == answered for _, a in asked[1:]):
        # "…có được hưởng trợ cấp gì không, và làm ở đâu": the answer opens with where, so
        # the yes/no before it is still to answer ("cần giấy xác nhận độc thân. Vậy xin ở
        # đâu?" states a need: not offered)
        first = asked[0][0]
        still_doable = answered == "deadline" and STILL_DOABLE.fullmatch(
            folded(first.split(",")[-1])
        )
        return [first, *later] if asks_yes_no(first) and not still_doable else later
    return later


def left_open(text: str, answered: Callable[[str], bool], only_one: bool) -> list[str]:
    """The message's questions an answer leaves open, when that answer may be to any of them
    (an FAQ's to the second of two: "…thì cần những giấy tờ gì, có phải xin giấy xác nhận
    độc thân không" gets "Không." first): when it answered `only_one` (a yes or no), every
    other; else its first and those `other_questions` offers after an answer to the whole.
    One led by a story is cut to its asking words, or left out when they cannot be told
    apart; none that is `answered`, and one per aspect. A message asking one thing leaves
    nothing open: whatever the answer was, that thing offered would get it again."""
    asked = [question for question, _ in asked_questions(text)]
    if len(asked) < 2:
        return []
    candidates = asked if only_one else [*asked[:1], *other_questions(text)]
    short = [q for q in dict.fromkeys(map(_asking_words, candidates)) if q]
    left = [q for q in short if not answered(q)]
    kept: list[str] = []
    aspects: set[str | None] = set()
    for question in left:
        aspect = asked_aspect(question)
        if aspect in (None, "who") or aspect not in aspects:  # yes/no questions: each its own
            kept.append(question)  # "…có mất lệ phí không, hết bao nhiêu tiền": one fee
            aspects.add(aspect)
    return kept


def _asking_words(question: str) -> str:
    if len(question.split()) <= SHORT_QUESTION_WORDS:
        return question
    tail = _THEN.split(question)[-1]
    short = len(tail.split()) <= SHORT_QUESTION_WORDS
    return tail if short and (asked_aspect(tail) or asks_yes_no(tail)) else ""
