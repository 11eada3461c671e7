"""`citizenbot content check`: every problem in content/, each with file and line.

Checks what the runtime loader checks (schema, required fields) and what only shows in
the chat: Zalo's limits on every rendered message, links, intents without a guide, and
placeholders: every text of ui.yml, every guide and every campaign is rendered with sample
values, so a placeholder nothing can fill is an error here rather than a crash in the chat;
every dashboard text of admin.yml is there with only the placeholders the dashboard fills.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from bot.content.content_model import ContentError, Guide, Library
from bot.content.loader import (
    UI_USED_ONLY_WITH,
    admin_text_errors,
    line_of_key,
    load_library,
    locality_of,
    read_guide,
    read_mapping,
    strip_lines,
)
from bot.content.render import (
    FIELDS,
    SECTIONS,
    Reply,
    faq_answer,
    section,
    section_text,
    step,
    summary,
)
from bot.content.writing import writing_issues
from bot.dossiers.dossier_model import STATUSES
from bot.zalo.message_shapes import MAX_BUTTON_TITLE, MAX_BUTTONS, MAX_TEXT

# Intents that open a guide, besides every proc_* intent in the domain.
TOPIC_INTENTS = (
    "how_to_apply_online",
    "pay_fees_online",
    "ask_office_info",
    "ask_result_delivery",
    "ask_digital_signature",
    "request_home_support",
    "ask_events",
    "security_scam",
)

# The values the code puts into each text of ui.yml (besides {locality.…}), by the text's
# dotted key; a text not listed gets none. A new placeholder is declared here along with
# the code that fills it.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "step_heading": ("n", "total"),
    "last_reviewed": ("date",),
    **{f"dossier_status.{s}": ("code", *details) for s, details in STATUSES.items()},
    "dossier_ask_digits": ("code",),
    "dossier_wrong_digits": ("code",),
    "dossier_subscribed": ("code",),
    "feedback_received": ("number", "sla_days"),
    "feedback_answer": ("number", "answer"),
    "feedback_closed": ("number",),
    "reminders.time_hour": ("hour", "minute", "period"),
    "reminders.time_minute": ("hour", "minute", "period"),
    "reminders.when": ("time", "weekday", "date"),
    "reminders.confirm": ("when",),
    "reminders.confirm_subject": ("subject", "when"),
    "reminders.saved": ("when",),
    "reminders.item": ("n", "when", "subject"),
    "reminders.label_birth": ("deadline",),
    "reminders.label_appointment": ("code",),
    "reminders.cancel_button": ("n",),
    "reminders.cancelled": ("count",),
    "reminders.fire": ("when",),
    "reminders.fire_subject": ("subject", "when"),
    "reminders.birth_confirm": ("born", "deadline", "times"),
    "reminders.birth_saved": ("count",),
    "reminders.birth_late": ("born", "deadline"),
    "reminders.birth_too_close": ("deadline",),
    "reminders.birth_fire": ("deadline", "days"),
    "reminders.appointment_fire": ("date", "code"),
    "subscriptions.topic_subscribed": ("topic",),
    "subscriptions.reminders_cancelled": ("count",),
    "subscriptions.dossiers_stopped": ("count",),
    "subscriptions.dossier_stopped": ("code",),
    "subscriptions.dossier_not_followed": ("code",),
    "handover_outside_hours": ("time", "date"),
    **{
        f"card_renewal.{kind}": ("holder", "made", "age_at_issue", "due_age", "due_year")
        for kind in ("lifetime", "due_now", "later")
    },
    "card_renewal.age_only": ("age", "holder"),
}
# A sample of each placeholder's value, as long as a real one may be.
SAMPLES: dict[str, str] = {
    "n": "2",
    "age": "68",
    "total": "12",
    "date": "27/11/2026",
    "code": "000.00.24.H26-250101-0001",
    "missing": "bản sao giấy chứng nhận kết hôn của cha mẹ (bản có chứng thực)",
    "pickup_place": "Bộ phận Một cửa – Trung tâm Phục vụ hành chính công xã",
    "pickup_date": "30/11/2026",
    "reason": "người yêu cầu không thuộc trường hợp được đăng ký tại xã",
    "number": "PA-2026-0012",
    "sla_days": "5",
    "answer": "Nội dung trả lời của cán bộ.",
    "hour": "8",
    "minute": "30",
    "period": "sáng",
    "time": "8 giờ 30 sáng",
    "weekday": "thứ Sáu",
    "when": "8 giờ 30 sáng thứ Sáu, ngày 27/11/2026",
    "subject": "đi nhận kết quả hồ sơ",
    "deadline": "thứ Hai, 19/01/2027",
    "born": "20/11/2026",
    "times": "8 giờ sáng thứ Hai, ngày 12/01/2027; 8 giờ sáng thứ Năm, ngày 15/01/2027",
    "days": "7",
    "count": "3",
    "topic": "dịch vụ công trực tuyến",
    "query": "H26-250101",
    "made": "2016",
    "age_at_issue": "62",
    "due_age": "60",
    "due_year": "2027",
    "holder": "mẹ anh/chị",
}
# What is left of a placeholder in a text that was already filled.
LEFT_OVER = re.compile(r"\{[^{}\s]*\}")


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


def check_content(content_dir: Path, domain_path: Path) -> list[Problem]:
    problems: list[Problem] = []
    try:
        locality_data = read_mapping(content_dir / "locality.yml")
        ui = read_mapping(content_dir / "ui.yml")
        locality = locality_of(locality_data, ui)
        admin = strip_lines(read_mapping(content_dir / "admin.yml"))
    except ContentError as exc:
        return [Problem(exc.where, exc.message)]
    if locality_data.get("sample") is True:
        problems.append(
            Problem(
                f"{content_dir / 'locality.yml'}:1",
                "still holds sample data (sample: true): fill in the commune's "
                "own address, hours, hotline and police station",
                "warning",
            )
        )
    guides: list[Guide] = []
    for path in sorted((content_dir / "guides").glob("*.yml")):
        try:
            guides.append(read_guide(path, read_mapping(path), locality))
        except ContentError as exc:
            problems.append(Problem(exc.where, exc.message))
    problems += _cross_file(guides, _domain_intents(domain_path))
    library = Library({g.intent: g for g in guides}, locality, strip_lines(ui))
    problems += _ui_placeholders(content_dir / "ui.yml", library)
    problems += [
        Problem(e.where, e.message) for e in admin_text_errors(content_dir / "admin.yml", admin)
    ]
    # ui.yml's own placeholders are reported at ui.yml, not again in every guide using them
    from_ui = {left for _, text in _ui_texts(library.ui) for left in LEFT_OVER.findall(text)}
    for guide in guides:
        problems += _links(guide) + _writing(guide) + _aspects(library, guide)
        problems += _button_name(guide)
        try:
            problems += _rendered(library, guide, from_ui)
        except (KeyError, ValueError, IndexError) as exc:  # a ui.yml text it uses is broken
            problems.append(
                Problem(f"{guide.source_file}:1", f"cannot be rendered ({exc!r}): fix ui.yml first")
            )
    return problems + _campaigns(content_dir) + _communes(content_dir)


def _communes(content_dir: Path) -> list[Problem]:
    """Each commune's folder (content/communes/<slug>/, bot/communes/) loads on top of the
    shared content, and so do its campaigns."""
    problems = []
    for overlay in sorted(path for path in (content_dir / "communes").glob("*") if path.is_dir()):
        try:
            load_library(content_dir, overlay)
        except ContentError as exc:
            problems.append(Problem(exc.where, exc.message))
            continue
        problems += _campaigns(content_dir, overlay)
    return problems


def _ui_texts(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(dotted key, text) for every text in ui.yml, lists and nested sections included."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for name, item in value.items():
            if name != "__line__":
                yield from _ui_texts(item, f"{key}.{name}" if key else str(name))
    elif isinstance(value, list):
        for item in value:
            yield from _ui_texts(item, key)


def _ui_placeholders(path: Path, library: Library) -> list[Problem]:
    """Render every ui.yml text as the code does: {locality.…} from locality.yml, then the
    values of PLACEHOLDERS (with SAMPLES); any other placeholder is an error."""
    problems = []
    for key, text in _ui_texts(library.ui):
        if (needed := UI_USED_ONLY_WITH.get(key)) and not library.locality.values.get(needed):
            continue  # "police_contact" without a police station: never shown
        filled = library.locality.fill(text)
        allowed = PLACEHOLDERS.get(key, ())
        where = line_of_key(path, key)
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(filled) if name is not None}
        except ValueError as exc:
            problems.append(
                Problem(where, f"'{key}': {exc} (a brace shown as it is is written {{{{ or }}}})")
            )
            continue
        if unknown := sorted(names - set(allowed)):
            problems += _unfillable(where, key, unknown, allowed)
            continue
        try:
            filled.format(**{name: SAMPLES[name] for name in allowed})
        except (ValueError, IndexError, KeyError, AttributeError) as exc:
            problems.append(Problem(where, f"'{key}' cannot be rendered: {exc}"))
    return problems


def _unfillable(where: str, key: str, names: list[str], allowed: tuple[str, ...]) -> list[Problem]:
    problems = []
    for name in names:
        if name.startswith("locality."):
            message = f"{{{name}}} in '{key}' has no value in locality.yml"
        else:
            filled = ", ".join(f"{{{n}}}" for n in allowed) or "no placeholder"
            message = f"{{{name}}} in '{key}' cannot be filled: the assistant fills {filled} there"
        problems.append(Problem(where, message))
    return problems


def _campaigns(content_dir: Path, overlay: Path | None = None) -> list[Problem]:
    """Every campaign loads, and its text and buttons have no placeholder left unfilled."""
    from bot.scheduler.campaign_files import load_all

    loaded, errors = load_all(content_dir, overlay)
    problems = [Problem(error.where, error.message) for error in errors]
    for path, campaign in loaded.items():
        buttons = campaign.message.get("attachment", {}).get("payload", {}).get("buttons", [])
        shown = [campaign.message.get("text", "")] + [b.get("title", "") for b in buttons]
        shown += [b.get("payload", "") for b in buttons if "{locality." in b.get("payload", "")]
        problems += [
            Problem(f"{path}:1", f"{left} cannot be filled: " + _why_unfilled(left))
            for text in shown
            for left in LEFT_OVER.findall(text)
        ]
    return problems


def _why_unfilled(placeholder: str) -> str:
    if placeholder.startswith("{locality."):
        return "it has no value in locality.yml"
    return "only {locality.…} placeholders are filled in guides and campaigns"


def _domain_intents(domain_path: Path) -> set[str]:
    domain = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    return {i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents", [])}


def _cross_file(guides: list[Guide], intents: set[str]) -> list[Problem]:
    problems = []
    seen_ids: dict[str, str] = {}
    seen_intents: dict[str, str] = {}
    seen_faqs: dict[str, str] = {}
    for guide in guides:
        where = f"{guide.source_file}:1"
        if guide.id in seen_ids:
            problems.append(Problem(where, f"id '{guide.id}' is also used by {seen_ids[guide.id]}"))
        if guide.intent in seen_intents:
            problems.append(
                Problem(
                    where,
                    f"intent '{guide.intent}' already has a guide ({seen_intents[guide.intent]})",
                )
            )
        if guide.intent not in intents:
            problems.append(Problem(where, f"intent '{guide.intent}' is not in domain.yml"))
        for faq in guide.faqs:
            if faq.id in seen_faqs:
                problems.append(
                    Problem(
                        _line(guide, faq.id),
                        f"FAQ id '{faq.id}' is also used in {seen_faqs[faq.id]}",
                    )
                )
            seen_faqs[faq.id] = guide.source_file
        seen_ids.setdefault(guide.id, guide.source_file)
        seen_intents.setdefault(guide.intent, guide.source_file)
    wanted = {i for i in intents if i.startswith("proc_")} | set(TOPIC_INTENTS)
    for intent in sorted(wanted - set(seen_intents)):
        problems.append(Problem("content/guides:1", f"intent '{intent}' has no guide"))
    return problems


def _links(guide: Guide) -> list[Problem]:
    urls = [route.url for route in guide.online if route.url] + list(guide.sources)
    return [
        Problem(_line(guide, url), f"'{url}' is not a well-formed http(s) link")
        for url in urls
        if not _well_formed(url)
    ]


def _well_formed(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in url


def _rendered(library: Library, guide: Guide, from_ui: set[str]) -> list[Problem]:
    """Render every message the guide can send and hold it to Zalo's limits."""
    replies: list[tuple[str, Reply]] = [("summary", r) for r in summary(library, guide)]
    for name in SECTIONS:
        replies += [(name, r) for r in section(library, guide, name)]
    for number in range(1, len(guide.steps) + 1):
        replies += [(guide.steps[number - 1], r) for r in step(library, guide, number)]
    for faq in guide.faqs:
        replies += [(faq.answer, r) for r in faq_answer(library, guide, faq)]
    problems = []
    for origin, reply in replies:
        where = _line(guide, origin)
        if len(reply.text) > MAX_TEXT:
            problems.append(
                Problem(
                    where,
                    f"a message of {len(reply.text)} characters is longer "
                    f"than Zalo's {MAX_TEXT}: shorten it or split it",
                )
            )
        problems += [
            Problem(where, f"{left} cannot be filled: " + _why_unfilled(left))
            for left in LEFT_OVER.findall(reply.text)
            if left not in from_ui
        ]
        if "anh/chị" in reply.text.lower():
            problems.append(
                Problem(
                    where,
                    "write {anh_chi} (or {Anh_chi} at a sentence's start) instead of 'anh/chị': "
                    "the assistant then addresses each citizen as they speak",
                    "warning",
                )
            )
        if len(reply.buttons) > MAX_BUTTONS:
            problems.append(
                Problem(where, f"{len(reply.buttons)} buttons; Zalo allows {MAX_BUTTONS}")
            )
        problems += [
            Problem(
                where,
                f"button title '{b['title']}' is longer than {MAX_BUTTON_TITLE} characters",
                "warning",
            )
            for b in reply.buttons
            if len(b["title"]) > MAX_BUTTON_TITLE
        ]
    return problems


