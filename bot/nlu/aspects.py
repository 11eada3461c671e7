"""Which part of a procedure a citizen asks about, and whether they ask yes or no.

The model names the procedure (the topic); these patterns name the aspect, so "lệ phí làm
căn cước" opens with the fee, not the guide's summary. They read the folded text (no
diacritics, teencode expanded), so "le phi" and "lệ phí" are one.
"""

from __future__ import annotations

import re

from bot.nlu.question import CLOSING, Kind, clauses
from bot.nlu.text import expand, fold, spelled_words

# A place named in passing: read as "where", but weak beside another aspect.
IN_PASSING = "where (a place named in passing)"
# An expiry told ("bằng lái hết hạn"): read as the deadline, but weak beside another aspect:
# "bằng lái ô tô hết hạn cần giấy khám sức khỏe không" asks the papers.
EXPIRY_TOLD = "deadline (an expiry told)"
# The weak aspects, and the section each is read as when nothing else is asked.
WEAK = {IN_PASSING: "where", EXPIRY_TOLD: "deadline"}

# A wait told: "nộp online 5 ngày rồi chưa thấy duyệt", "làm hồ sơ từ tháng 10 rồi mà giờ chưa
# thấy gì", "nộp hồ sơ kết hôn rồi mà chưa thấy hẹn": it asks the processing time, and the
# dossier is already filed.
_WAIT_TOLD = (
    "((ngay|tuan|thang|hom|bua|\\d+) (roi|nay)|(nop|gui) (ho so|don)( \\w+){0,3} roi) (ma )?"
    "((\\d+|may|hon) (ngay|tuan|thang|hom) )?(gio |den gio |toi gio )?(van )?"
    "(chua|khong|ko) (thay|co|duoc) (ai )?"
    "(duyet|ket qua|gi|chi|tra loi|phan hoi|hen|goi)"
)

# Where a Central "chi" ("gì") ends what is asked: at the end, or before a closing word.
_CHI_ENDS = r"(?= (rua|ri|a|ha|he|nhi|vay|v|ko|khong|hong)\b|$)"

# "bao nhiêu" of days, years or an age is no sum of money: "nhận tiền trợ cấp … thì bao nhiêu
# tuổi mới được hưởng" asks who
_NOT_A_SPAN = "(?! (ngay|lau|thoi|hom|tuan|thang|buoi|nam|tuoi))"

