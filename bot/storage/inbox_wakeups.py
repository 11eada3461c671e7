"""PostgreSQL: an instance that records an event wakes the others at once (LISTEN/NOTIFY),
so the one holding the citizen's earlier events claims it without waiting for its next look
at the inbox (bot/conversation/worker.py looks every second all the same: a notice lost with
a dropped connection costs at most that second)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import psycopg2

log = logging.getLogger(__name__)
CHANNEL = "citizenbot_inbox"  # bot/storage/inbox.py's `record` notifies it


class InboxWakeups:
    """A connection of its own listening on CHANNEL; `woken` is called on the running loop
    for each batch of notices."""

    def __init__(self, url: str, woken: Callable[[], None]) -> None:
        self._url = url
        self._woken = woken
        self._conn: Any = None
        self._fd = -1

    async def start(self) -> None:
        self._conn = await asyncio.to_thread(psycopg2.connect, self._url)
        self._conn.autocommit = True
        with self._conn.cursor() as cursor:
            cursor.execute(f"LISTEN {CHANNEL}")
        self._fd = self._conn.fileno()
        asyncio.get_running_loop().add_reader(self._fd, self._readable)

    def _readable(self) -> None:
        try:
            self._conn.poll()
        except psycopg2.Error:
            log.warning("lost the inbox notices' connection; the inbox is still read every second")
            self.stop()
            return
        if self._conn.notifies:
            self._conn.notifies.clear()
            self._woken()

    def stop(self) -> None:
        """On the loop `start` ran on."""
        if self._conn is None:
            return
        asyncio.get_running_loop().remove_reader(self._fd)
        self._conn.close()
        self._conn = None
