"""The service's configuration: one object built from environment variables.

Every default runs locally: no credentials means the embedded Zalo sandbox.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time as dt_time
from pathlib import Path
from urllib.parse import urlsplit

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


def _cores() -> int:
    """One worker process per core by default."""
    return os.cpu_count() or 1


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
    # How long a write waits for another process's lock on the database before giving up.
    database_busy_timeout_seconds: float = 30.0
    # Events processed at once; more only delays webhook answers (processing is CPU-bound).
    max_concurrent_events: int = 4
    # Processes that handle events, each with its own model (bot/conversation/worker_pool.py);
    # 1: events are handled in the web server's process (bot/conversation/worker.py).
    workers: int = field(default_factory=_cores)
    # How often content/ is checked for officers' edits (hot reload).
    content_reload_seconds: float = 2.0
    # Bearer token of the one-stop system for PUT /api/dossiers/{code}; empty = API off.
    api_token: str = field(default="", repr=False)
    # An approved ZBS template for dossier notifications beyond Zalo's 7-day window.
    dossier_template_id: str = ""
    notification_interval_seconds: float = 5.0
    # A notification that could not be sent waits this long, then twice as long… (30 min
    # at most), and is set aside as failed after 8 attempts (bot/dossiers/notifier.py).
    notification_retry_seconds: float = 30.0
    # Officers' side: feedback answered within this many working days, else overdue.
    feedback_sla_days: int = 5
    # A handover ends by itself when no officer has written for this long.
    handover_timeout_minutes: int = 60
    # This many misunderstood messages in a row hand the conversation to an officer.
    handover_after_fallbacks: int = 3
    # Dashboard logins: wrong passwords in a row before a lockout, and its length.
    admin_max_failed_logins: int = 5
    admin_lockout_minutes: int = 15
    admin_session_hours: int = 8
    # Campaigns: messages per second (Zalo allows about 4,000 a minute per OA, shared with
    # the bot's replies) and how many may be in flight at once to keep that pace.
    campaign_rate: float = 20.0
    campaign_max_in_flight: int = 8
    # Nothing is pushed in these local hours; a run pauses and resumes at their end.
    quiet_hours: str = "21:00-07:00"
    # A firing missed while the service was down still runs if it is at most this late.
    campaign_misfire_grace_seconds: int = 6 * 3600
    reminder_misfire_grace_seconds: int = 6 * 3600
    # Local time of reminders given a day but no hour, and of deadline and appointment ones.
    reminder_time: str = "08:00"
    # Days before the 60-day birth-registration deadline on which a parent is reminded.
    birth_deadline_reminder_days: tuple[int, ...] = (7, 1)
    # An approved ZBS template for reminders beyond Zalo's 7-day window (params noi_dung,
    # thoi_gian); empty = such reminders are recorded as unreachable.
    reminder_template_id: str = ""
    # Events held in memory (queued or being processed); beyond it they wait in the inbox
    # (on disk, already acknowledged) and are queued again as the queue drains.
    max_queued_events: int = 5000
    # On PostgreSQL, several instances claim inbox events: a claim not renewed for this long
    # (its instance died) is taken over by another instance.
    claim_lease_seconds: float = 30.0
    # Rate limits as (count, seconds); a count of 0 switches one off. Messages per citizen
    # (the rest are recorded, not understood, and answered once per window with a polite
    # reply); requests per client address to the dossier API and to the dashboard; failed
    # bearer tokens or sign-ins per client address (then every request is refused for a while).
    user_message_limit: tuple[int, float] = (20, 60.0)
    api_request_limit: tuple[int, float] = (60_000, 60.0)
    admin_request_limit: tuple[int, float] = (600, 60.0)
    auth_failure_limit: tuple[int, float] = (10, 600.0)
    # Reverse proxies whose X-Forwarded-For names the client (else every client would
    # share the proxy's address and its limits).
    trusted_proxies: tuple[str, ...] = ()
    # Personal data: message logs (inbox, outbox, Rasa's tracker events) are purged after
    # this many days; reports keep their daily figures (bot/storage/retention.py).
    message_retention_days: int = 90
    # Scale-out engines (docs/deploy.md): empty = the embedded SQLite files in data_dir.
    # postgresql://… holds the service's tables, Rasa's tracker store and the scheduler's
    # jobs; redis://… the cross-process locks, per-citizen ordering and shared rate limits.
    database_url: str = field(default="", repr=False)
    # With database_url: the PostgreSQL schema of these tables (each commune its own,
    # bot/communes/commune_config.py); None the database's default (public).
    database_schema: str | None = None
    redis_url: str = field(default="", repr=False)
    # With either engine, service processes share the scheduler: one leads, and when it dies
    # another takes over within this many seconds (bot/scheduler/scheduler_lock.py).
    scheduler_lock_seconds: float = 15.0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "citizenbot.db"

    @property
    def tracker_path(self) -> Path:
        return self.data_dir / "tracker.db"

    @property
    def tracker_database(self) -> Path | str:
        """Rasa's tracker store: the PostgreSQL database when given, else its SQLite file."""
        return self.database_url or self.tracker_path

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
            "workers": _positive_int(env, "CITIZENBOT_WORKERS", _cores()),
            "api_token": env.get("CITIZENBOT_API_TOKEN", ""),
            "dossier_template_id": env.get("CITIZENBOT_DOSSIER_TEMPLATE_ID", ""),
            "feedback_sla_days": _int(env, "CITIZENBOT_FEEDBACK_SLA_DAYS", 5),
            "handover_timeout_minutes": _int(env, "CITIZENBOT_HANDOVER_TIMEOUT_MINUTES", 60),
            "handover_after_fallbacks": _int(env, "CITIZENBOT_HANDOVER_AFTER_FALLBACKS", 3),
            "admin_max_failed_logins": _int(env, "CITIZENBOT_ADMIN_MAX_FAILED_LOGINS", 5),
            "admin_lockout_minutes": _int(env, "CITIZENBOT_ADMIN_LOCKOUT_MINUTES", 15),
            "admin_session_hours": _int(env, "CITIZENBOT_ADMIN_SESSION_HOURS", 8),
            "campaign_rate": _positive_float(env, "CITIZENBOT_CAMPAIGN_RATE", cls.campaign_rate),
            "quiet_hours": _quiet_hours(env, "CITIZENBOT_QUIET_HOURS", cls.quiet_hours),
            "reminder_time": _time_of_day(env, "CITIZENBOT_REMINDER_TIME", cls.reminder_time),
            "birth_deadline_reminder_days": _days(
                env, "CITIZENBOT_BIRTH_DEADLINE_REMINDER_DAYS", cls.birth_deadline_reminder_days
            ),
            "reminder_template_id": env.get("CITIZENBOT_REMINDER_TEMPLATE_ID", ""),
            "max_queued_events": _positive_int(
                env, "CITIZENBOT_MAX_QUEUED_EVENTS", cls.max_queued_events
            ),
            "claim_lease_seconds": _positive_float(
                env, "CITIZENBOT_CLAIM_LEASE_SECONDS", cls.claim_lease_seconds
            ),
            "user_message_limit": _rate(
                env, "CITIZENBOT_USER_MESSAGE_LIMIT", cls.user_message_limit
            ),
            "api_request_limit": _rate(env, "CITIZENBOT_API_REQUEST_LIMIT", cls.api_request_limit),
            "admin_request_limit": _rate(
                env, "CITIZENBOT_ADMIN_REQUEST_LIMIT", cls.admin_request_limit
            ),
            "auth_failure_limit": _rate(
                env, "CITIZENBOT_AUTH_FAILURE_LIMIT", cls.auth_failure_limit
            ),
            "trusted_proxies": tuple(
                part.strip()
                for part in env.get("CITIZENBOT_TRUSTED_PROXIES", "").split(",")
                if part.strip()
            ),
            "message_retention_days": _positive_int(
                env, "CITIZENBOT_MESSAGE_RETENTION_DAYS", cls.message_retention_days
            ),
            "database_url": _url(env, "CITIZENBOT_DATABASE_URL", ("postgresql",)),
            "redis_url": _url(env, "CITIZENBOT_REDIS_URL", ("redis", "rediss")),
            "scheduler_lock_seconds": _positive_float(
                env, "CITIZENBOT_SCHEDULER_LOCK_SECONDS", cls.scheduler_lock_seconds
            ),
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


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name) or str(default)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise SettingsError(f"{name} must be a positive number, got {raw!r}")
    return value


