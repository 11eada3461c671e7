"""Vietnamese normalisation used by the tokenizer."""

import unicodedata

from bot.nlu.text import expand, fold, normalise, words


def test_fold_strips_every_diacritic_and_d_bar() -> None:
    assert fold("Đăng ký khai sinh ở đâu") == "Dang ky khai sinh o dau"


def test_decomposed_input_normalises_to_the_same_text() -> None:
    composed = "làm giấy khai sinh"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert normalise(decomposed) == composed
    assert fold(decomposed) == fold(composed)


def test_teencode_expands_to_accented_words() -> None:
    assert expand("ko") == ["không"]
    assert expand("cccd") == ["căn", "cước"]
    assert expand("khai") == ["khai"]


def test_procedure_abbreviations_citizens_type_are_expanded() -> None:
    """ "đổi blx online dc ko" fell back; "mức chuẩn trợ giúp xh" was read as a call for help."""
    assert expand("blx") == ["bằng", "lái", "xe"]
    assert expand("xh") == ["xã", "hội"]
    assert expand("gks") == ["giấy", "khai", "sinh"]
    assert expand("onl") == ["online"]  # "lm onl dc k" asks the online way


def test_words_keep_offsets_into_the_original_text() -> None:
    text = "hồ sơ G22.39-250715-0001 xong chưa"
    for word, start, end in words(text):
        assert text[start:end] == word
