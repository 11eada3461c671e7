"""The token-bucket rate limit on its own, with a clock the test moves."""

from __future__ import annotations

from bot.conversation.rate_limit import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_up_to_the_limit_passes_and_the_next_is_refused() -> None:
    limit = RateLimit(5, 60, clock=Clock())
    assert [limit.hit("a").allowed for _ in range(6)] == [True] * 5 + [False]
    assert limit.refused == 1


def test_only_the_first_refusal_in_a_window_is_marked_first() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    limit.hit("a"), limit.hit("a")
    refusals = [limit.hit("a") for _ in range(3)]
    assert [v.first_refusal for v in refusals] == [True, False, False]
    assert not any(v.allowed for v in refusals)
    clock.now += 61
    limit.hit("a"), limit.hit("a")  # the bucket is full again: two pass
    assert limit.hit("a").first_refusal  # a new window: tell them once more


def test_a_refusal_says_when_to_retry_and_then_it_passes() -> None:
    clock = Clock()
    limit = RateLimit(10, 60, clock=clock)  # one token every 6 s
    for _ in range(10):
        limit.hit("a")
    verdict = limit.hit("a")
    assert not verdict.allowed and verdict.retry_after == 6.0
    assert verdict.retry_after_seconds == 6
    clock.now += 6
    assert limit.hit("a").allowed


def test_keys_are_independent() -> None:
    limit = RateLimit(1, 60, clock=Clock())
    assert limit.hit("a").allowed and not limit.hit("a").allowed
    assert limit.hit("b").allowed


def test_check_takes_nothing_and_charge_takes_even_when_empty() -> None:
    clock = Clock()
    limit = RateLimit(2, 60, clock=clock)
    assert all(limit.check("ip").allowed for _ in range(10))
    limit.charge("ip"), limit.charge("ip")
    assert not limit.check("ip").allowed
    limit.charge("ip")  # one more failure in debt: a longer wait
    clock.now += 30  # one token back, but one owed
    assert not limit.check("ip").allowed
    clock.now += 30
    assert limit.check("ip").allowed


def test_the_debt_is_capped_at_one_window() -> None:
    clock = Clock()
    limit = RateLimit(3, 60, clock=clock)
    for _ in range(1000):
        limit.charge("ip")
    clock.now += 2 * 60 - 20  # tokens: -3 + 5 = 2 when at most -3 is owed
    assert limit.check("ip").allowed


def test_idle_keys_are_forgotten() -> None:
    clock = Clock()
    limit = RateLimit(3, 60, clock=clock)
    for user in range(1000):
        limit.hit(f"user-{user}")
    assert len(limit) == 1000
    clock.now += 61  # every bucket has refilled: they carry nothing worth keeping
    limit.hit("someone-new")
    assert len(limit) == 1


def test_a_key_still_limited_is_kept() -> None:
    clock = Clock()
    limit = RateLimit(1, 60, clock=clock)
    limit.hit("spammer"), limit.hit("spammer")
    clock.now += 30
    limit.hit("other")
    assert not limit.hit("spammer").allowed


def test_the_number_of_keys_never_exceeds_max_keys() -> None:
    limit = RateLimit(3, 60, clock=Clock(), max_keys=100)
    for user in range(1000):
        limit.hit(f"user-{user}")
    assert len(limit) == 100


def test_a_limit_of_zero_is_off() -> None:
    limit = RateLimit(0, 60, clock=Clock())
    assert all(limit.hit("a").allowed for _ in range(1000))
    limit.charge("a")
    assert limit.check("a").allowed and len(limit) == 0
