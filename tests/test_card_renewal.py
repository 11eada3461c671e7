"""An ID card's renewal worked out from the age and the year the card was made."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.card_renewal import Renewal, answer, renewal, renewal_from_text
from bot.content import address
from bot.nlu.forms_of_address import Address, forms_of_address
from tests.conftest import project_library

TODAY = dt.date(2026, 12, 5)


@pytest.mark.parametrize(
    ("age_now", "made_in", "expected"),
    [
        (72, 2016, Renewal(2016, 62, None, None, False)),  # made at 62: for life
        (59, 2025, Renewal(2025, 58, None, None, False)),  # made at 58: for life
        (59, 2021, Renewal(2021, 54, 60, 2027, False)),
        (26, 2018, Renewal(2018, 18, 25, 2025, True)),  # 25 passed: renew now
        (24, 2025, Renewal(2025, 23, 40, 2042, False)),  # made within 2 years of 25
    ],
)
def test_the_next_renewal_age_follows_the_law(age_now: int, made_in: int, expected) -> None:
    assert renewal(age_now, made_in, 2026) == expected


def test_an_elderly_mans_message_gives_his_age_and_the_cards_year() -> None:
    text = "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không"
    assert renewal_from_text(text, TODAY) == Renewal(2016, 62, None, None, False)


def test_a_birth_year_counts_as_an_age_and_is_not_taken_for_the_cards_year() -> None:
    text = "toi sinh nam 1990, lam cccd nam 2021 thi bao gio phai doi"
    assert renewal_from_text(text, TODAY) == Renewal(2021, 31, 40, 2030, False)


def test_the_age_the_card_was_made_at_counts_over_the_age_now() -> None:
    """Made at 23, within 2 years of 25: it lasts to 40 (the "now" age, 26, does not fit
    the years given and must not turn 23 into 18)."""
    text = "thẻ căn cước làm năm 2021 lúc 23 tuổi giờ 26 tuổi có phải đổi không"
    assert renewal_from_text(text, TODAY) == Renewal(2021, 23, 40, 2038, False)


@pytest.mark.parametrize(
    "text",
    ["con tôi 14 tuổi có phải làm căn cước không", "bác 72 tuổi, làm giấy khai sinh năm 2016"],
)
def test_without_an_age_and_a_card_year_nothing_is_worked_out(text: str) -> None:
    assert renewal_from_text(text, TODAY) is None


def test_the_answer_opens_with_yes_or_no() -> None:
    library = project_library()
    said = answer(library, "bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không", TODAY)
    assert said is not None and said.startswith("Không phải đổi.")
    said = answer(library, "em 26 tuổi, làm căn cước năm 2018 có phải đổi không", TODAY)
    assert said is not None and said.startswith("Phải đổi.")


def test_a_year_told_before_the_verb_is_the_cards_year() -> None:
    text = "Ba em năm nay 60 tuổi, năm 2020 đã làm căn cước mã vạch rồi, có bắt buộc đổi không"
    assert renewal_from_text(text, TODAY) == Renewal(2020, 54, 60, 2026, True)


def test_past_sixty_without_the_cards_year_the_rule_for_that_age_is_told() -> None:
    """A 68-year-old who asks whether to renew, not saying when the card was made: whether
    it lasts for life hangs on that year, which is asked for, with an example that works."""
    library = project_library()
    text = "Tôi năm nay 68 tuổi, nghe nói thẻ căn cước cũ vẫn dùng được, có cần đi làm lại không"
    said = answer(library, text, TODAY)
    assert said is not None and said.startswith("Tùy năm làm thẻ.")
    assert "từ đủ 58 tuổi trở lên thì dùng suốt đời" in said and "31/12/2024" in said
    example = said.split('"')[1]
    assert example == "68 tuổi, thẻ căn cước làm năm 2016"
    assert answer(library, example, TODAY).startswith("Không phải đổi.")


@pytest.mark.parametrize(
    "text",
    [
        "mẹ tôi 62 tuổi mất căn cước có phải làm lại không",  # lost: re-issued at any age
        "ong 70 tuoi doi can cuoc can giay to gi",  # the papers asked
        "bác 67 tuổi, tên xã đổi rồi có phải làm lại căn cước không",  # the address
        "con tôi 14 tuổi có phải làm căn cước không",  # before the last renewal age
    ],
)
def test_other_questions_of_an_age_get_no_renewal_rule(text: str) -> None:
    assert answer(project_library(), text, TODAY) is None


def test_a_birth_year_told_before_a_verb_is_not_the_cards_year() -> None:
    said = answer(project_library(), "bà sinh năm 1960 đổi căn cước chưa, có phải đổi không", TODAY)
    assert said is not None and said.startswith("Tùy năm làm thẻ.")


@pytest.mark.parametrize(
    ("text", "holder"),
    [
        ("Cháu chào bác ạ, cháu hỏi mẹ cháu năm nay 60 tuổi, căn cước làm năm 2021", "mẹ bạn"),
        ("bo toi sinh nam 1960, cccd lam nam 2016 co phai doi khong", "bố anh/chị"),
        ("ông nội em năm nay 80 tuổi rồi, căn cước làm năm 2010 có phải đổi", "ông nội bạn"),
    ],
)
def test_the_card_of_a_relative_is_said_to_be_theirs(text: str, holder: str) -> None:
    # "mẹ cháu năm nay 60 tuổi" got "…lúc bạn khoảng 55 tuổi, phải đổi khi bạn đủ 60 tuổi"
    said = address.speak(answer(project_library(), text, TODAY) or "", _form(text))
    assert f"lúc {holder} khoảng" in said


def test_the_citizens_own_card_is_theirs() -> None:
    text = "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không"
    said = address.speak(answer(project_library(), text, TODAY) or "", _form(text))
    assert "lúc bác khoảng 62 tuổi" in said


def _form(text: str) -> Address:
    return forms_of_address(text) or address.DEFAULT
