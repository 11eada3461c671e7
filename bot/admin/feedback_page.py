"""The feedback queue and one ticket: take it, answer it (the answer goes to the citizen on
Zalo), close it (the citizen is asked how satisfied they are)."""

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
from bot.storage import feedback_records

MAX_ANSWER = 1800  # one Zalo message (2,000 characters) with the heading
# How the dashboard words each refusal of feedback_records.move.
REFUSALS = {
    "no_ticket": "feedback.refusals.no_ticket",
    "not_from_status": "feedback.refusals.not_from_status",
    "empty_answer": "feedback.refusals.empty_answer",
}


def topic_label(library: Library, topic: str) -> str:
    return library.ui["feedback_topics"].get(topic, topic)


def status_badge(library: Library, ticket: dict, now: dt.datetime) -> Html:
    status = label(library, "ticket_statuses", ticket["status"])
    shown = badge(status, "green" if ticket["status"] == "closed" else "")
    if feedback_records.is_overdue(ticket, now):
        return join([shown, " ", badge(library.admin_text("feedback.overdue"), "red")])
    return shown


@requires(*FEEDBACK)
async def queue(request: web.Request) -> web.Response:
    status = request.query.get("status", "")
    admin = admin_of(request)
    library = admin.library
    text = library.admin_text
    tickets = await admin.database.run(
        feedback_records.queue, status if status in feedback_records.STATUSES else ""
    )
    now = dt.datetime.now(dt.timezone.utc)
    filters = join(
        link(f"/admin/feedback?status={key}" if key else "/admin/feedback", shown)
        for key, shown in (
            ("", text("feedback.all")),
            *((key, label(library, "ticket_statuses", key)) for key in feedback_records.STATUSES),
        )
    )
    overdue = sum(feedback_records.is_overdue(t, now) for t in tickets)
    rows = [
        [
            link(f"/admin/feedback/{t['id']}", feedback_records.number(t["id"])),
            topic_label(library, t["topic"]),
            t["description"][:90] + ("…" if len(t["description"]) > 90 else ""),
            status_badge(library, t, now),
            local_time(t["created_at"]),
            local_time(t["due_at"]),
            t["answered_by"] or "",
        ]
        for t in tickets
    ]
    body = h(
        '<p class="filters">{filters}</p><p>{summary}</p>{table}',
        filters=filters,
        summary=text(
            "feedback.summary",
            tickets=len(tickets),
            overdue=overdue,
            sla_days=admin.settings.feedback_sla_days,
        ),
        table=table(
            [
                text("feedback.columns.number"),
                text("feedback.columns.topic"),
                text("feedback.columns.description"),
                text("feedback.columns.status"),
                text("feedback.columns.created"),
                text("feedback.columns.due"),
                text("feedback.columns.answered_by"),
            ],
            rows,
            ["overdue" if feedback_records.is_overdue(t, now) else "" for t in tickets],
            empty=text("site.no_data"),
        ),
    )
    return page(request, text("feedback.title"), body)


async def _ticket_page(request: web.Request, ticket_id: int, refusal: str = "") -> web.Response:
    """The ticket with its history and the actions its status allows; `refusal` says why
    the last action was not done."""
    admin = admin_of(request)
    database, library = admin.database, admin.library
    text = library.admin_text
    ticket = await database.run(feedback_records.get, ticket_id)
    if ticket is None:
        raise web.HTTPNotFound(text=text("feedback.not_found"))
    history = await database.run(feedback_records.history, ticket_id)
    now = dt.datetime.now(dt.timezone.utc)
    csrf = request[CSRF]
    base = f"/admin/feedback/{ticket_id}"
    actions = []
    if ticket["status"] == "received":
        actions.append(post_button(f"{base}/take", text("feedback.take"), csrf, "secondary"))
    if ticket["status"] in feedback_records.OPEN:
        actions.append(
            h(
                '<form method="post" action="{action}" class="card">'
                '<input type="hidden" name="csrf" value="{csrf}">'
                '<label for="answer">{label}</label>'
                '<textarea id="answer" name="answer" maxlength="{max}" required></textarea>'
                '<p><button type="submit">{send}</button></p></form>',
                label=text("feedback.answer_label"),
                send=text("feedback.send_answer"),
                action=f"{base}/answer",
                csrf=csrf,
                max=MAX_ANSWER,
            )
        )
    if ticket["status"] != "closed":
        actions.append(post_button(f"{base}/close", text("feedback.close"), csrf, "danger"))
    answer = Html("")
    if ticket["answer"]:
        delivery = label(library, "answer_deliveries", ticket["answer_delivery"]) or text(
            "feedback.sending"
        )
        answer = h(
            '<div class="card"><h2>{heading}</h2><pre>{answer}</pre><p>{who}, {at}: {delivery}'
            "</p></div>",
            heading=text("feedback.answer_heading"),
            answer=ticket["answer"],
            who=ticket["answered_by"],
            at=local_time(ticket["answered_at"]),
            delivery=delivery,
        )
    photo = (
        link(ticket["photo_url"], text("feedback.see_photo"))
        if ticket["photo_url"]
        else text("feedback.no_photo")
    )
    body = h(
        '{message}<div class="card"><p>{status}</p>'
        "<p><b>{topic_label}</b> {topic}<br><b>{user_label}</b> {user}<br>"
        "<b>{created_label}</b> {created}<br><b>{due_label}</b> {due}<br>"
        "<b>{photo_label}</b> {photo}</p>"
        "<h2>{description_heading}</h2><pre>{description}</pre></div>{answer}{actions}"
        "<h2>{history_heading}</h2>{history}<p>{back}</p>",
        topic_label=text("feedback.ticket.topic"),
        user_label=text("feedback.ticket.user"),
        created_label=text("feedback.ticket.created"),
        due_label=text("feedback.ticket.due"),
        photo_label=text("feedback.ticket.photo"),
        description_heading=text("feedback.ticket.description"),
        history_heading=text("feedback.ticket.history"),
        message=error_box(refusal) if refusal else "",
        status=status_badge(library, ticket, now),
        topic=topic_label(library, ticket["topic"]),
        user=ticket["user_id"],
        created=local_time(ticket["created_at"]),
        due=local_time(ticket["due_at"]),
        photo=photo,
        description=ticket["description"],
        answer=answer,
        actions=join(actions, " "),
        history=table(
            [
                text("feedback.history.at"),
                text("feedback.history.status"),
                text("feedback.history.officer"),
                text("feedback.history.note"),
            ],
            [
                [
                    local_time(e["at"]),
                    label(library, "ticket_statuses", e["status"]),
                    e["officer"] or text("feedback.history.citizen"),
                    e["note"] or "",
                ]
                for e in history
            ],
            empty=text("site.no_data"),
        ),
        back=link("/admin/feedback", text("feedback.back")),
    )
    status = 409 if refusal else 200
    title = text("feedback.ticket.title", number=feedback_records.number(ticket_id))
    return page(request, title, body, status=status)


