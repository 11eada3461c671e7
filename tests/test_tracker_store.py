"""A long conversation is loaded as its recent turns plus the state its middle left, and
saving such a tracker stores every new event once."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.events import UserUttered

from bot.brain.agent import Brain
from bot.brain.tracker_store import (
    KEEP_USER_TURNS,
    RecentTrackerStore,
    state_event_ids,
    tracker_store,
)
from bot.storage import tracker_reader as stored

# A guide first (it sets slots), then more turns than are loaded in full.
CONVERSATION = ["thủ tục đăng ký kết hôn thế nào ạ"] + [
    text for _ in range(KEEP_USER_TURNS) for text in ("xin chào ạ", "cảm ơn ad nhiều")
]


@pytest.fixture(params=["sqlite", "postgresql"])
def stored_brain(request: pytest.FixtureRequest, brain: Brain) -> Iterator[Brain]:
    """The session's model, its conversations in its SQLite file or in a fresh PostgreSQL
    database (the model itself is shared: loading it again takes seconds)."""
    if request.param == "sqlite":
        yield brain
        return
    url = request.getfixturevalue("postgres_url")
    store = tracker_store(url)
    store.domain = brain.agent.domain
    agent = copy.copy(brain.agent)
    agent.tracker_store = store
    agent.processor = copy.copy(brain.agent.processor)
    agent.processor.tracker_store = store
    yield Brain(agent, brain.model_path, store, url)
    store.engine.dispose()


async def talk(brain: Brain, user: str) -> RecentTrackerStore:
    for text in CONVERSATION:
        await brain.handle(user, text, CollectingOutputChannel())
    store = brain.tracker_store
    assert isinstance(store, RecentTrackerStore)
    return store


async def test_a_long_conversation_loads_its_recent_turns_with_the_whole_state(
    stored_brain: Brain,
) -> None:
    store = await talk(stored_brain, "u-long-recent")
    recent = await store.retrieve("u-long-recent")
    full = await store.retrieve_full_tracker("u-long-recent")
    assert sum(isinstance(e, UserUttered) for e in recent.events) == KEEP_USER_TURNS
    assert recent.current_slot_values() == full.current_slot_values()
    assert recent.current_slot_values()["guide_step"] is not None  # set by the first turn
    assert recent.active_loop == full.active_loop
    assert recent.latest_message.text == full.latest_message.text
    assert recent.latest_action_name == full.latest_action_name


async def test_saving_a_recent_tracker_stores_each_event_once(stored_brain: Brain) -> None:
    await talk(stored_brain, "u-long-saved")
    events = await asyncio.to_thread(
        stored.events_of, stored_brain.tracker_database, "u-long-saved"
    )
    said = [e["data"]["text"] for e in events if e["type_name"] == "user"]
    assert said == CONVERSATION
    assert len({(e["type_name"], e["timestamp"]) for e in events}) == len(events)


def test_the_middle_keeps_the_last_event_of_each_slot_and_form() -> None:
    middle = [("slot", 7), ("bot", 9), ("active_loop", 3), ("user", 8), ("slot", 12)]
    assert state_event_ids(middle) == [3, 7, 12]


def test_a_restart_or_a_pause_in_the_middle_loads_the_whole_session() -> None:
    assert state_event_ids([("slot", 7), ("restart", 9)]) is None
    assert state_event_ids([("pause", 4)]) is None


def test_processes_starting_together_create_the_postgresql_tables_once(postgres_url: str) -> None:
    # Rasa's own creation would collide and retry after 5 s; one at a time, none waits.
    began = time.monotonic()
    with ThreadPoolExecutor(4) as starting:
        stores = list(starting.map(tracker_store, [postgres_url] * 4))
    assert time.monotonic() - began < 5
    for store in stores:
        store.engine.dispose()
