"""A dossier's status in plain words (content/ui.yml), for the chat and for notifications."""

from __future__ import annotations

import datetime as dt

from bot.content import Library


def status_text(library: Library, code: str, status: str, detail: dict[str, str]) -> str:
    """The commune's {locality.…} first, as every content text; then the dossier's values
    (what the one-stop system sent is inserted as it is, never read as a placeholder)."""
    values = dict(detail)
    if "pickup_date" in values:
        pickup = dt.date.fromisoformat(values["pickup_date"][:10])
        values["pickup_date"] = pickup.strftime("%d/%m/%Y")
    template = library.locality.fill(library.ui["dossier_status"][status])
    return template.format(code=code, **values)
