"""How a citizen names themselves and the assistant, and how the assistant should answer.

Vietnamese has no neutral "you": an old man who writes "chào cháu, bác 72 tuổi, cho bác hỏi"
expects "Dạ, cháu gửi bác…", not "anh/chị". The rules, for a commune's assistant:
- elders naming themselves bác, ông, bà, cô, chú, dì, cậu are called so; the assistant is
  "cháu" (or "con" / "em" when that is what they call it);
- "anh"/"chị" are called so and the assistant is "em";
- young people naming themselves em, con, cháu, mình are called "bạn" and the assistant is
  "mình" (the assistant has no gender to answer "anh"/"chị" with);
- called "cháu"/"con" without a self-name: the citizen is an elder, called "bác"; called "em":
  the default "anh/chị", the assistant "em";
- otherwise None: the default "anh/chị" stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlu.text import expand, fold, normalise, spelled_words

KIN = ("bác", "ông", "bà", "cô", "chú", "dì", "cậu", "anh", "chị", "em", "con", "cháu", "mình")
ELDERS = frozenset({"bác", "ông", "bà", "cô", "chú", "dì", "cậu"})
YOUNG = frozenset({"em", "con", "cháu", "mình"})
FOLDED_KIN = {fold(word): word for word in KIN}
# Typed without diacritics these are more often another word: co = có, di = đi, chi = chỉ,
# cau = câu, con = còn, ba = ba (father, three), chu = chủ/chữ, bac = bạc/bắc, anh = ảnh,
# ong = ống. The view marks them "~co"; only the telling frames below accept the mark.
PLAIN_AMBIGUOUS = frozenset({"co", "di", "chi", "cau", "con", "ba", "chu", "bac", "anh", "ong"})
K_WORDS = "bac|ong|ba|co|chu|di|cau|anh|chi|em|con|chau|minh"
K = rf"(~?(?:{K_WORDS}))"  # in "cho bác hỏi", "chào cháu": unmistakable, even plain
# Plain, only where "có", "đi", "chỉ", "câu", "còn" cannot stand: "bac muon hoi", "ong 85 tuoi"
PLAIN_TITLE = r"~(?:ba|chu|bac|anh|ong)"
KIN_OR_TITLE = rf"((?:{K_WORDS})|{PLAIN_TITLE})"
NOT_CHILD_WORDS = "bac|ong|ba|co|chu|di|cau|anh|chi|em|chau|minh"  # "con" here is "my child"
NOT_CHILD_OR_TITLE = rf"((?:{NOT_CHILD_WORDS})|{PLAIN_TITLE})"
VERBS = (
    r"(muon|can|la|o|da|dang|moi|bi|khong|chua|di|~di|lam|nop|xin|nho|vua|van|cung|dinh|co|~co"
    r"|có)"
)
ABOUT = r"((ngoai|gan|hon|da|tron) )?"  # "bác năm nay ngoài 60"
START = r"(^|\| |\boi )"  # a clause's first word, or the first after "cháu ơi" (not "thôi")
# After "nhà bác", "vợ chú": another person named ("chị tui", "ông hàng xóm", "anh rể").
SOMEONE_ELSE = (
    r"(toi|tui|em|e|minh|re|ruot|ho|hang|noi|ngoai|gai|trai|ca|ay|do|kia|ta|~?ba|~?con|nha)"
)
# The self-name, most telling frames first; group "self" is the citizen's word for themselves.
# The last two (a verb after it, "nhà bác") also fit a third person: "ông nhà tôi mới mất".
SELF_TELLING = 4
SELF = [
    re.compile(p)
    for p in (
        rf"(^| )(cho|xin phep|cho phep) (?P<self>{K}) (xin )?hoi( |$)",
        rf"{START}(?P<self>{KIN_OR_TITLE}) ((muon|can|xin) )?hoi( |$)",
        rf"(^| )(nam nay )?(?P<self>{NOT_CHILD_OR_TITLE}) ((nam nay )?{ABOUT}\d+ tuoi"
        rf"|nam nay {ABOUT}\d+)",
        rf"{START}(?P<self>{K}) (xin )?(chao|cam on)( |$)",
        rf"{START}(?P<self>{NOT_CHILD_OR_TITLE}) {VERBS}( |$)",
        rf"(^| )(nha|cua|vo|chong|bo|me|con|chau|~?ong nha|~?ba nha) (?P<self>{NOT_CHILD_OR_TITLE})"
        rf"( |$)(?!{SOMEONE_ELSE}( |$))",
    )
]
# What they call the assistant: "chào cháu", "cháu ơi", "cảm ơn cháu", "cháu cho bác hỏi".
ADDRESSEE = [
    re.compile(p)
    for p in (
        rf"(^| )(chao|cam on) (?P<them>{K})( |$)",
        rf"(^| )(nho|hoi) (?P<them>{KIN_OR_TITLE})( |$)",
        rf"(^| )(?P<them>{K}) oi( |$)",
        rf"{START}(?P<them>{K}) cho {K} hoi( |$)",
    )
]
SPEAKS_AS_TOI = re.compile(r"\b(tôi|tui)\b")
# "bà con" is kin in general (relatives, folks), not a self-name: "ở nhờ nhà bà con".
FOLKS = re.compile(r"(?<!\S)~?ba ~?con(?!\S)")
CLAUSE_BREAK = re.compile(r"[?!;:\n…]|[.,]\s")


@dataclass(frozen=True)
class Address:
    citizen: str  # how the assistant calls the citizen: "bác", "anh", "bạn", "anh/chị"
    assistant: str  # how the assistant calls itself: "cháu", "con", "em", "mình"


def forms_of_address(text: str) -> Address | None:
    """The forms of address a message asks for, or None when it names nobody."""
    view = _view(text)
    speaks_as_toi = bool(SPEAKS_AS_TOI.search(normalise(text)))
    # who says "tôi" names someone else in a loose frame: "Chồng tôi mới mất… tài khoản của ông"
    self_name = _first(SELF[:SELF_TELLING] if speaks_as_toi else SELF, view, "self")
    them = _first(ADDRESSEE, view, "them")
    if self_name in ELDERS:
        return Address(self_name, them if them in ("cháu", "con", "em") else "cháu")
    if self_name in ("anh", "chị"):
        return Address(self_name, "em")
    if self_name in YOUNG and not speaks_as_toi:
        # "cháu tôi xin đi làm", "Cháu nhờ tôi hỏi": who says "tôi" speaks of a grandchild
        return Address("bạn", "mình")
    if them in ("cháu", "con"):
        return Address("bác", them)
    if them == "em":
        return Address("anh/chị", "em")
    return None


def _view(text: str) -> str:
    """Words as the patterns read them, folded, except accented words that would fold into a
    kin word ("có" is not "cô", "đi" not "dì"); clauses separated by " | "."""
    parts: list[str] = []
    previous_end = 0
    typed_plain = text.isascii()  # "con", "anh" in an accented message are meant as written
    for word, start, end in spelled_words(text):
        if parts and CLAUSE_BREAK.search(text[previous_end:start]):
            parts.append("|")
        short = expand(word)
        if len(short) == 1 and short[0] in KIN:  # "cho e hỏi": "e" is "em", "mik" "mình"
            word = short[0]
        folded = fold(word)
        if folded in FOLDED_KIN and word not in KIN and not word.isascii():
            parts.append(word)
        elif typed_plain and word.isascii() and folded in PLAIN_AMBIGUOUS:
            parts.append(f"~{folded}")
        else:
            parts.append(folded)
        previous_end = end
    return FOLKS.sub("ba_con", " ".join(parts))


def _first(patterns: list[re.Pattern[str]], view: str, group: str) -> str | None:
    for pattern in patterns:
        match = pattern.search(view)
        if match:
            return FOLDED_KIN[match.group(group).removeprefix("~")]
    return None
