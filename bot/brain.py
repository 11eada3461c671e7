"""The Rasa Agent, in-process, and the rasa_sdk actions it calls over loopback.

Loading takes seconds (TensorFlow, the model graph), so it runs on a worker thread while
the web server already acknowledges webhooks.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import unicodedata
from pathlib import Path
from typing import Any

import sqlalchemy
from aiohttp import web
from rasa.core.agent import Agent
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.tracker_store import SQLTrackerStore
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

from bot.storage.database import create_private
from bot.training import ModelMissing, current_model

log = logging.getLogger(__name__)


class ActionServer:
    """rasa_sdk's executor on a loopback port of this process (no separate action server)."""

    def __init__(self, package: str = "actions") -> None:
        self._executor = ActionExecutor()
        self._executor.register_package(package)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._run_action)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def _run_action(self, request: web.Request) -> web.Response:
        action_call = await request.json()
        try:
            result = await self._executor.run(action_call)
        except ActionExecutionRejection as exc:
            return web.json_response(
                {"error": exc.message, "action_name": exc.action_name}, status=400
            )
        except ActionNotFoundException as exc:
            return web.json_response(
                {"error": exc.message, "action_name": exc.action_name}, status=404
            )
        return web.json_response(result)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def normalise_text(text: str) -> str:
    """NFC, no zero-width characters: decomposed input from some keyboards breaks the model."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


def sqlite_tracker_store(path: Path) -> SQLTrackerStore:
    """Rasa's SQL tracker store on SQLite, in WAL mode.

    Rasa commits on the event loop; SQLite's default rollback journal fsyncs several times
    per commit, which stalls every webhook answer. WAL with synchronous=NORMAL survives a
    killed process (only a power cut can lose the last turns of a conversation).
    """
    create_private(path)  # citizens' conversations: the service's user only
    store = SQLTrackerStore(dialect="sqlite", db=str(path))

    def tune(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    sqlalchemy.event.listen(store.engine, "connect", tune)
    with store.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    return store


class Brain:
    def __init__(
        self,
        agent: Agent,
        actions: ActionServer | None,
        model_path: Path,
        tracker_path: Path | None = None,
    ) -> None:
        self.agent = agent
        self._actions = actions
        self.model_path = model_path
        self.tracker_path = tracker_path  # where conversations are stored (reports read it)

    @classmethod
    async def load(
        cls, model_dir: Path, tracker_path: Path | None = None, with_actions: bool = True
    ) -> Brain:
        """Load the newest trained model; raises ModelMissing with advice when there is none."""
        model_path = current_model(model_dir)
        actions = ActionServer() if with_actions else None
        if actions:
            await actions.start()
        endpoint = EndpointConfig(url=actions.url) if actions else None
        loop = asyncio.get_running_loop()

        def load_agent() -> Agent:
            tracker_store = None
            if tracker_path is not None:
                tracker_store = sqlite_tracker_store(tracker_path)
            return Agent.load(model_path, tracker_store=tracker_store, action_endpoint=endpoint)

        try:
            agent = await loop.run_in_executor(None, load_agent)
        except Exception as exc:
            if actions:
                await actions.stop()
            raise ModelMissing(
                f"the model {model_path} could not be loaded ({exc}); it is damaged or "
                "incomplete: run `citizenbot train` to train it again"
            ) from exc
        # TensorFlow and the model leave a large heap of long-lived objects; moving them out
        # of the collector's view avoids full-collection pauses of a few hundred ms later.
        gc.collect()
        gc.freeze()
        log.info("model %s loaded", model_path.name)
        return cls(agent, actions, model_path, tracker_path)

    async def handle(
        self, user_id: str, text: str, output: OutputChannel, metadata: dict[str, Any] | None = None
    ) -> None:
        message = UserMessage(
            normalise_text(text), output, user_id, input_channel="zalo", metadata=metadata
        )
        await self.agent.handle_message(message)

    async def parse(self, text: str) -> dict[str, Any]:
        """What the NLU makes of one message: {text, intent, confidence, entities}."""
        text = normalise_text(text)
        parsed = await self.agent.parse_message(text)
        intent = parsed.get("intent") or {}
        return {
            "text": text,
            "intent": intent.get("name"),
            "confidence": round(float(intent.get("confidence") or 0.0), 4),
            "entities": [
                {key: entity.get(key) for key in ("entity", "value", "start", "end")}
                for entity in parsed.get("entities", [])
            ],
        }

    async def close(self) -> None:
        if self._actions:
            await self._actions.stop()
