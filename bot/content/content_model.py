"""What officers write in content/: procedure guides, the commune's own data, UI wording.

Citizen-facing text lives in these files, not in Python. `{locality.x}` placeholders in
any guide text are filled from content/locality.yml, so another commune edits one file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.content import address


class ContentError(ValueError):
    """A content file is broken; `where` is "file:line" so an officer can find it."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


@dataclass(frozen=True)
class OnlineRoute:
    portal: str
    url: str  # "" for an app (VNeID)
    path: str  # the exact menu path, e.g. "Đăng nhập → Dịch vụ công → …"


@dataclass(frozen=True)
class Faq:
    id: str
    question: str
    examples: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Guide:
    kind: str  # procedure | topic
    id: str
    intent: str
    title: str
    summary: str
    who: str
    office: str
    online: tuple[OnlineRoute, ...]
    documents: tuple[str, ...]
    fees: str
    processing_time: str
    deadlines: str
    result: str  # how the result reaches the citizen ("" when the guide does not say)
    legal_basis: tuple[str, ...]
    steps: tuple[str, ...]
    faqs: tuple[Faq, ...]
    last_reviewed: dt.date
    sources: tuple[str, ...]
    source_file: str = ""
    button: str = ""  # the guide's name on a button (Zalo cuts titles past 20 characters)

    @property
    def button_title(self) -> str:
        return self.button or self.title


@dataclass(frozen=True)
class Locality:
    values: dict[str, str]

    def fill(self, text: str) -> str:
        """Replace {locality.name}-style placeholders (unknown ones stay visible to officers)
        and mark the form-of-address placeholders ({anh_chi}, {toi}…) for `address.speak`."""
        for key, value in self.values.items():
            text = text.replace("{locality." + key + "}", value)
        return address.mark(text)


@dataclass(frozen=True)
class Library:
    """Everything loaded from content/ at one moment; swapped whole on reload."""

    guides: dict[str, Guide]  # by intent
    locality: Locality
    ui: dict[str, Any]
    admin: dict[str, Any] = field(default_factory=dict)  # officers' wording (content/admin.yml)
    loaded_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def text(self, key: str) -> str:
        """A UI sentence from content/ui.yml, with locality placeholders filled."""
        value = self.ui.get(key)
        if not isinstance(value, str):
            raise KeyError(f"content/ui.yml has no text '{key}'")
        return self.locality.fill(value)

    def admin_text(self, key: str, **values: object) -> str:
        """A dashboard text from content/admin.yml by its dotted key ("reports.title"),
        its {placeholders} filled from `values`."""
        value: Any = self.admin
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, str):
            raise KeyError(f"content/admin.yml has no text '{key}'")
        return value.format(**values)

    def guide_for(self, intent: str | None) -> Guide | None:
        return self.guides.get(intent or "")

    def guide_by_id(self, guide_id: str | None) -> Guide | None:
        return next((g for g in self.guides.values() if g.id == guide_id), None)
