"""Reads and validates content/: errors name the file and line an officer must fix."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import re
import string
from pathlib import Path
from typing import Any

import yaml

from bot.content.admin_texts import TEXTS as ADMIN_TEXTS
from bot.content.content_model import ContentError, Faq, Guide, Library, Locality, OnlineRoute

# A procedure guide answers every question a citizen asks about filing; a topic guide
# (office info, scams, events, online filing in general) has a summary and steps only.
TOPIC_REQUIRED = ("id", "intent", "title", "summary", "steps", "last_reviewed", "sources")
PROCEDURE_REQUIRED = TOPIC_REQUIRED + (
    "who",
    "office",
    "online",
    "documents",
    "fees",
    "processing_time",
    "deadlines",
    "legal_basis",
)
KINDS = ("procedure", "topic")
LOCALITY_REQUIRED = ("name", "one_stop_desk", "address", "office_hours", "hotline", "map_url")


class _LineLoader(yaml.SafeLoader):
    """Remembers the line of every mapping so errors can point into the file."""


def _mapping_with_line(loader: _LineLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def read_yaml(path: Path) -> Any:
    """The file's data (a copy: the caller may change it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(f"{path}:1", f"cannot be read ({exc})") from exc
    return copy.deepcopy(_parsed(path, text))


@functools.lru_cache(maxsize=1024)
def _parsed(path: Path, text: str) -> Any:
    """Each version of a file is parsed once: communes load the same shared files on top of
    their own (bot/communes/), and parsing is most of a load's time."""
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", exc)
        raise ContentError(f"{path}:{line}", f"not valid YAML ({problem})") from exc


def load_library(content_dir: Path, overlay: Path | None = None) -> Library:
    """Load and validate everything; raises ContentError at the first broken file.

    `overlay`: a commune's own content (content/communes/<slug>/), read on top of the shared
    one: its locality.yml, ui.yml and admin.yml when it has them, and its guides in place of
    the shared guides of the same file name (or beside them)."""
    locality_path = locality_file(content_dir, overlay)
    locality_data = read_mapping(locality_path)
    _require_fields(locality_path, locality_data, LOCALITY_REQUIRED)
    ui = read_mapping(layered(content_dir, overlay, "ui.yml"))
    locality = locality_of(locality_data, ui)
    guides: dict[str, Guide] = {}
    ids: dict[str, Path] = {}
    for path in guide_files(content_dir, overlay):
        guide = read_guide(path, read_mapping(path), locality)
        if guide.id in ids:
            raise ContentError(f"{path}:1", f"id '{guide.id}' is already used by {ids[guide.id]}")
        if guide.intent in guides:
            raise ContentError(
                f"{path}:1",
                f"intent '{guide.intent}' already has a guide ({guides[guide.intent].source_file})",
            )
        ids[guide.id] = path
        guides[guide.intent] = guide
    admin_path = layered(content_dir, overlay, "admin.yml")
    admin = strip_lines(read_mapping(admin_path))
    if errors := admin_text_errors(admin_path, admin):
        raise errors[0]
    return Library(guides=guides, locality=locality, ui=strip_lines(ui), admin=admin)


# ui.yml wording used only when locality.yml gives a value (and checked only then).
UI_USED_ONLY_WITH = {"police_contact": "police_station"}


def locality_of(data: dict[str, Any], ui: dict[str, Any]) -> Locality:
    """The commune's values, with `police_contact` made from ui.yml's wording: its police
    station and phone when locality.yml gives them, else how to find them (a commune's
    locality.yml written before these fields still gives whole answers)."""
    values = {k: str(v) for k, v in data.items() if k != "__line__"}
    known = values.get(UI_USED_ONLY_WITH["police_contact"])
    wording = ui.get("police_contact" if known else "police_contact_unknown")
    contact = str(wording or "")
    for key, value in values.items():
        contact = contact.replace("{locality." + key + "}", value)
    return Locality({**values, "police_contact": contact})


def guide_files(content_dir: Path, overlay: Path | None = None) -> list[Path]:
    """The guides to load, by file name: the overlay's in place of the shared ones."""
    by_name = {path.name: path for path in (content_dir / "guides").glob("*.yml")}
    if overlay is not None:
        by_name.update({path.name: path for path in (overlay / "guides").glob("*.yml")})
    return [by_name[name] for name in sorted(by_name)]


def locality_file(content_dir: Path, overlay: Path | None = None) -> Path:
    """A commune's own locality.yml, never the shared one: its answers name its hotline."""
    return (overlay or content_dir) / "locality.yml"


def layered(content_dir: Path, overlay: Path | None, name: str) -> Path:
    """The overlay's file (a commune's) when it has one, else the shared one."""
    if overlay is not None and (overlay / name).exists():
        return overlay / name
    return content_dir / name


