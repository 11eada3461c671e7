"""Forms of address: answer as the citizen speaks ("Dạ, cháu gửi bác…")."""

import pytest

from bot.nlu.forms_of_address import Address, forms_of_address

ADDRESSED = {
    "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không": ("bác", "cháu"),
    "chao chau, bac 72 tuoi, chau cho bac hoi": ("bác", "cháu"),
    "bac 72 tuoi, chau cho bac hoi the can cuoc co phai doi khong": ("bác", "cháu"),
    "cho bác hỏi làm căn cước ở đâu": ("bác", "cháu"),
    "Con ơi, cho bà hỏi tiền trợ cấp tháng này bao giờ có": ("bà", "con"),
    "con oi cho ba hoi tien tro cap": ("bà", "con"),
    "Chào con, ông năm nay 85 tuổi, ông muốn làm lại căn cước": ("ông", "con"),
    "ong nam nay 85 tuoi roi, muon lam lai can cuoc": ("ông", "cháu"),
    "cháu ơi cô muốn hỏi thủ tục khai tử": ("cô", "cháu"),
    "Em ơi cho chú hỏi đăng ký tạm trú ở đâu": ("chú", "em"),
    "em oi cho chu hoi dang ky tam tru o dau": ("chú", "em"),
    "chú muốn đăng ký thường trú cho con chú": ("chú", "cháu"),
    "hồ sơ của bác xong chưa cháu": ("bác", "cháu"),
    "cảm ơn cháu nhiều": ("bác", "cháu"),
    "cam on con nhe": ("bác", "con"),
    "chào cháu": ("bác", "cháu"),
    "cho anh hỏi làm sổ đỏ mất bao lâu": ("anh", "em"),
    "chị muốn hỏi về giấy khai sinh cho con": ("chị", "em"),
    "cho chi hoi le phi tam tru": ("chị", "em"),
    "cho em hỏi làm căn cước ở đâu ạ": ("bạn", "mình"),
    "chị ơi cho em hỏi hồ sơ của em xong chưa": ("bạn", "mình"),
    "em chao anh chi a, em muon dang ky ket hon": ("bạn", "mình"),
    "cho mình hỏi lệ phí làm căn cước": ("bạn", "mình"),
    # "e" typed for "em": "hỏi con" read as calling the assistant "con" made her "bác"
    "ad ơi cho e hỏi con e 2 tháng tuổi rồi chưa làm khai sinh": ("bạn", "mình"),
    "cho mik hỏi lệ phí tạm trú": ("bạn", "mình"),
    "con chào cô, con muốn hỏi học bổng": ("bạn", "mình"),
    "em ơi, giấy khai sinh làm ở đâu": ("anh/chị", "em"),
    "dạ cháu chào bác, cháu cần làm giấy xác nhận cư trú": ("bạn", "mình"),
    # typed without diacritics: only where "có", "đi", "chỉ", "còn" cannot stand
    "cho co hoi lam can cuoc o dau": ("cô", "cháu"),
    "bac muon hoi ve tro cap nguoi cao tuoi": ("bác", "cháu"),
    "ba nam nay 70 tuoi, muon lam the bhyt": ("bà", "cháu"),
    "Chào các cháu, bác năm nay ngoài 60, vừa rồi bác ra bộ phận một cửa nộp hồ sơ": (
        "bác",
        "cháu",
    ),
}
NOT_ADDRESSED = [
    "o nho nha ba con chung 2 tuan thoi co can khai tam tru hong",  # "thôi có", not "ơi cô"
    "ở nhờ nhà bà con chừng 2 tuần thôi có cần khai tạm trú hông",  # relatives, not "bà"
    "làm căn cước ở đâu",
    "lam can cuoc o dau",
    "xin chào",
    "chào bạn",
    "chao ad",
    "con tôi 14 tuổi có phải làm căn cước không",
    "con 14 tuổi có phải làm căn cước không",
    "mẹ tôi 90 tuổi có được trợ cấp không",
    "tôi muốn đăng ký tạm trú",
    "có phải đổi căn cước không",
    "chi phí làm sổ đỏ bao nhiêu",
    "chứng minh nhân dân còn dùng được không",
    "đi đăng ký khai sinh cần mang gì",
    "câu hỏi về hộ khẩu",
    "bác sĩ bảo phải có giấy chứng sinh",
    "em bé nhà tôi mới sinh",
    "chú ý gì khi làm hồ sơ",
    # without diacritics "co", "di", "chi", "cau", "con" are mostly có, đi, chỉ, câu, còn
    "vo chong chua lam giay ket hon thi khai sinh cho con co bi lam kho khong",
    "di lam can cuoc o dau",
    "co can giay to gi khong",
    "chi can mang can cuoc thoi a",
    "the cu con han khong, co phai doi khong",
    "be moi co 2 tuoi thi lam the bhyt o dau",
    # someone else: the writer says "tôi", or the kin word is followed by who it is
    "Ông nhà tôi mới mất, tài khoản định danh điện tử của ông còn trên điện thoại",
    "Chồng chị tui đang giữ hết căn cước của chỉ",
    "Nhà ông hàng xóm nuôi mấy trăm con lợn, xả thải xuống suối",
    "mượn xe máy của anh rể đi làm thì có bị phạt không",
]


@pytest.mark.parametrize(("message", "expected"), list(ADDRESSED.items()))
def test_citizens_are_answered_as_they_name_themselves(
    message: str, expected: tuple[str, str]
) -> None:
    assert forms_of_address(message) == Address(*expected)


@pytest.mark.parametrize("message", NOT_ADDRESSED)
def test_messages_that_name_nobody_keep_the_default(message: str) -> None:
    assert forms_of_address(message) is None
