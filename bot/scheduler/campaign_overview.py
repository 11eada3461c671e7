"""What officers see of campaigns from the command line: the list, a preview before a
campaign goes out, and the delivery report of its runs."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

from bot.clock import QuietHours
from bot.local_time import TIMEZONE
from bot.scheduler.campaign_fanout import audience_preview
from bot.scheduler.campaign_files import Campaign, campaigns_dir, load_all
from bot.settings import Settings
from bot.storage import Database, campaign_records

NEXT_RUNS = 5


class UnknownCampaign(LookupError):
    """No valid campaign file has this id."""


def _find(settings: Settings, campaign_id: str, overlay: Path | None) -> Campaign:
    loaded, errors = load_all(settings.content_dir, overlay)
    for campaign in loaded.values():
        if campaign.id == campaign_id:
            return campaign
    known = ", ".join(sorted(c.id for c in loaded.values())) or "none"
    broken = "".join(f"\n  {error}" for error in errors)
    raise UnknownCampaign(f"no valid campaign '{campaign_id}' (campaigns: {known}){broken}")


def _local(moment: dt.datetime) -> str:
    return f"{moment.astimezone(TIMEZONE):%a %Y-%m-%d %H:%M}"


async def campaign_list(
    settings: Settings, database: Database, overlay: Path | None = None
) -> tuple[str, bool]:
    """Every campaign with its schedule, next run and last run; broken files with their
    file and line. The flag is False when a file is broken. `overlay`: a commune's content
    folder (its own campaigns)."""
    loaded, errors = load_all(settings.content_dir, overlay)
    now = dt.datetime.now(TIMEZONE)
    lines = []
    for campaign in sorted(loaded.values(), key=lambda c: c.id):
        upcoming = campaign.schedule.next_runs(now, 1)
        runs = await database.run(campaign_records.runs_of, campaign.id, 1)
        state = "enabled" if campaign.enabled else "disabled"
        lines.append(f"{campaign.id}  [{state}]  {campaign.title}")
        lines.append(f"  schedule: {campaign.schedule.describe()}")
        lines.append(f"  audience: {campaign.audience.describe()}")
        lines.append(f"  next run: {_local(upcoming[0]) if upcoming else 'none'}")
        if runs:
            last = runs[0]
            lines.append(f"  last run: #{last['id']} {last['status']} ({last['started_at']})")
        lines.extend(f"  warning: {warning}" for warning in campaign.warnings)
    lines.extend(f"ERROR {error}" for error in errors)
    folder = campaigns_dir(settings.content_dir, overlay)
    lines.append(f"{len(loaded)} campaigns, {len(errors)} broken files in {folder}/")
    return "\n".join(lines), not errors


async def campaign_preview(
    settings: Settings, database: Database, campaign_id: str, overlay: Path | None = None
) -> str:
    """The message as citizens will see it, when it goes out, and to how many."""
    campaign = _find(settings, campaign_id, overlay)
    now = dt.datetime.now(TIMEZONE)
    quiet = QuietHours.parse(settings.quiet_hours)
    message = campaign.message
    lines = [
        f"{campaign.id}: {campaign.title} ({campaign.source_file})",
        f"{'enabled' if campaign.enabled else 'DISABLED: set enabled: true to schedule it'}",
        "",
        f"Message ({campaign.message_type}):",
        *(f"  | {line}" for line in message.get("text", "").splitlines()),
    ]
    payload = message.get("attachment", {}).get("payload", {})
    for button in payload.get("buttons", []):
        target = button["payload"]
        shown = target if isinstance(target, str) else json.dumps(target, ensure_ascii=False)
        lines.append(f"  [{button['title']}] → {shown}")
    for element in payload.get("elements", []):
        lines.append(f"  image: {element['url']}")
    template = campaign.template
    lines += [
        "Users beyond Zalo's 7 days: "
        + (f"ZBS template {template.template_id}" if template else "skipped (no ZBS template)"),
        "",
        f"Next {NEXT_RUNS} runs (Asia/Ho_Chi_Minh):",
    ]
    for moment in campaign.schedule.next_runs(now, NEXT_RUNS):
        deferred = ""
        if quiet is not None and quiet.contains(moment):
            deferred = f"  (quiet hours {quiet}: sending starts {_local(quiet.end_after(moment))})"
        lines.append(f"  {_local(moment)}{deferred}")
    size, skipped = await database.run(audience_preview, campaign, now)
    receiving = size - sum(skipped.values())
    lines += [
        "",
        f"Audience now: {size} ({campaign.audience.describe()})",
        *await _tag_listing_note(database, campaign),
        f"  would receive: {receiving}",
        f"  would be skipped: {sum(skipped.values())}",
        *(f"    {reason}: {count}" for reason, count in sorted(skipped.items())),
        f"At {settings.campaign_rate:g} messages/s a run takes about "
        f"{receiving / settings.campaign_rate / 60:.1f} min.",
    ]
    return "\n".join(lines)


async def _tag_listing_note(database: Database, campaign: Campaign) -> list[str]:
    """Tags live in Zalo's OA manager: the preview counts the last listing, a run lists anew."""
    if campaign.audience.kind != "tag":
        return []
    listed_at = await database.run(campaign_records.tag_listed_at, campaign.audience.value)
    when = f"as listed from Zalo at {listed_at}" if listed_at else "not listed from Zalo yet"
    return [f"  tag members {when}; each run lists them from Zalo when it starts"]


async def campaign_report(
    settings: Settings, database: Database, campaign_id: str, run_id: int | None = None
) -> str:
    """Per run: sent, failed by error code, skipped by reason, opted out, in doubt, queued."""
    if run_id is None:
        runs = await database.run(campaign_records.runs_of, campaign_id, 10)
    else:
        run = await database.run(campaign_records.get_run, run_id)
        runs = [run] if run and run["campaign_id"] == campaign_id else []
    if not runs:
        return f"no runs of campaign '{campaign_id}'" + (f" with id {run_id}" if run_id else "")
    lines = []
    for run in runs:
        lines.append(
            f"run #{run['id']}  {run['status']}  started {run['started_at']}"
            + (f"  finished {run['finished_at']}" if run["finished_at"] else "")
            + (f"  resumes {run['resume_at']}" if run["resume_at"] else "")
            + (f"  ({run['note']})" if run["note"] else "")
        )
        by_status: dict[str, Counter[str]] = defaultdict(Counter)
        for status, detail, count in await database.run(
            campaign_records.delivery_counts, run["id"]
        ):
            by_status[status][detail or "-"] += count
        opted_out = by_status["skipped"].pop("opted_out", 0)
        for status in ("sent", "failed", "skipped", "in_doubt", "queued", "sending"):
            counts = by_status.get(status)
            if counts:
                detail = ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()) if k != "-")
                total = sum(counts.values())
                lines.append(f"  {status}: {total}" + (f" ({detail})" if detail else ""))
        lines.append(f"  opted out: {opted_out}")
    return "\n".join(lines)
