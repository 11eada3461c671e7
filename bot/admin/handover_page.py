"""The handover queue: conversations waiting for an officer, what was said so far, a reply
box (sent on Zalo) and the release that gives the conversation back to the bot."""

from __future__ import annotations

import datetime as dt

from aiohttp import web

from bot.admin.html import Html, badge, h, join, link, local_time, post_button, table
from bot.admin.labels import label, zalo_result
from bot.admin.site import (
    CSRF,
    FEEDBACK,
    OFFICER,
    admin_of,
    error_box,
    int_param,
    page,
    requires,
    see_other,
)
from bot.content import Library
from bot.content.render import Reply
from bot.content.satisfaction_question import question
from bot.storage import handover_records

MAX_REPLY = 2000


def readable(library: Library, text: str) -> str:
    """A tapped button arrives as its hidden payload ("/request_human"): show its title."""
    if not text.startswith("/"):
        return text
    intent = text[1:].split("{")[0]
    guide = library.guide_for(intent)
    title = guide.title if guide else library.ui.get("intent_titles", {}).get(intent, intent)
    return library.admin_text("handovers.button_tapped", title=title)


def _timeout(request: web.Request) -> dt.timedelta:
    return dt.timedelta(minutes=admin_of(request).settings.handover_timeout_minutes)


def _status(library: Library, row: dict) -> Html:
    kind = {"waiting": "amber", "active": "green"}.get(row["status"], "")
    return badge(label(library, "handover_statuses", row["status"]), kind)


@requires(*FEEDBACK)
async def queue(request: web.Request) -> web.Response:
    now = dt.datetime.now(dt.timezone.utc)
    admin = admin_of(request)
    text = admin.library.admin_text
    rows = await admin.database.run(handover_records.queue, now, _timeout(request))
    body = h(
        "<p>{intro}</p>{table}",
        intro=text("handovers.intro", minutes=admin.settings.handover_timeout_minutes),
        table=table(
            [
                text("handovers.columns.number"),
                text("handovers.columns.user"),
                text("handovers.columns.reason"),
                text("handovers.columns.status"),
                text("handovers.columns.requested"),
                text("handovers.columns.officer"),
                text("handovers.columns.ended"),
            ],
            [
                [
                    link(f"/admin/handovers/{r['id']}", f"#{r['id']}"),
                    r["user_id"],
                    label(admin.library, "handover_reasons", r["reason"]),
                    _status(admin.library, r),
                    local_time(r["requested_at"]),
                    r["officer"] or "",
                    local_time(r["ended_at"]),
                ]
                for r in rows
            ],
            empty=text("site.no_data"),
        ),
    )
    return page(request, text("handovers.title"), body)


async def _handover_page(request: web.Request, refusal: str = "") -> web.Response:
    admin = admin_of(request)
    database, library = admin.database, admin.library
    text = library.admin_text
    row = await database.run(handover_records.get, int_param(request, "handover_id"))
    if row is None:
        raise web.HTTPNotFound(text=text("handovers.not_found"))
    lines = await database.run(handover_records.conversation, row["user_id"])
    chat = join(
        h(
            '<div class="msg {side}"><small>{who} – {at}</small>{text}</div>',
            side=line["from"],
            who=text("handovers.from_citizen")
            if line["from"] == "citizen"
            else text("handovers.from_commune"),
            at=local_time(line["at"]),
            text=readable(library, line["text"]) if line["from"] == "citizen" else line["text"],
        )
        for line in lines
    )
    controls = Html("")
    base = f"/admin/handovers/{row['id']}"
    if row["status"] in handover_records.OPEN:
        controls = h(
            '<form method="post" action="{action}" class="card">'
            '<input type="hidden" name="csrf" value="{csrf}">'
            '<label for="text">{label}</label>'
            '<textarea id="text" name="text" maxlength="{max}" required></textarea>'
            '<p><button type="submit">{send}</button></p></form>{release}',
            label=text("handovers.reply_label"),
            send=text("handovers.send"),
            action=f"{base}/reply",
            csrf=request[CSRF],
            max=MAX_REPLY,
            release=post_button(
                f"{base}/release", text("handovers.release"), request[CSRF], "secondary"
            ),
        )
    body = h(
        "{refusal}<p>{status} {reason} – {who}</p>"
        '<div class="chat">{chat}</div>{controls}<p>{back}</p>',
        refusal=error_box(refusal) if refusal else "",
        status=_status(library, row),
        reason=label(library, "handover_reasons", row["reason"]),
        who=text(
            "handovers.who",
            user=row["user_id"],
            at=local_time(row["requested_at"]),
            officer=text("handovers.officer", officer=row["officer"]) if row["officer"] else "",
        ),
        chat=chat or h('<p class="empty">{text}</p>', text=text("handovers.no_messages")),
        controls=controls,
        back=link("/admin/handovers", text("handovers.back")),
    )
    title = text("handovers.handover_title", number=row["id"])
    return page(request, title, body, status=409 if refusal else 200)


@requires(*FEEDBACK)
async def view(request: web.Request) -> web.Response:
    return await _handover_page(request)


@requires(*FEEDBACK)
async def reply(request: web.Request) -> web.Response:
    admin = admin_of(request)
    handover_id = int_param(request, "handover_id")
    row = await admin.database.run(handover_records.get, handover_id)
    message = str((await request.post()).get("text", "")).strip()[:MAX_REPLY]
    if row is None or row["status"] not in handover_records.OPEN or not message:
        return await _handover_page(request, admin.library.admin_text("handovers.cannot_send"))
    now = dt.datetime.now(dt.timezone.utc)
    officer = request[OFFICER].username
    await admin.database.run(
        handover_records.officer_wrote, row["user_id"], officer, now, _timeout(request)
    )
    key = f"handover:{handover_id}:{int(now.timestamp() * 1000)}"
    delivery = await admin.push(row["user_id"], [Reply(message)], key)
    shown = zalo_result(admin.library, delivery)
    await admin.audit(request, "handover_replied", f"#{handover_id}", shown)
    if delivery != "sent":
        pushed = label(admin.library, "push_results", delivery)
        refusal = admin.library.admin_text("handovers.not_delivered", result=pushed)
        return await _handover_page(request, refusal)
    see_other(f"/admin/handovers/{handover_id}")


@requires(*FEEDBACK)
async def release(request: web.Request) -> web.Response:
    admin = admin_of(request)
    handover_id = int_param(request, "handover_id")
    now = dt.datetime.now(dt.timezone.utc)
    try:
        row = await admin.database.run(
            handover_records.release, handover_id, request[OFFICER].username, now
        )
    except handover_records.HandoverError:
        return await _handover_page(request, admin.library.admin_text("handovers.ended"))
    library = admin.library
    ask = question(library, f"handover:{handover_id}", library.text("handover_released"))
    delivery = await admin.push(row["user_id"], [ask], f"handover:{handover_id}:released")
    shown = zalo_result(library, delivery)
    await admin.audit(request, "handover_released", f"#{handover_id}", shown)
    see_other("/admin/handovers")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/handovers", queue),
        web.get("/handovers/{handover_id}", view),
        web.post("/handovers/{handover_id}/reply", reply),
        web.post("/handovers/{handover_id}/release", release),
    ]