# Checked in this order: the first that matches is the aspect asked. Where to receive the
# result first ("nhận kết quả ở đâu" is not where to file), then where ("đến đâu đóng
# tiền" asks where), money before time ("mất bao nhiêu tiền" is a fee), deadlines before
# durations, "who" (the generic yes/no question) last.
_PATTERNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "result",
        (
            "(?<!xac )(nhan|lay) (ket qua|giay|the|so|ban|bang|phieu)\\b[^,.?]{0,30}"
            "\\b(o dau|qua dau|cho nao|noi nao|tai dau|bang (gi|cach nao)|the nao|ra sao|sao)",
        ),
    ),
    (
        "where",
        (
            "o dau",
            "cho nao",
            "noi nao",
            "tai dau",
            "di dau",
            "(ra|len) dau(?! (vet|hieu|an))",  # "bà phải ra đâu làm"; not "ra dấu vết"
            "den dau",
            "nop o",
            "lam o",
            "co quan nao",
            "dia chi",
            "phong nao",
            "bo phan nao",
            "(o|cho|nop) mo",  # Central: "ở mô" = "ở đâu"
            "toi dau (de |ma |thi )?(lam|man|nop|dang ky|xin|lay)",  # "tới đâu mần vậy"
            # the days and hours of the place: "có làm thứ 7 không", "chủ nhật có mở cửa"
            "(lam|lam viec|mo cua|nhan ho so|truc) (ca )?(thu (7|bay)|chu nhat|cuoi tuan)",
            "(thu (7|bay)|chu nhat|cuoi tuan) (co )?(lam|lam viec|mo cua|nhan ho so|truc)",
            "gio lam viec",
            # an appointment at the office: "có cần hẹn trước không", "đặt lịch ở đâu"
            "(can|phai|co) (dat )?(lich )?hen truoc",
            "dat (lich )?hen",
            "lam viec (tu )?may gio",
            "may gio (mo cua|lam viec|nghi)",
            # one place or another: "nộp ở xã hay lên huyện", "xin ở phường nào"
            "o (xa|phuong|huyen|tinh|quan|so)( \\w+)? hay",
            "(xa|phuong|huyen|quan) (nao|noi nao)",
            # home or where one lives now: "về quê hay đăng ký ở chỗ trọ được"
            "ve que (hay|hoac)",
            "(hay|hoac) (la )?(phai )?ve que",
        ),
    ),
    (
        "fees",
        (
            "le phi",
            "(?<!mai tang )phi",  # "mai táng phí" names the funeral allowance, not a fee
            "(nhieu|nhiu|het|mat|ton|nop|dong|tra|may|it|bao) tien",
            "tien (le phi|phi|lam|nop)",
            "gia bao nhieu",
            "ton kem",
            "mien (tien|giam)",  # "có được miễn tiền không"
            "het bn",
            "(bn|bnhieu) tien",
            "(mat|het) bao nhieu" + _NOT_A_SPAN,
            "(het|ton) \\w+ tien",  # "hết răng tiền" (Central), "tốn nhiêu tiền"
            "(dong|nop) [^,.?]{0,60}\\bbao nhieu\\b" + _NOT_A_SPAN,
            "may tram",
            "bao nhieu tram",
            # an allowance's amount: "mức chuẩn trợ giúp xh bn", "mỗi tháng được bao nhiêu"
            "muc (chuan|huong|tro cap|tro giup)[^,.?]{0,40}\\b(bao nhieu|bn|bnhieu)",
            "bao nhiu tien",  # "nhiêu" typed "nhiu"
            "(duoc|nhan|huong|lanh) (bao nhieu|bao nhiu|bn)" + _NOT_A_SPAN,
            "tien [^,.?]{0,30}\\b(la )?(bao nhieu|bn)" + _NOT_A_SPAN,
            # one way cheaper than another: "nộp online có rẻ hơn không"
            "re hon",
            "co re khong",
        ),
    ),
    (
        "deadline",
        (
            "thoi han",
            "han chot",
            "han cuoi",
            "qua han",
            "tre han",
            # the expiry asked of ("khi nào hết hạn", "sắp hết hạn thì gia hạn trước mấy
            # ngày"); told, it is weak (EXPIRY_TOLD)
            "(khi nao|bao gio|bao lau|may nam|ngay nao|luc nao|sap|gan) (thi )?(la )?het han",
            "het han (chua|khi nao|bao gio|luc nao|ngay nao|may|bao lau)",
            "cham nhat",
            "muon nhat",
            "trong vong bao",
            "sau bao lau (thi )?phai",
            # "trong bao nhiêu ngày phải đăng ký", "trong bao lâu phải đăng ký tạm trú"
            "trong (vong )?((bao nhieu|may|bn) (ngay|thang|tuan)|bao lau) (thi )?phai",
            # "hồ sơ mai táng nộp trong bao lâu"; not "nộp trong bao lâu thì có kết quả"
            "nop trong (vong )?((bao nhieu|may|bn) (ngay|thang|tuan)|bao lau)"
            "(?! (thi |moi )?(co|xong|nhan|duoc|lay))",
            "han (la|den|toi) (ngay |khi )?(nao|bao gio)",
            "han (dong|nop|gia han)",  # "hạn đóng bhyt hộ gia đình là khi nào"
            "phai (lam|dang ky|khai) (truoc|trong)",
            "bi phat",
            "de lau",
            "lam muon",
            "lam tre",
            "con (kip|duoc) (khong|hong|ko|k|nua|chua)",  # "giờ đăng ký còn được không"
            "con (lam|dang ky|dang ki|khai)( \\w+)? (duoc|kip)",
            "con (xai|dung|su dung|gia tri|hieu luc)",  # how long a paper stays valid
            "(gia tri|hieu luc|dung duoc|xai duoc) (bao lau|may thang|may nam)",
        ),
    ),
    (
        "time",
        (
            "bao lau",
            "may ngay",
            "bao nhieu ngay",
            "may hom",
            "may tuan",
            "bn (lau|ngay)",
            "may bua",
            "bao nhieu bua",
            "may thang",
            "thoi gian (giai quyet|lam|cho|xu ly)",
            "(bao gio|khi nao) (thi )?(co|xong|lay|nhan)",
            _WAIT_TOLD,
            "lau khong",
            "nhanh khong",
            "cho lau",
            # why so long: "sao lâu vậy", "răng lâu rứa" (Central); "lâu quá" alone is told
            "(sao|rang) (ma )?lau",
            "lau rua",  # "răng mà đăng ký tạm trú lâu rứa" ("lâu quá" is often told)
        ),
    ),
    (
        "documents",
        (
            "giay to (gi|nao|can|gom|j)",
            "(nhung|can|mang|chuan bi|nop) (nhung )?giay to",
            "ho so (gom|can|co)",
            "thanh phan ho so",
            "can (nhung |mang |co )?gi",
            "mang (theo )?(nhung )?gi",
            "chuan bi (nhung )?gi",
            "can nhung",
            "can (giay|ban|so)",
            "phai co (nhung )?gi",
            "to khai",
            "mau don",
            "nop nhung gi",
            # "cần mang giấy gì", "xin giấy gì ở công an", "hồ sơ gồm những gì"
            "(can|mang|nop|xin|dua|lam|chuan bi|them) (them |theo )?(nhung |cai )?"
            "(giay|ho so) (gi|j|nao)",
            "gom (nhung )?(gi|j)",
            # Central "chi" for "gì", where "chị" and "chỉ" cannot stand: "ba má nó phải làm
            # giấy chi", "làm căn cước cần chi rứa"
            "(giay|giay to|ho so) chi" + _CHI_ENDS,
            "(can|mang|nop|chuan bi) (theo )?(nhung )?chi" + _CHI_ENDS,
            # "phải làm hồ sơ như thế nào": to a villager, which papers to get ready
            "(lam|chuan bi) ho so (nhu )?(the nao|ra sao)",
        ),
    ),
    (
        # but "bằng lái hết hạn đổi thế nào" tells the expiry and asks how to renew
        EXPIRY_TOLD,
        ("het han(?! (roi )?(thi )?(phai )?(doi|lam lai|cap lai|gia han) (the nao|ra sao))",),
    ),
    (
        # A place named in passing ("chứng thực ở xã mất bao nhiêu tiền") asks where only
        # when no fee, time or papers are asked, here or in another asking clause.
        IN_PASSING,
        (
            "o (xa|huyen|tinh|phuong)",
            "(ra|len|den|toi|ve) (xa|phuong|huyen|tinh|ubnd|uy ban)\\b.* hay ",  # "ra xã hay…"
        ),
    ),
    (
        "online",
        (
            "online",
            "truc tuyen",
            "qua mang",
            "tren mang",
            "(tren|qua|bang) dien thoai",
            "(tren|qua) app",
            "ung dung",
            "dich vu cong",
            "dichvucong",
            "o nha (lam|nop|dang ky)",
            "khong (can|phai) (den|di|len|ra)",
            "qua zalo",
            "(qua|tren) vneid",
        ),
    ),
    (
        "result",
        (
            "(nhan|lay|tra|co) ket qua",
            "(gui|goi) ve",  # "gởi": the Southern "gửi"
            "buu dien",
            "buu chinh",
            "ban dien tu",
            "(?<!xac )(nhan|lay) (giay|the|so|ban)",  # not "giấy xác nhận số CMND"
        ),
    ),
    (
        # "có cần mang thẻ căn cước không" asks the papers, but "nộp online rồi có cần mang
        # bản giấy lên không" asks how the online way goes, and "lấy kết quả giùm thì cần
        # mang gì" how the result is collected
        "documents",
        ("(can|phai) (mang|dem|xuat trinh)\\b",),
    ),
    (
        # "nộp cho xã hay phải lên huyện" asks where, but "làm online được không hay phải
        # lên xã" asks whether it can be done online, and "gửi về nhà hay lên phường nhận"
        # how the result comes
        "where",
        ("hay (phai )?(len|ra|ve|o|den|toi|qua) (huyen|tinh|so|xa|phuong|quan)",),
    ),
    (
        "who",
        (
            "ai (duoc|phai|co the|lam|di|dung ten)",
            # one person or another: "chủ nhà làm hay người thuê làm"
            "lam hay (\\w+ ){1,3}lam",
            "co phai",
            # not "phải làm gì", "phải làm lại những gì"
            "phai (doi|lam(?! (lai )?(nhung )?(gi|sao|the nao|nhu the nao))|di|dang ky|co)",
            "co can(?! cuoc)",  # not "có căn cước"
            "bat buoc",
            "doi tuong",
            "dieu kien",
            "co duoc",
            "duoc khong",
            "duoc chua",
            "du tuoi",
            "co the",
            "thay (duoc|cho)",
            "uy quyen",
            # "bao nhiêu tuổi mới được hưởng"; not "70 mấy tuổi", an age told
            "(?<!\\d )(?<!muoi )(bao nhieu|may|bn|bnhieu) tuoi",
        ),
    ),
)
_COMPILED = tuple(
    (aspect, re.compile(r"\b(?:" + "|".join(phrases) + r")\b")) for aspect, phrases in _PATTERNS
)

