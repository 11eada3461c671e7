"""Telex and VNI residue typed on phones without a Vietnamese keyboard, decoded to syllables.

"lamf giaays khai sinh" (Telex) and "d9a8ng ky1 thu7o7ng2 tru1" (VNI) are what a Vietnamese
input method would have turned into "làm giấy khai sinh" and "đăng ký thường trú". A word is
decoded only when the result is a real syllable (bot.nlu.syllables) and the word is not one
people type as it is ("ok", "bus", "a4", "8h", dossier codes).
"""

from __future__ import annotations

from bot.nlu.syllables import Syllable, parse, split_tone

TELEX_TONES = {"s": 1, "f": 2, "r": 3, "x": 4, "j": 5}
VNI_TONES = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5}
VNI_MARKS = {"6": {"a": "â", "e": "ê", "o": "ô"}, "7": {"o": "ơ", "u": "ư"}, "8": {"a": "ă"}}
TELEX_DOUBLES = (("dd", "đ"), ("aa", "â"), ("ee", "ê"), ("oo", "ô"))
TELEX_HORNS = (("uwow", "ươ"), ("uow", "ươ"), ("uwo", "ươ"), ("aw", "ă"), ("ow", "ơ"), ("uw", "ư"))
ASCII_VOWELS = frozenset("aeiouy")

# Words typed as they are that the rules would otherwise decode: English and Latin words,
# interjections, loanwords ("bus" → "bú", "max" → "mã", "hix" → "hĩ").
KEPT_TABLE = """
    as is of or us ex ax ox os bus box max mix tax sex gas car bar his this thus its has
    tar per her sir nor les des mes
    tips chips maps tops cups cats bats hats nets pets pots bits kits cuts huts laps caps
    mops hits sits gets lets sets tests bots apps ads ids gps ios bios hix hic kiss miss boss
    w ms mr mrs vs dr see too room soon moon door taxi how now low cow bow row
"""
KEPT = frozenset(KEPT_TABLE.split())


def decode(word: str) -> str:
    """The syllable a normalised (lower-case) word was typed for, or the word unchanged."""
    if not word.isascii() or word in KEPT or not word.isalnum():
        return word
    syllable = _vni(word) if any(ch.isdigit() for ch in word) else _telex(word)
    return syllable.spelled() if syllable else word


def _telex(word: str) -> Syllable | None:
    first_vowel = next((i for i, ch in enumerate(word) if ch in ASCII_VOWELS or ch == "w"), None)
    if first_vowel is None:
        return None
    head, tail = word[:first_vowel], word[first_vowel:]
    keys = [ch for ch in tail if ch in TELEX_TONES]
    if len(keys) > 1:
        return None
    if not keys and "w" not in word and not any(d in word for d, _ in TELEX_DOUBLES):
        return None  # nothing typed for a mark: an ordinary unaccented word
    typed = head + "".join(ch for ch in tail if ch not in TELEX_TONES)
    tone = TELEX_TONES[keys[0]] if keys else 0
    letters = typed
    for keys_typed, letter in TELEX_DOUBLES + TELEX_HORNS:
        letters = letters.replace(keys_typed, letter)
    if "w" in letters:
        return _delayed_horn(letters, tone)
    return parse(letters, tone) or _late_mark(typed, tone) or _missing_circumflex(letters, tone)


def _late_mark(typed: str, tone: int) -> Syllable | None:
    """A mark typed after the rest of the word, as Telex keyboards accept it: "chuaw" (chưa),
    "layas" (lấy: the second a marks the first)."""
    letters = typed.replace(*TELEX_DOUBLES[0])  # "dd" → đ only: a vowel's double is sought
    if letters.endswith("w"):
        return _delayed_horn(letters, tone)
    for vowel, marked in (("a", "â"), ("e", "ê"), ("o", "ô")):
        first, last = letters.find(vowel), letters.rfind(vowel)
        if 0 <= first < last - 1:
            return parse(letters[:first] + marked + letters[first + 1 : last], tone)
    return None


def _missing_circumflex(letters: str, tone: int) -> Syllable | None:
    """A word typed with its tone but not the circumflex or horn its vowels must take:
    "trieuj" (triệu), "ddienj" (điện). "uo" may be uô or ươ ("tuoir" tuổi, "nguoij" người):
    when both spell a syllable, the word keeps its plain vowels ("tuoi", "nguoi", as typed
    with no marks at all), and the tone is dropped rather than guessed on the wrong word."""
    for plain, marked in (("ie", "iê"), ("ye", "yê")):
        if plain in letters:
            return parse(letters.replace(plain, marked, 1), tone)
    if "uo" not in letters:
        return None
    fits = [s for m in ("uô", "ươ") if (s := parse(letters.replace("uo", m, 1), tone))]
    if len(fits) == 1:
        return fits[0]
    if not fits:
        return None
    onset = fits[0].onset
    return Syllable(onset, letters[len(onset) :], 0)


def _delayed_horn(letters: str, tone: int) -> Syllable | None:
    """A w typed after the vowels ("duocwj") or alone as ư ("w", "nhwng")."""
    at = letters.index("w")
    bare = letters.replace("w", "", 1)
    if "w" in bare:
        return None
    if not any(ch in ASCII_VOWELS for ch in bare[:at]):
        return parse(bare[:at] + "ư" + bare[at:], tone)
    for typed, letter in (("uo", "ươ"), ("u", "ư"), ("o", "ơ"), ("a", "ă")):
        if typed in bare:
            syllable = parse(bare.replace(typed, letter, 1), tone)
            if syllable:
                return syllable
    return None


def _vni(word: str) -> Syllable | None:
    if sum(ch.isalpha() for ch in word) < 2 or not word[0].isalpha():
        return None  # "a4", "b2", "8h", "14t": paper sizes, licence classes, times
    letters: list[str] = []
    tone = 0
    for ch in word:
        if ch.isalpha():
            letters.append(ch)
        elif ch in VNI_TONES and not tone:
            tone = VNI_TONES[ch]
        elif ch == "9" and letters and letters[-1] == "d":
            letters[-1] = "đ"
        elif ch in VNI_MARKS:
            target = next(
                (i for i in range(len(letters) - 1, -1, -1) if letters[i] in VNI_MARKS[ch]), None
            )
            if target is None:
                return None
            letters[target] = VNI_MARKS[ch][letters[target]]
        else:
            return None
    base = "".join(letters)
    for typo, horn in (("ưo", "ươ"), ("uơ", "ươ")):
        if typo in base and not base.endswith(typo):
            base = base.replace(typo, horn)  # VNI types one 7 for the pair: "thuo7ng"
    if split_tone(base) is None:
        return None
    return parse(base, tone)
