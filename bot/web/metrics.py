"""GET /metrics: queue, worker and rate-limit figures in Prometheus' text format, written by
hand (a dozen lines do not need a client library).

With worker processes (CITIZENBOT_WORKERS > 1) the queues are the workers', not this
process's: the figures then come from what this process can see truly, the inbox table
(each shard's events waiting for its worker and claimed by it) and the worker pool (each
worker up, ready, restarted); the in-memory queue counters are left out rather than read 0.

Communes added to the deployment (bot/communes/) have their own inbox and worker: their
figures are the same series labelled `commune="<slug>"`, beside the default commune's
unlabelled ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.settings import Settings
from bot.storage import Database, inbox
from bot.web.request_limits import AREAS, RequestLimits

if TYPE_CHECKING:
    from bot.communes.registry import Communes
    from bot.conversation.worker import ProcessingWorker
    from bot.conversation.worker_pool import WorkerPool
    from bot.services import Services

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
Metric = Callable[..., None]


class Metrics:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        worker: ProcessingWorker | None,  # None with worker processes, which hold the queues
        limits: RequestLimits,
        workers: WorkerPool | None = None,
        communes: Communes | None = None,
    ) -> None:
        self._settings = settings
        self._database = database
        self._worker = worker
        self._workers = workers
        self._limits = limits
        self._communes = communes

    def register(self, app: web.Application, path: str = "/metrics") -> None:
        app.router.add_get(path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(await self.render()).encode(), headers={"Content-Type": CONTENT_TYPE}
        )

    async def render(self) -> str:
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, *samples: tuple[str, float]) -> None:
            lines.append(f"# HELP citizenbot_{name} {help_text}")
            lines.append(f"# TYPE citizenbot_{name} {kind}")
            lines.extend(f"citizenbot_{name}{labels} {value:g}" for labels, value in samples)

        metric(
            "queue_bound",
            "gauge",
            "Most events held in memory (CITIZENBOT_MAX_QUEUED_EVENTS), by each worker.",
            ("", self._settings.max_queued_events),
        )
        communes = self._open_communes()
        metric(
            "inbox_pending_events",
            "gauge",
            "Events acknowledged and not processed yet, in memory or waiting in the inbox.",
            ("", await self._database.run(inbox.count_pending)),
            *[
                (labels, await services.database.run(inbox.count_pending))
                for labels, services, _ in communes
            ],
        )
        if self._worker is not None:
            workers = [
                ("", self._worker),
                *((labels, worker) for labels, _, worker in communes if worker is not None),
            ]
            self._queue(metric, workers)
        if self._workers is not None:
            await self._worker_processes(metric, self._workers)
        metric(
            "http_requests_refused_total",
            "counter",
            "Requests answered 429, by area and by the limit that was reached.",
            *(
                (
                    f'{{area="{area}",limit="{reason}"}}',
                    getattr(self._limits.areas[area], reason).refused,
                )
                for area in AREAS
                for reason in ("requests", "auth_failures")
            ),
        )
        return "\n".join(lines) + "\n"

    def _open_communes(self) -> list[tuple[str, Services, ProcessingWorker | None]]:
        """Each commune served besides the default: its labels, its parts and its worker (None
        with worker processes)."""
        if self._communes is None:
            return []
        found = []
        for slug in self._communes.slugs:
            if (commune := self._communes.get(slug)) is not None:
                found.append((f'{{commune="{slug}"}}', commune.services, commune.worker))
        return found

    def _queue(self, metric: Metric, workers: list[tuple[str, ProcessingWorker]]) -> None:
        """The queues of this process's workers (CITIZENBOT_WORKERS=1), each with its labels."""
        queues = [(labels, worker, worker.queues) for labels, worker in workers]
        metric(
            "queued_events",
            "gauge",
            "Events held in memory, queued or being processed (bounded by queue_bound).",
            *((labels, queue.held) for labels, _, queue in queues),
        )
        metric(
            "queue_overflowing",
            "gauge",
            "1 while events wait in the inbox because the queue was full.",
            *((labels, int(queue.overflowing)) for labels, _, queue in queues),
        )
        metric(
            "queue_bound_reached_total",
            "counter",
            "Times the queue filled up (once per overload).",
            *((labels, queue.stats.bound_reached) for labels, _, queue in queues),
        )
        metric(
            "events_deferred_total",
            "counter",
            "Events left waiting in the inbox because the queue was full.",
            *((labels, queue.stats.deferred) for labels, _, queue in queues),
        )
        metric(
            "events_processed_total",
            "counter",
            "Events handled since the start, failed ones included.",
            *((labels, queue.stats.processed) for labels, _, queue in queues),
        )
        metric(
            "events_failed_total",
            "counter",
            "Events whose handling failed.",
            *((labels, queue.stats.failed) for labels, _, queue in queues),
        )
        metric(
            "messages_rate_limited_total",
            "counter",
            "Citizens' messages over CITIZENBOT_USER_MESSAGE_LIMIT: recorded, not answered.",
            *((labels, worker.message_limit.refused) for labels, worker, _ in queues),
        )

    async def _worker_processes(self, metric: Metric, workers: WorkerPool) -> None:
        """Each shard's backlog from the inbox, each worker's state from the pool."""
        slots = workers.slots
        shards = await self._database.run(inbox.pending_by_shard, len(slots))
        metric(
            "inbox_waiting_events",
            "gauge",
            "Events acknowledged and not yet claimed by the worker of their shard.",
            *((f'{{shard="{shard}"}}', waiting) for shard, (waiting, _) in enumerate(shards)),
        )
        metric(
            "inbox_claimed_events",
            "gauge",
            "Events the worker of their shard has claimed and not finished: queued or in hand.",
            *((f'{{shard="{shard}"}}', claimed) for shard, (_, claimed) in enumerate(shards)),
        )
        metric(
            "worker_up",
            "gauge",
            "1 while the worker process of the shard runs, 0 while it is being restarted.",
            *((f'{{worker="{slot.index}"}}', int(slot.alive)) for slot in slots),
        )
        metric(
            "worker_ready",
            "gauge",
            "1 once the running worker has loaded its model and handles events.",
            *((f'{{worker="{slot.index}"}}', int(slot.alive and slot.ready)) for slot in slots),
        )
        metric(
            "worker_restarts_total",
            "counter",
            "Times the worker process of the shard was started again after it ended.",
            *((f'{{worker="{slot.index}"}}', slot.restarts) for slot in slots),
        )