# A question that hangs on the one before it: "nếu phải thì…", "nếu được thì…", "nếu vậy…".
_CONDITIONAL = re.compile(r"(va |con |the )?neu (phai|co|duoc|can|vay|the|dung|khong|chua)\b")

# How Vietnamese ends a yes/no question ("… không?", "… chưa?", "… được không ạ?").
_YES_NO = re.compile(
    r"\b(co|phai|can|duoc|bat buoc|nen)\b.*\b(khong|chua|hong|hem)\b"
    r"|\b(khong|chua|hong) (a|ad|admin|vay|nhi|nha|ha|ta|chau|em|con|anh|chi)?\s*$"
    r"|\b(phai|duoc|dung) khong\b|\bco phai\b|\bdu tuoi\b.*\b(chua|khong)\b"
)


# "không nhiệt tình", "chưa hài lòng", "không có lương hưu": the folded words that negate
# the next one.
NEGATIONS = ("khong", "chua", "chang", "ko", "k", "hong")


def folded(text: str) -> str:
    """The text as the patterns read it: lower case, spelled as meant (Telex/VNI residue,
    misspellings), teencode expanded, no diacritics."""
    return " ".join(fold(part) for word, _, _ in spelled_words(text) for part in expand(word))


def asked_aspect(text: str) -> str | None:
    """The guide section a question asks for (`render.SECTIONS` names), if it names one:
    read in the message's asking clauses first (those of a sentence ending with "?" before
    the others), so a story's "nhà gái ở xã bên" does not make "…cần chuẩn bị giấy tờ gì?" a
    question of where; the whole message when they name none."""
    asking = [c for c in clauses(text) if c.kind is Kind.ASK]
    said = {c: text[c.start : c.end] for c in asking}
    # "…có phải đăng ký không, nếu phải thì làm online được không": a later question hangs on
    # the first, which is answered first, even as a plain yes/no
    if any(_CONDITIONAL.match(folded(said[c])) for c in asking[1:]):
        first = _aspect_of_question(said[asking[0]])
        if first is not None:
            return WEAK.get(first, first)
    # A clause in a sentence that ends with "?" is surely asking; the others may be story.
    asking.sort(key=lambda c: not _in_a_question(text, c.end))
    aspect = _first_asked([_aspect_of_question(said[c]) for c in asking])
    if aspect is None:
        aspect = _aspect_of_question(text)
        # "…thì phải làm sao chú, vợ con hộ khẩu ở tỉnh khác ạ": beside a question asking no
        # aspect, a place named in a story clause tells, it does not ask
        if aspect == IN_PASSING and asking:
            return None
    return WEAK.get(aspect, aspect) if aspect else None


