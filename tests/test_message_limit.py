"""The per-citizen message limit over loopback: a burst is recorded, answered once politely,
not understood; other citizens are unaffected; after the window the citizen is answered."""

from __future__ import annotations

import logging

import pytest

from bot.content import address
from bot.conversation.rate_limit import SharedRateLimit
from bot.storage import inbox
from bot.web.app import WORKER
from tests.conftest import Service, project_library, texts
from tests.engines import moves_the_limits_clock
from tests.test_queue_bound import parse_metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def limited(start_service) -> tuple[Service, Clock]:
    service = await start_service(user_message_limit=(3, 60.0))
    clock = Clock()
    service.app[WORKER].message_limit.clock = clock  # time stands still until the test moves it
    return service, clock


def polite() -> str:
    return address.speak(project_library().text("rate_limited"))


async def test_a_burst_gets_one_polite_reply_and_the_rest_is_recorded_unanswered(
    limited: tuple[Service, Clock], caplog
) -> None:
    service, _ = limited
    with caplog.at_level(logging.WARNING, logger="bot.conversation.event_handler"):
        sent = [await service.say("u-spam", "/greet") for _ in range(8)]
        await service.settle()
    replies = texts(await service.messages("u-spam"))
    assert replies[:3] == [replies[0]] * 3 and replies[0].startswith("Xin chào")
    assert replies[3:] == [polite()]  # one polite reply for the five extra messages
    for event in sent:  # all eight are in the inbox, handled
        assert await service.database.run(inbox.status_of, event["message"]["msg_id"]) == "done"
    [line] = [r.getMessage() for r in caplog.records if "messages in" in r.getMessage()]
    assert "u-spam" not in line and "/greet" not in line
    async with service.http.get(f"{service.url}/metrics") as resp:
        metrics = parse_metrics(await resp.text())
    assert metrics["citizenbot_messages_rate_limited_total"] == 5


async def test_another_citizen_is_answered_during_a_burst(limited: tuple[Service, Clock]) -> None:
    service, _ = limited
    for _ in range(6):
        await service.say("u-spammer", "/greet")
    await service.say("u-calm", "/thank")
    await service.settle()
    assert texts(await service.messages("u-spammer"))[-1] == polite()
    [reply] = texts(await service.messages("u-calm"))
    assert reply.startswith("Dạ không có gì")


@moves_the_limits_clock
async def test_after_the_window_the_citizen_is_answered_again(
    limited: tuple[Service, Clock],
) -> None:
    service, clock = limited
    for _ in range(5):
        await service.say("u-pause", "/greet")
    await service.settle()
    assert texts(await service.messages("u-pause"))[-1] == polite()
    clock.now += 20  # one message's worth of the window (3 per 60 s)
    await service.say("u-pause", "/thank")
    await service.say("u-pause", "/thank")  # still too fast: not answered, not told again
    await service.settle()
    replies = texts(await service.messages("u-pause"))
    assert replies[-1].startswith("Dạ không có gì") and len(replies) == 5
    clock.now += 60
    for _ in range(3):
        await service.say("u-pause", "/goodbye")
    await service.settle()
    replies = texts(await service.messages("u-pause"))
    assert len(replies) == 8 and all(r.startswith("Chào anh/chị") for r in replies[5:])


async def test_with_redis_a_citizens_messages_to_another_process_count_too(
    start_service, redis_url: str
) -> None:
    service = await start_service(user_message_limit=(3, 60.0), redis_url=redis_url)
    other_process = SharedRateLimit(3, 60.0, redis_url, "citizen-messages")
    for _ in range(3):  # three answered by another service process
        assert (await other_process.hit("u-everywhere")).allowed
    await other_process.close()
    await service.say("u-everywhere", "/greet")
    await service.say("u-elsewhere", "/greet")
    await service.settle()
    assert texts(await service.messages("u-everywhere")) == [polite()]
    assert texts(await service.messages("u-elsewhere"))[0].startswith("Xin chào")
