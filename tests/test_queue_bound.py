"""The bound on events held in memory: beyond it events wait in the inbox (acknowledged, on
disk) and come back in order as the queue drains; the overload is logged and counted."""

from __future__ import annotations

import asyncio
import logging
import random

from bot.conversation.user_queues import UserQueues
from bot.storage import Database, inbox
from bot.web.app import PROCESSING, WORKER
from bot.zalo.events import ZaloEvent
from tests.conftest import Service, texts
from tests.engines import ON_POSTGRES
from tests.test_webhook import REPLY_STARTS, SEQUENCE


def event(user: str, n: int) -> ZaloEvent:
    return ZaloEvent("user_send_text", f"{user}-{n}", user, n, {})


class FakeInbox:
    """The inbox as the queue sees it: events in the order recorded, pending until handled."""

    def __init__(self) -> None:
        self.events: list[ZaloEvent] = []
        self.done: set[str] = set()
        self.reads = 0

    async def pending(self, limit: int) -> list[ZaloEvent]:
        self.reads += 1
        rows = [e for e in self.events if e.key not in self.done][:limit]
        await asyncio.sleep(0)  # the answer travels back: events recorded meanwhile are not in it
        return rows


def handler(inbox: FakeInbox, handled: list[str], gate: asyncio.Event):
    async def handle(event: ZaloEvent) -> None:
        await gate.wait()
        await asyncio.sleep(0)
        handled.append(event.key)
        inbox.done.add(event.key)  # what Conversations.handle does with inbox.finish

    return handle


def by_user(keys: list[str]) -> dict[str, list[int]]:
    users: dict[str, list[int]] = {}
    for key in keys:
        user, n = key.rsplit("-", 1)
        users.setdefault(user, []).append(int(n))
    return users


async def test_events_beyond_the_bound_wait_and_are_handled_once_in_order() -> None:
    inbox, handled, gate = FakeInbox(), [], asyncio.Event()
    queues = UserQueues(handler(inbox, handled, gate), 2, max_queued=3, load_pending=inbox.pending)
    queues.start()
    for n in range(30):
        recorded = event(f"u{n % 4}", n)
        inbox.events.append(recorded)
        queues.submit(recorded)
    assert (queues.held, queues.overflowing) == (3, True)
    assert (queues.stats.deferred, queues.stats.bound_reached) == (27, 1)
    gate.set()
    await queues.drain()
    assert sorted(handled) == sorted(e.key for e in inbox.events)  # each exactly once
    for user, numbers in by_user(handled).items():
        assert numbers == sorted(numbers), user
    assert not queues.overflowing and queues.held == 0
    assert queues.stats.processed == 30
    # Read back in batches as the queue half-empties, not once per event.
    assert inbox.reads <= 30 // 2 + 2


async def test_events_arriving_while_the_inbox_is_read_keep_their_turn() -> None:
    """A webhook keeps handing events over while the queue drains and reads the inbox;
    ten interleavings, each with several overloads."""
    for seed in range(10):
        rng = random.Random(seed)
        inbox, handled, gate = FakeInbox(), [], asyncio.Event()
        gate.set()
        queues = UserQueues(
            handler(inbox, handled, gate), 3, max_queued=4, load_pending=inbox.pending
        )
        queues.start()
        for n in range(300):
            recorded = event(f"u{rng.randrange(5)}", n)
            inbox.events.append(recorded)
            queues.submit(recorded)
            for _ in range(rng.randrange(3)):
                await asyncio.sleep(0)
        await queues.drain()
        assert len(handled) == len(set(handled)) == 300, seed
        for user, numbers in by_user(handled).items():
            assert numbers == sorted(numbers), (seed, user)
        assert queues.stats.bound_reached >= 1 and queues.stats.deferred > 0
        assert not queues.overflowing


async def test_a_late_hand_over_of_an_event_already_read_back_is_ignored() -> None:
    """The inbox read can reach an event before the webhook's own hand-over of it does."""
    inbox, handled, gate = FakeInbox(), [], asyncio.Event()
    queues = UserQueues(handler(inbox, handled, gate), 1, max_queued=2, load_pending=inbox.pending)
    queues.start()
    first, second, third, late = (event("u", n) for n in range(4))
    inbox.events += [first, second, third, late]
    for recorded in (first, second, third):  # the third finds the queue full
        queues.submit(recorded)
    gate.set()
    await queues.drain()  # reads `late` back from the inbox and handles it
    queues.submit(late)  # ... before the webhook's hand-over of it arrives
    await queues.drain()
    assert handled == ["u-0", "u-1", "u-2", "u-3"]


