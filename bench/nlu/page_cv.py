"""Page-grouped cross-validation on the training side only: how the intent classifier routes
real citizens' questions from pages it never saw, without touching tests/nlu/real.yml.

The training-side real questions (data/real_questions/ minus the held-out pages, i.e.
nlu/real_questions.yml) are cut into folds by source page; each fold is predicted by a model
trained on everything else in nlu/*.yml and the content FAQs. The model is the pipeline's own
code (bot.nlu.tokenizer, bot.nlu.linear_classifier.fit_model) with config.yml's settings, and
FallbackClassifier's rule is replayed with config.yml's threshold, so the figures are what Rasa
would give.

    .venv/bin/python bench/nlu/page_cv.py [--folds 5] [--errors var/page_cv_errors.tsv]
        [--set C=3] [--threshold 0.5] [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402
from rasa.shared.nlu.training_data.loading import load_data  # noqa: E402
from rasa.shared.nlu.training_data.message import Message  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.brain.nlu_evaluation import Example, Prediction, score  # noqa: E402
from bot.brain.training import faq_training_text  # noqa: E402
from bot.nlu.linear_classifier import LinearIntentClassifier, fit_model  # noqa: E402
from bot.nlu.scope_fallback import clearly_out_of_scope  # noqa: E402
from bot.nlu.tokenizer import VietnameseTokenizer  # noqa: E402
from scripts.split_real_questions import (  # noqa: E402
    TRAINING,
    _one_line,
    _tested,
    load_pool,
    page_of,
)


def pipeline_settings(config_path: Path) -> tuple[dict, dict, dict]:
    """config.yml's settings for the tokenizer, the classifier and the fallback."""
    pipeline = yaml.safe_load(config_path.read_text(encoding="utf-8"))["pipeline"]
    by_name = {step["name"].rsplit(".", 1)[-1]: step for step in pipeline}

    def options(name: str) -> dict:
        return {k: v for k, v in by_name.get(name, {}).items() if k != "name"}

    tokenizer = {**VietnameseTokenizer.get_default_config(), **options("VietnameseTokenizer")}
    classifier = {
        **LinearIntentClassifier.get_default_config(),
        **options("LinearIntentClassifier"),
    }
    fallback = {
        "threshold": 0.3,
        "ambiguity_threshold": 0.1,
        **options("FallbackClassifier"),
        **options("ScopeAwareFallbackClassifier"),
    }
    return tokenizer, classifier, fallback


def training_messages() -> tuple[list[Message], list[Message]]:
    """(the other training examples, the real questions) as Rasa loads them."""
    files = sorted((ROOT / "nlu").glob("*.yml"))
    with tempfile.TemporaryDirectory() as folder:
        faq = Path(folder) / "faq_examples.yml"
        faq.write_text(faq_training_text(ROOT), encoding="utf-8")
        loaded = {path: load_data(str(path)).intent_examples for path in [*files, faq]}
    real = loaded.pop(TRAINING)
    others = [m for messages in loaded.values() for m in messages]
    return others, real


def real_pages() -> dict[str, dict]:
    """Training-side real question text (as written in nlu/) → its pool entry."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    with contextlib.redirect_stderr(io.StringIO()):  # the split script reports skipped ones
        pool = load_pool(set(domain["intents"]))
    return {_one_line(q["text"]): q for q in pool if not _tested(q)}


def fallback_intent(ranking: list[tuple[str, float]], fallback: dict) -> str:
    """FallbackClassifier's rule: too unsure, or the top two too close; and
    ScopeAwareFallbackClassifier's exception when its settings are in config.yml."""
    (best, top), (_, second) = ranking[0], ranking[1]
    unsure = top < fallback["threshold"] or top - second < fallback["ambiguity_threshold"]
    if unsure and "out_of_scope_threshold" in fallback:
        ranked = [{"name": name, "confidence": value} for name, value in ranking]
        unsure = not clearly_out_of_scope(ranked, fallback)
    return "nlu_fallback" if unsure else best


def threshold_sweep(
    predictions: list[Prediction], rankings: list[list[tuple[str, float]]], fallback: dict
) -> str:
    """The same folds' rankings replayed at other fallback and ambiguity thresholds."""
    lines = [
        "| threshold | ambiguity | right / asked back / wrong | OOS recall | in-domain → fallback |"
    ]
    for threshold in (0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7):
        for ambiguity in (0.05, 0.1, 0.15, 0.2, 0.3):
            settings = {"threshold": threshold, "ambiguity_threshold": ambiguity}
            replayed = [
                Prediction(p.example, fallback_intent(r, settings), p.confidence, [], 0.0)
                for p, r in zip(predictions, rankings, strict=True)
            ]
            m = score(str(threshold), replayed)
            lines.append(
                f"| {threshold} | {ambiguity} | {100 * m.answered_right:.1f} / "
                f"{100 * m.asked_back:.1f} / {100 * m.answered_wrong:.1f}% | "
                f"{100 * m.out_of_scope_recall:.1f}% | {100 * m.in_domain_fallback_rate:.1f}% |"
            )
    return "\n".join(lines)


