"""Rasa's lock store: one turn per conversation at a time.

In memory by default: one process handles a given citizen (bot/conversation/worker_pool.py
shards them). With CITIZENBOT_REDIS_URL, Rasa's RedisLockStore, so processes on several
machines take turns on a conversation too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore

T = TypeVar("T")


class AtomicRedisLockStore(RedisLockStore):
    """Rasa's RedisLockStore, each change of a conversation's tickets made in one optimistic
    Redis transaction (WATCH, MULTI, EXEC: retried when another process wrote meanwhile).

    Rasa's own reads the tickets, changes them and writes them back: two processes asking at
    once could both get ticket 0 and run their turns together, and a turn that ends could
    erase the ticket of one that just queued (which then fails with a LockError). The key
    expires with its last ticket, so a process killed mid-turn leaves nothing behind.
    """

    def __init__(self, url: str) -> None:
        options = redis.connection.parse_url(url)
        super().__init__(
            host=options.get("host", "localhost"),
            port=options.get("port", 6379),
            db=options.get("db", 0),
            username=options.get("username"),
            password=options.get("password"),
            use_ssl=url.startswith("rediss://"),
            key_prefix="citizenbot",  # keys citizenbot:lock:<sender>, beside the service's own
        )

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[int, TicketLock]:
            lock = lock or TicketLock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        return self._change(conversation_id, issue)

    def update_lock(self, conversation_id: str) -> None:
        def drop_expired(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, drop_expired)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish serving `ticket_number`; the lock goes when no one else waits."""

        def finish(lock: TicketLock | None) -> tuple[None, TicketLock | None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._change(conversation_id, finish)

    def _change(
        self,
        conversation_id: str,
        change: Callable[[TicketLock | None], tuple[T, TicketLock | None]],
    ) -> T:
        """Apply `change` to the stored lock atomically; None after it deletes the lock."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: redis.client.Pipeline) -> T:
            stored = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(stored)) if stored else None
            result, lock = change(lock)
            pipe.multi()
            if lock is None:
                pipe.delete(key)
            elif lock.tickets:
                expires_in = max(ticket.expires for ticket in lock.tickets) - time.time()
                pipe.set(key, lock.dumps(), px=max(1, int(expires_in * 1000)))
            else:
                pipe.set(key, lock.dumps(), px=int(LOCK_LIFETIME * 1000))
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)


def lock_store(redis_url: str) -> LockStore:
    """The lock store: on Redis when its URL is given, else in this process's memory."""
    return AtomicRedisLockStore(redis_url) if redis_url else InMemoryLockStore()
