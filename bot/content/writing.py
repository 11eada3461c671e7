"""How guides are written for citizens, checked by `citizenbot content check`.

- A yes/no FAQ ("… có cần … không?") opens its answer with the answer word ("Không cần.",
  "Được.", "Có."), so the citizen reads the answer before the reasons.
- At most one "xin kiểm tra lại với bộ phận một cửa" per section: the facts that need
  checking are grouped before one hedge, not each followed by its own.
- A fee paragraph of at most 60 words: the amounts, not an essay.
- Decree and circular numbers in the legal basis, not in the summary or the steps.
- Each source cited once.
"""

from __future__ import annotations

import re

from bot.content.content_model import Guide

HEDGE = "xin kiểm tra lại với bộ phận một cửa"
MAX_FEE_WORDS = 60
ANSWER_WORDS = ("có", "không", "được", "phải", "chưa", "đúng")
MAX_ANSWER_WORDS = 3  # "Không cần.", "Không được.", "Có, phải."
_YES_NO_QUESTION = re.compile(r"\b(?:không|chưa)\s*\?*\s*$")
_LEGAL_NUMBER = re.compile(
    r"(?i:nghị định|thông tư|nghị quyết|công điện)\s+(?:số\s+)?\d|\b\d+/\d{4}/[A-ZĐ]"
)


def writing_issues(guide: Guide) -> list[tuple[str, str]]:
    """(a piece of the text to find it by, what is wrong) for each rule the guide breaks."""
    issues = []
    for faq in guide.faqs:
        if is_yes_no(faq.question) and not opens_with_answer_word(faq.answer):
            issues.append(
                (
                    faq.answer,
                    f"the FAQ '{faq.id}' asks a yes/no question: open its answer with "
                    "the answer word (Có. / Không. / Không cần. / Được. / Phải.)",
                )
            )
    for name, text in sections(guide):
        if (count := hedges(text)) > 1:
            issues.append(
                (
                    text,
                    f"{count} times '{HEDGE}' in {name}: group the facts to check and "
                    "hedge them once",
                )
            )
    if (length := len(guide.fees.split())) > MAX_FEE_WORDS:
        issues.append(
            (guide.fees, f"the fees paragraph has {length} words (at most {MAX_FEE_WORDS})")
        )
    for text in (guide.summary, *guide.steps):
        if number := _LEGAL_NUMBER.search(text):
            issues.append(
                (text, f"'{number.group(0)}…' in the summary or a step: name it in legal_basis")
            )
    seen: set[str] = set()
    for url in guide.sources:
        if url in seen:
            issues.append((url, f"the source {url} is cited twice"))
        seen.add(url)
    return issues


def is_yes_no(question: str) -> bool:
    return bool(_YES_NO_QUESTION.search(question.lower()))


def opens_with_answer_word(answer: str) -> bool:
    """ "Không cần. …", "Được. …": a short first sentence led by the answer word ("Có thể
    yêu cầu …" is no "Có.")."""
    first_sentence = re.split(r"[.,;:!]", answer.strip().lower(), maxsplit=1)[0].split()
    return 0 < len(first_sentence) <= MAX_ANSWER_WORDS and first_sentence[0] in ANSWER_WORDS


def hedges(text: str) -> int:
    return " ".join(text.lower().split()).count(HEDGE)


def sections(guide: Guide) -> list[tuple[str, str]]:
    """Each part of a guide the citizen reads as one message: a field, a step, an answer."""
    parts = [
        ("summary", guide.summary),
        ("who", guide.who),
        ("office", guide.office),
        ("online", " ".join(route.path for route in guide.online)),
        ("documents", " ".join(guide.documents)),
        ("fees", guide.fees),
        ("processing_time", guide.processing_time),
        ("deadlines", guide.deadlines),
        ("result", guide.result),
        ("legal_basis", " ".join(guide.legal_basis)),
    ]
    parts += [(f"step {n}", text) for n, text in enumerate(guide.steps, 1)]
    parts += [(f"FAQ '{faq.id}'", faq.answer) for faq in guide.faqs]
    return parts
