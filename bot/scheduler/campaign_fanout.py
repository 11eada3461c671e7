"""Sending one campaign run to its audience: at a steady rate, by the OA's rules, outside
quiet hours, at most once per recipient, resuming where it stopped."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from bot.clock import Clock, QuietHours, utc_iso
from bot.scheduler.campaign_files import Campaign
from bot.storage import Database, campaign_records
from bot.storage.sql import Store
from bot.zalo.access_token import RefreshTokenLost
from bot.zalo.errors import ZaloApiError, ZaloUnavailable
from bot.zalo.push import PushResult, Template, within_window

log = logging.getLogger(__name__)

# What the Pusher says when the OA's rules forbid the message: skipped, not an error.
RULE_REFUSALS = {-213: "not_following", -230: "outside_7_day_window"}
NIGHT_BAN = -234  # Zalo refuses promotion-like sends 22:00–06:00: try again in the morning
ZALO_NIGHT = QuietHours(dt.time(22), dt.time(6))
OUT_OF_QUOTA = -211
BATCH = 200  # recipients read from the database at a time: memory stays flat

Push = Callable[[str, dict[str, Any], str, Template | None, dt.datetime], Awaitable[PushResult]]
ScheduleResume = Callable[[int, dt.datetime], Awaitable[None]]
ListTag = Callable[[str], Awaitable[list[str]]]


def skip_reason(
    user: dict | None, opted_out: bool, has_template: bool, now: dt.datetime
) -> str | None:
    """Why a recipient would not get the message (the Pusher's rules, plus opt-out)."""
    if opted_out:
        return "opted_out"
    if user is not None and not user["followed"]:
        return RULE_REFUSALS[-213]
    if has_template:
        return None
    if user is None or not within_window(user["last_interaction_at"], now):
        return RULE_REFUSALS[-230]
    return None


def audience_preview(db: Store, campaign: Campaign, now: dt.datetime) -> tuple[int, Counter[str]]:
    """The audience size now, and how many would be skipped by reason."""
    user_ids = campaign_records.audience(db, campaign.audience.kind, campaign.audience.value)
    skipped: Counter[str] = Counter()
    for user, opted_out in campaign_records.recipient_states(db, user_ids):
        if reason := skip_reason(user, opted_out, campaign.template is not None, now):
            skipped[reason] += 1
    return len(user_ids), skipped


def delivery_key(run_id: int, user_id: str) -> str:
    """The outbox's idempotency key of one recipient's message in one run."""
    return f"campaign:{run_id}:{user_id}"


class Pacer:
    """Starts at most `rate` sends a second; after a stall it does not burst to catch up."""

    def __init__(self, clock: Clock, rate: float) -> None:
        self._clock = clock
        self._step = dt.timedelta(seconds=1 / rate)
        self._next: dt.datetime | None = None

    async def wait(self) -> None:
        now = self._clock.now()
        if self._next is None or self._next < now - dt.timedelta(seconds=1):
            self._next = now
        delay = (self._next - now).total_seconds()
        if delay > 0:
            await self._clock.sleep(delay)
        self._next += self._step


@dataclass
class _RunState:
    run_id: int
    message: dict[str, Any]
    template: Template | None
    pause_until: dt.datetime | None = None
    stop_note: str | None = None


class CampaignRunner:
    def __init__(
        self,
        database: Database,
        push: Push,
        list_tag: ListTag,
        schedule_resume: ScheduleResume,
        clock: Clock,
        rate: float,
        max_in_flight: int,
        quiet_hours: QuietHours | None,
    ) -> None:
        self._database = database
        self._push = push
        self._list_tag = list_tag
        self._schedule_resume = schedule_resume
        self.clock = clock
        self._rate = rate
        self._max_in_flight = max_in_flight
        self._quiet = quiet_hours
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._stopping = False

    async def start(self, campaign: Campaign) -> int | None:
        """A new run of `campaign` (its audience as of now); returns when it ends or pauses."""
        stale_tag_note = None
        if campaign.audience.kind == "tag":
            stale_tag_note = await self.refresh_tag(campaign.audience.value)
        run_id = await self._database.run(
            campaign_records.start_run,
            campaign.id,
            utc_iso(self.clock.now()),
            campaign.message,
            asdict(campaign.template) if campaign.template else None,
            campaign.audience.kind,
            campaign.audience.value,
        )
        if run_id is None:
            log.warning("campaign %s fired while its previous run was unfinished", campaign.id)
            return None
        log.info("campaign %s: run %d started", campaign.id, run_id)
        if stale_tag_note:
            await self._database.run(
                campaign_records.set_run_status, run_id, "running", None, stale_tag_note
            )
        await self.resume(run_id)
        return run_id

    async def refresh_tag(self, tag: str) -> str | None:
        """List the tag's members from Zalo (tags live in the OA manager, not here). When Zalo
        cannot say, the last listing is used and the returned note says so."""
        try:
            members = await self._list_tag(tag)
        except (ZaloApiError, ZaloUnavailable, RefreshTokenLost) as exc:
            listed_at = await self._database.run(campaign_records.tag_listed_at, tag)
            log.warning("tag %r could not be listed from Zalo (%s): using the last list", tag, exc)
            return f"tag list from {listed_at or 'never'}: Zalo could not list it ({exc})"
        await self._database.run(campaign_records.record_tag_listing, tag, members)
        log.info("tag %r listed from Zalo: %d members", tag, len(members))
        return None

    async def resume(self, run_id: int) -> None:
        """Send what the run still has queued; returns when it ends, pauses or stops."""
        if self._stopping or run_id in self._tasks:
            return
        task = asyncio.create_task(self._send_all(run_id), name=f"campaign-run-{run_id}")
        self._tasks[run_id] = task
        try:
            await asyncio.wait({task})  # a stop cancels the task, not the job awaiting it
        finally:
            self._tasks.pop(run_id, None)
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]

    async def recover(self) -> list[int]:
        """At start: runs that were sending when the process stopped go on. Recipients caught
        mid-send are settled from the outbox; only those whose request may have reached Zalo
        unanswered are left in doubt (not sent again)."""
        run_ids = await self._database.run(campaign_records.runs_with_status, "running")
        for run_id in run_ids:
            doubtful = await self._database.run(
                campaign_records.reconcile_sending, run_id, delivery_key(run_id, "")
            )
            log.warning("campaign run %d resumes after a stop (%d in doubt)", run_id, doubtful)
        return run_ids

    async def stop(self) -> None:
        """Stop sending; messages already on their way finish and are recorded. Runs stay
        `running` and resume at the next start."""
        self._stopping = True
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def _send_all(self, run_id: int) -> None:
        run = await self._database.run(campaign_records.get_run, run_id)
        if run is None or run["status"] not in campaign_records.UNFINISHED:
            return
        await self._database.run(campaign_records.set_run_status, run_id, "running")
        template = Template(**run["template"]) if run["template"] else None
        state = _RunState(run_id, run["message"], template)
        pacer = Pacer(self.clock, self._rate)
        slots = asyncio.Semaphore(self._max_in_flight)
        in_flight: set[asyncio.Task[None]] = set()

        def done(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            slots.release()

        cursor = 0
        try:
            while state.pause_until is None and state.stop_note is None:
                batch = await self._database.run(campaign_records.queued, run_id, cursor, BATCH)
                if not batch:
                    break
                if await self._database.run(campaign_records.run_status, run_id) != "running":
                    return  # cancelled by an officer's edit
                for rowid, user_id in batch:
                    cursor = rowid
                    await slots.acquire()  # a send that ends may pause or stop the run
                    await pacer.wait()
                    now = self.clock.now()
                    if self._quiet is not None and self._quiet.contains(now):
                        state.pause_until = state.pause_until or self._quiet.end_after(now)
                    if state.pause_until is not None or state.stop_note is not None:
                        slots.release()
                        break
                    task = asyncio.create_task(self._deliver(state, user_id))
                    in_flight.add(task)
                    task.add_done_callback(done)
        finally:
            if in_flight:
                await asyncio.wait(set(in_flight))
        await self._finish(state)

    async def _finish(self, state: _RunState) -> None:
        run_id = state.run_id
        if state.stop_note is not None:
            await self._database.run(
                campaign_records.set_run_status, run_id, "stopped", None, state.stop_note
            )
            log.error("campaign run %d stopped: %s", run_id, state.stop_note)
        elif state.pause_until is not None:
            resume_at = state.pause_until
            await self._database.run(
                campaign_records.set_run_status, run_id, "paused", utc_iso(resume_at)
            )
            await self._schedule_resume(run_id, resume_at)
            log.info("campaign run %d paused until %s", run_id, resume_at)
        else:
            await self._database.run(campaign_records.set_run_status, run_id, "done")
            log.info("campaign run %d done", run_id)

    async def _deliver(self, state: _RunState, user_id: str) -> None:
        run_id = state.run_id
        if not await self._database.run(campaign_records.claim, run_id, user_id):
            return
        key = delivery_key(run_id, user_id)
        try:
            result = await self._push(user_id, state.message, key, state.template, self.clock.now())
        except Exception:
            log.exception("campaign run %d: sending to a user failed", run_id)
            await self._database.run(campaign_records.settle, run_id, user_id, "failed", "error")
            return
        delivery, code = result.delivery, result.delivery.error_code
        if delivery.status in ("sent", "duplicate"):
            await self._database.run(
                campaign_records.settle, run_id, user_id, "sent", None, result.channel
            )
        elif code in (NIGHT_BAN, OUT_OF_QUOTA):
            # Zalo refused it outright: nothing was delivered, so it is safe to send later.
            await self._database.run(campaign_records.settle, run_id, user_id, "queued")
            if code == NIGHT_BAN:
                now = self.clock.now()
                night = ZALO_NIGHT.contains(now)
                state.pause_until = (
                    ZALO_NIGHT.end_after(now) if night else now + dt.timedelta(minutes=30)
                )
            else:
                state.stop_note = "Zalo's message quota is used up (-211)"
        elif result.channel == "none":
            reason = RULE_REFUSALS.get(code or 0, "not_reachable")
            await self._database.run(campaign_records.settle, run_id, user_id, "skipped", reason)
        elif delivery.status == "unreachable":
            # Zalo says this user cannot receive this message type (blocked, inactive…).
            await self._database.run(
                campaign_records.settle,
                run_id,
                user_id,
                "skipped",
                f"zalo_{code}",
                result.channel,
                code,
            )
        else:
            await self._database.run(
                campaign_records.settle, run_id, user_id, "failed", None, result.channel, code
            )
