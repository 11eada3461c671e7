"""Rasa component: intent classification by a linear model over the tokenizer's words.

Measured on real citizens' questions (docs/nlu-experiments.md), a regularised logistic
regression over three bags — accented words, folded words and word pairs, folded character
n-grams — routes more of them right than DIET over the same bags, and trains in a fraction
of the time. It reads the tokens of `bot.nlu.tokenizer.VietnameseTokenizer` (a long message's
questions only), so it needs no featurizer before it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import pickle
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT, TEXT_TOKENS
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from bot.nlu.question import focus_spans
from bot.nlu.senses import with_senses

log = logging.getLogger(__name__)
MODEL_FILE = "linear_classifier.pkl"


def _words(message: Message) -> list[str]:
    return [token.text for token in message.get(TEXT_TOKENS) or []]


def _folded(message: Message) -> list[str]:
    return [token.lemma for token in message.get(TEXT_TOKENS) or []]


def _question_folded(message: Message) -> list[str]:
    tokens = message.get(TEXT_TOKENS) or []
    spans = focus_spans(message.get(TEXT) or "")
    if spans is None:
        return [token.lemma for token in tokens]
    return [token.lemma for token in tokens if any(s <= token.start < e for s, e in spans)]


def _words_and_pairs(folded: list[str]) -> list[str]:
    return folded + [f"{a} {b}" for a, b in zip(folded, folded[1:], strict=False)]


def _as_is(tokens: list[str]) -> list[str]:
    return tokens


def _term_frequencies(counts: csr_matrix, term_frequency: str) -> csr_matrix:
    """A bag's counts as the classifier reads them: as counted, or only whether a feature is
    there, so a word repeated in a long story does not outweigh the question."""
    if term_frequency == "count":
        return counts
    present = counts.astype(np.float64)
    present.data = np.ones_like(present.data)
    return present


class _Bags:
    """The bags of a message: accented words; folded words and pairs ("lam giay" ==
    "làm giấy"); character n-grams of folded words (typos, run-together words); and, when
    `question_words` is on, the folded words and pairs of a long message's questions again
    (bot.nlu.question), so the asking clause weighs more than the story without losing it
    (`question_weight` scales that bag). `term_frequency` says how every bag reads its
    counts (`_term_frequencies`)."""

    def __init__(
        self,
        question_words: bool = False,
        question_weight: float = 1.0,
        term_frequency: str = "count",
        word_senses: bool = False,
    ) -> None:
        if term_frequency not in ("count", "binary"):
            raise ValueError(f"term_frequency {term_frequency!r}: count or binary")
        self.question_words = question_words
        self.question_weight = question_weight
        self.term_frequency = term_frequency
        self.word_senses = word_senses
        self.vectorizers = (
            CountVectorizer(analyzer=_as_is),
            CountVectorizer(analyzer=_words_and_pairs),
            CountVectorizer(analyzer="char_wb", ngram_range=(2, 5)),
        ) + ((CountVectorizer(analyzer=_words_and_pairs),) if question_words else ())

    def _views(self, messages: list[Message]) -> tuple[list, ...]:
        senses = with_senses if self.word_senses else _as_is
        folded = [senses(_folded(m)) for m in messages]
        views = [_words(m) for m in messages], folded, [" ".join(f) for f in folded]
        if self.question_words:
            views += ([senses(_question_folded(m)) for m in messages],)
        return views

    def fit(self, messages: list[Message]) -> csr_matrix:
        views = self._views(messages)
        bags = [v.fit_transform(d) for v, d in zip(self.vectorizers, views, strict=True)]
        return self._stack(bags)

    def transform(self, messages: list[Message]) -> csr_matrix:
        views = self._views(messages)
        return self._stack([v.transform(d) for v, d in zip(self.vectorizers, views, strict=True)])

    def _stack(self, bags: list[csr_matrix]) -> csr_matrix:
        bags = [_term_frequencies(bag, self.term_frequency) for bag in bags]
        if self.question_words and self.question_weight != 1:
            bags[3] = bags[3] * self.question_weight
        return hstack(bags).tocsr()


class NearestExampleVoter(ClassifierMixin, BaseEstimator):
    """Per intent, the cosine similarity (TF-IDF over the bags) of a message to that intent's
    closest training example, softmaxed at `temperature` into probabilities: a real question
    often resembles one example closely, which a linear model averages away."""

    def __init__(self, temperature: float = 0.01) -> None:
        self.temperature = temperature

    def fit(self, features: csr_matrix, intents: np.ndarray) -> NearestExampleVoter:
        self.classes_, codes = np.unique(intents, return_inverse=True)
        order = np.argsort(codes, kind="stable")
        self.tfidf_ = TfidfTransformer().fit(features)
        # examples grouped by intent, so each intent's best is one reduceat over its columns
        self.examples_ = self.tfidf_.transform(features[order]).T.tocsr()
        self.starts_ = np.searchsorted(codes[order], np.arange(len(self.classes_)))
        return self

    def best_similarities(self, features: csr_matrix) -> np.ndarray:
        similarities = (self.tfidf_.transform(features) @ self.examples_).toarray()
        return np.maximum.reduceat(similarities, self.starts_, axis=1)

    def predict_proba(self, features: csr_matrix) -> np.ndarray:
        scores = self.best_similarities(features) / self.temperature
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        return scores / scores.sum(axis=1, keepdims=True)


def _partners(ensemble: str | list[str]) -> list[str]:
    """The models averaged with the logistic regression: "none", one name, or a list."""
    names = [ensemble] if isinstance(ensemble, str) else list(ensemble)
    names = [name for name in names if name != "none"]
    unknown = set(names) - {"linear_svm", "nearest_example", "complement_nb"}
    if unknown:
        raise ValueError(
            f"ensemble {sorted(unknown)!r}: none, linear_svm, nearest_example or complement_nb"
        )
    return names


def _classifier(config: dict[str, Any]) -> LogisticRegression | VotingClassifier:
    """The logistic regression, or its probabilities averaged with those of the `ensemble`
    partners over the same bags: a linear SVM (sigmoid-calibrated), the nearest-example voter,
    complement naive Bayes; models that err on different questions."""
    logistic = LogisticRegression(
        C=config["C"],
        max_iter=config["max_iter"],
        class_weight=config["class_weight"],
        random_state=config["random_state"],
    )
    partners = _partners(config["ensemble"])
    if not partners:
        return logistic
    members = [("logistic", logistic)]
    if "linear_svm" in partners:
        svm = LinearSVC(class_weight=config["class_weight"], random_state=config["random_state"])
        # one SVM calibrated on out-of-fold scores: a third of the parse time of three
        calibrated = CalibratedClassifierCV(svm, method="sigmoid", cv=3, ensemble=False)
        members.append(("svm", calibrated))
    if "nearest_example" in partners:
        voter = NearestExampleVoter(config["nearest_example_temperature"])
        members.append(("nearest_example", voter))
    if "complement_nb" in partners:
        # naive Bayes weighs every word by how it splits the intents, not by a fitted margin;
        # alpha 0.3 was set once, not tuned
        members.append(("complement_nb", ComplementNB(alpha=0.3)))
    return VotingClassifier(members, voting="soft")


def fit_model(
    examples: list[Message], config: dict[str, Any]
) -> tuple[_Bags, LogisticRegression | VotingClassifier]:
    """The bags and the classifier fitted on tokenized examples (also used by bench/nlu's
    cross-validation, so it measures exactly what Rasa trains)."""
    bags = _Bags(
        config["question_words"],
        config["question_weight"],
        config["term_frequency"],
        config["word_senses"],
    )
    classifier = _classifier(config)
    with warnings.catch_warnings(), _large_arrays_on_the_heap():
        # lbfgs may stop a little short of its tolerance; the predictions do not change.
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(bags.fit(examples), [e.get(INTENT) for e in examples])
    _store_for_parsing(classifier)
    return bags, classifier


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_GLIBC_MMAP_MAX, _GLIBC_TRIM_THRESHOLD = 65536, 128 * 1024  # glibc's defaults
_KEPT_FREE = 1 << 30  # bytes of freed heap kept for the next iteration's arrays


@contextlib.contextmanager
def _large_arrays_on_the_heap() -> Iterator[None]:
    """Every lbfgs iteration allocates and frees arrays of intents × features floats (34 MB
    with 94k features): above glibc's 32 MB mmap ceiling, each one was a fresh mmap whose
    pages fault in one by one (6.6 M faults, 155 s of system time in a 5 min training).
    From the heap, kept between iterations, they are reused. glibc only; elsewhere nothing
    changes. The numbers computed are the same."""
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name and "libc.so" in name else None
    if libc is None or not hasattr(libc, "mallopt"):
        yield
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, _KEPT_FREE)
    try:
        yield
    finally:
        libc.mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
        libc.mallopt(_M_TRIM_THRESHOLD, _GLIBC_TRIM_THRESHOLD)
        with contextlib.suppress(AttributeError):
            libc.malloc_trim(0)  # give the kept memory back


# The fitted weight matrices (intents × features) sklearn multiplies transposed at every parse.
_WEIGHTS = ("coef_", "feature_log_prob_")


def _store_for_parsing(classifier: Any) -> None:
    """Keep each model's weights in Fortran order, so the transposed view sklearn multiplies
    by is C-contiguous: otherwise that 45 × 80k matrix is copied at every parse (most of a
    parse's time with naive Bayes in the ensemble). The predictions do not change."""
    models = [classifier, *getattr(classifier, "estimators_", [])]
    for calibrated in getattr(classifier, "estimators_", []):
        models += [c.base_estimator for c in getattr(calibrated, "calibrated_classifiers_", [])]
    for model in models:
        for name in _WEIGHTS:
            weights = getattr(model, name, None)
            if isinstance(weights, np.ndarray) and weights.ndim == 2:
                setattr(model, name, np.asfortranarray(weights))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # C: less regularisation than sklearn's default fits the many rare words of real
        # questions better (docs/nlu-experiments.md).
        return {
            "C": 10.0,
            "max_iter": 300,
            "ranking_length": 10,
            "random_state": 42,
            "class_weight": "balanced",
            "question_words": False,
            "question_weight": 1.0,
            # how each bag reads its counts: "count", or "binary" (present or not)
            "term_frequency": "count",
            # "mất" read as "died" where the words around it say so (bot.nlu.senses)
            "word_senses": False,
            # the models whose probabilities are averaged with the LR's: "none", or one or a
            # list of "linear_svm" (calibrated), "nearest_example" (NearestExampleVoter),
            # "complement_nb"
            "ensemble": "none",
            # the voter's softmax temperature over cosine similarities (0–1)
            "nearest_example_temperature": 0.01,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: tuple[_Bags, LogisticRegression | VotingClassifier] | None = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            log.debug("no intent examples: the linear intent classifier is not trained")
            return self._resource
        self._model = fit_model(examples, self._config)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_bytes(pickle.dumps(self._model))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = pickle.loads((directory / MODEL_FILE).read_bytes())
        except ValueError:  # no resource: trained without intent examples
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None or not messages:
            return messages
        bags, classifier = self._model
        probabilities = classifier.predict_proba(bags.transform(messages))
        for message, row in zip(messages, probabilities, strict=True):
            ranked = sorted(zip(classifier.classes_, row, strict=True), key=lambda p: -p[1])
            ranking = [
                {"name": str(name), "confidence": float(confidence)}
                for name, confidence in ranked[: self._config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages
