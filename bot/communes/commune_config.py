"""A commune's configuration: its slug, its OA's credentials and where its data and content live.

Credentials are secrets: they live beside the commune's database in the data folder
(`<data_dir>/communes/<slug>/commune.json`, readable by the service's user only), never in
content/, which is in the repository. The commune's content (its `locality.yml`, guides that
override the shared ones) lives in `<content_dir>/communes/<slug>/`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.settings import Settings

SLUG = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
CONFIG_FILE = "commune.json"


class CommuneError(ValueError):
    """A commune's slug or configuration is wrong, or the commune is unknown."""


@dataclass(frozen=True)
class Commune:
    slug: str
    # Without credentials the commune talks to the embedded sandbox, as the default does.
    sandbox: bool = True
    app_id: str = ""
    app_secret: str = field(default="", repr=False)
    oa_secret_key: str = field(default="", repr=False)
    refresh_token: str = field(default="", repr=False)

    @classmethod
    def in_sandbox(cls, slug: str) -> Commune:
        """A commune on the embedded sandbox: an OA of its own there, with its own secrets."""
        check_slug(slug)
        return cls(
            slug,
            sandbox=True,
            app_id=f"sandbox-app-{slug}",
            app_secret=f"sandbox-app-secret-{slug}",
            oa_secret_key=f"sandbox-secret-{slug}",
            refresh_token=f"sandbox-refresh-seed-{slug}",
        )


def check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise CommuneError(
            f"a commune's name is lower-case letters, digits and dashes, starting with a letter"
            f" (like phuong-ba-dinh), got {slug!r}"
        )
    return slug


def communes_dir(settings: Settings) -> Path:
    return settings.data_dir / "communes"


def data_dir(settings: Settings, slug: str) -> Path:
    """The commune's own folder: its database, tokens' record and hashing secret."""
    return communes_dir(settings) / check_slug(slug)


def content_dir(settings: Settings, slug: str) -> Path:
    """The commune's content, read on top of the shared content."""
    return settings.content_dir / "communes" / check_slug(slug)


def save(settings: Settings, commune: Commune) -> Path:
    """Write the commune's configuration, readable by the service's user only."""
    folder = data_dir(settings, commune.slug)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_FILE
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(dataclasses.asdict(commune), out, indent=2)
    temporary.replace(path)
    return path


def load(settings: Settings, slug: str) -> Commune:
    """The commune's configuration; CommuneError when it was never added."""
    path = data_dir(settings, slug) / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommuneError(f"no commune {slug!r}: add it with `citizenbot commune add`") from None
    except (OSError, ValueError) as exc:
        raise CommuneError(f"{path} cannot be read ({exc})") from exc
    known = {f.name for f in dataclasses.fields(Commune)}
    return Commune(**{key: value for key, value in data.items() if key in known})


def added(settings: Settings) -> list[str]:
    """The slugs of every commune added to this deployment, sorted."""
    folder = communes_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(
        p.parent.name for p in folder.glob(f"*/{CONFIG_FILE}") if SLUG.match(p.parent.name)
    )


def schema_of(slug: str) -> str:
    """A commune's PostgreSQL schema: its slug, dashes as underscores."""
    return "commune_" + slug.replace("-", "_")


def settings_for(settings: Settings, commune: Commune) -> Settings:
    """The deployment's settings as the commune's parts see them: its own data folder (so its
    own database), its OA's credentials, and on the sandbox its own OA there."""
    values: dict[str, object] = {
        "data_dir": data_dir(settings, commune.slug),
        "sandbox": commune.sandbox,
        "zalo_app_id": commune.app_id,
        "zalo_app_secret": commune.app_secret,
        "zalo_oa_secret_key": commune.oa_secret_key,
        "zalo_refresh_token": commune.refresh_token,
    }
    if settings.database_url:  # one database, a schema per commune
        values["database_schema"] = schema_of(commune.slug)
    if commune.sandbox:
        sandbox_base = f"{settings.base_url}/sandbox/communes/{commune.slug}"
        values.update(
            zalo_api_base=f"{sandbox_base}/openapi", zalo_oauth_base=f"{sandbox_base}/oauth"
        )
    elif settings.sandbox:
        # The default commune is on the sandbox, this one on Zalo: Zalo's addresses.
        values.update(
            zalo_api_base=Settings.zalo_api_base, zalo_oauth_base=Settings.zalo_oauth_base
        )
    return dataclasses.replace(settings, **values)


def settings_of(settings: Settings, slug: str) -> Settings:
    """The settings as commune `slug` sees them; "" the default commune's, as they are.
    CommuneError when it was never added."""
    return settings_for(settings, load(settings, slug)) if slug else settings
