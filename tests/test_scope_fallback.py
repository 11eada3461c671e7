"""The fallback asks back when unsure, but answers a plainly off-topic message as such."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.nlu.scope_fallback import ScopeAwareFallbackClassifier


def _classified(ranking: list[tuple[str, float]]) -> Message:
    intents = [{"name": name, "confidence": value} for name, value in ranking]
    message = Message(data={"text": "?", "intent": dict(intents[0]), "intent_ranking": intents})
    fallback = ScopeAwareFallbackClassifier(ScopeAwareFallbackClassifier.get_default_config())
    fallback.component_config.update(threshold=0.5, ambiguity_threshold=0.05)
    return fallback.process([message])[0]


def test_an_unsure_off_topic_lead_is_answered_as_off_topic() -> None:
    message = _classified([("out_of_scope", 0.45), ("proc_land", 0.2), ("ask_fee", 0.1)])
    assert message.get("intent")["name"] == "out_of_scope"


def test_an_off_topic_lead_too_close_to_a_procedure_is_asked_back() -> None:
    message = _classified([("out_of_scope", 0.4), ("proc_land", 0.3), ("ask_fee", 0.1)])
    assert message.get("intent")["name"] == "nlu_fallback"
    assert [i["name"] for i in message.get("intent_ranking")][1:3] == ["out_of_scope", "proc_land"]


def test_an_unsure_procedure_is_still_asked_back() -> None:
    message = _classified([("proc_land", 0.45), ("out_of_scope", 0.1), ("ask_fee", 0.05)])
    assert message.get("intent")["name"] == "nlu_fallback"


def test_a_sure_answer_is_left_alone() -> None:
    message = _classified([("proc_land", 0.9), ("out_of_scope", 0.05)])
    assert message.get("intent")["name"] == "proc_land"
