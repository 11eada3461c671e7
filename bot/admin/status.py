"""Read-only pages: the live content (last reload, errors), campaigns and their deliveries.
Campaign tables belong to their own feature and may not exist yet; the page shows whatever
tables there are. (Dossiers have their own page: dossiers.py.)"""

from __future__ import annotations

import sqlite_utils
from aiohttp import web

from bot import content
from bot.admin.html import Html, h, join, local_time, table
from bot.admin.site import CONTENT, admin_of, page, requires

ROWS_SHOWN = 50


@requires(*CONTENT)
async def content_status(request: web.Request) -> web.Response:
    status = admin_of(request).content.status
    library = content.current()
    facts = [
        ["Lần tải gần nhất", local_time(status.loaded_at)],
        ["Số lần tải thành công từ khi chạy", status.loads],
        ["Số hướng dẫn", status.guides],
        ["Lỗi gần nhất", status.last_error or "Không có"],
        ["Lỗi lúc", local_time(status.last_error_at)],
        [
            "Cần huấn luyện lại",
            "Có: câu hỏi mẫu đã đổi, chạy `citizenbot train` rồi khởi động lại"
            if status.retrain_needed
            else "Không",
        ],
    ]
    guides = sorted(library.guides.values(), key=lambda g: g.last_reviewed)
    body = h(
        "{error}{facts}<h2>Hướng dẫn (xem lại lâu nhất ở trên)</h2>{guides}",
        error=h('<p class="error">{e}</p>', e=status.last_error) if status.last_error else "",
        facts=table(["", ""], facts),
        guides=table(
            ["Hướng dẫn", "Tệp", "Xem lại ngày", "Số bước", "Câu hỏi thường gặp"],
            [
                [
                    g.title,
                    g.source_file,
                    g.last_reviewed.strftime("%d/%m/%Y"),
                    len(g.steps),
                    len(g.faqs),
                ]
                for g in guides
            ],
        ),
    )
    return page(request, "Tình trạng nội dung", body)


def _tables(db: sqlite_utils.Database, prefix: str) -> list[dict]:
    """Each table named `prefix`…: its row count, counts by status, and its latest rows."""
    found = []
    for name in sorted(n for n in db.table_names() if n.startswith(prefix)):
        table_ = db[name]
        columns = [column.name for column in table_.columns]
        by_status = []
        if "status" in columns:
            by_status = db.conn.execute(
                f'SELECT status, COUNT(*) FROM "{name}" GROUP BY status ORDER BY 2 DESC'
            ).fetchall()
        rows = db.conn.execute(
            f'SELECT * FROM "{name}" ORDER BY rowid DESC LIMIT {ROWS_SHOWN}'
        ).fetchall()
        found.append(
            {
                "name": name,
                "count": table_.count,
                "columns": columns,
                "by_status": by_status,
                "rows": rows,
            }
        )
    return found


async def _tables_page(request: web.Request, title: str, prefix: str) -> web.Response:
    tables = await admin_of(request).database.run(_tables, prefix)
    if not tables:
        return page(request, title, Html('<p class="empty">Chưa có dữ liệu.</p>'))
    sections = [
        h(
            "<h2>{name} ({count} dòng)</h2>{status}{rows}",
            name=t["name"],
            count=t["count"],
            status=table(["Trạng thái", "Số lượng"], [list(s) for s in t["by_status"]])
            if t["by_status"]
            else "",
            rows=table(t["columns"], [list(r) for r in t["rows"]]),
        )
        for t in tables
    ]
    return page(request, title, join(sections))


@requires(*CONTENT)
async def campaigns(request: web.Request) -> web.Response:
    return await _tables_page(request, "Chiến dịch và kết quả gửi", "campaign")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/content", content_status),
        web.get("/campaigns", campaigns),
    ]
