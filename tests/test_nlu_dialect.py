"""Dialect words read as the standard words the model learnt, real words left alone."""

import pytest

from bot.nlu.text import spelled_words


def _spelled(text: str) -> str:
    return " ".join(word for word, _, _ in spelled_words(text))


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("mần răng rứa", "làm sao vậy"),
        ("nộp ở mô dzậy", "nộp ở đâu vậy"),
        ("khi mô có kết quả", "khi nào có kết quả"),
        ("cần giấy tờ chi", "cần giấy tờ gì"),
        ("nàm ơn chỉ giúp", "làm ơn chỉ giúp"),
        ("sáng ni tui ra xã", "sáng này tôi ra xã"),
        ("được hổng", "được không"),
        ("bây chừ làm răng", "bây giờ làm sao"),
    ],
)
def test_dialect_words_are_read_as_standard_words(typed: str, read: str) -> None:
    assert _spelled(typed) == read


@pytest.mark.parametrize(
    "typed",
    [
        "mua chiếc mô tô",
        "quy mô sản xuất",
        "bé bị đau răng",
        "chi phí bao nhiêu",
        "họp chi bộ",
        "dia chi ubnd xa",
        "cảm ơn chi",
        "lỗ hổng bảo mật",
        "ni cô ở chùa",
    ],
)
def test_standard_words_that_look_like_dialect_are_left_alone(typed: str) -> None:
    assert _spelled(typed) == typed


def test_offsets_still_point_into_the_typed_text() -> None:
    text = "Nộp ở MÔ rứa?"
    assert [(w, text[s:e]) for w, s, e in spelled_words(text)] == [
        ("nộp", "Nộp"),
        ("ở", "ở"),
        ("đâu", "MÔ"),
        ("vậy", "rứa"),
    ]
