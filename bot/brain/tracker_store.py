"""Rasa's SQL tracker store (SQLite, or PostgreSQL when CITIZENBOT_DATABASE_URL is given),
loading a long conversation's recent turns only.

Rasa's SQLTrackerStore rebuilds a conversation from every event of its session on every
message, and the rule policy then reads the whole history: a reply at turn 200 took 3.5×
as long as at turn 1. Our policies look back a few turns (RulePolicy's rules, the fallback
streak of actions/officer_handover.py), so a long session is loaded as its start, the events that
still hold state from its middle (the last value of each slot, the active form), and its
last KEEP_USER_TURNS turns in full. The database keeps every event: reports, pruning and
`rasa` tools read it as before.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import bindparam, text
from sqlalchemy.pool import NullPool

from bot.storage.database import create_private
from bot.storage.tracker_reader import TrackerDatabase

# Enough for the rule policy's rules and the fallback streak that hands over to an officer.
KEEP_USER_TURNS = 10
# Events whose effect on the tracker's state is over once the citizen has written again:
# the turns themselves, follow-ups already run, rejections reset by the next action.
_PAST_ONCE_ANSWERED = frozenset(
    {"user", "user_featurization", "action", "bot", "followup", "entities"}
    | {"action_execution_rejected"}
)
# Events whose latest one is the state: a slot's value (a slot event's `action_name` column
# holds the slot's name), the active form and whether it was interrupted.
_LATEST_COUNTS = frozenset({"slot", "active_loop", "loop_interrupted"})

# Finds a sender's session start and turns without reading the table's rows.
_INDEX = (
    "CREATE INDEX IF NOT EXISTS ix_events_sender_type"
    " ON events (sender_id, type_name, timestamp, action_name)"
)
# PostgreSQL advisory lock held while one process creates the tables (any fixed number).
_CREATE_LOCK = 0x7472_6B72

# The events of a sender's latest session, as Rasa's SQLTrackerStore._event_query selects them.
_SESSION = """
    sender_id = :sender AND (
        timestamp >= (SELECT MAX(timestamp) FROM events
                      WHERE sender_id = :sender AND type_name = 'session_started')
        OR NOT EXISTS (SELECT 1 FROM events
                       WHERE sender_id = :sender AND type_name = 'session_started'))
"""
_FIRST_TURN = f"SELECT MIN(id) FROM events WHERE {_SESSION} AND type_name = 'user'"
_CUT = f"""SELECT id FROM events WHERE {_SESSION} AND type_name = 'user'
           ORDER BY id DESC LIMIT 1 OFFSET :offset"""
# The middle's events by kind: the last of each, per slot.
_MIDDLE = f"""SELECT type_name, MAX(id) FROM events
              WHERE {_SESSION} AND id > :first_turn AND id < :cut
              GROUP BY type_name, CASE WHEN type_name = 'slot' THEN action_name END"""
_ALL_DATA = f"SELECT data FROM events WHERE {_SESSION} ORDER BY id"
_RECENT_DATA = text(
    f"""SELECT data FROM events
        WHERE {_SESSION} AND (id < :first_turn OR id IN :state_ids OR id >= :cut)
        ORDER BY id"""
).bindparams(bindparam("state_ids", expanding=True))


def state_event_ids(middle: list[tuple[str, int]]) -> list[int] | None:
    """Of the last event of each kind (per slot) in a session's middle, those that still
    hold state; None when the middle has events such as a restart, a pause or an undo,
    which only a replay of the whole session gets right."""
    if any(kind not in _LATEST_COUNTS | _PAST_ONCE_ANSWERED for kind, _ in middle):
        return None
    return sorted(event_id for kind, event_id in middle if kind in _LATEST_COUNTS)


class RecentTracker(DialogueStateTracker):
    """A tracker that knows how many of its events are already stored."""

    stored_events = 0


class RecentTrackerStore(SQLTrackerStore):
    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions or not self.domain:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.session_scope() as session:
            rows = self._recent_rows(session, {"sender": sender_id})
        if not rows:
            return None
        tracker = RecentTracker.from_dict(
            sender_id, [json.loads(data) for (data,) in rows], self.domain.slots
        )
        tracker.stored_events = len(tracker.events)
        return tracker

    @staticmethod
    def _recent_rows(session: Any, params: dict[str, Any]) -> list[tuple[str]]:
        """The session's start, its middle's state events and its last turns (all of a
        short session), oldest first."""
        run = session.execute
        cut = run(text(_CUT), {**params, "offset": KEEP_USER_TURNS - 1}).scalar()
        if cut is not None:
            params = {**params, "cut": cut, "first_turn": run(text(_FIRST_TURN), params).scalar()}
            state_ids = state_event_ids(run(text(_MIDDLE), params).all())
            if state_ids is not None:
                return run(_RECENT_DATA, {**params, "state_ids": state_ids}).all()
        return run(text(_ALL_DATA), params).all()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Any:
        """The events not stored yet: those after the ones a recent tracker was loaded with."""
        if not isinstance(tracker, RecentTracker):
            return super()._additional_events(session, tracker)
        return list(tracker.events)[tracker.stored_events :]

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(tracker)
        if isinstance(tracker, RecentTracker):
            tracker.stored_events = len(tracker.events)


def sqlite_tracker_store(path: Path) -> RecentTrackerStore:
    """The tracker store on SQLite, in WAL mode, with an index for recent turns.

    Rasa commits on the event loop; SQLite's default rollback journal fsyncs several times
    per commit, which stalls every webhook answer. WAL with synchronous=NORMAL survives a
    killed process (only a power cut can lose the last turns of a conversation).
    """
    create_private(path)  # citizens' conversations: the service's user only
    # Worker processes start together: one at a time creates the tables (Rasa would log
    # a failed CREATE TABLE for the other).
    lock = os.open(path.with_name(path.name + ".create-lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        store = RecentTrackerStore(dialect="sqlite", db=str(path))

        def tune(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

        sqlalchemy.event.listen(store.engine, "connect", tune)
        with store.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            connection.exec_driver_sql(_INDEX)
    finally:
        os.close(lock)  # releases it
    return store


def postgres_tracker_store(url: str) -> RecentTrackerStore:
    """The tracker store in the PostgreSQL database at `url` (the service's own), with the
    index for recent turns. Processes on several machines start together: an advisory lock
    lets one at a time create the tables."""
    guard = sqlalchemy.create_engine(url, poolclass=NullPool)
    try:
        with guard.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _CREATE_LOCK})
            try:
                store = RecentTrackerStore(host=url)  # Rasa takes a whole URL as the host
                with store.engine.begin() as creating:
                    creating.exec_driver_sql(_INDEX)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _CREATE_LOCK})
    finally:
        guard.dispose()
    return store


def tracker_store(database: TrackerDatabase) -> RecentTrackerStore:
    """The tracker store on an SQLite file, or on PostgreSQL given its URL (blocking)."""
    if isinstance(database, Path):
        return sqlite_tracker_store(database)
    return postgres_tracker_store(database)
