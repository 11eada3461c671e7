"""Signing in and out, sessions, CSRF, and the lockout after wrong passwords.

Sessions live in an HttpOnly, SameSite=Strict cookie; every POST also carries the
session's CSRF token in a hidden field. The sign-in form, before any session exists,
uses a double-submit token (a cookie and the same value in the form).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import secrets
from urllib.parse import quote

from aiohttp import web

from bot.admin import commune_scope
from bot.admin.html import csrf_field, h
from bot.admin.site import (
    COUNTS,
    CSRF,
    HOME,
    OFFICER,
    VIEWED,
    Handler,
    admin_of,
    error_box,
    forbidden,
    home_of,
    page,
    sees_province,
)
from bot.storage import audit, officer_accounts

SESSION_COOKIE = "citizenbot_officer"
LOGIN_COOKIE = "citizenbot_signin"
LOGIN_PATH = "/admin/login"
# Verified when the name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY_HASH = officer_accounts.hash_password(secrets.token_hex(16))


async def hash_password(password: str) -> str:
    """scrypt is slow on purpose: run it off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(
        None, officer_accounts.hash_password, password
    )


async def verify_password(password: str, stored: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        None, officer_accounts.verify_password, password, stored
    )


def _set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/admin",
        httponly=True,
        samesite="Strict",
        secure=not admin_of(request).settings.sandbox,  # a real OA runs behind HTTPS
    )


def signed_in(handler: Handler) -> Handler:
    """Every page but sign-in needs a live session; every POST its CSRF token. The page is
    built from the parts of the commune the officer may see (bot/admin/commune_scope.py)."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        commune, token = commune_scope.split(request.cookies.get(SESSION_COOKIE, ""))
        home = await commune_scope.admin_for(request, commune)
        found = None
        if home is not None and token:
            found = await home.database.run(officer_accounts.session, token)
        if home is None or found is None:
            if request.method == "GET":
                raise web.HTTPSeeOther(f"{LOGIN_PATH}?next={quote(request.path_qs)}")
            raise web.HTTPForbidden(
                text=admin_of(request).library.admin_text("login.session_expired")
            )
        request[OFFICER], request[CSRF] = found
        request[HOME] = home
        shown = await commune_scope.viewed(request, request[OFFICER], home)
        if shown is None:
            return await forbidden(request)
        request[VIEWED] = admin = shown
        request[COUNTS] = await admin.menu_counts(request[OFFICER])
        if request.method == "POST":
            form = await request.post()
            if not hmac.compare_digest(str(form.get("csrf", "")), request[CSRF]):
                await admin.audit(request, "csrf_rejected", request.path)
                text = admin.library.admin_text
                body = error_box(text("login.csrf_rejected_reload"))
                return page(request, text("login.csrf_rejected_title"), body, status=403)
        response = await handler(request)
        if sees_province(request):
            commune_scope.remember_view(request, response)
        return response

    return guarded


def _login_form(request: web.Request, token: str, message: str = "") -> web.Response:
    text = admin_of(request).library.admin_text
    body = h(
        '{message}<form method="post" action="{action}" class="card narrow">'
        '{csrf}<input type="hidden" name="next" value="{next}">'
        '<label for="username">{username}</label>'
        '<input id="username" name="username" autocomplete="username" required autofocus>'
        '<label for="password">{password}</label>'
        '<input id="password" name="password" type="password" autocomplete="current-password"'
        ' required><p><button type="submit">{sign_in}</button></p></form>',
        username=text("login.username"),
        password=text("login.password"),
        sign_in=text("login.sign_in"),
        message=error_box(message) if message else "",
        action=LOGIN_PATH,
        csrf=csrf_field(token),
        next=request.query.get("next", ""),
    )
    response = page(request, text("login.title"), body, status=401 if message else 200)
    _set_cookie(response, request, LOGIN_COOKIE, token)
    return response


async def login_page(request: web.Request) -> web.Response:
    return _login_form(request, secrets.token_urlsafe(24))


def _safe_next(target: str) -> str:
    """Only a dashboard page: never an open redirect to another site."""
    if target.startswith("/admin/") and not target.startswith("//"):
        return target
    return "/admin/"


async def login(request: web.Request) -> web.Response:
    admin = admin_of(request)
    settings = admin.settings
    form = await request.post()
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    if not cookie or not hmac.compare_digest(str(form.get("csrf", "")), cookie):
        await admin.audit(request, "csrf_rejected", LOGIN_PATH)
        raise web.HTTPForbidden(text=admin.library.admin_text("login.csrf_rejected"))
    typed = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    # A commune's officer signs in as <commune>/<username>, against the commune's database;
    # an unknown commune is a wrong name, told as a wrong password.
    commune, username = commune_scope.split(typed)
    home = await commune_scope.admin_for(request, commune)
    if home is None:
        commune, username = "", typed
    else:
        request[HOME] = request[VIEWED] = admin = home
    row = await admin.database.run(officer_accounts.credentials, username) if username else None
    now = dt.datetime.now(dt.timezone.utc)
    new_token = secrets.token_urlsafe(24)
    if row is not None and officer_accounts.is_locked(row, now):
        await _audit_as(request, username, "login_refused_locked")
        minutes = settings.admin_lockout_minutes
        return _login_form(
            request, new_token, admin.library.admin_text("login.locked", minutes=minutes)
        )
    ok = await verify_password(password, row["password_hash"] if row else _DUMMY_HASH)
    if row is None or not ok:
        if row is not None:
            locked = await admin.database.run(
                officer_accounts.login_failed,
                row["id"],
                settings.admin_max_failed_logins,
                dt.timedelta(minutes=settings.admin_lockout_minutes),
            )
            if locked:
                await _audit_as(request, username, "account_locked")
        await _audit_as(request, username or "-", "login_failed")
        return _login_form(request, new_token, admin.library.admin_text("login.wrong_password"))
    token = await admin.database.run(
        officer_accounts.open_session, row["id"], dt.timedelta(hours=settings.admin_session_hours)
    )
    await _audit_as(request, row["username"], "login")
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", ""))))
    _set_cookie(response, request, SESSION_COOKIE, commune_scope.session_cookie(commune, token))
    response.del_cookie(LOGIN_COOKIE, path="/admin")
    raise response


async def _audit_as(request: web.Request, username: str, action: str) -> None:
    """An audit entry before a session exists: the officer is the name that was typed."""
    await admin_of(request).database.run(
        audit.record, username, action, LOGIN_PATH, "", request.remote
    )


async def logout(request: web.Request) -> web.Response:
    home = home_of(request)
    _, token = commune_scope.split(request.cookies.get(SESSION_COOKIE, ""))
    await home.database.run(officer_accounts.close_session, token)
    await home.audit(request, "logout")
    response = web.HTTPSeeOther(LOGIN_PATH)
    response.del_cookie(SESSION_COOKIE, path="/admin")
    raise response
