"""Officers' accounts (an admin adds them) and the audit log of every officer action."""

from __future__ import annotations

from aiohttp import web

from bot.admin.auth import hash_password
from bot.admin.html import h, join, local_time, table
from bot.admin.labels import label
from bot.admin.site import (
    ADMIN_ONLY,
    CSRF,
    PROVINCE,
    Admin,
    admin_of,
    error_box,
    page,
    requires,
    see_other,
)
from bot.storage import audit, officer_accounts


async def _accounts_page(request: web.Request, refusal: str = "") -> web.Response:
    admin = admin_of(request)
    rows = await admin.database.run(officer_accounts.every)
    role_boxes = join(
        h(
            '<label class="choice">'
            '<input type="checkbox" name="roles" value="{role}"> {label}</label> ',
            role=role,
            label=label(admin.library, "roles", role),
        )
        for role in _roles_here(admin)
    )
    text = admin.library.admin_text
    body = h(
        "{refusal}{table}<h2>{add_title}</h2>"
        '<form method="post" action="/admin/officers" class="card medium">'
        '<input type="hidden" name="csrf" value="{csrf}">'
        '<label for="username">{username}</label><input id="username" name="username" required>'
        '<label for="display_name">{display_name}</label>'
        '<input id="display_name" name="display_name">'
        '<label for="password">{password}</label>'
        '<input id="password" name="password" type="password" autocomplete="new-password" required>'
        '<label>{roles_label}</label>{roles}<p><button type="submit">{add}</button></p></form>',
        add_title=text("officers.add_title"),
        username=text("officers.username"),
        display_name=text("officers.display_name"),
        password=text("officers.password"),
        roles_label=text("officers.roles"),
        add=text("officers.add"),
        refusal=error_box(refusal) if refusal else "",
        table=table(
            [
                text("officers.username"),
                text("officers.display_name"),
                text("officers.roles"),
                text("officers.columns.created"),
                text("officers.columns.last_login"),
                text("officers.columns.locked_until"),
            ],
            [
                [
                    r["username"],
                    r["display_name"],
                    ", ".join(
                        label(admin.library, "roles", role) for role in r["roles"].split(",")
                    ),
                    local_time(r["created_at"]),
                    local_time(r["last_login_at"]),
                    local_time(r["locked_until"]),
                ]
                for r in rows
            ],
            empty=text("site.no_data"),
        ),
        csrf=request[CSRF],
        roles=role_boxes,
    )
    return page(request, text("officers.title"), body, status=400 if refusal else 200)


def _roles_here(admin: Admin) -> tuple[str, ...]:
    """The roles an account of this commune may have: the province role counts only in the
    default commune (bot/admin/commune_scope.py)."""
    if admin.commune:
        return tuple(role for role in officer_accounts.ROLES if role != PROVINCE)
    return officer_accounts.ROLES


@requires(*ADMIN_ONLY)
async def accounts(request: web.Request) -> web.Response:
    return await _accounts_page(request)


@requires(*ADMIN_ONLY)
async def add_account(request: web.Request) -> web.Response:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    roles = [str(role) for role in form.getall("roles", [])]
    try:
        if unknown := sorted(set(roles) - set(_roles_here(admin_of(request)))):
            raise officer_accounts.OfficerError(f"not a role in this commune: {', '.join(unknown)}")
        officer_accounts.check_new(username, password, roles)
        password_hash = await hash_password(password)
        await admin_of(request).database.run(
            officer_accounts.create,
            username,
            str(form.get("display_name", "")).strip(),
            password_hash,
            roles,
        )
    except officer_accounts.OfficerError as exc:
        return await _accounts_page(request, str(exc))
    admin = admin_of(request)
    roles_shown = ", ".join(label(admin.library, "roles", role) for role in roles)
    await admin.audit(request, "officer_added", username, roles_shown)
    see_other("/admin/officers")


@requires(*ADMIN_ONLY)
async def audit_log(request: web.Request) -> web.Response:
    action = request.query.get("action", "")
    admin = admin_of(request)
    entries = await admin.database.run(audit.recent, 500, action)
    rows = [
        [
            local_time(e["at"]),
            e["officer"],
            label(admin.library, "audit_actions", e["action"]),
            e["target"],
            e["detail"],
            e["ip"] or "",
        ]
        for e in entries
    ]
    text = admin.library.admin_text
    headers = [
        text("audit.columns.at"),
        text("audit.columns.officer"),
        text("audit.columns.action"),
        text("audit.columns.target"),
        text("audit.columns.detail"),
        text("audit.columns.ip"),
    ]
    body = table(headers, rows, empty=text("site.no_data"))
    return page(request, text("audit.title"), body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/officers", accounts),
        web.post("/officers", add_account),
        web.get("/audit", audit_log),
    ]
