"""Adding a commune to a running deployment: its configuration, its database, its content
folder. The service picks it up at its first webhook event (bot/communes/registry.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.communes import commune_config
from bot.communes.commune_config import Commune, CommuneError
from bot.settings import Settings
from bot.storage import Database


async def add_commune(settings: Settings, commune: Commune) -> list[Path]:
    """Write the commune's configuration, create its database, and give it a content folder
    with a locality.yml to fill in (the shared one, when it has none yet); what was written.
    CommuneError when the commune was added before."""
    commune_config.check_slug(commune.slug)
    if commune.slug in commune_config.added(settings):
        raise CommuneError(f"commune {commune.slug!r} was already added")
    written = [commune_config.save(settings, commune)]
    database = Database.from_settings(commune_config.settings_for(settings, commune))
    await database.open()  # creates every table
    await database.close()
    if not database.url:  # on PostgreSQL: its schema, nothing on disk
        written.append(database.path)
    content = commune_config.content_dir(settings, commune.slug)
    locality = content / "locality.yml"
    if not locality.exists():
        content.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(settings.content_dir / "locality.yml", locality)
        written.append(locality)
    return written
