"""Rate limits keyed by a user or a client address: at most `limit` in any `window` seconds.

A token bucket per key: `limit` tokens, refilled at `limit / window` per second, so a burst
of `limit` passes and then one more every `window / limit` seconds; after a quiet `window`
the bucket is full again. Memory stays bounded: keys whose bucket is full again are
forgotten (a full bucket is the same as a new key), and past `max_keys` the least recently
seen key goes first.

With CITIZENBOT_REDIS_URL the buckets live in Redis (`SharedRateLimit`, the same bucket in a
Lua script, on Redis's clock), so every service process on every machine counts together.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import redis.asyncio


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    # Seconds until one more would be allowed (0 when allowed).
    retry_after: float = 0.0
    # The first refusal of this key in this window: the moment to tell the sender, once.
    first_refusal: bool = False

    @property
    def retry_after_seconds(self) -> int:
        """For a Retry-After header: whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after))


@dataclass
class _Bucket:
    tokens: float
    updated: float
    told_until: float = -math.inf


class RateLimit:
    """`limit` <= 0 switches the limit off (everything allowed, nothing kept)."""

    def __init__(
        self,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.clock = clock  # replaceable: tests move time forward without sleeping
        self.max_keys = max_keys
        self.refused = 0  # refusals so far (a metric)
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window_seconds > 0

    def __len__(self) -> int:
        return len(self._buckets)

    async def hit(self, key: str) -> Verdict:
        """Take one token if there is one; a refusal takes nothing."""
        if not self.enabled:
            return Verdict(True)
        now = self.clock()
        bucket = self._bucket(key, now)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict(True)
        return self._refuse(bucket, now)

    async def check(self, key: str) -> Verdict:
        """Would `hit` be allowed? Takes nothing (e.g. before a sign-in, whose failure is
        what is counted)."""
        if not self.enabled:
            return Verdict(True)
        now = self.clock()
        bucket = self._bucket(key, now)
        return Verdict(True) if bucket.tokens >= 1 else self._refuse(bucket, now)

    async def charge(self, key: str) -> None:
        """Take one token even when none is left (a failed attempt already made). The debt
        is capped at one window, so a stopped attacker waits at most two."""
        if not self.enabled:
            return
        bucket = self._bucket(key, self.clock())
        bucket.tokens = max(bucket.tokens - 1, -self.limit)

    def _refuse(self, bucket: _Bucket, now: float) -> Verdict:
        self.refused += 1
        first = now >= bucket.told_until
        if first:
            bucket.told_until = now + self.window_seconds
        retry_after = (1 - bucket.tokens) * self.window_seconds / self.limit
        return Verdict(False, retry_after, first)

    def _bucket(self, key: str, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(float(self.limit), now)
        else:
            self._refill(bucket, now)
            self._buckets.move_to_end(key)
        self._forget_idle(now)
        return bucket

    def _refill(self, bucket: _Bucket, now: float) -> None:
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(
            float(self.limit), bucket.tokens + elapsed * self.limit / self.window_seconds
        )
        bucket.updated = max(bucket.updated, now)

    def _forget_idle(self, now: float) -> None:
        """Least recently seen first: drop keys whose bucket is full again and who were
        told nothing this window; beyond `max_keys`, drop the oldest regardless."""
        while len(self._buckets) > 1:
            key, oldest = next(iter(self._buckets.items()))
            if len(self._buckets) > self.max_keys:
                del self._buckets[key]
                continue
            self._refill(oldest, now)
            if oldest.tokens < self.limit or oldest.told_until > now:
                return
            del self._buckets[key]


# One bucket's step, atomically, on Redis's clock: KEYS[1] the bucket; ARGV limit, window and
# what to do (hit, check or charge). The bucket expires once it would be full again and its
# sender has been told nothing this window (a full bucket is the same as none).
_BUCKET_SCRIPT = """
local limit, window, mode = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'told_until')
local tokens = tonumber(stored[1]) or limit
local updated = tonumber(stored[2]) or now
local told_until = tonumber(stored[3]) or -1
tokens = math.min(limit, tokens + math.max(0, now - updated) * limit / window)
updated = math.max(updated, now)
local allowed, first, retry_after = 1, 0, 0
if mode == 'charge' then
    tokens = math.max(tokens - 1, -limit)
elseif tokens >= 1 then
    if mode == 'hit' then tokens = tokens - 1 end
else
    allowed = 0
    if now >= told_until then
        first = 1
        told_until = now + window
    end
    retry_after = (1 - tokens) * window / limit
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'updated', updated, 'told_until', told_until)
local idle = math.max((limit - tokens) * window / limit, told_until - now)
redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(idle * 1000)))
return {allowed, first, tostring(retry_after)}
"""


class SharedRateLimit:
    """RateLimit's buckets in Redis, shared by every process that names the same limit."""

    def __init__(self, limit: int, window_seconds: float, redis_url: str, name: str) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self.refused = 0  # this process's refusals (a metric)
        self._prefix = f"citizenbot:rate:{name}:"
        # Connects on first use, on the loop that uses it (one limit, one loop).
        self._redis = redis.asyncio.Redis.from_url(redis_url)
        self._bucket = self._redis.register_script(_BUCKET_SCRIPT)

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window_seconds > 0

    async def hit(self, key: str) -> Verdict:
        return await self._step(key, "hit")

    async def check(self, key: str) -> Verdict:
        return await self._step(key, "check")

    async def charge(self, key: str) -> None:
        await self._step(key, "charge")

    async def close(self) -> None:
        await self._redis.close()

    async def _step(self, key: str, mode: str) -> Verdict:
        if not self.enabled:
            return Verdict(True)
        allowed, first, retry_after = await self._bucket(
            keys=[self._prefix + key], args=[self.limit, self.window_seconds, mode]
        )
        if allowed:
            return Verdict(True)
        self.refused += 1
        return Verdict(False, float(retry_after), bool(first))


def rate_limit(rate: tuple[int, float], redis_url: str, name: str) -> RateLimit | SharedRateLimit:
    """`rate` (count, seconds) in this process's memory, or in Redis when its URL is given."""
    if redis_url:
        return SharedRateLimit(*rate, redis_url, name)
    return RateLimit(*rate)
