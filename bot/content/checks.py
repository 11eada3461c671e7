"""`citizenbot content check`: every problem in content/, each with file and line.

Checks what the runtime loader checks (schema, required fields) and what only shows in
the chat: Zalo's limits on every rendered message, links, intents without a guide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import yaml

from bot.content.loader import read_guide, read_mapping, strip_lines
from bot.content.model import ContentError, Guide, Library, Locality
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
from bot.zalo.messages import MAX_BUTTON_TITLE, MAX_BUTTONS, MAX_TEXT

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
        locality = Locality({k: str(v) for k, v in locality_data.items() if k != "__line__"})
        ui = read_mapping(content_dir / "ui.yml")
    except ContentError as exc:
        return [Problem(exc.where, exc.message)]
    if locality_data.get("sample") is True:
        problems.append(
            Problem(
                f"{content_dir / 'locality.yml'}:1",
                "still holds sample data (sample: true): fill in the commune's "
                "own address, hours and hotline",
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
    for guide in guides:
        problems += (
            _links(guide) + _rendered(library, guide) + _writing(guide) + _aspects(library, guide)
        )
    return problems


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


def _rendered(library: Library, guide: Guide) -> list[Problem]:
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
        if "{locality." in reply.text:
            problems.append(
                Problem(where, "a {locality.…} placeholder has no value in locality.yml")
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