def _button_name(guide: Guide) -> list[Problem]:
    """A guide offered on a button (the assistant asking "which one?") needs a short name."""
    if len(guide.button_title) <= MAX_BUTTON_TITLE:
        return []
    return [
        Problem(
            f"{guide.source_file}:1",
            f"'{guide.button_title}' is cut to {MAX_BUTTON_TITLE} characters on a button: "
            f"add 'button: \"…\"' (at most {MAX_BUTTON_TITLE} characters) under its title",
            "warning",
        )
    ]


def _aspects(library: Library, guide: Guide) -> list[Problem]:
    """A procedure guide answers every aspect a citizen asks about (bot/nlu/aspects.py);
    one it lacks gets a general answer instead."""
    if guide.kind != "procedure":
        return []
    return [
        Problem(
            f"{guide.source_file}:1",
            f"no '{FIELDS.get(aspect, aspect)}': a question about "
            f"'{library.ui['section_titles'][aspect]}' gets a general answer",
            "warning",
        )
        for aspect in SECTIONS
        if not section_text(library, guide, aspect)
    ]


def _writing(guide: Guide) -> list[Problem]:
    """How the guide is written (bot/content/writing.py): answer word first, one hedge."""
    return [Problem(_line(guide, snippet), message) for snippet, message in writing_issues(guide)]


def _line(guide: Guide, snippet: str) -> str:
    """file:line of the first line holding the start of `snippet` (else the file's top)."""
    path = Path(guide.source_file)
    probe = snippet.strip()[:30]
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if probe and probe in line:
                return f"{path}:{number}"
    except OSError:
        pass
    return f"{path}:1"
