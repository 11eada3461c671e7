"""How a reply names the citizen and the assistant: "Dạ, cháu gửi bác…" to an old man who
calls himself "bác", "anh/chị" and "tôi" to everyone else.

Officers write `{anh_chi}`, `{Anh_chi}` (sentence start), `{toi}` and `{Toi}` in content/
and domain.yml. Loading turns them into private-use characters, which survive `str.format`
and every template step; only the last step before Zalo (`speak`) puts the words in, from
what this citizen said of themselves.
"""

from __future__ import annotations

from typing import Any

from bot.nlu.forms_of_address import Address

# Placeholder → the character that stands for it until the message is sent.
PLACEHOLDERS = {"{anh_chi}": "\ue000", "{Anh_chi}": "\ue001", "{toi}": "\ue002", "{Toi}": "\ue003"}


# Until a citizen says how they speak: "anh/chị", and the assistant says "tôi".
DEFAULT = Address("anh/chị", "tôi")


def mark(text: str) -> str:
    """Placeholders → their stand-in characters (done when content is loaded)."""
    for placeholder, mark_ in PLACEHOLDERS.items():
        text = text.replace(placeholder, mark_)
    return text


def speak(text: str, form: Address = DEFAULT) -> str:
    """Stand-in characters → this citizen's words."""
    if not any(mark_ in text for mark_ in PLACEHOLDERS.values()):
        return text
    words = (form.citizen, _capital(form.citizen), form.assistant, _capital(form.assistant))
    for mark_, word in zip(PLACEHOLDERS.values(), words, strict=True):
        text = text.replace(mark_, word)
    return text


def speak_all(value: Any, form: Address = DEFAULT) -> Any:
    """`speak` over every string of a message in the OA's shape (text, buttons, lists)."""
    if isinstance(value, str):
        return speak(value, form)
    if isinstance(value, dict):
        return {key: speak_all(item, form) for key, item in value.items()}
    if isinstance(value, list):
        return [speak_all(item, form) for item in value]
    return value


def _capital(word: str) -> str:
    return word[:1].upper() + word[1:]
