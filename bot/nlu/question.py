"""The question in a long message: greetings, introductions, thanks and openers set aside.

Elderly citizens write a letter: "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải
đổi không, có ai đến nhà giúp không". The intent lives in the asking clauses; the greeting
and "bác 72 tuổi" only add noise. A story clause right before a question is kept, because the
question often leans on it ("con tôi mới sinh 2 tháng. giờ làm giấy tờ gì").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from bot.nlu.text import fold, spelled_words

# Between two words, a clause ends at ? ! ; : a line break, or a comma / full stop followed by
# a space (so "15.000", "20/01/2026" and dossier codes stay whole).
CLAUSE_BREAK = re.compile(r"[?!;:\n…]|[.,]\s")

# Words whose folded form is ambiguous keep their accents in the view the patterns read:
# "dạ" (yes) is not "đã" (already), "ạ" (politeness) is not "à" (a question particle).
ACCENT_KEPT = frozenset({"dạ", "ạ", "à", "cần", "mấy", "hả", "nhỉ"})
PRONOUNS = r"(toi|minh|em|anh|chi|bac|ong|ba|co|chu|con|chau|gia dinh toi|nha toi|nha minh)"
ADDRESSEES = (
    r"(moi nguoi|ca nha|anh chi can bo|can bo xa|can bo|anh chi|co chu|uy ban xa|ubnd xa|ub xa|"
    r"uy ban|ub|chau|con|em|anh|chi|bac|co|chu|ong|ba|ad|admin|ban|xa|phuong|ubnd|bot)"
)
PARTICLES = r"((a|ạ|oi|nhe|nha|nhieu|lam|ak|ah|vay|nhiu) )*"
# Each pattern matches whole words where a clause's rest starts ("<words> " with a trailing
# space); they are matched from a position, so they carry no ^.
GREETING = re.compile(
    rf"(dạ |vang |thua |kinh gui )*({PRONOUNS} )?(xin chao|kinh chao|chao|alo|a lo|hello|hi|hey) "
    rf"({ADDRESSEES} )?{PARTICLES}"
    rf"|(dạ|vang|thua|kinh gui) ({ADDRESSEES} )?{PARTICLES}"
)
THANKS = re.compile(rf"({PRONOUNS} )?(xin )?(cam on|thank|thanks|tks) ({ADDRESSEES} )?{PARTICLES}")
# "cho bác hỏi", "chị cho em hỏi", "tôi muốn hỏi về": what follows is the question.
OPENER = re.compile(
    rf"({ADDRESSEES} )?((cho|xin|cho phep|nho) )?({PRONOUNS} )?((muon|cần|can|xin|dinh) )?hoi "
    r"((chut|ti|xiu|voi|cai nay|viec nay|mot chut|1 chut|mot viec|la|rang|ve) )*"
)
AGE = re.compile(rf"((nam nay) )?({PRONOUNS} )((nam nay) )?\d+ tuoi (roi )?")
PLACES = r"(thon|xom|ap|to|khu|ban|buon|lang|doi|xa|phuong|huyen)"
HOME = re.compile(rf"((nha) )?{PRONOUNS} ((dang|song) )?o {PLACES} \w+ ")
SOCIAL_PREFIXES = (GREETING, THANKS, OPENER, AGE, HOME)
# Clauses that are all introduction: "tôi là Lan", "bác ở thôn 3", "nhà tôi ở gần chợ".
INTRODUCTION = re.compile(
    rf"^((nha) )?{PRONOUNS} ((la|ten|ten la|nam nay) |((dang|song) )?o {PLACES} )"
    rf"|^((dang|song|nha) )?o {PLACES} "
)
# Question words and requests, and question-final particles (in the pattern view).
ASKING = re.compile(
    r"(^| )(bao nhieu|bao nhiu|nhiu tien|bao lau|bao gio|the nao|nhu nao|lam sao|ra sao|o dau|"
    r"tai sao|vi sao|"
    r"co phai|phai khong|duoc khong|dc ko|dc k|hay khong|co duoc|co can|co ai|ai|gi|j|nao|dau|"
    r"sao|muon|huong dan|chi giup|giup|gap|xin|cho biet|nhu the nao|thu tuc|mấy|cần|hả|à|nhỉ|"
    r"can (lam|xin|dang|nhung|giay|gi))"
    r"( |$)"
)
CLOSING = re.compile(
    r"(^| )(khong|ko|k|kg|khg|hong|khum|chua|ha|nhi|chang)"
    r"( (ạ|a|ad|admin|vay|the|nhe|nha|oi|chau|con|em|anh|chi|bac|ban|co|chu|ong|ba))*$"
)


class Kind(Enum):
    SOCIAL = "social"  # greeting, thanks, introduction, "cho bác hỏi"
    ASK = "ask"
    STORY = "story"


@dataclass(frozen=True)
class Clause:
    start: int  # offsets into the message, after any social opener
    end: int
    kind: Kind


@dataclass(frozen=True)
class Question:
    clauses: tuple[Clause, ...]  # the asking clause, with the story it leans on
    text: str


def clauses(text: str) -> list[Clause]:
    """The message cut at punctuation, each clause's social opener set aside and its kind."""
    found: list[Clause] = []
    current: list[tuple[str, int, int]] = []
    previous_end = 0
    for word in spelled_words(text):
        if current and CLAUSE_BREAK.search(text[previous_end : word[1]]):
            found.append(_classify(text, current))
            current = []
        current.append(word)
        previous_end = word[2]
    if current:
        found.append(_classify(text, current))
    return found


