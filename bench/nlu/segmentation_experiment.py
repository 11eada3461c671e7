"""Does Vietnamese word segmentation (underthesea.word_tokenize) help intent classification?

Evidence only, not part of the bot: a standalone scikit-learn imitation of config.yml's
features (accented words, folded words and word pairs, folded char n-grams) + a balanced
LogisticRegression, trained on nlu/*.yml and scored on the held-out set, with and without
joining the syllables of each segmented word ("khai sinh" -> "khai_sinh").

    .venv/bin/python bench/nlu/segmentation_experiment.py [--holdout tests/nlu/holdout.yml]

Prints only aggregate numbers (never held-out text). Needs `underthesea` in the venv.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import yaml
from scipy.sparse import hstack
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.nlu.text import expand, fold, normalise, words  # noqa: E402

ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)")
FALLBACKS = ("nlu_fallback", "out_of_scope")


def training_examples() -> tuple[list[str], list[str]]:
    """nlu/*.yml plus the examples `citizenbot train` generates from the content FAQs."""
    from bot.brain.training import faq_training_text

    sources = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "nlu").glob("*.yml"))]
    sources.append(faq_training_text(ROOT))
    texts, labels = [], []
    for source in sources:
        for block in yaml.safe_load(source).get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(ENTITY.sub(r"\1", line[2:]))
                    labels.append(block["intent"])
    return texts, labels


def holdout_examples(path: Path) -> tuple[list[str], list[str], list[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))["examples"]
    return (
        [str(e["text"]) for e in data],
        [e["intent"] for e in data],
        [e.get("style", "full") for e in data],
    )


def syllables(text: str) -> list[str]:
    """Our tokenizer's accented tokens (NFC, lower case, teencode expanded)."""
    return [part for word, _, _ in words(text) for part in expand(normalise(word))]


def segmented(text: str, word_tokenize: Callable[[str], list[str]]) -> list[str]:
    """underthesea words, each as its syllables joined by '_' ("khai_sinh")."""
    out = []
    for chunk in word_tokenize(normalise(text)):
        parts = syllables(chunk)
        if parts:
            out.append("_".join(parts))
    return out


def pairs(tokens: list[str]) -> list[str]:
    return [a + " " + b for a, b in zip(tokens, tokens[1:], strict=False)]


def features(tokens: list[list[str]], fit: dict | None = None, accented: bool = True):
    """The three views of config.yml (the last two without `accented`), as sklearn
    CountVectorizers over pre-split tokens."""
    folded = [[fold(t) for t in toks] for toks in tokens]
    views = [
        (folded, dict(analyzer=lambda toks: toks + pairs(toks))),
        (
            [" ".join(t.replace("_", " ") for t in toks) for toks in folded],
            dict(analyzer="char_wb", ngram_range=(2, 5)),
        ),
    ]
    if accented:
        views.insert(0, (tokens, dict(analyzer=lambda toks: toks)))
    if fit is None:
        fit = {"vectorizers": [CountVectorizer(**kw).fit(data) for data, kw in views]}
    pairs_ = zip(fit["vectorizers"], views, strict=True)
    matrix = hstack([vectorizer.transform(data) for vectorizer, (data, _) in pairs_])
    return matrix.tocsr(), fit


def evaluate(name: str, train_tokens, y_train, test_tokens, y_test, styles) -> None:
    started = time.perf_counter()
    x_train, fit = features(train_tokens)
    clf = LogisticRegression(max_iter=200, class_weight="balanced", random_state=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # as in Rasa: 200 iterations
        clf.fit(x_train, y_train)
    x_test, _ = features(test_tokens, fit)
    proba = clf.predict_proba(x_test)
    top = proba.argmax(axis=1)
    confidence = proba.max(axis=1)
    predicted = np.where(confidence < 0.3, "nlu_fallback", clf.classes_[top])
    gold = np.array(y_test)
    correct = predicted == gold
    by_style = {s: correct[np.array(styles) == s].mean() for s in ("full", "none", "mixed")}
    oos = gold == "out_of_scope"
    caught = np.isin(predicted, FALLBACKS)
    print(
        f"| {name} | {100 * correct.mean():.1f}% | {100 * by_style['full']:.1f}% | "
        f"{100 * by_style['none']:.1f}% | {100 * by_style['mixed']:.1f}% | "
        f"{100 * caught[oos].mean():.1f}% | {100 * caught[~oos].mean():.1f}% | "
        f"{x_train.shape[1]} | {time.perf_counter() - started:.1f} s |"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--holdout", type=Path, default=ROOT / "tests/nlu/holdout.yml")
    args = parser.parse_args()
    from underthesea import word_tokenize

    train_texts, y_train = training_examples()
    test_texts, y_test, styles = holdout_examples(args.holdout)
    started = time.perf_counter()
    seg_train = [segmented(t, word_tokenize) for t in train_texts]
    seg_test = [segmented(t, word_tokenize) for t in test_texts]
    per_message = 1000 * (time.perf_counter() - started) / (len(train_texts) + len(test_texts))
    syl_train = [syllables(t) for t in train_texts]
    syl_test = [syllables(t) for t in test_texts]
    joined = sum(any("_" in t for t in toks) for toks in seg_test) / len(seg_test)
    print(
        f"{len(train_texts)} training / {len(test_texts)} held-out messages; "
        f"word_tokenize {per_message:.1f} ms per message; "
        f"{100 * joined:.0f}% of held-out messages got at least one multi-syllable word"
    )
    for style in ("full", "none", "mixed"):
        idx = [i for i, s in enumerate(styles) if s == style]
        share = sum(any("_" in t for t in seg_test[i]) for i in idx) / max(len(idx), 1)
        print(f"  {style}: {100 * share:.0f}% with a multi-syllable word")
    print()
    print(
        "| features | accuracy | full | none | mixed | OOS recall | in-domain → fallback "
        "| features | fit |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    evaluate("syllables (as config.yml)", syl_train, y_train, syl_test, y_test, styles)
    evaluate("underthesea words", seg_train, y_train, seg_test, y_test, styles)
    both_train = [a + [t for t in b if "_" in t] for a, b in zip(syl_train, seg_train, strict=True)]
    both_test = [a + [t for t in b if "_" in t] for a, b in zip(syl_test, seg_test, strict=True)]
    evaluate("syllables + underthesea compounds", both_train, y_train, both_test, y_test, styles)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
