"""How often `asked_aspect` finds the aspect the collectors labelled on the real questions.

Each question in data/real_questions/ carries the aspect its collector read in it (who,
documents, fee, time, deadline, where, online, result; "how" and "other" name no guide
section). The labels are one reader's and often arguable when a message asks two things, so
the figure is a guide to what a pattern change does, read with the questions it changes:
`--before FILE` compares with the aspects another revision wrote (`--write FILE`).

    .venv/bin/python bench/nlu/aspect_agreement.py [--write FILE] [--before FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu.aspects import asked_aspect  # noqa: E402
from scripts.split_real_questions import _tested, load_pool  # noqa: E402

# The collectors' names for the guide sections (render.SECTIONS); the rest name none.
SECTION_OF_LABEL = {"fee": "fees", "how": None, "other": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="write each question's aspect (JSON) here")
    parser.add_argument("--before", type=Path, help="list the questions whose aspect changed")
    args = parser.parse_args()

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    with contextlib.redirect_stderr(io.StringIO()):  # the loader reports skipped entries
        pool = [q for q in load_pool(set(domain["intents"])) if q["intent"] != "out_of_scope"]
    found = {q["text"]: asked_aspect(q["text"]) for q in pool}
    for side, questions in (
        ("training side", [q for q in pool if not _tested(q)]),
        ("whole pool", pool),
    ):
        same = Counter(
            SECTION_OF_LABEL.get(q["aspect"], q["aspect"]) == found[q["text"]] for q in questions
        )
        share = 100 * same[True] / len(questions)
        print(f"{side}: {same[True]} of {len(questions)} ({share:.1f}%)")
    if args.write:
        args.write.write_text(json.dumps(found, ensure_ascii=False), encoding="utf-8")
    if args.before:
        before = json.loads(args.before.read_text(encoding="utf-8"))
        for q in pool:
            old, new = before.get(q["text"]), found[q["text"]]
            if old != new:
                label = SECTION_OF_LABEL.get(q["aspect"], q["aspect"])
                mark = "+" if new == label else "-" if old == label else " "
                print(f"{mark} {old} → {new} [{label}] {q['text']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