def _quiet_hours(env: Mapping[str, str], name: str, default: str) -> str:
    from bot.clock import QuietHours

    raw = env.get(name, default)
    try:
        QuietHours.parse(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None
    return raw


def _time_of_day(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    try:
        dt_time.fromisoformat(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a time like 08:00, got {raw!r}") from None
    return raw


def _days(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    raw = env.get(name)
    if not raw:
        return default
    try:
        days = tuple(int(part) for part in raw.split(","))
    except ValueError:
        days = ()
    if not days or any(day < 1 for day in days):
        raise SettingsError(f"{name} must be whole days before the deadline like 7,1, got {raw!r}")
    return days


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, got {value}")
    return value


def _rate(env: Mapping[str, str], name: str, default: tuple[int, float]) -> tuple[int, float]:
    """ "20/60": at most 20 in any 60 seconds; "off" (or a count of 0): no limit."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if raw.lower() == "off":
        return (0, default[1])
    count, _, seconds = raw.partition("/")
    try:
        rate = (int(count), float(seconds))
    except ValueError:
        rate = (-1, 0.0)
    if rate[0] < 0 or rate[1] <= 0:
        raise SettingsError(f"{name} must be a count per seconds like 20/60, or off; got {raw!r}")
    return rate


def _url(env: Mapping[str, str], name: str, schemes: tuple[str, ...]) -> str:
    """An engine's address, or "" for the embedded default; its scheme checked at start, so a
    typo is a clear error rather than a connection refused later."""
    value = env.get(name, "").strip()
    if value and urlsplit(value).scheme not in schemes:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        raise SettingsError(f"{name} must start with {wanted} (got {urlsplit(value).scheme!r})")
    return value
