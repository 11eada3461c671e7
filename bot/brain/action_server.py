"""`citizenbot actions`: the actions/ package served over HTTP to a Rasa that runs on its own
(`rasa run` with an `action_endpoint` in endpoints.yml), every action sharing ONE `Services`.

`rasa run actions` serves the same package, but its executor hands the actions nothing, so
each action class opens its own services from the environment at its first call: a database
connection and a content load per class. Here rasa_sdk's `ActionExecutor` registers the
package as there, the process's one `Services` is handed to every action that uses them,
and POST /webhook answers as rasa_sdk's server does (`answer`, which the service's
in-process endpoint shares: bot/brain/in_process_actions.py). GET /health and GET /actions
as there too. Neither Rasa nor TensorFlow is imported: the server starts in a second.

A conversation with a commune added to the deployment (`<commune>:<user id>`,
bot/communes/conversation_ids.py) gets that commune's services, opened at its first action
call: a commune added while the server runs is served without a restart.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from rasa_sdk.utils import check_version_compatibility

from bot.communes import commune_config
from bot.services import CommuneServices, Services, UsesServices
from bot.settings import Settings

log = logging.getLogger(__name__)

EXECUTOR = web.AppKey("executor", ActionExecutor)
# Rasa posts the whole tracker with each call; rasa_sdk's server (Sanic) takes up to 100 MB.
LARGEST_ACTION_CALL = 100 * 1024 * 1024


def hand_services(
    executor: ActionExecutor,
    services: Services,
    of_commune: CommuneServices | None = None,
) -> None:
    """Hand `services` (and the other communes', bot/communes/) to every action `executor`
    registered that uses them."""
    for run in executor.actions.values():
        action = getattr(run, "__self__", None)  # rasa_sdk registers each `action.run`
        if isinstance(action, UsesServices):
            action.use(services, of_commune)


async def answer(executor: ActionExecutor, action_call: dict[str, Any]) -> tuple[int, Any]:
    """What rasa_sdk's server answers to an action call: (HTTP status, JSON body). 200 the
    result, 400 a rejection (a form's validation: Rasa predicts another action), 404 an
    unknown action, 500 an action's error (logged with its traceback)."""
    try:
        return 200, await executor.run(action_call)
    except ActionExecutionRejection as exc:
        return 400, {"error": exc.message, "action_name": exc.action_name}
    except ActionNotFoundException as exc:
        return 404, {"error": exc.message, "action_name": exc.action_name}
    except Exception as exc:
        name = action_call.get("next_action")
        log.exception("the action %s failed", name)
        return 500, {"error": str(exc), "action_name": name}


class CommunesServices:
    """Each added commune's services, opened at its conversations' first action call and
    kept open for the server's life."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._open: dict[str, Services] = {}
        self._opening = asyncio.Lock()

    async def of(self, slug: str) -> Services:
        """The commune's services; CommuneError when it was never added."""
        async with self._opening:
            if slug not in self._open:
                commune = await asyncio.to_thread(commune_config.load, self._settings, slug)
                self._open[slug] = await Services.for_action_server(
                    commune_config.settings_for(self._settings, commune),
                    slug,
                    commune_config.content_dir(self._settings, slug),
                )
            return self._open[slug]

    async def close(self) -> None:
        for services in self._open.values():
            await services.database.close()


def build_action_server(services: Services, package: str = "actions") -> web.Application:
    """The action server's app; `services` (the default commune's) stay open for its life
    (the caller closes them), the other communes' are opened as their conversations call."""
    executor = ActionExecutor()
    executor.register_package(package)
    communes = CommunesServices(services.settings)
    hand_services(executor, services, communes.of)
    app = web.Application(client_max_size=LARGEST_ACTION_CALL)
    app.on_cleanup.append(lambda _: communes.close())
    app[EXECUTOR] = executor
    app.router.add_post("/webhook", webhook)
    app.router.add_get("/health", health)
    app.router.add_get("/actions", action_names)
    return app


async def webhook(request: web.Request) -> web.Response:
    """One action call from Rasa (aiohttp undoes a `Content-Encoding: deflate` body)."""
    try:
        action_call = await request.json()
    except ValueError:
        action_call = None
    if not isinstance(action_call, dict):
        return web.json_response({"error": "Invalid body request"}, status=400)
    check_version_compatibility(action_call.get("version"))
    status, body = await answer(request.app[EXECUTOR], action_call)
    return web.json_response(body, status=status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def action_names(request: web.Request) -> web.Response:
    return web.json_response([{"name": name} for name in request.app[EXECUTOR].actions])
