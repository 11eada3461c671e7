"""Pulling status updates from a provincial system's API.

A provincial one-stop system is wrapped as a `DossierSource`: given the cursor it returned
last time, it returns the updates since then (as API-shaped bodies) and a new cursor. The
`Poller` validates and ingests them exactly like the HTTP API, and keeps the cursor in the
database, so a restart resumes where it stopped. A real adapter is written per province
(their APIs differ); tests use a fake source.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.dossiers.dossier_model import InvalidDossier, parse_update
from bot.storage import Database, dossier_records

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Batch:
    updates: list[tuple[str, dict[str, Any]]]  # (dossier code, API-shaped body)
    cursor: str


class DossierSource(Protocol):
    name: str

    async def fetch(self, cursor: str | None) -> Batch: ...


@dataclass
class PollResult:
    accepted: int = 0
    rejected: list[str] = field(default_factory=list)


class Poller:
    def __init__(
        self,
        source: DossierSource,
        database: Database,
        secret: bytes,
        on_notifications: Callable[[], None] = lambda: None,
    ) -> None:
        self._source = source
        self._database = database
        self._secret = secret
        self._on_notifications = on_notifications

    async def poll_once(self) -> PollResult:
        cursor = await self._database.run(dossier_records.poll_cursor, self._source.name)
        batch = await self._source.fetch(cursor)
        result = PollResult()
        notify = False
        for code, body in batch.updates:
            try:
                update = parse_update(code, body, self._secret)
            except InvalidDossier as exc:
                result.rejected.append(f"{code}: {exc.field}: {exc.message}")
                continue
            ingested = await self._database.run(dossier_records.ingest, update, self._source.name)
            notify |= ingested.notifications > 0
            result.accepted += 1
        await self._database.run(dossier_records.save_poll_cursor, self._source.name, batch.cursor)
        if result.rejected:
            log.warning(
                "%s: %d updates rejected: %s",
                self._source.name,
                len(result.rejected),
                "; ".join(result.rejected[:5]),
            )
        if notify:
            self._on_notifications()
        return result

    async def run(self, interval_seconds: float) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("%s: polling failed; trying again later", self._source.name)
            await asyncio.sleep(interval_seconds)
