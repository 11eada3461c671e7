"""Read-only page: the live content (last reload, errors, sample data left). Dossiers and
campaigns have their own pages (dossiers.py, campaigns.py)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from bot.admin.html import h, local_time, table
from bot.admin.site import CONTENT, admin_of, page, requires
from bot.content.model import Locality
from bot.local_time import local_date

SAMPLE_WARNING = (
    "Tệp content/locality.yml vẫn là dữ liệu mẫu: người dân đang được hướng dẫn tới địa chỉ, "
    "giờ làm việc và số điện thoại mẫu. Xin điền thông tin thật của xã vào tệp này rồi đổi "
    "dòng «sample: true» thành «sample: false»."
)


def holds_sample_data(locality: Locality) -> bool:
    """content/locality.yml is still the shipped sample: its `sample: true` marker is
    there, or its hotline has no digit but 0 (the sample's "0000 000 000")."""
    marked = locality.values.get("sample", "").lower() == "true"
    digits = "".join(c for c in locality.values.get("hotline", "") if c.isdigit())
    return marked or not digits.strip("0")


@requires(*CONTENT)
async def content_status(request: web.Request) -> web.Response:
    admin = admin_of(request)
    status, library = admin.watcher.status, admin.library
    facts = [
        ["Lần tải gần nhất", local_time(status.loaded_at)],
        ["Số lần tải thành công từ khi chạy", status.loads],
        ["Số hướng dẫn", status.guides],
        [
            "Lỗi gần nhất",
            f"{status.last_error} (lúc {local_time(status.last_error_at)})"
            if status.last_error
            else "Không có",
        ],
        [
            "Cần huấn luyện lại",
            "Có: câu hỏi mẫu đã đổi, chạy `citizenbot train` rồi khởi động lại"
            if status.retrain_needed
            else "Không",
        ],
    ]
    guides = sorted(library.guides.values(), key=lambda g: g.last_reviewed)
    body = h(
        "{sample}{error}{facts}<h2>Hướng dẫn (xem lại lâu nhất ở trên)</h2>{guides}",
        sample=h('<p class="warning">{w}</p>', w=SAMPLE_WARNING)
        if holds_sample_data(library.locality)
        else "",
        error=h('<p class="error">{e}</p>', e=status.last_error) if status.last_error else "",
        facts=table(["", ""], facts),
        guides=table(
            [
                "Hướng dẫn",
                "Tệp trong content/guides/",
                "Xem lại ngày",
                "Số bước",
                "Câu hỏi thường gặp",
            ],
            [
                [
                    g.title,
                    Path(g.source_file).name,
                    local_date(g.last_reviewed),
                    len(g.steps),
                    len(g.faqs),
                ]
                for g in guides
            ],
        ),
    )
    return page(request, "Tình trạng nội dung", body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/content", content_status),
    ]