@requires(*FEEDBACK)
async def ticket(request: web.Request) -> web.Response:
    return await _ticket_page(request, int_param(request, "ticket_id"))


async def _move(request: web.Request, status: str, answer: str | None = None) -> dict:
    """Change the ticket's status as the signed-in officer (FeedbackError when not allowed)."""
    return await admin_of(request).database.run(
        feedback_records.move,
        int_param(request, "ticket_id"),
        status,
        request[OFFICER].username,
        answer,
    )


def _refusal(request: web.Request, refusal: feedback_records.FeedbackError) -> str:
    """What the officer reads when the ticket refused the change, statuses by their labels."""
    library = admin_of(request).library
    values = {
        name: label(library, "ticket_statuses", value) if name in ("current", "wanted") else value
        for name, value in refusal.values.items()
    }
    return library.admin_text(REFUSALS[refusal.reason], **values)


@requires(*FEEDBACK)
async def take(request: web.Request) -> web.Response:
    ticket_id = int_param(request, "ticket_id")
    try:
        await _move(request, "in_progress")
    except feedback_records.FeedbackError as exc:
        return await _ticket_page(request, ticket_id, _refusal(request, exc))
    await admin_of(request).audit(request, "feedback_taken", feedback_records.number(ticket_id))
    see_other(f"/admin/feedback/{ticket_id}")


@requires(*FEEDBACK)
async def answer(request: web.Request) -> web.Response:
    admin = admin_of(request)
    ticket_id = int_param(request, "ticket_id")
    text = str((await request.post()).get("answer", "")).strip()[:MAX_ANSWER]
    try:
        ticket = await _move(request, "answered", text)
    except feedback_records.FeedbackError as exc:
        return await _ticket_page(request, ticket_id, _refusal(request, exc))
    number = feedback_records.number(ticket_id)
    reply = Reply(admin.library.text("feedback_answer").format(number=number, answer=text))
    delivery = await admin.push(ticket["user_id"], [reply], f"feedback:{ticket_id}:answer")
    await admin.database.run(feedback_records.answer_delivered, ticket_id, delivery)
    await admin.audit(request, "feedback_answered", number, zalo_result(admin.library, delivery))
    see_other(f"/admin/feedback/{ticket_id}")


@requires(*FEEDBACK)
async def close(request: web.Request) -> web.Response:
    admin = admin_of(request)
    ticket_id = int_param(request, "ticket_id")
    try:
        ticket = await _move(request, "closed")
    except feedback_records.FeedbackError as exc:
        return await _ticket_page(request, ticket_id, _refusal(request, exc))
    number = feedback_records.number(ticket_id)
    library = admin.library
    lead = library.text("feedback_closed").format(number=number)
    delivery = await admin.push(
        ticket["user_id"],
        [question(library, f"ticket:{number}", lead)],
        f"feedback:{ticket_id}:closed",
    )
    await admin.audit(
        request,
        "feedback_closed",
        number,
        library.admin_text("feedback.satisfaction_asked", result=zalo_result(library, delivery)),
    )
    see_other(f"/admin/feedback/{ticket_id}")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/feedback", queue),
        web.get("/feedback/{ticket_id}", ticket),
        web.post("/feedback/{ticket_id}/take", take),
        web.post("/feedback/{ticket_id}/answer", answer),
        web.post("/feedback/{ticket_id}/close", close),
    ]
