"""Choosing FallbackClassifier's threshold without the held-out set: 5-fold cross-validation on
the training data (nlu/*.yml + content FAQs) with the scikit-learn imitation of the pipeline
in segmentation_experiment.py (folded views only, as bench/nlu/folded-only-lr.yml, or all
three views of config.yml with --accented).

    .venv/bin/python bench/nlu/cv_threshold.py [--accented]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))

from segmentation_experiment import features, syllables, training_examples  # noqa: E402

THRESHOLDS = (0.2, 0.3, 0.35, 0.4, 0.45, 0.5)
AMBIGUITY = 0.05


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--accented", action="store_true", help="keep the accented word view")
    args = parser.parse_args()
    texts, labels = training_examples()
    tokens = [syllables(t) for t in texts]
    y = np.array(labels)
    probabilities = np.zeros((len(y), len(set(labels))))
    classes = np.array(sorted(set(labels)))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    for train, test in folds.split(tokens, y):
        x_train, fit = features([tokens[i] for i in train], accented=args.accented)
        clf = LogisticRegression(max_iter=200, class_weight="balanced", random_state=42)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x_train, y[train])
        x_test, _ = features([tokens[i] for i in test], fit, accented=args.accented)
        columns = np.searchsorted(classes, clf.classes_)
        probabilities[np.ix_(test, columns)] = clf.predict_proba(x_test)
    order = np.sort(probabilities, axis=1)
    top, second = order[:, -1], order[:, -2]
    best = classes[probabilities.argmax(axis=1)]
    oos = y == "out_of_scope"
    print(f"{len(y)} training examples, {oos.sum()} out_of_scope; ambiguity {AMBIGUITY}")
    print("| threshold | accuracy | OOS recall | in-domain → fallback |")
    print("|---|---|---|---|")
    for threshold in THRESHOLDS:
        fallback = (top < threshold) | (top - second < AMBIGUITY)
        predicted = np.where(fallback, "nlu_fallback", best)
        caught = np.isin(predicted, ("nlu_fallback", "out_of_scope"))
        print(
            f"| {threshold} | {100 * (predicted == y).mean():.1f}% | "
            f"{100 * caught[oos].mean():.1f}% | {100 * caught[~oos].mean():.1f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
