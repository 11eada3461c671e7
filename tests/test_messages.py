"""OA message shapes stay within Zalo's limits."""

from bot.zalo import message_shapes


def test_short_text_is_one_message() -> None:
    assert message_shapes.split_text("Xin chào") == ["Xin chào"]


def test_long_text_splits_at_paragraph_boundaries() -> None:
    paragraphs = [f"Đoạn {n}. " + "chữ " * 150 for n in range(6)]
    parts = message_shapes.split_text("\n\n".join(paragraphs))
    assert all(len(part) <= message_shapes.MAX_TEXT for part in parts)
    assert len(parts) > 1
    assert all(part.startswith("Đoạn") for part in parts)  # never cut inside a paragraph
    assert "".join("".join(parts).split()) == "".join("".join(paragraphs).split())  # nothing lost


def test_a_paragraph_longer_than_the_limit_splits_between_words() -> None:
    parts = message_shapes.split_text("khai sinh " * 500)
    assert all(len(part) <= message_shapes.MAX_TEXT for part in parts)
    assert all(not part.endswith("kha") for part in parts)


def test_more_than_five_buttons_overflow_to_a_second_message() -> None:
    buttons = [{"title": f"Mục {n}", "payload": f"/intent_{n}"} for n in range(7)]
    out = message_shapes.with_buttons("Chọn một mục:", buttons)
    counts = [len(m["attachment"]["payload"]["buttons"]) for m in out]
    assert counts == [5, 2]
    assert out[0]["text"] == "Chọn một mục:"


def test_button_kinds_follow_the_payload() -> None:
    assert message_shapes.button("Trang DVC", "https://dichvucong.gov.vn")["type"] == "oa.open.url"
    assert message_shapes.button("Gọi", "tel:18001096")["payload"] == {"phone_code": "18001096"}
    assert message_shapes.button("Khai sinh", "/proc_birth_registration")["type"] == "oa.query.hide"
    assert message_shapes.button("Có", "có")["type"] == "oa.query.show"


def test_long_button_titles_are_shortened() -> None:
    title = message_shapes.button("Một tiêu đề rất rất dài cho nút bấm", "/x")["title"]
    assert len(title) <= message_shapes.MAX_BUTTON_TITLE
    assert title.endswith("…")
