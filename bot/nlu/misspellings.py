"""Common misspellings of the procedures' words, corrected where the fix is unambiguous.

Citizens write as they speak: s/x, tr/ch, d/gi, a dropped final g, hỏi/ngã swapped
("thườn trú", "khai xinh", "tạm chú", "hộ khẩo"). A correction is keyed on a word pair, so
"xinh" alone (pretty) is left alone; unaccented pairs are corrected to unaccented words so the
message keeps its typing style.
"""

from __future__ import annotations

from collections.abc import Sequence

# "wrong pair" → "right pair"; every key is two words and nothing a citizen means as written.
PAIRS: dict[str, str] = {
    # thường trú, tạm trú, tạm vắng
    "thườn trú": "thường trú",
    "thường chú": "thường trú",
    "thương trú": "thường trú",
    "thườg trú": "thường trú",
    "tạm chú": "tạm trú",
    "tạm trũ": "tạm trú",
    "tạm vắn": "tạm vắng",
    "thuon tru": "thuong tru",
    "thuong chu": "thuong tru",
    "tam chu": "tam tru",
    "tam van": "tam vang",
    # khai sinh, khai tử, kết hôn, ly hôn
    "khai xinh": "khai sinh",
    "khai sanh": "khai sinh",
    # the Southern "sanh" for "sinh"
    "sanh năm": "sinh năm",
    "sanh nam": "sinh nam",
    "sanh con": "sinh con",
    "mới sanh": "mới sinh",
    "moi sanh": "moi sinh",
    "khai tữ": "khai tử",
    "kết hông": "kết hôn",
    "hôn nhâng": "hôn nhân",
    "li hôn": "ly hôn",
    "ket hong": "ket hon",
    "li hon": "ly hon",
    # căn cước, chứng minh, chứng thực, công chứng
    "căn cướt": "căn cước",
    "căng cước": "căn cước",
    "căng cướt": "căn cước",
    "căn cức": "căn cước",
    "chứn minh": "chứng minh",
    "chứng thự": "chứng thực",
    "chứng thựt": "chứng thực",
    "chứn thực": "chứng thực",
    "công chứn": "công chứng",
    "côn chứng": "công chứng",
    "can cuot": "can cuoc",
    "cang cuoc": "can cuoc",
    "cang cuot": "can cuoc",
    # tư pháp, hộ khẩu, giấy tờ, hồ sơ, thủ tục
    "tư phát": "tư pháp",
    "tư phấp": "tư pháp",
    "hộ khẩo": "hộ khẩu",
    "hộ khẫu": "hộ khẩu",
    "hộ khâu": "hộ khẩu",
    "ho khao": "ho khau",
    "dấy tờ": "giấy tờ",
    "giấy tở": "giấy tờ",
    "dấy khai": "giấy khai",
    "hồ xơ": "hồ sơ",
    "thủ tụt": "thủ tục",
    "trích lụt": "trích lục",
    "chích lục": "trích lục",
    "trít lục": "trích lục",
    "chich luc": "trich luc",
    # xác nhận, tình trạng, độc thân, giám hộ, trợ cấp
    "sác nhận": "xác nhận",
    "xát nhận": "xác nhận",
    "sac nhan": "xac nhan",
    "tìn trạng": "tình trạng",
    "tình chạng": "tình trạng",
    "tinh chang": "tinh trang",
    "độc thâng": "độc thân",
    "dám hộ": "giám hộ",
    "chợ cấp": "trợ cấp",
    # đất đai, xây dựng, bảo hiểm, nghĩa vụ quân sự
    "xử dụng": "sử dụng",
    "xu dung": "su dung",
    "sây dựng": "xây dựng",
    "xây dựn": "xây dựng",
    "bảo hiễm": "bảo hiểm",
    "nghỉa vụ": "nghĩa vụ",
    "quân xự": "quân sự",
    # đăng ký, chữ ký, cán bộ, hướng dẫn, giải quyết
    "đăng kí": "đăng ký",
    "chữ kí": "chữ ký",
    "kí tên": "ký tên",
    "dang ki": "dang ky",
    "chu ki": "chu ky",
    "cáng bộ": "cán bộ",
    "cán bọ": "cán bộ",
    "can bọ": "cán bộ",
    "hướn dẫn": "hướng dẫn",
    "hướng dẩn": "hướng dẫn",
    "huon dan": "huong dan",
    "giải quyếc": "giải quyết",
    "dải quyết": "giải quyết",
    "chuyễn khẩu": "chuyển khẩu",
    "lệ phi": "lệ phí",
}


def correct(words: Sequence[str]) -> list[str]:
    """The words with each misspelled pair replaced by its right pair, word for word."""
    out = list(words)
    i = 0
    while i < len(out) - 1:
        right = PAIRS.get(f"{out[i]} {out[i + 1]}")
        if right:
            out[i], out[i + 1] = right.split()
            i += 2
        else:
            i += 1
    return out
