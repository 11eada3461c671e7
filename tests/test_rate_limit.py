"""The token-bucket rate limit on its own, with a clock the test moves; and the same bucket
in Redis, shared by the processes that use one Redis."""

from __future__ import annotations

import asyncio

import redis

from bot.conversation.rate_limit import RateLimit, SharedRateLimit
from bot.settings import Settings
from bot.web.request_limits import RequestLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_burst_up_to_the_limit_passes_and_the_next_is_refused() -> None:
    limit = RateLimit(5, 60, clock=Clock())
    assert [(await limit.hit("a")).allowed for _ in range(6)] == [True] * 5 + [False]
    assert limit.refused == 1


async def test_only_the_first_refusal_in_a_window_is_marked_first() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    await limit.hit("a")
    await limit.hit("a")
    refusals = [(await limit.hit("a")) for _ in range(3)]
    assert [v.first_refusal for v in refusals] == [True, False, False]
    assert not any(v.allowed for v in refusals)
    clock.now += 61
    await limit.hit("a")
    await limit.hit("a")  # the bucket is full again: two pass
    assert (await limit.hit("a")).first_refusal  # a new window: tell them once more


async def test_a_refusal_says_when_to_retry_and_then_it_passes() -> None:
    clock = Clock()
    limit = RateLimit(10, 60, clock=clock)  # one token every 6 s
    for _ in range(10):
        await limit.hit("a")
    verdict = await limit.hit("a")
    assert not verdict.allowed and verdict.retry_after == 6.0
    assert verdict.retry_after_seconds == 6
    clock.now += 6
    assert (await limit.hit("a")).allowed


async def test_keys_are_independent() -> None:
    limit = RateLimit(1, 60, clock=Clock())
    assert (await limit.hit("a")).allowed and not (await limit.hit("a")).allowed
    assert (await limit.hit("b")).allowed


async def test_check_takes_nothing_and_charge_takes_even_when_empty() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    assert all([(await limit.check("ip")).allowed for _ in range(10)])
    await limit.charge("ip")
    await limit.charge("ip")
    assert not (await limit.check("ip")).allowed
    await limit.charge("ip")  # one more failure in debt: a longer wait
    clock.now += 30  # one token back, but one owed
    assert not (await limit.check("ip")).allowed
    clock.now += 30
    assert (await limit.check("ip")).allowed


async def test_the_debt_is_capped_at_one_window() -> None:
    clock = Clock()
    limit = RateLimit(3, 60, clock=clock)
    for _ in range(1000):
        await limit.charge("ip")
    clock.now += 2 * 60 - 20  # tokens: -3 + 5 = 2 when at most -3 is owed
    assert (await limit.check("ip")).allowed


async def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limit = RateLimit(3, 60, clock=clock)
    for user in range(1000):
        await limit.hit(f"user-{user}")
    assert len(limit) == 1000
    clock.now += 61  # every bucket has refilled: they carry nothing worth keeping
    await limit.hit("someone-new")
    assert len(limit) == 1


async def test_a_key_still_limited_is_kept() -> None:
    clock = Clock()
    limit = RateLimit(1, 60, clock=clock)
    await limit.hit("spammer")
    await limit.hit("spammer")
    clock.now += 30
    await limit.hit("other")
    assert not (await limit.hit("spammer")).allowed


async def test_the_number_of_keys_never_exceeds_max_keys() -> None:
    limit = RateLimit(3, 60, clock=Clock(), max_keys=100)
    for user in range(1000):
        await limit.hit(f"user-{user}")
    assert len(limit) == 100


async def test_a_limit_of_zero_is_off() -> None:
    limit = RateLimit(0, 60, clock=Clock())
    assert all([(await limit.hit("a")).allowed for _ in range(1000)])
    await limit.charge("a")
    assert (await limit.check("a")).allowed and len(limit) == 0


async def test_two_processes_share_a_citizens_bucket_through_redis(redis_url: str) -> None:
    # Two clients of one Redis, as two service processes have.
    first, second = (SharedRateLimit(3, 60, redis_url, "citizen-messages") for _ in range(2))
    verdicts = [await limit.hit("u-1") for limit in (first, second, first, second)]
    assert [verdict.allowed for verdict in verdicts] == [True, True, True, False]
    assert verdicts[-1].first_refusal and 19 < verdicts[-1].retry_after <= 20
    assert not (await first.hit("u-1")).first_refusal  # told once a window, by either
    assert (await first.hit("u-2")).allowed
    assert first.refused == 1 and second.refused == 1
    await first.close()
    await second.close()


async def test_a_shared_bucket_refills_and_is_forgotten_once_full(redis_url: str) -> None:
    limit = SharedRateLimit(2, 1, redis_url, "refill")  # one token every 0.5 s
    assert [(await limit.hit("a")).allowed for _ in range(3)] == [True, True, False]
    await asyncio.sleep(0.6)
    assert (await limit.hit("a")).allowed
    keys = redis.Redis.from_url(redis_url)
    assert 0 < keys.pttl("citizenbot:rate:refill:a") <= 1000  # when the window is over
    await limit.close()


async def test_a_shared_charge_runs_into_debt_capped_at_one_window(redis_url: str) -> None:
    limit = SharedRateLimit(2, 60, redis_url, "auth-failures")
    assert all([(await limit.check("ip")).allowed for _ in range(5)])
    for _ in range(10):
        await limit.charge("ip")
    verdict = await limit.check("ip")
    assert not verdict.allowed and 89 < verdict.retry_after <= 90  # 1 - (-2) tokens at 30 s
    await limit.close()


async def test_request_limits_of_two_processes_count_together_with_redis(redis_url: str) -> None:
    settings = Settings(admin_request_limit=(2, 60.0), redis_url=redis_url)
    first, second = RequestLimits(settings), RequestLimits(settings)
    assert (await first.areas["admin"].requests.hit("10.0.0.7")).allowed
    assert (await second.areas["admin"].requests.hit("10.0.0.7")).allowed
    assert not (await first.areas["admin"].requests.hit("10.0.0.7")).allowed
    assert (await second.areas["api"].requests.hit("10.0.0.7")).allowed  # its own limit
    await first.close()
    await second.close()
