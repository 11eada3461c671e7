"""Content officers edit (content/): guides, the commune's data, UI wording.

The live library is held by a `LiveContent` (bot/content/live.py), handed in at start.
"""

from bot.content.content_model import ContentError, Guide, Library
from bot.content.live import LiveContent

__all__ = ["ContentError", "Guide", "Library", "LiveContent"]
