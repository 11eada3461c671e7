"""Content officers edit (content/): guides, the commune's data, UI wording.

`current()` is what actions read; `reload()` swaps in a newly validated library whole,
so a broken edit never replaces content that works.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from bot.content.loader import load_library
from bot.content.model import ContentError, Guide, Library

__all__ = ["ContentError", "Guide", "Library", "current", "reload"]

log = logging.getLogger(__name__)
_library: Library | None = None


def content_dir() -> Path:
    return Path(os.environ.get("CITIZENBOT_CONTENT_DIR", "content"))


def current() -> Library:
    global _library
    if _library is None:
        _library = load_library(content_dir())
    return _library


def reload(directory: Path | None = None) -> Library:
    """Load and validate; on error keep serving the previous content and re-raise."""
    global _library
    try:
        library = load_library(directory or content_dir())
    except ContentError as exc:
        log.error("content reload rejected, previous content stays live: %s", exc)
        raise
    _library = library
    return library
