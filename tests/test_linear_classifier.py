"""The linear intent classifier trains, persists, loads and ranks, as Rasa runs it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import random as sparse_random
from sklearn.linear_model import LogisticRegression

from bot.nlu.linear_classifier import (
    LinearIntentClassifier,
    NearestExampleVoter,
    _Bags,
    _large_arrays_on_the_heap,
    fit_model,
)
from bot.nlu.tokenizer import VietnameseTokenizer

EXAMPLES = {
    "proc_birth_registration": ["làm giấy khai sinh cho con", "khai sinh cần gì", "khai sinh"],
    "proc_temporary_residence": ["đăng ký tạm trú", "gia hạn tạm trú", "thuê trọ khai tạm trú"],
    "greet": ["xin chào", "chào ad", "alo"],
}


def _tokenized(messages: list[Message]) -> list[Message]:
    tokenizer = VietnameseTokenizer({**VietnameseTokenizer.get_default_config()})
    return tokenizer.process(messages)


def test_it_learns_trains_persists_and_ranks_every_intent(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear")
    context = ExecutionContext(GraphSchema({}), "test")
    examples = [
        Message(data={"text": text, "intent": intent})
        for intent, texts in EXAMPLES.items()
        for text in texts
    ]
    data = TrainingData(_tokenized(examples))
    trained = LinearIntentClassifier.create({}, storage, resource, context)
    trained.train(data)

    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process(_tokenized([Message(data={"text": "lam giay khai sinh"})]))
    assert message.get("intent")["name"] == "proc_birth_registration"
    ranking = message.get("intent_ranking")
    assert [r["name"] for r in ranking][1:] and len(ranking) == len(EXAMPLES)
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])
    assert abs(sum(r["confidence"] for r in ranking) - 1) < 1e-6


def test_without_intent_examples_it_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear")
    context = ExecutionContext(GraphSchema({}), "test")
    LinearIntentClassifier.create({}, storage, resource, context).train(TrainingData([]))
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    [message] = loaded.process(_tokenized([Message(data={"text": "xin chào"})]))
    assert message.get("intent") is None


def test_question_words_bag_reads_a_long_messages_question_and_not_its_greeting() -> None:
    message = "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không"
    bags = _Bags(question_words=True)
    bags.fit(_tokenized([Message(data={"text": "căn cước"}), Message(data={"text": message})]))
    question_bag = bags.vectorizers[3]
    [row] = bags.transform(_tokenized([Message(data={"text": message})])).toarray()
    row = row[-len(question_bag.vocabulary_) :]
    read = {word for word, column in question_bag.vocabulary_.items() if row[column]}
    assert {"can cuoc", "doi"} <= read
    assert not {"chao", "chau", "tuoi"} & read


def test_question_weight_scales_the_question_bag_only() -> None:
    message = "Chào cháu, bác 72 tuổi, thẻ căn cước làm năm 2016 có phải đổi không"
    tokenized = _tokenized([Message(data={"text": message})])
    plain, weighted = _Bags(question_words=True), _Bags(question_words=True, question_weight=2)
    plain_row = plain.fit(tokenized).toarray()
    weighted_row = weighted.fit(tokenized).toarray()
    question_columns = len(plain.vectorizers[3].vocabulary_)
    assert (weighted_row[:, -question_columns:] == 2 * plain_row[:, -question_columns:]).all()
    assert (weighted_row[:, :-question_columns] == plain_row[:, :-question_columns]).all()


def test_term_frequency_reads_a_repeated_word_as_counted_or_present() -> None:
    tokenized = _tokenized([Message(data={"text": "khai sinh khai sinh khai sinh"})])
    read = {}
    for term_frequency in ("count", "binary"):
        bags = _Bags(term_frequency=term_frequency)
        row = bags.fit(tokenized).toarray()[0]
        read[term_frequency] = row[bags.vectorizers[0].vocabulary_["khai"]]
    assert read == {"count": 3, "binary": 1}


def test_an_unknown_term_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="term_frequency"):
        _Bags(term_frequency="tfidf")


def test_the_svm_ensemble_ranks_by_the_mean_of_both_models_probabilities() -> None:
    examples = _tokenized(
        [
            Message(data={"text": text, "intent": intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )
    config = {**LinearIntentClassifier.get_default_config(), "ensemble": "linear_svm"}
    bags, classifier = fit_model(examples, config)
    features = bags.transform(_tokenized([Message(data={"text": "lam giay khai sinh"})]))
    logistic, svm = classifier.estimators_
    mean = (logistic.predict_proba(features) + svm.predict_proba(features)) / 2
    assert classifier.predict_proba(features) == pytest.approx(mean)
    assert classifier.classes_[mean.argmax()] == "proc_birth_registration"


def test_the_nearest_example_voter_favours_the_intent_of_the_closest_example() -> None:
    # the closest example of each intent counts, however many far ones it has
    texts = {"thuê trọ khai tạm trú ở đâu": "proc_temporary_residence", "khai sinh": "births"}
    texts |= {f"khai sinh cho con thứ {n}": "births" for n in range(5)}
    bags = _Bags()
    features = bags.fit(_tokenized([Message(data={"text": text}) for text in texts]))
    voter = NearestExampleVoter(temperature=0.05).fit(features, list(texts.values()))
    message = bags.transform(_tokenized([Message(data={"text": "thue tro khai tam tru o dau"})]))
    [probabilities] = voter.predict_proba(message)
    assert list(voter.classes_) == ["births", "proc_temporary_residence"]
    assert probabilities[1] > 0.99 and sum(probabilities) == pytest.approx(1)


@pytest.mark.parametrize(
    "partners",
    [["linear_svm", "nearest_example"], ["linear_svm", "nearest_example", "complement_nb"]],
)
def test_every_ensemble_partner_joins_the_average(partners: list[str]) -> None:
    examples = _tokenized(
        [
            Message(data={"text": text, "intent": intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )
    config = {**LinearIntentClassifier.get_default_config(), "ensemble": partners}
    bags, classifier = fit_model(examples, config)
    features = bags.transform(_tokenized([Message(data={"text": "lam giay khai sinh"})]))
    assert [name for name, _ in classifier.estimators][1:] == [
        {"linear_svm": "svm"}.get(name, name) for name in partners
    ]
    members = classifier.estimators_
    mean = sum(member.predict_proba(features) for member in members) / len(members)
    assert classifier.predict_proba(features) == pytest.approx(mean)
    assert classifier.classes_[mean.argmax()] == "proc_birth_registration"


def test_an_unknown_ensemble_partner_is_refused() -> None:
    config = {**LinearIntentClassifier.get_default_config(), "ensemble": ["knn"]}
    with pytest.raises(ValueError, match="ensemble"):
        fit_model(_tokenized([Message(data={"text": "khai sinh", "intent": "births"})]), config)


def test_fitted_weights_are_kept_for_parsing_without_a_copy_and_answer_the_same() -> None:
    examples = _tokenized(
        [
            Message(data={"text": text, "intent": intent})
            for intent, texts in EXAMPLES.items()
            for text in texts
        ]
    )
    partners = ["linear_svm", "nearest_example", "complement_nb"]
    config = {**LinearIntentClassifier.get_default_config(), "ensemble": partners}
    bags, classifier = fit_model(examples, config)
    logistic, calibrated, _, naive_bayes = classifier.estimators_
    svm = calibrated.calibrated_classifiers_[0].base_estimator
    for weights in (logistic.coef_, svm.coef_, naive_bayes.feature_log_prob_):
        assert weights.T.flags.c_contiguous
    features = bags.transform(_tokenized([Message(data={"text": "lam giay khai sinh"})]))
    before = classifier.predict_proba(features)
    for model, name in ((logistic, "coef_"), (naive_bayes, "feature_log_prob_")):
        setattr(model, name, np.ascontiguousarray(getattr(model, name)))
    assert classifier.predict_proba(features) == pytest.approx(before)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # 5 iterations
def test_a_fit_with_large_arrays_on_the_heap_computes_the_same_model() -> None:
    rng = np.random.default_rng(0)
    # 45 intents × 100k features: each lbfgs array above glibc's 32 MB mmap ceiling
    features = sparse_random(300, 100_000, density=0.0005, format="csr", random_state=1)
    intents = rng.integers(0, 45, 300)
    plain = LogisticRegression(max_iter=5).fit(features, intents)
    with _large_arrays_on_the_heap():
        kept = LogisticRegression(max_iter=5).fit(features, intents)
    assert np.array_equal(plain.coef_, kept.coef_)
