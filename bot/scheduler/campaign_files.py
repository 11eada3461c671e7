"""Campaigns officers write in content/campaigns/*.yml: reading, validating, scheduling.

Each file is checked on its own: a broken file is reported with its file and line and the
campaign keeps its previous schedule, while the other files apply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.content.content_model import ContentError, Locality
from bot.content.loader import (
    layered,
    locality_file,
    read_mapping,
    read_yaml,
    strip_lines,
)
from bot.local_time import TIMEZONE
from bot.zalo import message_shapes
from bot.zalo.push import Template

ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
CRON_FIELDS = ("year", "month", "day", "week", "day_of_week", "hour", "minute")
INTERVAL_UNITS = ("weeks", "days", "hours", "minutes")
AUDIENCE_KINDS = ("all_followers", "tag", "topic", "users")
# The OA's message types, and why all but one cannot carry a campaign (zalo-oa.md).
MESSAGE_TYPES = {
    "consultation": None,
    "transaction": "Zalo discontinued transaction messages by user id on 2026-03-01",
    "promotion": "Zalo discontinued promotion messages by user id on 2026-03-01",
    "broadcast": "a broadcast can only send an Article, which this service does not publish",
    "zns": "ZNS sends by phone number with consent, which this service does not keep",
}


@dataclass(frozen=True)
class Schedule:
    """One date, a cron rule or an interval, within optional start and end dates."""

    at: dt.datetime | None = None
    cron: dict[str, str] | None = None
    every: dict[str, int] | None = None
    start: dt.datetime | None = None
    end: dt.datetime | None = None

    def trigger(self) -> BaseTrigger:
        if self.at is not None:
            return DateTrigger(run_date=self.at, timezone=TIMEZONE)
        if self.cron is not None:
            return CronTrigger(
                **self.cron, start_date=self.start, end_date=self.end, timezone=TIMEZONE
            )
        assert self.every is not None
        return IntervalTrigger(
            **self.every, start_date=self.start, end_date=self.end, timezone=TIMEZONE
        )

    def next_runs(self, now: dt.datetime, count: int) -> list[dt.datetime]:
        trigger = self.trigger()
        runs: list[dt.datetime] = []
        previous = None
        while len(runs) < count:
            moment = trigger.get_next_fire_time(previous, runs[-1] if runs else now)
            if moment is None or (runs and moment <= runs[-1]):
                break
            runs.append(moment)
            previous = moment
        return runs

    @property
    def fingerprint(self) -> str:
        """Changes exactly when the schedule does (the job is then replaced)."""
        raw = json.dumps(
            [str(self.at), self.cron, self.every, str(self.start), str(self.end)], sort_keys=True
        )
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def describe(self) -> str:
        if self.at is not None:
            return f"once at {self.at:%Y-%m-%d %H:%M}"
        rule = self.cron or self.every or {}
        kind = "cron" if self.cron else "every"
        text = f"{kind} " + ", ".join(f"{k}={v}" for k, v in rule.items())
        if self.start:
            text += f" from {self.start:%Y-%m-%d %H:%M}"
        if self.end:
            text += f" until {self.end:%Y-%m-%d %H:%M}"
        return text


@dataclass(frozen=True)
class Audience:
    kind: str  # all_followers | tag | topic | users
    value: Any = None  # the tag, the topic, or a tuple of user ids

    def describe(self) -> str:
        if self.kind == "all_followers":
            return "all followers who talked to the OA"
        if self.kind == "users":
            return f"{len(self.value)} listed users"
        return f"{self.kind} '{self.value}'"


@dataclass(frozen=True)
class Campaign:
    id: str
    title: str
    schedule: Schedule
    audience: Audience
    message: dict[str, Any]  # one OA message, within Zalo's limits
    template: Template | None = None  # a ZBS template for users beyond Zalo's 7 days
    message_type: str = "consultation"
    enabled: bool = True
    source_file: str = ""
    warnings: tuple[str, ...] = field(default=())


def load_campaign(path: Path, locality: Locality, topics: dict[str, str]) -> Campaign:
    """Read and validate one campaign file; ContentError names the file and line."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(f"{path}:1", "must be a YAML mapping (key: value lines)")
    reader = _Reader(path, data)
    campaign_id = reader.text("id")
    if not ID.match(campaign_id):
        reader.fail("'id' must be lower-case letters, digits and dashes, e.g. vneid-muc-2")
    message_type = str(data.get("message_type", "")).strip()
    if message_type not in MESSAGE_TYPES:
        reader.fail(f"'message_type' must be one of: {', '.join(MESSAGE_TYPES)}")
    if (why_not := MESSAGE_TYPES[message_type]) is not None:
        reader.fail(f"message_type '{message_type}' cannot be used: {why_not}; use consultation")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        reader.fail("'enabled' must be true or false")
    schedule = _schedule(_Reader(path, reader.mapping("schedule")))
    audience = _audience(_Reader(path, reader.mapping("audience")), topics)
    message = _message(_Reader(path, reader.mapping("message")), locality)
    template = _template(reader, data.get("zbs_template"))
    return Campaign(
        id=campaign_id,
        title=reader.text("title"),
        schedule=schedule,
        audience=audience,
        message=message,
        template=template,
        message_type=message_type,
        enabled=enabled,
        source_file=str(path),
        warnings=tuple(_warnings(schedule)),
    )


