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
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._library: Library | None = None

    @property
    def library(self) -> Library:
        """The live library (loaded at the first read when no reload has loaded it yet)."""
        if self._library is None:
            self._library = load_library(self.directory)
        return self._library

    def reload(self) -> Library:
        """Load and validate; on error keep serving the previous content and re-raise."""
        try:
            library = load_library(self.directory)
        except ContentError as exc:
            log.error("content reload rejected, previous content stays live: %s", exc)
            raise
        self._library = library
        return library
