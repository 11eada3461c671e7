"""The service's configuration: one object built from environment variables.

Every default runs locally: no credentials means the embedded Zalo sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SANDBOX_APP_ID = "sandbox-app"
SANDBOX_OA_SECRET_KEY = "sandbox-secret"
SANDBOX_APP_SECRET = "sandbox-app-secret"
SANDBOX_REFRESH_TOKEN = "sandbox-refresh-seed"

ZALO_CREDENTIAL_VARS = (
    "ZALO_APP_ID",
    "ZALO_APP_SECRET",
    "ZALO_OA_SECRET_KEY",
    "ZALO_REFRESH_TOKEN",
)


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("var")
    model_dir: Path = Path("models")
    content_dir: Path = Path("content")
    sandbox: bool = True
    zalo_app_id: str = SANDBOX_APP_ID
    zalo_app_secret: str = field(default=SANDBOX_APP_SECRET, repr=False)
    zalo_oa_secret_key: str = field(default=SANDBOX_OA_SECRET_KEY, repr=False)
    zalo_refresh_token: str = field(default=SANDBOX_REFRESH_TOKEN, repr=False)
    zalo_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    # Zalo retries a failed webhook for about 2 hours; a replay window must be wider.
    replay_window_seconds: int = 6 * 3600
    zalo_timeout_seconds: float = 10.0
    zalo_max_attempts: int = 4
    zalo_backoff_seconds: float = 0.5
    # Refresh the access token this long before Zalo says it expires.
    token_refresh_margin_seconds: int = 600
    max_body_bytes: int = 256 * 1024
    # Events processed at once; more only delays webhook answers (processing is CPU-bound).
    max_concurrent_events: int = 4
    # How often content/ is checked for officers' edits (hot reload).
    content_reload_seconds: float = 2.0
    # Bearer token of the one-stop system for PUT /api/dossiers/{code}; empty = API off.
    api_token: str = field(default="", repr=False)
    # An approved ZBS template for dossier notifications beyond Zalo's 7-day window.
    dossier_template_id: str = ""
    notification_interval_seconds: float = 5.0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "citizenbot.db"

    @property
    def tracker_path(self) -> Path:
        return self.data_dir / "tracker.db"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        given = [name for name in ZALO_CREDENTIAL_VARS if env.get(name)]
        if given and len(given) < len(ZALO_CREDENTIAL_VARS):
            missing = sorted(set(ZALO_CREDENTIAL_VARS) - set(given))
            raise SettingsError(
                "A real Zalo OA needs all four credentials; missing: " + ", ".join(missing)
            )
        values: dict[str, object] = {
            "host": env.get("HOST", cls.host),
            "port": _int(env, "PORT", cls.port),
            "data_dir": Path(env.get("CITIZENBOT_DATA_DIR", str(cls.data_dir))),
            "model_dir": Path(env.get("CITIZENBOT_MODEL_DIR", str(cls.model_dir))),
            "content_dir": Path(env.get("CITIZENBOT_CONTENT_DIR", str(cls.content_dir))),
            "replay_window_seconds": _int(env, "ZALO_REPLAY_WINDOW_SECONDS", 6 * 3600),
            "zalo_timeout_seconds": float(
                env.get("ZALO_TIMEOUT_SECONDS", cls.zalo_timeout_seconds)
            ),
            "max_concurrent_events": _int(env, "CITIZENBOT_MAX_CONCURRENT_EVENTS", 4),
            "api_token": env.get("CITIZENBOT_API_TOKEN", ""),
            "dossier_template_id": env.get("CITIZENBOT_DOSSIER_TEMPLATE_ID", ""),
        }
        if given:
            values.update(
                sandbox=False,
                zalo_app_id=env["ZALO_APP_ID"],
                zalo_app_secret=env["ZALO_APP_SECRET"],
                zalo_oa_secret_key=env["ZALO_OA_SECRET_KEY"],
                zalo_refresh_token=env["ZALO_REFRESH_TOKEN"],
                zalo_api_base=env.get("ZALO_API_BASE", cls.zalo_api_base),
                zalo_oauth_base=env.get("ZALO_OAUTH_BASE", cls.zalo_oauth_base),
            )
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        if settings.sandbox:
            sandbox_base = f"{settings.base_url}/sandbox"
            settings = cls(
                **{
                    **settings.__dict__,
                    "zalo_api_base": f"{sandbox_base}/openapi",
                    "zalo_oauth_base": f"{sandbox_base}/oauth",
                }
            )
        return settings


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
