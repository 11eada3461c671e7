"""Word senses: "mất" as "died" only where the words around it say so."""

import pytest

from bot.nlu.senses import with_senses
from bot.nlu.text import fold, spelled_words


def _read(text: str) -> str:
    return " ".join(with_senses([fold(word) for word, _, _ in spelled_words(text)]))


@pytest.mark.parametrize(
    "text",
    [
        "vợ tôi mới mất tháng trước, tôi phải làm thủ tục gì",
        "bố em mất ở bv",
        "ông nội em mất được 3 tháng",
        "me toi mat",
        "em tôi mất hôm qua",
        "ba tui mất vì covid",
    ],
)
def test_a_person_who_died(text: str) -> None:
    assert "chet" in _read(text).split()


@pytest.mark.parametrize(
    "text",
    [
        "con tôi mất giấy khai sinh",
        "làm căn cước mất bao lâu",
        "mẹ tôi mất tiền vì bị lừa",
        "em mất rồi",  # a paper lost: "em" is the citizen
        "giấy của bố mất rồi",
        "anh hai tui mất tích 5 năm",
        "bố tôi mất căn cước",
        "đăng ký kết hôn có cần cả hai người có mặt không",  # "có mặt" folds alike
        "giấy khai sinh cũ mất rồi",  # "cũ", not "cụ"
        "cán bộ mặt trận",
    ],
)
def test_something_lost_or_spent(text: str) -> None:
    assert "chet" not in _read(text).split()
