"""Word senses a bag of words cannot see: "mất" is "died" in "vợ tôi mới mất tháng trước"
and "lost" or "costs" in "mất giấy khai sinh", "mất bao lâu". The death sense is read from
the words around it and written "chet", a word with no other sense, so the classifier sees
the death registration's word rather than the one shared with fees, times and lost papers.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Who can have died: "bố", "mẹ", "vợ", "bé", "người nhà"…
_PEOPLE = _words("bo me ba ma cha vo chong ong be nguoi thim mo")  # not "cu": "cũ"
# Words that are also "I" or "you" ("em mất rồi" is a lost paper): someone else only when
# owned or ranked, "em tôi", "con tui", "anh hai", "chị ruột".
_PRONOUNS = _words("con chau anh chi em co chu bac di cau")
_OWNED = _words("toi tui minh em nha ay ruot hai ca ut re")
# Words between the person and "mất": "vợ tôi mới mất", "ông nội em vừa mất", "ba nhà tui mất".
_BETWEEN = _words(
    "toi tui em minh nha ay noi ngoai moi vua da cua chau con ruot hai ca ut that than"
)
# "có mặt" (be there) and "đi mất" (gone off) fold to the same "mat".
_NOT_BEFORE = frozenset({"co", "di"})
# What follows "mất" when it means "died": a time, a place, a cause, or the clause's end.
_AFTER = _words(
    "roi r duoc nam thang tuan hom ngay luc o tai vi do khi ma thi nen nhung va vao lau truoc"
    " sau dot ngot toi sang chieu trua dem hon cach tu a ah ak nay"
)
_MOST_BETWEEN = 3
_DEATH_WORDS = re.compile(r"\b(qua doi|tu tran|khai tu|bao tu|mai tang)\b")


def tells_a_death(folded: list[str]) -> bool:
    """Someone is said to have died: "vợ tôi mới mất tháng trước", "bố em qua đời"."""
    return "chet" in with_senses(folded) or bool(_DEATH_WORDS.search(" ".join(folded)))


def with_senses(folded: list[str]) -> list[str]:
    """The folded words, with "mất" that means "died" written "chet"."""
    return ["chet" if word == "mat" and _died(folded, n) else word for n, word in enumerate(folded)]


def _died(folded: list[str], n: int) -> bool:
    after = folded[n + 1] if n + 1 < len(folded) else ""
    if (after and after not in _AFTER) or (n > 0 and folded[n - 1] in _NOT_BEFORE):
        return False
    for back in range(1, _MOST_BETWEEN + 2):
        if n - back < 0:
            return False
        word, following = folded[n - back], folded[n - back + 1]
        if word in _PEOPLE or (word in _PRONOUNS and following in _OWNED):
            return n - back == 0 or folded[n - back - 1] != "cua"  # "giấy của bố"
        if word not in _BETWEEN:
            return False
    return False
