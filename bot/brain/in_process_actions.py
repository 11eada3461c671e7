"""The rasa_sdk actions, run by Rasa directly on its processing loop: no action server.

As Rasa Pro 3.10's `actions_module` does: the Agent hands each custom action's call to
rasa_sdk's `ActionExecutor` in this process, without the loopback HTTP request and the JSON
round trip of the whole tracker, and the results are checked against Rasa's schema by a
validator built once instead of one that re-checks the schema itself on every call.
Actions stay ordinary rasa_sdk actions, so an action server serves them unchanged
(`citizenbot actions`, bot/brain/action_server.py, or `rasa run actions`). Here the executor
hands each action the service's parts (`use`, bot/services.py); no action reaches them
through a global.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.utils.endpoints import ClientResponseError, EndpointConfig
from rasa_sdk.executor import ActionExecutor

from bot.brain.action_server import answer, hand_services
from bot.services import CommuneServices, Services


class InProcessActions(EndpointConfig):
    """The Agent's action endpoint: runs the action call on rasa_sdk's executor, in-process.

    Rasa builds a `RemoteAction` with the Agent's endpoint in three places (the processor,
    form validation in forms.py, custom slot mappings), so the endpoint is the one place that
    reaches them all without patching Rasa. `RemoteAction.run` still does the rest exactly as
    for an action server: the call body, uttering the responses, deserialising the events.
    Failures come back as the HTTP statuses rasa_sdk's server would answer (400 rejected,
    404 unknown action, 500 an action's error), so Rasa handles them as it always has: a form
    rejection lets the policies predict another action, the rest is logged and the turn goes on.

    The action gets Rasa's own tracker state and domain dicts, not copies: it reads them, as
    every rasa_sdk action does, and says what changes through the events it returns.
    """

    def __init__(self, executor: ActionExecutor) -> None:
        super().__init__(url=None)
        self._executor = executor

    @classmethod
    def from_package(cls, package: str = "actions") -> InProcessActions:
        executor = ActionExecutor()
        executor.register_package(package)
        return cls(executor)

    def use(self, services: Services, of_commune: CommuneServices | None = None) -> None:
        """Hand `services` (and the other communes', bot/communes/) to every registered
        action that uses them."""
        hand_services(self._executor, services, of_commune)

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        """What rasa_sdk's server would answer to POST /webhook with `json=` as its body;
        a refusal or failure as the error Rasa's HTTP request would raise with it."""
        status, body = await answer(self._executor, kwargs["json"])
        if status != 200:
            raise ClientResponseError(status, body["error"], json.dumps(body))
        return body


@functools.cache
def _action_result_validator() -> Any:
    """Rasa's schema of an action's result, checked once; the same validator class that
    `jsonschema.validate` would pick for it."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(_action: RemoteAction, result: dict[str, Any]) -> bool:
    error = exceptions.best_match(_action_result_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def check_action_results_with_one_validator() -> None:
    """Make Rasa check action results with a validator built once.

    `RemoteAction._validate_action_result` calls `jsonschema.validate`, which re-checks the
    schema against its meta-schema on every call: about 25 ms per action here, 35% of the
    CPU under load. No endpoint or subclass can reach it (Rasa constructs `RemoteAction`
    itself, in three places), so this replaces that one method, with the same schema, the
    same validator class and the same error, for every action endpoint of the process.
    """
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
