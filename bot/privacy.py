"""Citizens' personal data across both databases (the service's and Rasa's tracker store):
the daily purge of message logs, and a citizen's export and "forget me".

The service (scheduler, `user_withdraw` events) and the CLI call these; the storage modules
do the work: bot/storage/retention.py (what is purged or kept, and why),
bot/storage/personal_data.py and bot/storage/tracker_reader.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.communes.conversation_ids import senders_of
from bot.local_time import TIMEZONE
from bot.storage import Database, audit, personal_data, retention, tracker_reader
from bot.storage.tracker_reader import TrackerDatabase

log = logging.getLogger(__name__)
T = TypeVar("T")
TRACKER = "tracker_events"
FORGOTTEN = "user_forgotten"  # the audit log's action; the entry never names the citizen


@dataclass
class Purge:
    cutoff: dt.datetime  # everything older is purged: the start of a commune day
    dry_run: bool
    changed: dict[str, int] = field(default_factory=dict)  # table → rows (to be) changed


def cutoff_day(now: dt.datetime, retention_days: int) -> dt.date:
    """The oldest commune day kept: today and the `retention_days` days before it."""
    return now.astimezone(TIMEZONE).date() - dt.timedelta(days=retention_days)


async def _blocking(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


async def purge_message_logs(
    database: Database,
    tracker_database: TrackerDatabase | None,
    retention_days: int,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    commune: str = "",
) -> Purge:
    """Purge what is older than the retention period, keeping the reports' daily figures
    first. Safe to run again at any time, and while the service runs. `database` is the
    commune's; of the tracker store the communes share, its conversations only (their intents
    kept in its database: its report, and the province's, count them after the purge)."""
    senders = senders_of(commune)
    keep_from = cutoff_day(now or dt.datetime.now(dt.timezone.utc), retention_days)
    result = Purge(retention.start_of(keep_from), dry_run)
    if dry_run:
        result.changed.update(await database.run(retention.count_messages, result.cutoff))
        result.changed[TRACKER] = await _blocking(
            tracker_reader.prune, tracker_database, result.cutoff.timestamp(), True, senders
        )
        result.changed.update(await database.run(retention.purge_records, result.cutoff, True))
        return result

    await database.run(retention.archive_messages, keep_from)
    for table in ("inbox", "outbox"):
        result.changed[table] = 0
        while removed := await database.run(retention.delete_archived_messages, table):
            result.changed[table] += removed

    since = await database.run(retention.archived_before, retention.INTENTS)
    if since is None or since < keep_from:
        low = retention.start_of(since).timestamp() if since else 0.0
        counts = await _blocking(
            tracker_reader.intents_by_day,
            tracker_database,
            low,
            result.cutoff.timestamp(),
            retention.offset_seconds(),
            senders,
        )
        await database.run(retention.archive_intents, since, keep_from, counts)
    # Only what has been counted: up to the mark, wherever a concurrent purge left it.
    counted = await database.run(retention.archived_before, retention.INTENTS)
    result.changed[TRACKER] = (
        await _blocking(
            tracker_reader.prune,
            tracker_database,
            retention.start_of(counted).timestamp(),
            False,
            senders,
        )
        if counted
        else 0
    )
    result.changed.update(await database.run(retention.purge_records, result.cutoff))
    log.info(
        "message logs of %s older than %s purged: %s",
        f"commune {commune}" if commune else "the default commune",
        keep_from.isoformat(),
        ", ".join(f"{table} {count}" for table, count in result.changed.items()),
    )
    return result


async def export_user(
    database: Database,
    tracker_database: TrackerDatabase | None,
    user_id: str,
    conversation: str | None = None,
) -> dict:
    """Everything stored about one Zalo user id, by table (JSON-ready); `conversation` as
    for `forget_user`."""
    tables = await database.run(personal_data.export, user_id)
    sender = conversation or user_id
    tables[TRACKER] = await _blocking(tracker_reader.events_of, tracker_database, sender)
    return {
        "user_id": user_id,
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "tables": tables,
    }


async def forget_user(
    database: Database,
    tracker_database: TrackerDatabase | None,
    user_id: str,
    requested_by: str,
    dry_run: bool = False,
    conversation: str | None = None,
) -> dict[str, int]:
    """Delete or anonymise everything about one Zalo user id in both databases, and record
    it in the audit log by counts only; table → rows (to be) changed. Idempotent.
    `conversation`: the citizen's sender id in the tracker store when it is not the user id
    (a commune's, bot/communes/conversation_ids.py)."""
    sender = conversation or user_id
    if dry_run:
        changed = await database.run(personal_data.forget, user_id, True)
        changed[TRACKER] = await _blocking(tracker_reader.count_sender, tracker_database, sender)
        return changed
    # The tracker store first: if it fails, the database (and the inbox record of a
    # `user_withdraw` event, marked failed) still shows the request, to be run again.
    removed = await _blocking(tracker_reader.delete_sender, tracker_database, sender)
    changed = await database.run(personal_data.forget, user_id)
    changed[TRACKER] = removed
    summary = ", ".join(f"{table} {count}" for table, count in changed.items() if count)
    await database.run(audit.record, requested_by, FORGOTTEN, "", summary or "nothing stored")
    return changed