def questions(text: str) -> list[Question]:
    """Each thing asked, in order, with the story clause just before it and any after it.

    "…, thẻ căn cước làm năm 2016 có phải đổi không, có ai đến nhà giúp không" → 2 questions.
    Story clauses before the first question, other than the one just before it, are dropped.
    """
    content = [c for c in clauses(text) if c.kind is not Kind.SOCIAL]
    groups: list[list[Clause]] = []
    leaning: list[Clause] = []
    for i, clause in enumerate(content):
        following = content[i + 1] if i + 1 < len(content) else None
        if clause.kind is Kind.ASK:
            groups.append([*leaning, clause])
            leaning = []
        elif following is not None and following.kind is Kind.ASK:
            leaning = [clause]
        elif groups:
            groups[-1].append(clause)
    return [
        Question(tuple(group), ", ".join(text[c.start : c.end] for c in group)) for group in groups
    ]


def focus_spans(text: str) -> list[tuple[int, int]] | None:
    """Where the questions are, or None when the whole message is the question."""
    spans = [(c.start, c.end) for q in questions(text) for c in q.clauses]
    if not spans:
        return None
    words = spelled_words(text)
    kept = sum(1 for _, start, _ in words if any(s <= start < e for s, e in spans))
    return spans if kept < len(words) else None


def focus(text: str) -> str:
    """The message's questions only: "Chào cháu, bác 72 tuổi, thẻ … có phải đổi không" → "thẻ …"."""
    spans = focus_spans(text)
    return ", ".join(text[s:e] for s, e in spans) if spans else text


def _classify(text: str, words: list[tuple[str, int, int]]) -> Clause:
    view = [w if w in ACCENT_KEPT else fold(w) for w, _, _ in words]
    skipped, opened = _social_prefix(view)
    end = words[-1][2]
    if skipped == len(words):
        return Clause(words[0][1], end, Kind.SOCIAL)
    rest = " ".join(view[skipped:])
    asks = opened or ASKING.search(rest) or CLOSING.search(rest) or "?" in text[end : end + 3]
    if asks:
        kind = Kind.ASK
    elif INTRODUCTION.match(rest + " "):
        kind = Kind.SOCIAL
    else:
        kind = Kind.STORY
    return Clause(words[skipped][1], end, kind)


def _social_prefix(view: list[str]) -> tuple[int, bool]:
    """How many leading words are greeting, thanks, opener or introduction; and whether an
    opener ("cho bác hỏi") said that a question follows."""
    joined = " ".join(view) + " "
    skipped, opened, at = 0, False, 0
    while at < len(joined):
        match = next(
            ((p, m) for p in SOCIAL_PREFIXES if (m := p.match(joined, at)) and m.end() > at), None
        )
        if match is None:
            break
        opened = opened or match[0] is OPENER
        skipped += match[1].group().count(" ")
        at = match[1].end()
    return skipped, opened
