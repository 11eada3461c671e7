"""The dashboard in a real browser: Playwright drives Debian's Chromium (headless) against
the running service. With SCREENSHOTS_DIR set (`make screenshots`), the main pages are
saved there as PNG files."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from openpyxl import load_workbook
from playwright.async_api import Browser, Page, async_playwright

from tests.conftest import Service, button_titles, texts
from tests.dashboard import PAGES, PASSWORD, add_officer, file_ticket
from tests.test_admin import DOSSIER_CODE, OTHER_DOSSIER, dossiers_with_notifications

CHROMIUM = Path(os.environ.get("CITIZENBOT_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR", "")
LAPTOP = {"width": 1366, "height": 768}  # a commune office's usual laptop screen

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"no Chromium at {CHROMIUM}: `make test` installs Debian's (as root), "
    "or run `apt-get install chromium`",
)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        await launched.close()


async def signed_in_page(browser: Browser, service: Service, username: str) -> Page:
    page = await browser.new_page(viewport=LAPTOP, locale="vi-VN")
    await page.goto(f"{service.url}/admin/")
    await screenshot(page, "dang-nhap")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("button:has-text('Đăng nhập')")
    await page.wait_for_selector("text=Đăng xuất")
    return page


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)


async def test_officer_signs_in_and_answers_a_ticket_the_citizen_receives(
    service: Service, browser: Browser
) -> None:
    await file_ticket(
        service, "u-browser", "Tôi nộp hồ sơ tạm trú trực tuyến 10 ngày chưa có kết quả."
    )
    await file_ticket(
        service, "u-browser-2", "Cán bộ một cửa hướng dẫn không rõ ràng, phải đi lại 3 lần."
    )
    await add_officer(service, "canbo", "admin")
    page = await signed_in_page(browser, service, "canbo")
    assert await page.inner_text("h1") == "Phản ánh, kiến nghị"
    await screenshot(page, "phan-anh")
    await page.click("text=PA-00001")
    await page.fill("#answer", "Hồ sơ của anh/chị đã được duyệt, mời nhận kết quả ngày mai.")
    await page.click("button:has-text('Gửi trả lời')")
    await page.wait_for_selector("text=đã gửi tới người dân qua Zalo")
    await screenshot(page, "phieu-phan-anh")
    await page.close()
    last = texts(await service.messages("u-browser"))[-1]
    assert "Hồ sơ của anh/chị đã được duyệt, mời nhận kết quả ngày mai." in last


async def test_officer_replies_in_a_handover_and_releases_it(
    service: Service, browser: Browser
) -> None:
    await service.say("u-handover", "/request_human")
    await service.settle()
    await service.say("u-handover", "Cho tôi hỏi lịch tiêm chủng của xã tháng này")
    await service.settle()
    await add_officer(service, "truc", "feedback_handler")
    page = await signed_in_page(browser, service, "truc")
    await page.click("a:has-text('Gặp cán bộ')")
    await screenshot(page, "gap-can-bo")
    await page.click("text=#1")
    await page.fill("#text", "Lịch tiêm chủng là sáng thứ Năm tại trạm y tế xã.")
    await page.click("button:has-text('Gửi')")
    await page.wait_for_selector(".msg.oa >> text=Lịch tiêm chủng là sáng thứ Năm")
    await screenshot(page, "hoi-thoai")
    await page.click("button:has-text('trả lại cho trợ lý')")
    await page.wait_for_selector("text=Đã trả lại cho trợ lý")
    await page.close()
    messages = await service.messages("u-handover")
    assert messages[-2]["text"] == "Lịch tiêm chủng là sáng thứ Năm tại trạm y tế xã."
    assert button_titles(messages[-1]) == ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]


async def test_officer_exports_the_report(
    service: Service, browser: Browser, tmp_path: Path
) -> None:
    for user, text in (("u-r1", "/proc_birth_registration"), ("u-r2", "/greet"), ("u-r3", "/help")):
        await service.say(user, text)
    await file_ticket(service, "u-r4", "Trang dịch vụ công báo lỗi khi thanh toán lệ phí.")
    await service.say("u-r2", '/rate_service{"rating": "very_satisfied"}')
    await service.settle()
    await add_officer(service, "lanhdao", "admin")
    page = await signed_in_page(browser, service, "lanhdao")
    await page.click("a:has-text('Báo cáo')")
    await page.wait_for_url("**/admin/reports")
    assert "Báo cáo từ" in await page.inner_text("h1")
    await screenshot(page, "bao-cao")
    async with page.expect_download() as download_info:
        await page.click("text=Tải Excel (XLSX)")
    xlsx = tmp_path / "bao-cao.xlsx"
    await (await download_info.value).save_as(xlsx)
    book = await asyncio.to_thread(load_workbook, xlsx)
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(values_only=True)}
    assert summary["Số người dân được hướng dẫn"] == 4
    assert summary["Phản ánh, kiến nghị nhận được"] == 1
    async with page.expect_download() as download_info:
        await page.click("text=Tải CSV")
    csv = tmp_path / "bao-cao.csv"
    await (await download_info.value).save_as(csv)
    csv_text = await asyncio.to_thread(csv.read_text, "utf-8-sig")
    assert "Số người dân được hướng dẫn,4" in csv_text
    for path, name in (
        ("/admin/reports/monthly", "bao-cao-thang"),
        ("/admin/content", "noi-dung"),
        ("/admin/campaigns", "chien-dich"),
        ("/admin/dossiers", "ho-so"),
        ("/admin/audit", "nhat-ky"),
    ):
        await page.goto(service.url + path)
        await screenshot(page, name)
    await page.close()


SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
# Chart texts that stick out of their drawing (the browser clips them).
CLIPPED_LABELS = """() => [...document.querySelectorAll("figure.chart svg")].flatMap(svg => {
  const box = svg.getBoundingClientRect();
  return [...svg.querySelectorAll("text")].filter(text => {
    const r = text.getBoundingClientRect();
    return r.left < box.left || r.right > box.right || r.top < box.top || r.bottom > box.bottom;
  }).map(text => text.textContent);
})"""


async def test_every_page_fits_a_laptop_screen_and_no_chart_label_is_clipped(
    service: Service, browser: Browser
) -> None:
    await file_ticket(
        service, "u-laptop", "Tôi nộp hồ sơ tạm trú trực tuyến 10 ngày chưa có kết quả."
    )
    for user in ("u-laptop", "u-laptop-2"):
        await service.say(user, "/request_human")
    for _ in range(12):  # two-digit counts: the widest labels on the charts' axes
        await service.say("u-laptop-3", "/greet")
    await service.say("u-laptop-2", "/nlu_fallback")
    await service.settle()
    await add_officer(service, "laptop", "admin")
    page = await signed_in_page(browser, service, "laptop")
    sideways, clipped = {}, {}
    for path in PAGES:
        await page.goto(service.url + path)
        sideways[path] = await page.evaluate(SIDEWAYS)
        clipped[path] = await page.evaluate(CLIPPED_LABELS)
    await page.close()
    assert sideways == dict.fromkeys(PAGES, 0)
    assert clipped == dict.fromkeys(PAGES, [])


async def test_the_dossier_page_fits_a_1366_by_768_laptop(start_service, browser: Browser) -> None:
    service = await start_service(notification_interval_seconds=3600)
    await dossiers_with_notifications(service)
    await add_officer(service, "hoso", "dossier_operator")
    page = await signed_in_page(browser, service, "hoso")
    await page.set_viewport_size({"width": 1366, "height": 768})
    await page.click("a:has-text('Hồ sơ')")
    await page.wait_for_url("**/admin/dossiers")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert await page.locator("tr.overdue").count() >= 2  # stuck and failed, flagged
    await screenshot(page, "ho-so")
    await page.fill("#q", DOSSIER_CODE)
    await page.click("button:has-text('Tìm')")
    await page.wait_for_selector(f"text=Diễn biến hồ sơ {DOSSIER_CODE}")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 1366
    text = await page.inner_text("main")
    assert "Đang giải quyết" in text and "21/11/2026 14:05" in text
    assert OTHER_DOSSIER not in text and "u-follower" not in text
    await screenshot(page, "ho-so-tim")
    await page.close()
