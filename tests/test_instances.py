"""Two service instances (`citizenbot run` processes, as on two machines behind a load
balancer) sharing PostgreSQL and Redis: each citizen's messages go to both instances in
turn, one instance is killed (SIGKILL) mid-burst, and still every event is answered exactly
once and each citizen's replies come in the order of their messages."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.conftest import free_port
from tests.external_zalo import (
    ExternalZalo,
    ServiceProcess,
    assert_answered_exactly_once,
    post_webhook,
    saying_answered,
    signed,
    wait_until_everything_is_processed,
)

CITIZENS = 20
MESSAGES_PER_CITIZEN = 4
SAYINGS = {"/greet": "Xin chào anh/chị", "/thank": "Dạ không có gì ạ"}
SAID_IN_TURN = [list(SAYINGS)[n % 2] for n in range(MESSAGES_PER_CITIZEN)]
# A dead instance's claims are taken over after this (CITIZENBOT_CLAIM_LEASE_SECONDS).
LEASE_SECONDS = 5


async def test_two_instances_answer_every_event_once_in_order_when_one_is_killed(
    tmp_path: Path, postgres_url: str, redis_url: str
) -> None:
    zalo = ExternalZalo()
    await zalo.start()
    env = {
        **zalo.env(),
        "CITIZENBOT_DATABASE_URL": postgres_url,
        "CITIZENBOT_REDIS_URL": redis_url,
        "CITIZENBOT_WORKERS": "1",
        "CITIZENBOT_CLAIM_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    # The same data folder: the instances share their secret, as machines would by a copy.
    instances = [
        ServiceProcess(free_port(), tmp_path / "var", env, tmp_path / f"instance-{n}.log")
        for n in range(2)
    ]
    doomed, survivor = instances
    try:
        await asyncio.gather(*(instance.start() for instance in instances))
        async with aiohttp.ClientSession() as http:
            # One answered event first: the token pair is fetched and stored before the burst.
            warm_up = zalo.text_event("u-warm-up", "/greet")
            assert await post_webhook(http, survivor.url, *signed(warm_up)) == 200
            for _ in range(300):
                if zalo.messages("u-warm-up"):
                    break
                await asyncio.sleep(0.1)
            events: list[dict] = []
            refused_by_the_dead = 0
            half_sent = asyncio.Event()

            async def citizen(n: int) -> None:
                """A citizen's messages one after another, to either instance in turn; one
                the killed instance did not acknowledge goes to the other (the balancer)."""
                nonlocal refused_by_the_dead
                await asyncio.sleep(n * 0.05)
                for k, saying in enumerate(SAID_IN_TURN):
                    event = zalo.text_event(f"u-{n}", saying)
                    events.append(event)
                    if len(events) >= CITIZENS * len(SAID_IN_TURN) // 2:
                        half_sent.set()
                    body = signed(event)
                    instance = instances[(n + k) % 2]
                    status = await post_webhook(http, instance.url, *body)
                    if status != 200:
                        refused_by_the_dead += 1
                        assert await post_webhook(http, survivor.url, *body) == 200
                    await asyncio.sleep(0.3)

            sent_at_the_kill = 0

            async def kill_mid_burst() -> None:
                """Once half the messages were sent: the rest still to come, some sent ones
                still being handled (a count of replies raced a slow machine's burst)."""
                nonlocal sent_at_the_kill
                await half_sent.wait()
                sent_at_the_kill = len(events)
                doomed.kill()

            await asyncio.gather(kill_mid_burst(), *(citizen(n) for n in range(CITIZENS)))
            assert await doomed.wait() == -signal.SIGKILL
            assert sent_at_the_kill < len(events)  # the kill landed mid-burst
            await wait_until_everything_is_processed(
                postgres_url, len(events) + 1, seconds=120 + LEASE_SECONDS
            )
        assert await survivor.terminate() == 0
    finally:
        for instance in instances:
            instance.kill()
        await zalo.stop()

    assert_answered_exactly_once(zalo, postgres_url, events, SAYINGS)
    for n in range(CITIZENS):
        replies = [saying_answered(m, SAYINGS) for m in zalo.messages(f"u-{n}")]
        assert replies == SAID_IN_TURN, (n, replies)  # in the order the citizen wrote
    print(f"two instances, one killed: {refused_by_the_dead} events re-sent to the survivor")
    assert "Traceback" not in survivor.log()
