"""Officers' edits go live without a restart; a broken edit leaves the old content serving."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from tests.conftest import PROJECT, Service

GUIDE = Path("guides") / "khai-sinh.yml"


async def _summary(service: Service, user: str) -> str:
    before = len(await service.messages(user))
    await service.say(user, "/proc_birth_registration")
    await service.settle()
    return (await service.messages(user))[before]["text"]


async def _wait_for(condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out")


async def test_an_edited_guide_is_served_without_a_restart(start_service, tmp_path: Path) -> None:
    content = Path(shutil.copytree(PROJECT / "content", tmp_path / "content"))
    service = await start_service(content_dir=content, content_reload_seconds=0.1)
    assert "trong 60 ngày" in await _summary(service, "u-reload")
    path = content / GUIDE
    path.write_text(path.read_text().replace("trong 60 ngày kể từ ngày sinh", "SỬA BỞI CÁN BỘ"))
    await _wait_for(lambda: service.content_status.loads == 2)
    assert "SỬA BỞI CÁN BỘ" in await _summary(service, "u-reload")


async def test_a_broken_edit_is_refused_and_the_old_content_keeps_serving(
    start_service, tmp_path: Path
) -> None:
    content = Path(shutil.copytree(PROJECT / "content", tmp_path / "content"))
    service = await start_service(content_dir=content, content_reload_seconds=0.1)
    path = content / GUIDE
    path.write_text(path.read_text().replace("steps:", "steps: [broken"))
    status = service.content_status
    await _wait_for(lambda: status.last_error is not None)
    assert "khai-sinh.yml" in status.last_error
    reply = await _summary(service, "u-broken")
    assert reply.startswith("ĐĂNG KÝ KHAI SINH") and "trong 60 ngày" in reply
    async with service.http.get(f"{service.url}/healthz") as resp:
        assert "khai-sinh.yml" in (await resp.json())["content"]["last_error"]
