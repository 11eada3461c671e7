"""rasa_sdk actions run in-process: what Rasa makes of their results and their failures is
what it made of an action server's answers, without HTTP and without re-checking the schema."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from jsonschema import ValidationError, validators
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa_sdk import Action
from rasa_sdk import interfaces as sdk
from rasa_sdk.events import SlotSet as SdkSlotSet
from rasa_sdk.executor import ActionExecutor

from bot.brain.agent import Brain
from bot.brain.in_process_actions import InProcessActions, check_action_results_with_one_validator
from tests.conftest import Service, texts


class AnswerAndRemember(Action):
    def name(self) -> str:
        return "action_answer"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict]:
        dispatcher.utter_message(text="đã ghi nhận")
        return [SdkSlotSet("topic", "khai_sinh")]


class RejectInForm(Action):
    def name(self) -> str:
        return "action_reject"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict]:
        raise sdk.ActionExecutionRejection(self.name(), "not this one")


class Broken(Action):
    def name(self) -> str:
        return "action_broken"

    async def run(self, dispatcher: Any, tracker: Any, domain: Any) -> list[dict]:
        raise KeyError("a bug in an action")


DOMAIN = Domain.from_dict(
    {
        "slots": {"topic": {"type": "text", "mappings": [{"type": "custom"}]}},
        "actions": ["action_answer", "action_reject", "action_broken", "action_missing"],
    }
)


async def run_action(name: str) -> list:
    executor = ActionExecutor()
    for action in (AnswerAndRemember(), RejectInForm(), Broken()):
        executor.register_action(action)
    tracker = DialogueStateTracker("u-1", DOMAIN.slots)
    action = RemoteAction(name, InProcessActions(executor))
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker, DOMAIN)


async def test_an_action_reply_and_events_come_back_as_rasa_events() -> None:
    events = await run_action("action_answer")
    assert isinstance(events[0], BotUttered) and events[0].text == "đã ghi nhận"
    assert events[1] == SlotSet("topic", "khai_sinh")


async def test_a_rejection_lets_the_policies_predict_another_action() -> None:
    with pytest.raises(ActionExecutionRejection, match="not this one"):
        await run_action("action_reject")


async def test_an_unknown_action_fails_as_with_an_action_server() -> None:
    with pytest.raises(RasaException, match="action_missing") as failed:
        await run_action("action_missing")
    assert not isinstance(failed.value, ActionExecutionRejection)


async def test_an_action_error_is_logged_with_its_traceback_and_fails_the_action(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR), pytest.raises(RasaException, match="action_broken"):
        await run_action("action_broken")
    assert "a bug in an action" in caplog.text
    assert any(record.exc_info for record in caplog.records)


async def test_action_results_are_checked_without_rechecking_the_schema(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    check_action_results_with_one_validator()
    validator_class = validators.validator_for(RemoteAction.action_response_format_spec())
    checked = []
    original = validator_class.check_schema
    monkeypatch.setattr(
        validator_class, "check_schema", lambda schema: checked.append(1) or original(schema)
    )
    for _ in range(3):
        await run_action("action_answer")
    assert len(checked) <= 1  # at most once, when the first result is checked


def test_an_invalid_action_result_is_still_refused() -> None:
    check_action_results_with_one_validator()
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        RemoteAction("action_answer", None)._validate_action_result(
            {"events": [{"event": "slot", "name": 3}]}
        )


async def test_the_service_answers_with_actions_and_no_action_server(
    service: Service, brain: Brain
) -> None:
    assert isinstance(brain.agent.action_endpoint, InProcessActions)
    assert brain.agent.action_endpoint.url is None
    await service.say("u-in-process", "thủ tục đăng ký kết hôn thế nào ạ")
    await service.settle()
    assert "kết hôn" in " ".join(texts(await service.messages("u-in-process"))).lower()