def campaign_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yml")) if directory.is_dir() else []


def load_all(
    content_dir: Path, overlay: Path | None = None
) -> tuple[dict[str, Campaign], list[ContentError]]:
    """Every campaign file: the valid ones by file name, and the errors of the others.
    `overlay`: a commune's content (bot/content/loader.py), whose campaigns are its own."""
    locality, topics = load_context(content_dir, overlay)
    loaded: dict[str, Campaign] = {}
    errors: list[ContentError] = []
    ids: dict[str, str] = {}
    for path in campaign_files(campaigns_dir(content_dir, overlay)):
        try:
            campaign = load_campaign(path, locality, topics)
        except ContentError as exc:
            errors.append(exc)
            continue
        if campaign.id in ids:
            errors.append(
                ContentError(f"{path}:1", f"id '{campaign.id}' is also in {ids[campaign.id]}")
            )
            continue
        ids[campaign.id] = str(path)
        loaded[str(path)] = campaign
    return loaded, errors


def campaigns_dir(content_dir: Path, overlay: Path | None = None) -> Path:
    """A commune runs its own campaigns only: those of its folder."""
    return (overlay or content_dir) / "campaigns"


def load_context(content_dir: Path, overlay: Path | None = None) -> tuple[Locality, dict[str, str]]:
    """The commune's data (for {locality.x} placeholders) and the topics citizens follow."""
    locality_data = read_mapping(locality_file(content_dir, overlay))
    locality = Locality({k: str(v) for k, v in locality_data.items() if k != "__line__"})
    ui = strip_lines(read_mapping(layered(content_dir, overlay, "ui.yml")))
    return locality, {str(k): str(v) for k, v in (ui.get("topics") or {}).items()}


class _Reader:
    """Typed access to one mapping of a campaign file, failing with its line."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    def fail(self, message: str) -> NoReturn:
        raise ContentError(f"{self.path}:{self.data.get('__line__', 1)}", message)

    def text(self, key: str, required: bool = True) -> str:
        value = self.data.get(key)
        if value in (None, "") and not required:
            return ""
        if not isinstance(value, str | int | float) or not str(value).strip():
            self.fail(f"'{key}' must be text")
        return str(value).strip()

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key)
        if not isinstance(value, dict):
            self.fail(f"'{key}' is missing or is not a mapping (indented key: value lines)")
        return value

    def one_of(self, keys: tuple[str, ...], what: str) -> str:
        given = [key for key in keys if self.data.get(key) not in (None, "", [])]
        if len(given) != 1:
            self.fail(f"{what} needs exactly one of: {', '.join(keys)}")
        return given[0]

    def moment(self, key: str, end_of_day: bool = False) -> dt.datetime | None:
        """A local date or date-and-time; a bare end date means the end of that day."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime.combine(value, dt.time.max if end_of_day else dt.time.min)
        else:
            try:
                moment = dt.datetime.fromisoformat(str(value).strip())
            except ValueError:
                self.fail(f"'{key}' must be a date like 2026-12-01 or 2026-12-01 08:30")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=TIMEZONE)
        return moment.astimezone(TIMEZONE).replace(microsecond=0)


