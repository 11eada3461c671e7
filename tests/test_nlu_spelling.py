"""Keyboard residue (Telex, VNI), syllable rules and misspellings: text as citizens type it."""

import time

import pytest

from bot.nlu.keyboard_residue import decode
from bot.nlu.misspellings import correct
from bot.nlu.syllables import is_syllable, respell
from bot.nlu.text import spelled_words

TELEX_WORDS = {
    # a mark typed last, or a circumflex left out where the vowels need one
    "chuaw": "chưa",
    "layas": "lấy",
    "lanaf": "lần",
    "trieuj": "triệu",
    "ddienj": "điện",
    # uô or ươ: "tuổi" or "tưởi"; the plain vowels, as if typed with no mark at all
    "tuoir": "tuoi",
    "dduocj": "đuoc",
    "lamf": "làm",
    "giaays": "giấy",
    "ddi": "đi",
    "khoong": "không",
    "hoir": "hỏi",
    "tooi": "tôi",
    "gawpj": "gặp",
    "boj": "bọ",
    "chaof": "chào",
    "muoons": "muốn",
    "ddawng": "đăng",
    "kys": "ký",
    "tuwr": "tử",
    "thuowngf": "thường",
    "truws": "trứ",
    "tamj": "tạm",
    "vawngs": "vắng",
    "chuwngs": "chứng",
    "nhaan": "nhân",
    "daan": "dân",
    "quoocs": "quốc",
    "giuwx": "giữ",
    "gif": "gì",
    "giowf": "giờ",
    "ngheef": "nghề",
    "nghiax": "nghĩa",
    "vuj": "vụ",
    "quaan": "quân",
    "suwj": "sự",
    "dduwowcj": "được",
    "dduowcj": "được",
    "nguwowif": "người",
    "nguoiwf": "người",
    "nhwng": "nhưng",
    "wf": "ừ",
    "baof": "bào",
    "nhieeu": "nhiêu",
    "laau": "lâu",
    "phis": "phí",
    "leej": "lệ",
    "owr": "ở",
    "ddaau": "đâu",
    "nawm": "năm",
    "hooj": "hộ",
    "khaaur": "khẩu",
    "keets": "kết",
    "hoon": "hôn",
    "thur": "thủ",
    "tucj": "tục",
    "caanf": "cần",
    "ddaats": "đất",
    "xaay": "xây",
    "duwngj": "dựng",
    "bieets": "biết",
    "trar": "trả",
    "lowif": "lời",
    "cuar": "của",
    "minhf": "mình",
    "ddeens": "đến",
    "ddaay": "đây",
    "huwowngs": "hướng",
    "daanx": "dẫn",
    "giair": "giải",
    "quyeets": "quyết",
    "conf": "còn",
    "chuyeenr": "chuyển",
    "nuwax": "nữa",
    "ddoongf": "đồng",
    "mas": "má",
    "cas": "cá",
    "tir": "tỉ",
    "hoaf": "hòa",
    "thuyr": "thủy",
    "khoer": "khỏe",
}
VNI_WORDS = {
    "d9i": "đi",
    "kho6ng": "không",
    "ho3i": "hỏi",
    "to6i": "tôi",
    "ga85p": "gặp",
    "d9a8ng": "đăng",
    "ky1": "ký",
    "thu7o7ng2": "thường",
    "thuo7ng2": "thường",
    "tru1": "trú",
    "la2m": "làm",
    "gia6y1": "giấy",
    "chu7ng1": "chứng",
    "mi2nh": "mình",
    "d9u7o75c": "được",
    "nguo7i2": "người",
    "thuo73": "thuở",
}
PHRASES = {
    "lamf giaays khai sinh": "làm giấy khai sinh",
    "d9a8ng ky1 thu7o7ng2 tru1": "đăng ký thường trú",
    "cho tooi gawpj can boj": "cho tôi gặp cán bộ",
    "xin chaof tooi muoons ddawng kys khai tuwr": "xin chào tôi muốn đăng ký khai tử",
    "lamf cawn cuwowcs owr ddaau": "làm căn cước ở đâu",
    "bao nhieeu tieenf": "bao nhiêu tiền",
    "tha8m bao la6u": "thăm bao lâu",
    "ho62 so7 cu3a to6i xong chu7a": "hồ sơ của tôi xong chưa",
}
KEPT_TABLE = """
    ban con so to do an ex ok hello online zalo email vneid tuoi can as is of or us bus box
    max tax sex gas car bar this its has hix hi hey alo xin chao toi muon lam giay khai sinh
    dang ky thuong tru tam vang ho chieu nguoi cao phuong xa thon ap huyen tinh cccd cmnd
    ubnd thpt sdt ntn facebook google youtube wifi web app pdf file photo copy covid vaccine
    taxi grab shopee momo banking internet password otp sms code form link yes no please
    sorry what why how new now thank thanks okay ko dc dk mik bik hok j r z cx 0912345678
    2026 20 01 8h 14t 7h30 a4 a1 b2 h26 250101 0001 g22 39 3tr 500k 15k 100000 2tr5 k12
    lop12 q1 p3 tp hcm hn dt gplx bhyt bhxh ad admin yss giaaays w
    areas series movies shipper container messenger data ideas
"""


