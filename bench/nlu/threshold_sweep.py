"""What FallbackClassifier's threshold and ambiguity_threshold would do to a trained model.

Parses a test set once with a trained model (models/, or one trained by `citizenbot
nlu-eval --config`) and replays the fallback rule on the classifier's own ranking for a grid
of settings: what citizens would get (answered right / asked back / answered wrong). Prints
aggregates only (never test text). The threshold in config.yml is tuned on the real set.

    .venv/bin/python bench/nlu/threshold_sweep.py models [tests/nlu/real.yml]
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.brain.nlu_evaluation import ASKED_BACK, Prediction, load_holdout, score  # noqa: E402

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7)
AMBIGUITY = (0.0, 0.05, 0.1, 0.2)


async def rankings(model_dir: Path, texts: list[str]) -> list[list[tuple[str, float]]]:
    from bot.brain.agent import Brain, normalise_text

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
    test_set = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "tests/nlu/real.yml"
    examples = load_holdout(test_set)
    ranked = asyncio.run(rankings(model_dir, [e.text for e in examples]))
    print(f"{model_dir} on {test_set}: {len(examples)} messages")
    print(
        "| threshold | ambiguity | accuracy | right / asked back / wrong | OOS recall "
        "| in-domain → fallback |"
    )
    print("|---|---|---|---|---|---|")
    for threshold in THRESHOLDS:
        for ambiguity in AMBIGUITY:
            predictions = []
            for example, ranking in zip(examples, ranked, strict=True):
                (top, p1), p2 = ranking[0], (ranking[1][1] if len(ranking) > 1 else 0.0)
                fallback = p1 < threshold or p1 - p2 < ambiguity
                predictions.append(Prediction(example, ASKED_BACK if fallback else top, p1, [], 0))
            m = score(f"{threshold}/{ambiguity}", predictions)
            print(
                f"| {threshold} | {ambiguity} | {100 * m.accuracy:.1f}% | "
                f"{100 * m.answered_right:.1f}% / {100 * m.asked_back:.1f}% / "
                f"{100 * m.answered_wrong:.1f}% | {100 * m.out_of_scope_recall:.1f}% "
                f"| {100 * m.in_domain_fallback_rate:.1f}% |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