def _schedule(reader: _Reader) -> Schedule:
    kind = reader.one_of(("at", "cron", "every"), "'schedule'")
    start, end = reader.moment("start"), reader.moment("end", end_of_day=True)
    if start and end and end <= start:
        reader.fail("'end' must be after 'start'")
    if kind == "at":
        return Schedule(at=reader.moment("at"))
    if kind == "cron":
        rule = reader.mapping("cron")
        fields = {k: str(v).strip().lower() for k, v in rule.items() if k != "__line__"}
        if unknown := set(fields) - set(CRON_FIELDS):
            reader.fail(f"unknown cron fields {sorted(unknown)}; use {', '.join(CRON_FIELDS)}")
        if "hour" not in fields:
            reader.fail("'cron' needs an 'hour' (otherwise it would fire at midnight)")
        if re.search(r"\d", fields.get("day_of_week", "")):
            # Cron counts 0 as Sunday, APScheduler as Monday: names are unambiguous.
            reader.fail("write day_of_week with names (mon, tue, … sun, or mon-fri), not numbers")
        schedule = Schedule(cron=fields, start=start, end=end)
    else:
        rule = reader.mapping("every")
        units = {k: v for k, v in rule.items() if k != "__line__"}
        if not units or set(units) - set(INTERVAL_UNITS):
            reader.fail(f"'every' takes {', '.join(INTERVAL_UNITS)}, e.g. every: {{days: 7}}")
        if not all(isinstance(v, int) and v > 0 for v in units.values()):
            reader.fail("'every' needs whole positive numbers")
        if start is None:
            reader.fail("'every' needs a 'start' (the first run, e.g. 2026-12-01 08:30)")
        schedule = Schedule(every=units, start=start, end=end)
    try:
        schedule.trigger()
    except ValueError as exc:
        reader.fail(f"the schedule is not valid: {exc}")
    return schedule


def _audience(reader: _Reader, topics: dict[str, str]) -> Audience:
    kind = reader.one_of(AUDIENCE_KINDS, "'audience'")
    value = reader.data[kind]
    if kind == "all_followers":
        if value is not True:
            reader.fail("write 'all_followers: true'")
        return Audience(kind)
    if kind == "users":
        if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
            reader.fail("'users' must be a list of Zalo user ids")
        return Audience(kind, tuple(str(v) for v in value))
    value = reader.text(kind)
    if kind == "topic" and value not in topics:
        reader.fail(
            f"unknown topic '{value}'; topics are listed in content/ui.yml: {sorted(topics)}"
        )
    return Audience(kind, value)


def _message(reader: _Reader, locality: Locality) -> dict[str, Any]:
    text = locality.fill(reader.text("text"))
    if len(text) > message_shapes.MAX_TEXT:
        reader.fail(f"'text' has {len(text)} characters; Zalo allows {message_shapes.MAX_TEXT}")
    buttons = reader.data.get("buttons") or []
    image = reader.text("image", required=False)
    if buttons and image:
        reader.fail("a Zalo message shows either buttons or an image, not both")
    if image:
        if not image.startswith(("https://", "http://")):
            reader.fail("'image' must be an http(s) link to the picture")
        return {"text": text, **message_shapes.image(image)}
    if not isinstance(buttons, list) or len(buttons) > message_shapes.MAX_BUTTONS:
        reader.fail(f"'buttons' must be a list of at most {message_shapes.MAX_BUTTONS}")
    zalo_buttons = []
    for raw in buttons:
        button = _Reader(reader.path, raw if isinstance(raw, dict) else {})
        title, payload = button.text("title"), locality.fill(button.text("payload"))
        if len(title) > message_shapes.MAX_BUTTON_TITLE:
            button.fail(f"button title '{title}' is longer than {message_shapes.MAX_BUTTON_TITLE}")
        zalo_buttons.append(message_shapes.button(title, payload))
    if not zalo_buttons:
        return message_shapes.text(text)
    return message_shapes.text_with_buttons(text, zalo_buttons)


def _template(reader: _Reader, raw: Any) -> Template | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        reader.fail("'zbs_template' must have template_id and data")
    template = _Reader(reader.path, raw)
    template_id = template.text("template_id", required=False)
    data = raw.get("data") or {}
    if not isinstance(data, dict):
        template.fail("'data' must map the template's parameters to values")
    if not template_id:
        return None  # no approved template yet: users beyond 7 days are skipped
    return Template(template_id, {str(k): str(v) for k, v in data.items() if k != "__line__"})


def _warnings(schedule: Schedule) -> Iterator[str]:
    if schedule.at is not None and schedule.at <= dt.datetime.now(TIMEZONE):
        yield "the time is in the past: nothing will be sent"