@pytest.mark.parametrize(("typed", "meant"), sorted({**TELEX_WORDS, **VNI_WORDS}.items()))
def test_keyboard_residue_decodes_to_the_syllable_meant(typed: str, meant: str) -> None:
    assert decode(typed) == meant


@pytest.mark.parametrize(("typed", "meant"), sorted(PHRASES.items()))
def test_residue_phrases_read_as_meant(typed: str, meant: str) -> None:
    assert " ".join(word for word, _, _ in spelled_words(typed)) == meant


@pytest.mark.parametrize("word", KEPT_TABLE.split())
def test_real_words_numbers_and_codes_are_left_alone(word: str) -> None:
    assert decode(word) == word


def test_teencode_w_for_qu_is_read_as_teencode_not_telex() -> None:
    assert [w for w, _, _ in spelled_words("chờ lâu wa")] == ["chờ", "lâu", "wa"]


def test_accented_words_are_not_decoded_again() -> None:
    assert [decode(w) for w in ["làm", "giấy", "không", "đăng"]] == ["làm", "giấy", "không", "đăng"]


def test_dossier_codes_dates_and_phone_numbers_keep_their_pieces() -> None:
    text = "hồ sơ 000.00.24.H26-250101-0001 hẹn 20/01/2026 8h gọi 0912345678"
    assert [w for w, _, _ in spelled_words(text)] == [
        "hồ",
        "sơ",
        "000",
        "00",
        "24",
        "h26",
        "250101",
        "0001",
        "hẹn",
        "20",
        "01",
        "2026",
        "8h",
        "gọi",
        "0912345678",
    ]


def test_spelled_words_keep_offsets_into_the_original_text() -> None:
    text = "Cho tooi gawpj can boj ạ"
    spelled = spelled_words(text)
    assert [text[start:end] for _, start, end in spelled] == text.split()


@pytest.mark.parametrize(
    "word", ["giấy", "khỏe", "thủy", "người", "gì", "giếng", "quý", "thuở", "khuỷu", "tốt"]
)
def test_real_syllables_pass_the_spelling_rules(word: str) -> None:
    assert is_syllable(word)


@pytest.mark.parametrize("word", ["cas", "tôt", "gâys", "cẩ", "kan", "ghân", "ngi", "quu", "tốć"])
def test_impossible_spellings_fail_the_spelling_rules(word: str) -> None:
    assert not is_syllable(word)


@pytest.mark.parametrize(
    ("typed", "respelled"),
    [("hoà", "hòa"), ("thuỷ", "thủy"), ("uỷ", "ủy"), ("khoẻ", "khỏe"), ("ngừoi", "người")],
)
def test_tone_marks_are_placed_as_in_the_training_data(typed: str, respelled: str) -> None:
    assert respell(typed) == respelled


MISSPELLED = {
    "thườn trú": "thường trú",
    "tư phát": "tư pháp",
    "khai xinh": "khai sinh",
    "căn cướt": "căn cước",
    "tạm chú": "tạm trú",
    "chứng thự": "chứng thực",
    "hộ khẩo": "hộ khẩu",
    "khai sanh": "khai sinh",
    "xử dụng": "sử dụng",
    "đăng kí": "đăng ký",
    "thuong chu": "thuong tru",
    "can cuot": "can cuoc",
}


@pytest.mark.parametrize(("typed", "meant"), sorted(MISSPELLED.items()))
def test_common_misspellings_are_corrected(typed: str, meant: str) -> None:
    assert correct(typed.split()) == meant.split()


def test_a_misspelling_is_corrected_inside_a_sentence() -> None:
    words = " ".join(w for w, _, _ in spelled_words("Cho hỏi làm thườn trú và khai xinh ở đâu"))
    assert words == "cho hỏi làm thường trú và khai sinh ở đâu"


def test_a_word_alone_is_not_corrected_without_its_pair() -> None:
    assert correct(["em", "xinh", "quá"]) == ["em", "xinh", "quá"]


def test_spelling_a_thousand_messages_takes_well_under_a_millisecond_each() -> None:
    messages = [f"{p} {i}" for i in range(125) for p in list(PHRASES) + ["khai xinh con"]]
    messages = messages[:1000]
    started = time.perf_counter()
    for message in messages:
        spelled_words(message)
    assert (time.perf_counter() - started) / len(messages) < 0.001
