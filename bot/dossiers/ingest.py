"""The three ways status updates come in: the HTTP API, a CSV file, and a poller of a
provincial system. All end in the same validated, idempotent `ingest`."""

from __future__ import annotations

import csv
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.dossiers.dossier_model import InvalidDossier, parse_update
from bot.settings import Settings
from bot.storage import Database, dossier_records
from bot.storage.database import UNAVAILABLE

log = logging.getLogger(__name__)
# When the database cannot be written (locked past the busy timeout, a disk I/O error), the
# sender is asked to send the same update again after this many seconds.
RETRY_AFTER_SECONDS = 10


class DossierApi:
    """PUT /api/dossiers/{code}: bearer token, JSON body, idempotent, 422 naming the field,
    503 with Retry-After when the update could not be written (sending it again is safe)."""

    def __init__(
        self, database: Database, token: str, secret: bytes, notify: Callable[[], None]
    ) -> None:
        self._database = database
        self._token = token
        self._secret = secret
        self._notify = notify

    def register(self, app: web.Application) -> None:
        app.router.add_put("/api/dossiers/{code}", self.put)

    async def put(self, request: web.Request) -> web.Response:
        if not self._token:
            return web.json_response(
                {"error": "the dossier API is off: set CITIZENBOT_API_TOKEN"}, status=503
            )
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            return web.json_response({"error": "a valid bearer token is required"}, status=401)
        try:
            body = json.loads(await request.read())
        except (ValueError, RecursionError):  # RecursionError: arrays nested ~1,000 deep
            return web.json_response({"field": "body", "error": "not JSON"}, status=422)
        try:
            update = parse_update(request.match_info["code"], body, self._secret)
        except InvalidDossier as exc:
            return web.json_response({"field": exc.field, "error": exc.message}, status=422)
        try:
            result = await self._database.run(dossier_records.ingest, update, "api")
        except UNAVAILABLE as exc:  # locked past the busy timeout, disk I/O…
            log.error("dossier API: update of %s not written (%s); answered 503", update.code, exc)
            return web.json_response(
                {"error": "the update could not be written; send it again later"},
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        if result.notifications:
            self._notify()
        return web.json_response(
            {
                "code": update.code,
                "created": result.created,
                "changed": result.changed,
                "notifications": result.notifications,
            },
            status=201 if result.created else 200,
        )


@dataclass(frozen=True)
class RowResult:
    line: int
    code: str
    accepted: bool
    reason: str = ""


# CSV columns: code, procedure, applicant_name, phone, id_number, status, occurred_at, and
# the detail columns of the status: missing, pickup_place, pickup_date, reason.
DETAIL_COLUMNS = ("missing", "pickup_place", "pickup_date", "reason")


def import_csv(path: Path, settings: Settings, secret: bytes) -> list[RowResult]:
    """Each row on its own: a rejected row changes nothing and says why."""
    from bot.storage.database import open_store

    db = open_store(settings.database_path, settings.database_url, settings.database_schema)
    results = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            body: dict[str, Any] = {k: (v or "").strip() for k, v in row.items() if k}
            body["detail"] = {k: body.pop(k) for k in DETAIL_COLUMNS if body.get(k)}
            code = str(body.pop("code", ""))
            try:
                update = parse_update(code, body, secret)
            except InvalidDossier as exc:
                results.append(RowResult(line, code, False, f"{exc.field}: {exc.message}"))
                continue
            dossier_records.ingest(db, update, "csv")
            results.append(RowResult(line, update.code, True))
    db.conn.close()
    return results
