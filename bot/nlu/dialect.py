"""Central and Southern words typed as spoken, read as the standard words the model knows.

"mần răng rứa", "nộp ở mô", "giấy tờ chi", "được hổng dzậy" ask what "làm sao vậy",
"nộp ở đâu", "giấy tờ gì", "được không vậy" ask; the l/n swap gives "nàm" for "làm". A word is
replaced only where it cannot be a standard word: "mô tô", "quy mô", "đau răng", "chi phí",
"chi cục", "lỗ hổng" stay as written.
"""

from __future__ import annotations

from collections.abc import Sequence

# Words that are dialect wherever they appear.
WORDS: dict[str, str] = {
    "rứa": "vậy",
    "dzậy": "vậy",
    "dzạ": "dạ",
    "mần": "làm",
    "nàm": "làm",
    "chừ": "giờ",
    "nớ": "đó",
    "hổng": "không",
    "nhiu": "nhiêu",
    "dzô": "vô",
    "zô": "vô",
    "dìa": "về",
    "tui": "tôi",
}
# "răng" is "sao" unless it is a tooth.
TOOTH_BEFORE = frozenset({"đau", "nhức", "nhổ", "sâu", "hàm", "niềng", "trám", "mọc", "gãy"})
# "mô" is "đâu", or "nào" after a noun of time or kind; not in "mô tô", "quy mô", "mô hình".
MO_KEPT_BEFORE = frozenset({"quy", "y", "họa", "hoạ"})
MO_KEPT_AFTER = frozenset({"tô", "hình", "tả", "phỏng", "phạm"})
MO_NAO_BEFORE = frozenset(
    {"khi", "bữa", "hồi", "lúc", "đứa", "cách", "cái", "người", "loại", "ngày", "chỗ", "bộ"}
)
# "chi" is "gì" after an accented word ("giấy tờ chi"), not "chi phí", "chi bộ", "địa chỉ".
CHI_KEPT_BEFORE = frozenset({"địa", "ơn", "chào", "nhờ", "hỏi", "của", "với", "và", "anh"})
CHI_KEPT_AFTER = frozenset(
    {"phí", "trả", "tiết", "nhánh", "bộ", "cục", "tiêu", "hội", "đoàn", "viện", "ơi", "ạ", "em"}
)
# "ni" is "này" ("sáng ni", "phiếu ni"), not "ni cô", "ni lông".
NI_KEPT_AFTER = frozenset({"cô", "lông", "sư"})
CANDIDATES = frozenset(WORDS) | {"răng", "mô", "chi", "ni"}


def standardise(words: Sequence[str]) -> list[str]:
    """The spelled words with dialect words replaced by standard ones, word for word."""
    out = list(words)
    for i, word in enumerate(words):
        if word not in CANDIDATES:
            continue
        before = words[i - 1] if i > 0 else ""
        after = words[i + 1] if i + 1 < len(words) else ""
        out[i] = _standard(word, before, after)
    return out


def _standard(word: str, before: str, after: str) -> str:
    if word in WORDS and not (word == "hổng" and before == "lỗ"):
        return WORDS[word]
    if word == "răng" and before not in TOOTH_BEFORE and after != "miệng":
        return "sao"
    if word == "mô" and before not in MO_KEPT_BEFORE and after not in MO_KEPT_AFTER:
        return "nào" if before in MO_NAO_BEFORE else "đâu"
    if (
        word == "chi"
        and before
        and not before.isascii()
        and before not in CHI_KEPT_BEFORE
        and after not in CHI_KEPT_AFTER
    ):
        return "gì"
    if word == "ni" and before and after not in NI_KEPT_AFTER:
        return "này"
    return word
