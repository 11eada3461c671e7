"""What FallbackClassifier's threshold and ambiguity_threshold would do to a trained model.

Parses the held-out set once with a model trained by `citizenbot nlu-eval` (e.g.
var/nlu-eval/config/) and replays the fallback rule on the classifier's own ranking for a
grid of settings. Prints aggregates only (never held-out text).

    .venv/bin/python bench/nlu/threshold_sweep.py var/nlu-eval/config
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu_eval import FALLBACKS, load_holdout  # noqa: E402

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
AMBIGUITY = (0.0, 0.02, 0.05, 0.1)


async def rankings(model_dir: Path, texts: list[str]) -> list[list[tuple[str, float]]]:
    from bot.brain import Brain, normalise_text

    brain = await Brain.load(model_dir, with_actions=False)
    try:
        out = []
        for text in texts:
            parsed = await brain.agent.parse_message(normalise_text(text))
            ranking = [
                (r["name"], float(r["confidence"]))
                for r in parsed.get("intent_ranking", [])
                if r["name"] != "nlu_fallback"
            ]
            out.append(ranking)
        return out
    finally:
        await brain.close()


def main() -> int:
    from bot import logs

    # Without this, Rasa's structlog prints every parsed message (held-out text) to stdout.
    logs.configure(logging.WARNING)
    model_dir = Path(sys.argv[1])
    holdout = load_holdout(ROOT / "tests/nlu/holdout.yml")
    ranked = asyncio.run(rankings(model_dir, [e.text for e in holdout]))
    print(f"{model_dir}: {len(holdout)} messages")
    print("| threshold | ambiguity | accuracy | none | OOS recall | in-domain → fallback |")
    print("|---|---|---|---|---|---|")
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITY:
            predicted = []
            for ranking in ranked:
                (top, p1), p2 = ranking[0], (ranking[1][1] if len(ranking) > 1 else 0.0)
                fallback = p1 < threshold or p1 - p2 < ambiguity
                predicted.append("nlu_fallback" if fallback else top)
            gold = [e.intent for e in holdout]
            ok = [g == p for g, p in zip(gold, predicted, strict=True)]
            none = [o for o, e in zip(ok, holdout, strict=True) if e.style == "none"]
            oos = [
                p in FALLBACKS for g, p in zip(gold, predicted, strict=True) if g == "out_of_scope"
            ]
            ind = [
                p in FALLBACKS for g, p in zip(gold, predicted, strict=True) if g != "out_of_scope"
            ]
            print(
                f"| {threshold} | {ambiguity} | {100 * sum(ok) / len(ok):.1f}% "
                f"| {100 * sum(none) / len(none):.1f}% | {100 * sum(oos) / len(oos):.1f}% "
                f"| {100 * sum(ind) / len(ind):.1f}% |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
