"""The content the service serves now, and its reload.

`reload()` swaps in a newly validated library whole, so a broken edit never replaces content
that works. One `LiveContent` is built at start (bot/services.py) and handed to whatever reads
the content: actions, conversations, scheduler, dossiers and the dashboard.
"""

from __future__ import annotations

import logging
from pathlib import Path

from bot.content.content_model import ContentError, Library
from bot.content.loader import load_library

log = logging.getLogger(__name__)


class LiveContent:
    def __init__(self, directory: Path, overlay: Path | None = None) -> None:
        self.directory = directory
        self.overlay = overlay  # a commune's own content, on top of the shared (loader.py)
        self._library: Library | None = None

    @property
    def library(self) -> Library:
        """The live library (loaded at the first read when no reload has loaded it yet)."""
        if self._library is None:
            self._library = load_library(self.directory, self.overlay)
        return self._library

    def reload(self) -> Library:
        """Load and validate; on error keep serving the previous content and re-raise."""
        try:
            library = load_library(self.directory, self.overlay)
        except ContentError as exc:
            log.error("content reload rejected, previous content stays live: %s", exc)
            raise
        self._library = library
        return library

    def files(self) -> list[Path]:
        """The files an edit of which changes this content (what the watcher scans): the
        whole folder; for a commune, the shared files and guides and its own folder."""
        if self.overlay is None:
            return sorted(self.directory.rglob("*.yml"))
        shared = list(self.directory.glob("*.yml")) + list(self.directory.glob("guides/*.yml"))
        return sorted(shared + list(self.overlay.rglob("*.yml")))
