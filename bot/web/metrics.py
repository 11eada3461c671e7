"""GET /metrics: queue and rate-limit figures in Prometheus' text format, written by hand
(a dozen lines do not need a client library)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bot.conversation.user_queues import QueueStats
from bot.settings import Settings
from bot.storage import Database, inbox
from bot.web.request_limits import AREAS, RequestLimits

if TYPE_CHECKING:
    from bot.conversation.worker import ProcessingWorker

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        worker: ProcessingWorker | None,  # None: each worker process has its own queue
        limits: RequestLimits,
    ) -> None:
        self._settings = settings
        self._database = database
        self._worker = worker
        self._limits = limits

    def register(self, app: web.Application, path: str = "/metrics") -> None:
        app.router.add_get(path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(await self.render()).encode(), headers={"Content-Type": CONTENT_TYPE}
        )

    async def render(self) -> str:
        queues = self._worker.queues if self._worker is not None else None
        stats = queues.stats if queues is not None else QueueStats()
        lines: list[str] = []

        def metric(name: str, kind: str, help_text: str, *samples: tuple[str, float]) -> None:
            lines.append(f"# HELP citizenbot_{name} {help_text}")
            lines.append(f"# TYPE citizenbot_{name} {kind}")
            lines.extend(f"citizenbot_{name}{labels} {value:g}" for labels, value in samples)

        metric(
            "queued_events",
            "gauge",
            "Events held in memory, queued or being processed (bounded by queue_bound).",
            ("", queues.held if queues else 0),
        )
        metric(
            "queue_bound",
            "gauge",
            "Most events held in memory (CITIZENBOT_MAX_QUEUED_EVENTS).",
            ("", self._settings.max_queued_events),
        )
        metric(
            "queue_overflowing",
            "gauge",
            "1 while events wait in the inbox because the queue was full.",
            ("", int(bool(queues and queues.overflowing))),
        )
        metric(
            "inbox_pending_events",
            "gauge",
            "Events acknowledged and not processed yet, in memory or waiting in the inbox.",
            ("", await self._database.run(inbox.count_pending)),
        )
        metric(
            "queue_bound_reached_total",
            "counter",
            "Times the queue filled up (once per overload).",
            ("", stats.bound_reached),
        )
        metric(
            "events_deferred_total",
            "counter",
            "Events left waiting in the inbox because the queue was full.",
            ("", stats.deferred),
        )
        metric(
            "events_processed_total",
            "counter",
            "Events handled since the start, failed ones included.",
            ("", stats.processed),
        )
        metric(
            "events_failed_total", "counter", "Events whose handling failed.", ("", stats.failed)
        )
        metric(
            "messages_rate_limited_total",
            "counter",
            "Citizens' messages over CITIZENBOT_USER_MESSAGE_LIMIT: recorded, not answered.",
            ("", self._worker.message_limit.refused if self._worker is not None else 0),
        )
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
