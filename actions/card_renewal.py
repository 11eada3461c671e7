"""Must my ID card be renewed? Worked out from the age (or birth year) and the year the card
was made, when a citizen gives both: "bác 72 tuổi, thẻ làm năm 2016 có phải đổi không"; past
the last renewal age without the year ("tôi 68 tuổi… có cần đi làm lại không"), the rule for
that age.

The rule (Luật Căn cước; ../shared/spec/procedures.md §7): a card is renewed at 14, 25, 40
and 60; one made in the 2 years before such an age lasts to the next; one made at 58 or
older has no later renewal age.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.content import Library, address
from bot.nlu.aspects import asked_aspect, folded

RENEWAL_AGES = (14, 25, 40, 60)
GRACE_YEARS = 2

_AGE = re.compile(r"\b(\d{1,3}) tuoi\b")
# The age the card was made at, said outright: "làm năm 2021 lúc 23 tuổi".
_AT_ISSUE = re.compile(r"\b(luc|khi|hoi) (\d{1,3}) tuoi\b")
_BORN = re.compile(r"\bsinh (nam )?(19\d\d|20[0-2]\d)\b")
_MADE = re.compile(
    r"\b(lam|cap|doi|duoc cap|cap doi|lam lai|co)\b\D{0,25}?\b(nam )?(?P<year>19\d\d|20[0-2]\d)\b"
    # or the year first: "năm 2020 đã làm căn cước mã vạch"
    r"|\bnam (?P<year_first>19\d\d|20[0-2]\d),? (?=(da |moi |vua )?(di )?(lam|cap|doi)\b)"
)
_CARD = re.compile(r"\b(can cuoc|cccd|the can|cmnd|chung minh)\b")
# Whether the card must be renewed or still holds: "có phải đổi", "có cần làm lại", "còn dùng".
_RENEWAL_ASKED = re.compile(
    r"\b(doi|lam lai|cap lai|het han|het gia tri|con (dung|gia tri|han)|dung (duoc|mai))\b"
)
# A card lost or broken, or whose address changed with the commune's name, is asked about
# whatever the age: "62 tuổi mất căn cước có phải làm lại", "tên xã đổi rồi".
_OTHER_REASON = re.compile(
    r"\b(mat|that lac|danh roi|lam roi|bi roi|bi hong|hu hong|hu|gay|rach"
    r"|sap nhap|dia gioi|dia chi|ten (xa|phuong|tinh|huyen))\b"
)


# The card's holder named before the age, when not the citizen: "mẹ cháu năm nay 60 tuổi",
# "bố tôi sinh năm 1965", "ong noi em 80 tuoi" (the answer then says "mẹ bạn", not "bạn").
_HOLDER = re.compile(
    r"\b(?P<kin>mẹ|me|má|ma|bố|bo|ba|bà|cha|ông|ong|chồng|chong|vợ|vo|con|anh|chị|chi|em|cô|co"
    r"|chú|chu|dì|di|cậu|cau|bác|bac)(?P<side> nội| ngoại| noi| ngoai| trai| gái| gai)?"
    r" (tôi|toi|tui|em|cháu|chau|con|mình|minh)\b(\W+\w+){0,4}?\W+(\d{1,3} (tuổi|tuoi)|sinh)",
    re.IGNORECASE,
)
_ACCENTED = {"me": "mẹ", "ma": "má", "bo": "bố", "ong": "ông", "chong": "chồng", "vo": "vợ"}
_ACCENTED |= {"chi": "chị", "co": "cô", "chu": "chú", "di": "dì", "cau": "cậu", "bac": "bác"}
_ACCENTED |= {"noi": "nội", "ngoai": "ngoại", "gai": "gái"}


@dataclass(frozen=True)
class Renewal:
    made_in: int
    age_at_issue: int
    due_age: int | None  # None: no later renewal age
    due_year: int | None
    due_now: bool


def renewal(age_now: int, made_in: int, this_year: int) -> Renewal | None:
    age_at_issue = age_now - (this_year - made_in)
    if not 0 <= age_at_issue <= age_now:
        return None
    due_age = next((age for age in RENEWAL_AGES if age_at_issue < age - GRACE_YEARS), None)
    if due_age is None:
        return Renewal(made_in, age_at_issue, None, None, False)
    due_year = this_year + (due_age - age_now)
    return Renewal(made_in, age_at_issue, due_age, due_year, age_now >= due_age)


def renewal_from_text(text: str, today: dt.date) -> Renewal | None:
    """The renewal a message's age and card year imply, if it gives both about a card."""
    plain = folded(text)
    if not _CARD.search(plain):
        return None
    born = _BORN.search(plain)
    at_issue = _AT_ISSUE.search(plain)
    age_match = _AGE.search(_AT_ISSUE.sub("", plain))
    age = int(age_match.group(1)) if age_match else None
    if born:
        age = today.year - int(born.group(2))
    made = _card_years(plain, born)
    if at_issue and made:  # what the card's validity hangs on, whatever age is given now
        age = int(at_issue.group(2)) + today.year - made[-1]
    if age is None or not made or not 14 <= age <= 120:
        return None
    return renewal(age, made[-1], today.year)


def holder(text: str) -> str:
    """Who the card's holder is, as the answer names them: the citizen ({anh_chi}), or the
    relative whose age the message gives ("mẹ {anh_chi}")."""
    found = _HOLDER.search(text)
    if found is None:
        return address.mark("{anh_chi}")
    words = [found["kin"], *([found["side"].strip()] if found["side"] else [])]
    kin = " ".join(_ACCENTED.get(word.lower(), word.lower()) for word in words)
    return address.mark(f"{kin} {{anh_chi}}")


def _card_years(plain: str, born: re.Match[str] | None) -> list[int]:
    """The years a card was made in, as the message tells them (not the year of birth)."""
    years = [int(m["year"] or m["year_first"]) for m in _MADE.finditer(plain)]
    return [year for year in years if not born or year != int(born.group(2))]


def age_past_renewals(text: str, today: dt.date) -> int | None:
    """The age told by someone past the last renewal age who asks whether their card must be
    renewed and does not say when it was made; None otherwise (a question of its papers or
    fee is not this)."""
    plain = folded(text)
    if not _CARD.search(plain) or not _RENEWAL_ASKED.search(plain):
        return None
    born = _BORN.search(plain)
    if _card_years(plain, born) or _OTHER_REASON.search(plain):
        return None
    if asked_aspect(text) not in (None, "who", "deadline"):
        return None
    age_match = _AGE.search(plain)
    if born:
        age = today.year - int(born.group(2))
    elif age_match:
        age = int(age_match.group(1))
    else:
        return None
    return age if RENEWAL_AGES[-1] <= age <= 120 else None


def answer(library: Library, text: str, today: dt.date) -> str | None:
    """The renewal answer in the commune's wording (content/ui.yml `card_renewal`), if the
    message gives an age and a card year, or an age past the last renewal age."""
    found = renewal_from_text(text, today)
    if found is None:
        age = age_past_renewals(text, today)
        wording = library.ui["card_renewal"]["age_only"]
        return library.locality.fill(wording).format(age=age, holder=holder(text)) if age else None
    kind = "lifetime" if found.due_age is None else "due_now" if found.due_now else "later"
    return library.locality.fill(library.ui["card_renewal"][kind]).format(
        holder=holder(text),
        made=found.made_in,
        age_at_issue=found.age_at_issue,
        due_age=found.due_age,
        due_year=found.due_year,
    )
