"""Vietnamese text as citizens type it: NFC, lower case, keyboard residue and misspellings
corrected, teencode, and a folded form.

The folded form drops every diacritic (and đ→d), so "lam giay khai sinh" and
"làm giấy khai sinh" share features. Folding loses tones (ma/mà/má), so the model
also keeps features of the accented form.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from bot.nlu import keyboard_residue, misspellings, syllables

# One token → its usual meaning, accented. Only unambiguous abbreviations: "bn" (bạn /
# bao nhiêu) or "v" (vậy / và) are left for the model to learn from context.
TEENCODE: dict[str, str] = {
    "ko": "không",
    "k": "không",
    "kg": "không",
    "khg": "không",
    "hok": "không",
    "hông": "không",
    "khum": "không",
    "kh": "không",
    "hem": "không",
    "dc": "được",
    "đc": "được",
    "ddc": "được",
    "duoc": "được",
    "dduoc": "được",
    "dk": "đăng ký",
    "đk": "đăng ký",
    "dky": "đăng ký",
    "đky": "đăng ký",
    "j": "gì",
    "ji": "gì",
    "gi": "gì",
    "ak": "à",
    "ah": "à",
    "z": "vậy",
    "zậy": "vậy",
    "vay": "vậy",
    "mik": "mình",
    "mk": "mình",
    "mh": "mình",
    "r": "rồi",
    "roi": "rồi",
    "cx": "cũng",
    "cg": "cũng",
    "bít": "biết",
    "bik": "biết",
    "bit": "biết",
    "lm": "làm",
    "onl": "online",
    "ntn": "như thế nào",
    "sdt": "số điện thoại",
    "sđt": "số điện thoại",
    "đt": "điện thoại",
    "cccd": "căn cước",
    "cmnd": "chứng minh nhân dân",
    "gplx": "giấy phép lái xe",
    "blx": "bằng lái xe",
    "gks": "giấy khai sinh",
    "hkd": "hộ kinh doanh",
    "gpkd": "giấy phép kinh doanh",
    "xh": "xã hội",
    "btxh": "bảo trợ xã hội",
    "tgxh": "trợ giúp xã hội",
    "tthc": "thủ tục hành chính",
    "dvcqg": "dịch vụ công quốc gia",
    "bhyt": "bảo hiểm y tế",
    "dvc": "dịch vụ công",
    "ubnd": "ủy ban nhân dân",
    "hs": "hồ sơ",
    "tks": "cảm ơn",
    "thanks": "cảm ơn",
    "thank": "cảm ơn",
    "cám": "cảm",
    "ok": "ok",
    "oki": "ok",
    "okie": "ok",
    "okay": "ok",
    "uhm": "ừ",
    "uh": "ừ",
    "um": "ừ",
    "e": "em",
    "ad": "admin",
    "nhé": "nha",
    "nhe": "nha",
    "wa": "quá",
    "wá": "quá",
}

WORD = re.compile(r"[\w\u0300-\u036f]+", re.UNICODE)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text).lower()


def fold(text: str) -> str:
    """Strip every diacritic: "Đăng ký khai sinh" → "dang ky khai sinh"."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def expand(word: str) -> list[str]:
    """A normalised word as the words it stands for (teencode expanded)."""
    return TEENCODE.get(word, word).split()


def words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) over the original text, with offsets into it."""
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]


@lru_cache(maxsize=65536)
def spell(word: str) -> str:
    """A normalised word as the syllable meant: "lamf" → "làm", "hoà" → "hòa"; teencode as is."""
    if word in TEENCODE:
        return word
    if word.isascii():
        return keyboard_residue.decode(word)
    return syllables.respell(word)


def spelled_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) normalised and spelled as meant, with offsets into `text`.

    "d9a8ng ky1 thu7o7ng2 tru1" → đăng ký thường trú; "khai xinh" → khai sinh.
    """
    found = words(text)
    spelled = misspellings.correct([spell(normalise(word)) for word, _, _ in found])
    return [(word, start, end) for word, (_, start, end) in zip(spelled, found, strict=True)]
