"""Vietnamese syllables by the spelling rules: onset + rhyme + tone, and where the tone mark goes.

A decoder of keyboard residue ("lamf" → "làm") must only ever produce real syllables; these
rules say which letter strings can be one. Tone marks are placed in the traditional style the
training data uses ("hòa", "thủy", "ủy ban"), so decoded words match the training words.
"""

from __future__ import annotations

from dataclasses import dataclass

# Base vowel → its forms with no tone, sắc, huyền, hỏi, ngã, nặng.
TONED = {
    "a": "aáàảãạ",
    "ă": "ăắằẳẵặ",
    "â": "âấầẩẫậ",
    "e": "eéèẻẽẹ",
    "ê": "êếềểễệ",
    "i": "iíìỉĩị",
    "o": "oóòỏõọ",
    "ô": "ôốồổỗộ",
    "ơ": "ơớờởỡợ",
    "u": "uúùủũụ",
    "ư": "ưứừửữự",
    "y": "yýỳỷỹỵ",
}
SAC, NANG = 1, 5
VOWELS = frozenset(TONED)
MARKED = frozenset("ăâêôơư")
TONE_OF = {form: (base, tone) for base, forms in TONED.items() for tone, form in enumerate(forms)}

ONSET_TABLE = "b c ch d đ g gh gi h k kh l m n ng ngh nh p ph qu r s t th tr v x"
RHYME_TABLE = """
    a ac ach ai am an ang anh ao ap at au ay
    ăc ăm ăn ăng ăp ăt
    âc âm ân âng âp ât âu ây
    e ec em en eng eo ep et
    ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu iêc iêm iên iêng iêp iêt iêu
    o oc oi om on ong op ot
    oa oac oach oai oam oan oang oanh oap oat oay oăc oăm oăn oăng oăt oe oem oen oeo oet
    ô ôc ôi ôm ôn ông ôp ôt
    ơ ơi ơm ơn ơp ơt
    u ua uc ui um un ung up ut uân uâng uât uây uê uêch uênh uơ uy uya uych uyên uyêt uyn
    uynh uyt uyu uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu ươc ươi ươm ươn ương ươp ươt ươu
    y yêm yên yêt yêu
"""
ONSETS = sorted(ONSET_TABLE.split(), key=len, reverse=True)
RHYMES = frozenset(RHYME_TABLE.split())
FRONT = frozenset("ieêy")  # k, gh, ngh go before these; c, g, ng never do
STOP_CODAS = ("c", "ch", "p", "t")  # such syllables take only sắc or nặng


@dataclass(frozen=True)
class Syllable:
    onset: str
    rhyme: str  # with vowel marks, without tone
    tone: int  # 0 none, 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng

    def spelled(self) -> str:
        """The syllable with its tone mark on the vowel the rules choose."""
        nucleus = _nucleus_index(self.rhyme)
        rhyme = self.rhyme
        if self.tone:
            rhyme = rhyme[:nucleus] + TONED[rhyme[nucleus]][self.tone] + rhyme[nucleus + 1 :]
        if self.onset == "gi" and self.rhyme.startswith("i"):
            return "g" + rhyme  # "gì", "giếng": the onset's i is the rhyme's
        return self.onset + rhyme


def split_tone(word: str) -> tuple[str, int] | None:
    """("thương", 2) for "thường"; None when more than one letter carries a tone."""
    tone = 0
    letters = []
    for ch in word:
        base, mark = TONE_OF.get(ch, (ch, 0))
        if mark:
            if tone:
                return None
            tone = mark
        letters.append(base)
    return "".join(letters), tone


def parse(base: str, tone: int = 0) -> Syllable | None:
    """The syllable spelled by `base` (no tone mark) if the spelling rules allow it."""
    onset = next((o for o in ONSETS if base.startswith(o)), "")
    rhyme = base[len(onset) :]
    if onset == "gi" and rhyme and rhyme[0] not in VOWELS:
        rhyme = "i" + rhyme  # "gìn" is g + ìn spelled with the gi onset
    elif onset == "gi" and not rhyme:
        rhyme = "i"
    elif onset == "gi" and "i" + rhyme in RHYMES and rhyme not in RHYMES:
        rhyme = "i" + rhyme  # "giêng" = gi + iêng
    if onset == "qu" and (not rhyme or rhyme[0] == "u"):
        return None
    if rhyme not in RHYMES:
        return None
    front = rhyme[0] in FRONT
    if onset in ("k", "gh", "ngh") and not front:
        return None
    if onset in ("c", "g", "ng") and front:
        return None
    if tone not in (0, SAC, NANG) and rhyme.endswith(STOP_CODAS):
        return None
    if tone == 0 and rhyme.endswith(STOP_CODAS):
        return None
    return Syllable(onset, rhyme, tone)


def is_syllable(word: str) -> bool:
    """True for a real Vietnamese syllable spelling: "giấy", "khoẻ"; False for "gâys", "cas"."""
    split = split_tone(word)
    return split is not None and parse(*split) is not None


def respell(word: str) -> str:
    """One spelling per syllable: "hoà" → "hòa", "thuỷ" → "thủy", "ngừoi" → "người"."""
    split = split_tone(word)
    if split is None:
        return word
    base, tone = split
    syllable = parse(base, tone) or parse(_horn_pair(base), tone)
    return syllable.spelled() if syllable else word


def _horn_pair(base: str) -> str:
    """ "ưo"/"uơ" typed for "ươ" ("ngưoi", "nguơi"); "uơ" alone is a rhyme ("thuở")."""
    for typo in ("ưo", "uơ"):
        at = base.find(typo)
        if at > 0 and at + 2 < len(base):
            return base[:at] + "ươ" + base[at + 2 :]
    return base


def _nucleus_index(rhyme: str) -> int:
    cluster = 0
    while cluster < len(rhyme) and rhyme[cluster] in VOWELS:
        cluster += 1
    if "ơ" in rhyme[:cluster]:
        return rhyme.index("ơ")
    marked = [i for i in range(cluster) if rhyme[i] in MARKED]
    if marked:
        return marked[0]
    if cluster == 3:
        return 1
    if cluster == 2:
        return 1 if cluster < len(rhyme) else 0
    return 0
