"""A dossier's status in plain words (content/ui.yml), for the chat and for notifications."""

from __future__ import annotations

import datetime as dt

from bot.content import Library


def status_text(library: Library, code: str, status: str, detail: dict[str, str]) -> str:
    values = dict(detail)
    if "pickup_date" in values:
        pickup = dt.date.fromisoformat(values["pickup_date"][:10])
        values["pickup_date"] = pickup.strftime("%d/%m/%Y")
    template = library.ui["dossier_status"][status]
    return library.locality.fill(template.format(code=code, **values))
