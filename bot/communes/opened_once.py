"""Communes opened at their first use, once each: the web server's registry
(bot/communes/registry.py) and each worker process (bot/conversation/worker_communes.py)
open a commune added while running when an event first names it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from bot.communes.commune_config import CommuneError

Opened = TypeVar("Opened")


class OpenedOnce(Generic[Opened]):
    """What `opener` made of each slug, made at the slug's first `get`."""

    def __init__(self, opener: Callable[[str], Awaitable[Opened]]) -> None:
        self._opener = opener
        self._opening = asyncio.Lock()  # two events of a new commune at once open it once
        self.by_slug: dict[str, Opened] = {}
        self.accepting = True  # False while stopping: nothing more is opened

    async def get(self, slug: str) -> Opened:
        """The slug's parts, opened now if they were not yet; CommuneError while stopping,
        and whatever `opener` raises (its parts are then not kept)."""
        if (found := self.by_slug.get(slug)) is not None:
            return found
        async with self._opening:
            if (found := self.by_slug.get(slug)) is not None:
                return found
            if not self.accepting:
                raise CommuneError("stopping")
            self.by_slug[slug] = opened = await self._opener(slug)
            return opened
