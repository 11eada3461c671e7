"""Vietnamese labels officers read in place of internal names (intents, statuses, roles,
audit actions). They live in content/admin.yml, edited with the rest of the wording and
reloaded with it."""

from __future__ import annotations

from bot.content import Library


def label(library: Library, section: str, key: str | None) -> str:
    """`key`'s label in `section` of content/admin.yml; the key itself until it has one."""
    if not key:
        return ""
    return str((library.admin.get(section) or {}).get(key, key))


def zalo_result(library: Library, delivery: str) -> str:
    """What a push to a citizen did, as the audit log and error messages say it."""
    return f"Zalo: {label(library, 'push_results', delivery)}"
