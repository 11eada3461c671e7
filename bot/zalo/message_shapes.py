"""OA message shapes, kept within Zalo's limits (2,000 characters, 5 buttons, short titles)."""

from __future__ import annotations

from typing import Any

MAX_TEXT = 2000
MAX_BUTTONS = 5
MAX_BUTTON_TITLE = 20
# Shown above buttons that overflowed onto their own message; language-neutral on purpose.
OVERFLOW_TEXT = "…"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split at paragraph boundaries, then lines, then words; never mid-word unless forced."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    for separator in ("\n\n", "\n", " "):
        pieces = text.split(separator)
        if len(pieces) > 1:
            return _pack(pieces, separator, limit)
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(pieces: list[str], separator: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current.strip())
        if len(piece) > limit:
            chunks.extend(split_text(piece, limit))
            current = ""
        else:
            current = piece
    if current.strip():
        chunks.append(current.strip())
    return chunks


def button(title: str, payload: str) -> dict[str, Any]:
    """A button; URLs open, "/intent" payloads are hidden, plain text is shown as typed."""
    if len(title) > MAX_BUTTON_TITLE:
        title = title[: MAX_BUTTON_TITLE - 1].rstrip() + "…"
    if payload.startswith(("http://", "https://")):
        return {"title": title, "type": "oa.open.url", "payload": {"url": payload}}
    if payload.startswith("tel:"):
        return {"title": title, "type": "oa.open.phone", "payload": {"phone_code": payload[4:]}}
    kind = "oa.query.hide" if payload.startswith("/") else "oa.query.show"
    return {"title": title, "type": kind, "payload": payload}


def text(body: str) -> dict[str, Any]:
    return {"text": body}


def text_with_buttons(body: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"text": body, "attachment": {"type": "template", "payload": {"buttons": buttons}}}


def image(url: str) -> dict[str, Any]:
    return {
        "attachment": {
            "type": "template",
            "payload": {
                "template_type": "media",
                "elements": [{"media_type": "image", "url": url}],
            },
        }
    }


def with_buttons(body: str, rasa_buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Long text split into messages; buttons ride on the last, at most five per message."""
    parts = split_text(body) or [OVERFLOW_TEXT]
    zalo_buttons = [button(b.get("title", ""), b.get("payload", "")) for b in rasa_buttons]
    groups = [zalo_buttons[i : i + MAX_BUTTONS] for i in range(0, len(zalo_buttons), MAX_BUTTONS)]
    if not groups:
        return [text(part) for part in parts]
    messages = [text(part) for part in parts[:-1]]
    messages.append(text_with_buttons(parts[-1], groups[0]))
    messages.extend(text_with_buttons(OVERFLOW_TEXT, group) for group in groups[1:])
    return messages