def asked_parts(question: str) -> list[str]:
    """A question's parts joined by "và" when each asks an aspect of its own ("cần giấy tờ gì
    và nộp ở đâu" → two); else the question whole ("nộp thuế TNCN và GTGT bao nhiêu")."""
    return [part for part, _ in _parts_asking(question)]


_AND = re.compile(r"\s+(?:và|va)\s+(?=\w+\s+\w)", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[?!\n]|\.(\s|$)")


def _parts_asking(question: str) -> list[tuple[str, str | None]]:
    parts = [part for part in _AND.split(question) if part.strip()]
    found = [(part, _aspect_of(folded(part))) for part in parts]
    # one part is the question itself (most questions: read once, not twice)
    if len(found) == 1 or all(aspect is not None for _, aspect in found):
        return found
    return [(question, _aspect_of(folded(question)))]


def _aspect_of_question(question: str) -> str | None:
    """Of two things asked with "và" ("cần giấy tờ gì và nộp ở đâu"), the one asked first."""
    return _first_asked([aspect for _, aspect in _parts_asking(question)])


def _in_a_question(text: str, end: int) -> bool:
    """Whether the sentence a clause belongs to ends with "?"."""
    found = _SENTENCE_END.search(text, end)
    return found is not None and found.group() == "?"


def _first_asked(found: list[str | None]) -> str | None:
    """The first aspect found, but "who" (the catch-all of yes/no questions) and the WEAK
    ones (a place named in passing, an expiry told) give way: a question of a fee or the
    papers says more."""
    strong = (a for a in found if a is not None and a != "who" and a not in WEAK)
    return next(strong, None) or next((a for a in found if a is not None), None)


def _aspect_of(plain: str) -> str | None:
    """The first aspect whose patterns the folded text holds, a weak one last."""
    return _first_asked([aspect for aspect, pattern in _COMPILED if pattern.search(plain)])


_WAITED = re.compile(rf"\b{_WAIT_TOLD}\b")


def tells_a_wait(text: str) -> bool:
    """Whether the message tells of a dossier filed and waited on."""
    return bool(_WAITED.search(folded(text)))


def is_yes_no(text: str) -> bool:
    return bool(_YES_NO.search(folded(text)))


def asks_yes_no(clause: str) -> bool:
    """Whether a clause ends asking yes or no ("có được hưởng trợ cấp không ạ": the word that
    closes a question, then its particles), not a story with "chưa" inside ("được 10 ngày,
    con muốn làm giấy khai sinh mà chồng con đi làm xa chưa về", offered as a question)."""
    plain = folded(clause).strip()
    return bool(_YES_NO.search(plain) and CLOSING.search(plain))
