"""The Rasa Agent, in-process, with the rasa_sdk actions it runs in-process too.

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

from rasa.core.agent import Agent
from rasa.core.channels.channel import OutputChannel, UserMessage

from bot.brain.in_process_actions import InProcessActions, check_action_results_with_one_validator
from bot.brain.lock_store import lock_store
from bot.brain.tracker_store import RecentTrackerStore, tracker_store
from bot.brain.training import ModelMissing, current_model
from bot.services import CommuneServices, Services
from bot.storage.tracker_reader import TrackerDatabase

log = logging.getLogger(__name__)


def normalise_text(text: str) -> str:
    """NFC, no zero-width characters: decomposed input from some keyboards breaks the model."""
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip()


class Brain:
    def __init__(
        self,
        agent: Agent,
        model_path: Path,
        tracker_store: RecentTrackerStore | None = None,
        tracker_database: TrackerDatabase | None = None,
    ) -> None:
        self.agent = agent
        # The actions Rasa runs in-process; None when loaded without them.
        self.actions = (
            agent.action_endpoint if isinstance(agent.action_endpoint, InProcessActions) else None
        )
        self.tracker_store = tracker_store
        self.model_path = model_path
        self.tracker_database = tracker_database  # where conversations are stored (reports read it)

    @classmethod
    async def load(
        cls,
        model_dir: Path,
        tracker_database: TrackerDatabase | None = None,
        with_actions: bool = True,
        redis_url: str = "",
    ) -> Brain:
        """Load the newest trained model; raises ModelMissing with advice when there is none.
        Conversations are stored in `tracker_database` (SQLite file or PostgreSQL URL); with
        `redis_url`, their turns take a Redis lock, so processes on several machines take turns."""
        model_path = current_model(model_dir)
        loop = asyncio.get_running_loop()
        actions = None
        if with_actions:
            check_action_results_with_one_validator()
            actions = await loop.run_in_executor(None, InProcessActions.from_package, "actions")
        store = None
        if tracker_database is not None:
            store = await loop.run_in_executor(None, tracker_store, tracker_database)
        locks = await loop.run_in_executor(None, lock_store, redis_url)

        def load_agent() -> Agent:
            return Agent.load(
                model_path, tracker_store=store, lock_store=locks, action_endpoint=actions
            )

        try:
            agent = await loop.run_in_executor(None, load_agent)
        except Exception as exc:
            raise ModelMissing(
                f"the model {model_path} could not be loaded ({exc}); it is damaged or "
                "incomplete: run `citizenbot train` to train it again"
            ) from exc
        # TensorFlow and the model leave a large heap of long-lived objects; moving them out
        # of the collector's view avoids full-collection pauses of a few hundred ms later.
        gc.collect()
        gc.freeze()
        log.info("model %s loaded", model_path.name)
        return cls(agent, model_path, store, tracker_database)

    def use(self, services: Services, of_commune: CommuneServices | None = None) -> None:
        """Hand the service's parts to the actions (each app start hands its own), and how
        to reach another commune's (bot/communes/registry.py)."""
        if self.actions is not None:
            self.actions.use(services, of_commune)

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
        """Close the tracker store's database connections."""
        if self.tracker_store is not None:
            dispose = self.tracker_store.engine.dispose
            await asyncio.get_running_loop().run_in_executor(None, dispose)
