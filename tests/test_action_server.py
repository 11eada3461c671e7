"""`citizenbot actions` as its own process on a loopback port, called by Rasa's own
`RemoteAction` over HTTP as a Rasa run separately calls it: every action of the server
shares the one set of services it opened at start."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.communes.commune_config import Commune
from bot.communes.commune_setup import add_commune
from bot.settings import Settings
from tests.conftest import PROJECT, free_port, project_library
from tests.external_zalo import rows
from tests.test_communes import content_copy, write_locality

OPENED = "action services opened"  # logged by Services.for_action_server


class ActionServerProcess:
    def __init__(
        self, data_dir: Path, log_path: Path, content_dir: Path = PROJECT / "content"
    ) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        self.data_dir = data_dir
        self.content_dir = content_dir
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = {
            **os.environ,
            "CITIZENBOT_DATA_DIR": str(self.data_dir),
            "CITIZENBOT_CONTENT_DIR": str(self.content_dir),
        }
        with self.log_path.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "bot.cli", "actions", "--port", self.url.rsplit(":", 1)[1]),
                cwd=PROJECT,
                env=env,
                stdout=log,
                stderr=log,
            )
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                if self.process.returncode is not None:
                    break
                try:
                    async with http.get(f"{self.url}/health") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"the action server did not start:\n{self.log()[-3000:]}")

    async def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.returncode is None:
            self.process.terminate()
        return await asyncio.wait_for(self.process.wait(), 30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
async def action_server(tmp_path: Path) -> AsyncIterator[ActionServerProcess]:
    server = ActionServerProcess(tmp_path / "var", tmp_path / "actions.log")
    try:
        await server.start()
        yield server
    finally:
        await server.stop()


def citizen_said(
    intent: str,
    text: str,
    slots: dict[str, str],
    domain: Domain,
    conversation: str = "u-actions",
) -> DialogueStateTracker:
    tracker = DialogueStateTracker(conversation, domain.slots)
    parse = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.98},
        "intent_ranking": [{"name": intent, "confidence": 0.98}],
        "entities": [],
    }
    tracker.update(UserUttered(text, parse["intent"], [], parse))
    for name, value in slots.items():
        tracker.update(SlotSet(name, value))
    return tracker


async def run_over_http(
    server: ActionServerProcess, name: str, tracker: DialogueStateTracker, domain: Domain
) -> list:
    """What Rasa does with an `action_endpoint`: POST the call to /webhook, events back."""
    action = RemoteAction(name, EndpointConfig(f"{server.url}/webhook"))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker, domain)


async def test_every_action_of_the_action_server_shares_one_set_of_services(
    action_server: ActionServerProcess,
) -> None:
    domain = Domain.load(PROJECT / "domain.yml")
    guide = project_library().guide_for("proc_birth_registration")
    assert guide is not None
    asked = citizen_said("proc_birth_registration", "làm giấy khai sinh thế nào", {}, domain)
    shown = await run_over_http(action_server, "action_show_guide", asked, domain)
    filled = citizen_said(
        "give_feedback",
        "không",
        {"feedback_topic": "procedure", "feedback_description": "Chờ lâu quá"},
        domain,
    )
    filed = await run_over_http(action_server, "action_submit_feedback", filled, domain)
    # Both answered: the guide from the content, the ticket filed in the database.
    assert SlotSet("guide_id", guide.id) in shown
    assert any(isinstance(e, BotUttered) and e.text for e in shown)
    [receipt] = [e.text for e in filed if isinstance(e, BotUttered)]
    assert "PA-00001" in receipt
    database = action_server.data_dir / "citizenbot.db"
    assert rows(database, "SELECT description FROM feedback_tickets") == [("Chờ lâu quá",)]
    assert await action_server.stop() == 0
    # One set of services for the two action classes (`rasa run actions` opens one each).
    assert action_server.log().count(OPENED) == 1
    assert "Traceback" not in action_server.log()


async def test_a_communes_conversation_gets_that_communes_services(tmp_path: Path) -> None:
    content = content_copy(tmp_path)
    server = ActionServerProcess(tmp_path / "var", tmp_path / "actions.log", content)
    await server.start()
    try:
        # Added while the action server runs: served from its first call, no restart.
        settings = Settings(data_dir=server.data_dir, content_dir=content)
        await add_commune(settings, Commune.in_sandbox("xa-a"))
        write_locality(content, "xa-a", "0209 111 222")
        domain = Domain.load(PROJECT / "domain.yml")
        filled = citizen_said(
            "give_feedback",
            "không",
            {"feedback_topic": "procedure", "feedback_description": "Chờ lâu quá"},
            domain,
            conversation="xa-a:u-1",
        )
        filed = await run_over_http(server, "action_submit_feedback", filled, domain)
        asked = citizen_said("request_human", "cho gặp cán bộ", {}, domain, "xa-a:u-1")
        contacts = await run_over_http(server, "action_not_available_yet", asked, domain)
    finally:
        assert await server.stop() == 0
    assert any(isinstance(e, BotUttered) and "PA-00001" in e.text for e in filed)
    commune_db = server.data_dir / "communes" / "xa-a" / "citizenbot.db"
    assert rows(commune_db, "SELECT user_id, description FROM feedback_tickets") == [
        ("u-1", "Chờ lâu quá")
    ]
    assert rows(server.data_dir / "citizenbot.db", "SELECT id FROM feedback_tickets") == []
    assert "0209 111 222" in "\n".join(e.text for e in contacts if isinstance(e, BotUttered))
    assert "Traceback" not in server.log()