def read_guide(path: Path, data: dict[str, Any], locality: Locality) -> Guide:
    kind = data.get("kind", "procedure")
    if kind not in KINDS:
        raise ContentError(f"{path}:{data['__line__']}", "'kind' must be procedure or topic")
    _require_fields(path, data, PROCEDURE_REQUIRED if kind == "procedure" else TOPIC_REQUIRED)

    def text(key: str, source: dict[str, Any] = data) -> str:
        value = source.get(key)
        if value is None and kind == "topic" and source is data:
            return ""
        if not isinstance(value, str | int | float) or not str(value).strip():
            raise ContentError(f"{path}:{source.get('__line__', 1)}", f"'{key}' must be text")
        return locality.fill(str(value).strip())

    def texts(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None and kind == "topic":
            return ()
        if not isinstance(value, list) or not value:
            raise ContentError(f"{path}:{data['__line__']}", f"'{key}' must be a list")
        return tuple(locality.fill(str(item).strip()) for item in value)

    routes = []
    for route in data.get("online") or []:
        if not isinstance(route, dict):
            raise ContentError(
                f"{path}:{data['__line__']}", "each 'online' route needs portal, url, path"
            )
        # An app (VNeID) has no link: url is optional, but a link when given.
        url = locality.fill(str(route.get("url") or "").strip())
        routes.append(OnlineRoute(text("portal", route), url, text("path", route)))
    faqs = []
    for faq in data.get("faqs") or []:
        if not isinstance(faq, dict) or not isinstance(faq.get("examples"), list):
            raise ContentError(
                f"{path}:{data['__line__']}", "each FAQ needs id, question, examples, answer"
            )
        faqs.append(
            Faq(
                text("id", faq),
                text("question", faq),
                tuple(str(e) for e in faq["examples"]),
                text("answer", faq),
            )
        )
    reviewed = data["last_reviewed"]
    if not isinstance(reviewed, dt.date):
        raise ContentError(
            f"{path}:{data['__line__']}", "'last_reviewed' must be a date like 2026-11-23"
        )
    return Guide(
        kind=kind,
        id=text("id"),
        intent=text("intent"),
        title=text("title"),
        summary=text("summary"),
        who=text("who"),
        office=text("office"),
        online=tuple(routes),
        documents=texts("documents"),
        fees=text("fees"),
        processing_time=text("processing_time"),
        deadlines=text("deadlines"),
        result=text("result") if "result" in data else "",
        legal_basis=texts("legal_basis"),
        steps=texts("steps"),
        faqs=tuple(faqs),
        last_reviewed=reviewed,
        sources=texts("sources"),
        source_file=str(path),
        button=text("button") if "button" in data else "",
    )


def read_mapping(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise ContentError(f"{path}:1", "file is missing")
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ContentError(f"{path}:1", "must be a YAML mapping (key: value lines)")
    return data


def _require_fields(path: Path, data: dict[str, Any], required: tuple[str, ...]) -> None:
    missing = [key for key in required if data.get(key) in (None, "", [])]
    if missing:
        raise ContentError(f"{path}:{data.get('__line__', 1)}", "missing " + ", ".join(missing))


def strip_lines(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_lines(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [strip_lines(v) for v in value]
    return value


def admin_text_errors(path: Path, admin: dict[str, Any]) -> list[ContentError]:
    """Each text the dashboard reads (bot/content/admin_texts.py) is in admin.yml and has
    only the placeholders the dashboard fills there."""
    errors = []
    for key, allowed in ADMIN_TEXTS.items():
        value: Any = admin
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        where = line_of_key(path, key)
        if not isinstance(value, str):
            errors.append(ContentError(where, f"'{key}' is missing: the dashboard shows this text"))
            continue
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
            if unknown := sorted(names - set(allowed)):
                filled = ", ".join(f"{{{n}}}" for n in allowed) or "no placeholder"
                errors += [
                    ContentError(
                        where,
                        f"{{{name}}} in '{key}' cannot be filled: the dashboard fills {filled}",
                    )
                    for name in unknown
                ]
                continue
            value.format(**dict.fromkeys(allowed, "1"))
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            errors.append(
                ContentError(
                    where, f"'{key}': {exc} (a brace shown as it is is written {{{{ or }}}})"
                )
            )
    return errors


def line_of_key(path: Path, key: str) -> str:
    """file:line of a dotted key ("reports.columns.figure"), each part looked for inside its
    section; for a missing key, the line of the deepest section that is there."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return f"{path}:1"
    found, depth = 0, -1  # the line found so far and its indentation (-1: the file's top)
    for part in key.split("."):
        pattern = re.compile(rf"^\s*{re.escape(part)}\s*:")
        for number in range(found + (depth >= 0), len(lines)):
            line = lines[number]
            indent = len(line) - len(line.lstrip())
            ends_section = line.strip() and not line.lstrip().startswith("#") and indent <= depth
            if depth >= 0 and ends_section:
                return f"{path}:{found + 1}"  # the section ends without this part
            if pattern.match(line) and (indent > depth if depth >= 0 else indent == 0):
                found, depth = number, indent
                break
        else:
            return f"{path}:{found + 1}"
    return f"{path}:{found + 1}"
