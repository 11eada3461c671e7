"""Checks nlu/*.yml: every file loads with PyYAML, examples per intent (>= 45), the share
typed without diacritics, and no example repeated within or across files (after NFC, lower
case and entity markup removed). Also reports examples that the generated content FAQs
(bot.brain.training.faq_training_text) give to a different intent.

    .venv/bin/python bench/nlu/check_training_data.py
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")
MINIMUM = 45


def key(text: str) -> str:
    text = unicodedata.normalize("NFC", ENTITY.sub(r"\1", text)).lower()
    return " ".join(re.findall(r"\w+|[^\w\s]+", text))


def has_diacritics(text: str) -> bool:
    text = text.lower()
    if "đ" in text:
        return True
    return any(unicodedata.category(c) == "Mn" for c in unicodedata.normalize("NFD", text))


def examples_of(text: str, source: str) -> list[tuple[str, str, str]]:
    out = []
    for block in (yaml.safe_load(text) or {}).get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append((block["intent"], line[2:].strip(), source))
    return out


def main() -> int:
    problems = 0
    rows = []
    for path in sorted((ROOT / "nlu").glob("*.yml")):
        try:
            rows += examples_of(path.read_text(encoding="utf-8"), path.name)
        except yaml.YAMLError as exc:
            print(f"{path.name}: does not load: {exc}")
            problems += 1
    seen: dict[str, tuple[str, str]] = {}
    for intent, text, source in rows:
        k = key(text)
        if k in seen:
            print(f"duplicate: {text!r} ({intent}, {source}) = {seen[k]}")
            problems += 1
        else:
            seen[k] = (intent, source)
    counts = Counter(intent for intent, _, _ in rows)
    plain = Counter(intent for intent, text, _ in rows if not has_diacritics(text))
    print(f"{len(rows)} examples, {len(counts)} intents")
    for intent in sorted(counts):
        flag = f"  <-- fewer than {MINIMUM}" if counts[intent] < MINIMUM else ""
        problems += bool(flag)
        share = plain[intent] / counts[intent]
        print(f"  {intent:28} {counts[intent]:4}  no diacritics {share:4.0%}{flag}")
    try:
        from bot.brain.training import faq_training_text

        faq = examples_of(faq_training_text(ROOT), "content FAQs")
    except Exception as exc:  # the FAQ generator belongs to another part of the project
        print(f"(content FAQs not checked: {exc})")
        faq = []
    by_key = defaultdict(set)
    for intent, text, _ in faq:
        by_key[key(text)].add(intent)
    for intent, text, source in rows:
        other = by_key.get(key(text), set()) - {intent}
        if other:
            print(
                f"conflict with content FAQs: {text!r} is {intent} in {source}, "
                f"{sorted(other)} in the FAQs"
            )
    print("OK" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