async def test_a_burst_beyond_the_queue_bound_is_answered_once_in_order(
    start_service, caplog
) -> None:
    service: Service = await start_service(max_queued_events=3)
    await service.faults({"times": 3, "delay_seconds": 0.3})  # the first replies hang a while
    users = [f"u-bound-{n}" for n in range(3)]
    with caplog.at_level(logging.INFO, logger="bot.conversation.user_queues"):
        for text in SEQUENCE:
            for user in users:
                await service.say(user, text)  # every one acknowledged with 200
        await service.settle()
    for user in users:
        replies = texts(await service.messages(user))
        assert len(replies) == len(SEQUENCE), (user, replies)
        for reply, start in zip(replies, REPLY_STARTS, strict=True):
            assert reply.startswith(start), (user, reply, start)
    assert await service.database.run(inbox.count_pending) == 0
    if ON_POSTGRES:
        return  # there events beyond the claims held always wait in the inbox: no overload
    queues = service.app[WORKER].queues
    assert queues.stats.bound_reached >= 1 and queues.stats.deferred >= 1
    full = [r for r in caplog.records if "event queue full" in r.getMessage()]
    assert len(full) == 1 and full[0].levelno == logging.WARNING  # once, not once per event
    assert any("below its bound again" in r.getMessage() for r in caplog.records)


async def test_more_events_left_at_a_stop_than_the_bound_resume_in_order(start_service) -> None:
    # The events resume while the service starts, before it listens: the embedded sandbox's
    # token endpoint answers a moment later, within the client's retries at this backoff.
    service: Service = await start_service(max_queued_events=2, zalo_backoff_seconds=0.3)
    await service.stop()
    # The process died with seven acknowledged events of two citizens not processed.
    database = Database.from_settings(service.settings)
    await database.open()
    for text in SEQUENCE:
        for user in ("u-left-1", "u-left-2"):
            payload = service.sandbox.event(user, "user_send_text", text)
            await database.run(
                inbox.record,
                payload["message"]["msg_id"],
                "user_send_text",
                user,
                int(payload["timestamp"]),
                payload,
            )
    await database.close()
    await service.start()
    await service.settle()
    for user in ("u-left-1", "u-left-2"):
        replies = texts(await service.messages(user))
        assert len(replies) == len(SEQUENCE)
        for reply, start in zip(replies, REPLY_STARTS, strict=True):
            assert reply.startswith(start), (user, reply, start)
    assert await service.database.run(inbox.count_pending) == 0


def parse_metrics(text: str) -> dict[str, float]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


async def test_metrics_report_the_queue_in_prometheus_text_format(start_service) -> None:
    service: Service = await start_service(max_queued_events=2)
    await service.faults({"times": 2, "delay_seconds": 0.5})
    for text in ("/greet", "/thank", "/goodbye", "/greet"):
        await service.say("u-metrics", text)
    # The webhook hands events to the processing loop: wait until it has taken all four.
    await service.app[PROCESSING].call(asyncio.sleep(0))
    async with service.http.get(f"{service.url}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        during = parse_metrics(await resp.text())
    assert during["citizenbot_queue_bound"] == 2
    assert during["citizenbot_queued_events"] <= 2
    assert during["citizenbot_inbox_pending_events"] >= 3  # the ones waiting included
    if not ON_POSTGRES:  # there events beyond the claims held wait in the inbox: no overload
        assert during["citizenbot_queue_bound_reached_total"] == 1
        assert during["citizenbot_events_deferred_total"] >= 1
    await service.settle()
    async with service.http.get(f"{service.url}/metrics") as resp:
        after = parse_metrics(await resp.text())
    assert after["citizenbot_events_processed_total"] == 4
    assert after["citizenbot_inbox_pending_events"] == 0
    assert after["citizenbot_queued_events"] == 0
    assert after["citizenbot_queue_overflowing"] == 0
    assert 'citizenbot_http_requests_refused_total{area="api",limit="requests"}' in after
