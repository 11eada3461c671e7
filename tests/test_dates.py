"""Vietnamese dates and times, with and without diacritics, from a fixed "now"."""

import datetime as dt

import pytest

from bot.local_time import TIMEZONE
from bot.nlu.dates import parse_datetimes

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TIMEZONE)  # Monday 23/11/2026, 10:00


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngày 5/12", "2026-12-05T00:00:00+07:00"),
        ("20/01/2026", "2026-01-20T00:00:00+07:00"),
        ("5/1", "2027-01-05T00:00:00+07:00"),  # already past this year: next January
        ("ngày 5 tháng 12 năm 2026", "2026-12-05T00:00:00+07:00"),
        ("thứ 6 tuần sau", "2026-12-04T00:00:00+07:00"),
        ("thu 6 tuan sau", "2026-12-04T00:00:00+07:00"),
        ("thứ sáu", "2026-11-27T00:00:00+07:00"),
        ("chủ nhật tuần sau 9h", "2026-12-06T09:00:00+07:00"),
        ("mai 8h sáng", "2026-11-24T08:00:00+07:00"),
        ("mai 8h sang", "2026-11-24T08:00:00+07:00"),
        ("chiều nay 3 giờ", "2026-11-23T15:00:00+07:00"),
        ("chieu nay 3 gio", "2026-11-23T15:00:00+07:00"),
        ("tối mai 7 giờ", "2026-11-24T19:00:00+07:00"),
        ("lúc 14:30", "2026-11-23T14:30:00+07:00"),
        ("8h", "2026-11-24T08:00:00+07:00"),  # 8:00 has passed today: tomorrow
        ("ngay 25 thang nay", "2026-11-25T00:00:00+07:00"),
        ("ngày 3", "2026-12-03T00:00:00+07:00"),  # the 3rd has passed: next month's
        ("ngày 15 tháng sau lúc 9h", "2026-12-15T09:00:00+07:00"),
    ],
)
def test_expression_becomes_an_iso_datetime_in_vietnam_time(text: str, expected: str) -> None:
    [found] = parse_datetimes(text, NOW)
    assert found.text_value == expected


def test_date_and_time_apart_in_one_message_combine() -> None:
    text = "nhắc tôi thứ 6 đi nhận kết quả lúc 8h"
    [found] = parse_datetimes(text, NOW)
    assert found.text_value == "2026-11-27T08:00:00+07:00"
    assert text[found.start : found.end].startswith("thứ 6")


def test_the_pronoun_toi_is_not_the_evening() -> None:
    assert parse_datetimes("tôi cần làm căn cước", NOW) == []
    [found] = parse_datetimes("tôi muốn hẹn 9h tối nay", NOW)
    assert found.text_value == "2026-11-23T21:00:00+07:00"


@pytest.mark.parametrize("text", ["hồ sơ G22.39-250715-0001", "gọi 0912 345 678", "ngày 31/2"])
def test_codes_phones_and_impossible_dates_are_not_dates(text: str) -> None:
    assert parse_datetimes(text, NOW) == []


@pytest.mark.parametrize(
    "text",
    [
        "xin thêm bản sao giấy khai sinh thì mất bao nhiêu tiền một bản?",
        "mat bao nhieu tien mot ban",
        "hai người cùng đi làm được không",
        "giải quyết trong ba ngày làm việc",
        "một ngày làm việc",
        "người thứ hai đóng bao nhiêu",
        "con thứ 2 có được miễn không",
        "làm mất 2 giờ",
        "trong 2 giờ có kết quả không",
        "phí 1.5 triệu",
    ],
)
def test_counting_words_and_amounts_are_not_dates(text: str) -> None:
    assert parse_datetimes(text, NOW) == []


@pytest.mark.parametrize(
    "text",
    ["trợ cấp mai táng", "tro cap mai tang phi", "chờ mãi không thấy", "hộ kinh doanh thương mại"],
)
def test_words_that_fold_to_mai_are_not_tomorrow(text: str) -> None:
    assert parse_datetimes(text, NOW) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ngày mốt", "2026-11-25T00:00:00+07:00"),
        ("ngay mot", "2026-11-25T00:00:00+07:00"),
        ("mot 8h sang", "2026-11-25T08:00:00+07:00"),
        ("mất 2 giờ chiều", "2026-11-23T14:00:00+07:00"),
    ],
)
def test_the_day_after_tomorrow_and_clock_times_still_count(text: str, expected: str) -> None:
    [found] = parse_datetimes(text, NOW)
    assert found.text_value == expected


def test_a_day_the_month_lacks_is_no_date() -> None:
    assert parse_datetimes("ngày 31 tháng này", NOW) == []  # November has 30 days