def fold_probabilities(
    training: list[Message], held: list[Message], config: dict
) -> tuple[np.ndarray, list[str]]:
    """One fold: a model trained on `training`, its probabilities for `held`."""
    bags, classifier = fit_model(training, config)
    return classifier.predict_proba(bags.transform(held)), [str(c) for c in classifier.classes_]


def main() -> int:
    logging.disable(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml")
    parser.add_argument("--set", action="append", default=[], help="classifier KEY=VALUE")
    parser.add_argument("--threshold", type=float, help="replaces the fallback threshold")
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted at once")
    parser.add_argument("--errors", type=Path, help="write the wrong predictions (TSV) here")
    parser.add_argument(
        "--rankings", type=Path, help="write every question's top three intents (TSV) here"
    )
    args = parser.parse_args()

    tokenizer_config, classifier_config, fallback = pipeline_settings(args.config)
    for item in args.set:
        key, value = item.split("=", 1)
        classifier_config[key] = yaml.safe_load(value)
    if args.threshold is not None:
        fallback["threshold"] = args.threshold
    tokenizer = VietnameseTokenizer(tokenizer_config)
    others, real = training_messages()
    tokenizer.process(others + real)
    entries = real_pages()
    missing = [m.get("text") for m in real if m.get("text") not in entries]
    if missing:
        raise SystemExit(f"{len(missing)} real training questions not found in the pool")
    pages = [page_of(entries[m.get("text")]["source"]) for m in real]

    # Folds are independent: with --jobs 2 two are fitted at once, the figures unchanged.
    splits = list(GroupKFold(n_splits=args.folds).split(real, groups=pages))
    fitted = Parallel(n_jobs=args.jobs)(
        delayed(fold_probabilities)(
            others + [real[i] for i in train], [real[i] for i in test], classifier_config
        )
        for train, test in splits
    )
    predictions: list[Prediction] = []
    rankings: list[list[tuple[str, float]]] = []
    for (_, test), (probabilities, classes) in zip(splits, fitted, strict=True):
        held = [real[i] for i in test]
        for message, row in zip(held, probabilities, strict=True):
            order = np.argsort(-row)
            ranking = [(classes[j], float(row[j])) for j in order[:3]]
            rankings.append(ranking)
            entry = entries[message.get("text")]
            example = Example(message.get("text"), entry["intent"], entry["style"])
            predictions.append(
                Prediction(example, fallback_intent(ranking, fallback), ranking[0][1], [], 0.0)
            )

    metrics = score("page-grouped CV", predictions)
    print(
        f"{len(real)} real questions from {len(set(pages))} pages, {args.folds} folds; "
        f"{len(others)} other examples; classifier {classifier_config}; fallback {fallback}"
    )
    print(
        f"right {100 * metrics.answered_right:.1f}% / asked back {100 * metrics.asked_back:.1f}%"
        f" / wrong {100 * metrics.answered_wrong:.1f}%; macro-F1 {metrics.macro_f1:.3f}; "
        f"OOS recall {100 * metrics.out_of_scope_recall:.1f}%; "
        f"in-domain → fallback {100 * metrics.in_domain_fallback_rate:.1f}%"
    )
    print(
        "by style: "
        + ", ".join(
            f"{style} {100 * value:.1f}% ({metrics.examples_by_style[style]})"
            for style, value in metrics.accuracy_by_style.items()
        )
    )
    confusions = Counter(
        (p.example.intent, p.intent) for p in predictions if p.example.intent != p.intent
    )
    print("most confused: " + "; ".join(f"{g}→{p} {n}" for (g, p), n in confusions.most_common(15)))
    print(threshold_sweep(predictions, rankings, fallback))
    if args.errors:
        args.errors.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            f"{p.example.intent}\t{p.intent}\t{p.confidence:.2f}\t{p.example.style}\t"
            f"{p.example.text}"
            for p in sorted(predictions, key=lambda p: (p.example.intent, p.intent))
            if p.example.intent != p.intent
        ]
        args.errors.write_text("\n".join(rows) + "\n", encoding="utf-8")
    if args.rankings:
        args.rankings.parent.mkdir(parents=True, exist_ok=True)
        rows = [
            "\t".join([p.example.intent, p.example.style, p.example.text])
            + "".join(f"\t{name}\t{value:.4f}" for name, value in r)
            for p, r in zip(predictions, rankings, strict=True)
        ]
        args.rankings.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
