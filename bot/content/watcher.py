"""Hot reload: officers' edits to content/ go live without a restart.

A changed file triggers a full load and validation off the event loop; only a library
that loads whole replaces the live one, so a broken edit never takes the bot down.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass

from bot.content.content_model import ContentError, Library
from bot.content.faq import training_yaml
from bot.content.live import LiveContent

log = logging.getLogger(__name__)


@dataclass
class ContentStatus:
    """What officers (and /healthz) see about the live content."""

    loaded_at: str = ""
    loads: int = 0  # successful loads since start, the first included
    guides: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    retrain_needed: bool = False


class ContentWatcher:
    def __init__(self, content: LiveContent, interval_seconds: float = 2.0) -> None:
        self._content = content
        self._interval = interval_seconds
        self._snapshot: dict[str, tuple[int, int]] = {}
        self._faqs_in_model = ""
        self._task: asyncio.Task[None] | None = None
        self.status = ContentStatus()

    async def start(self) -> None:
        """Load the content (raising ContentError if it is broken), then watch it."""
        loop = asyncio.get_running_loop()
        self._snapshot = await loop.run_in_executor(None, self._scan)
        library = await loop.run_in_executor(None, self._content.reload)
        # The model was trained (make run) from the content as it is now.
        self._faqs_in_model = training_yaml(library)
        self._loaded(library)
        self._task = asyncio.create_task(self._watch(), name="content-watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._interval)
            snapshot = await loop.run_in_executor(None, self._scan)
            if snapshot != self._snapshot:
                self._snapshot = snapshot
                await self.reload()

    async def reload(self) -> None:
        try:
            library = await asyncio.get_running_loop().run_in_executor(None, self._content.reload)
        except ContentError as exc:  # reload has logged it; the old content stays
            self.status.last_error = str(exc)
            self.status.last_error_at = _now()
            return
        self._loaded(library)
        self.status.last_error = self.status.last_error_at = None
        log.info("content reloaded: %d guides", len(library.guides))
        if self.status.retrain_needed:
            log.warning(
                "FAQ phrasings changed: run `citizenbot train` and restart (make run) so "
                "the model learns them; until then they are matched only when the "
                "procedure is recognised"
            )

    def _loaded(self, library: Library) -> None:
        self.status.loaded_at = _now()
        self.status.loads += 1
        self.status.guides = len(library.guides)
        self.status.retrain_needed = training_yaml(library) != self._faqs_in_model

    def _scan(self) -> dict[str, tuple[int, int]]:
        return {
            str(path): (path.stat().st_mtime_ns, path.stat().st_size)
            for path in self._content.files()
        }


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
