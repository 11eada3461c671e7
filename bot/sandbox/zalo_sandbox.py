"""A local stand-in for the Zalo OA Open API, and a chat page that behaves like a Zalo chat.

It speaks the OA's shapes: errors come as HTTP 200 with a negative `error`, refresh tokens
are single-use, and consultation messages reach only users who interacted in 7 days.
Tests and the chat page drive it over HTTP; faults are switched on through `/faults`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import aiohttp
from aiohttp import web

from bot.zalo import signature
from bot.zalo.errors import TOKEN_ERRORS

ACCESS_TOKEN_SECONDS = 90000
LATE_ANSWER = "sandbox.late_answer"  # request key: seconds to hold the answer after accepting


@dataclass
class Fault:
    """One switched-on failure: an OA `error` code, an HTTP status, or a hang (before the
    message is taken, or after it when `after_accept`: it arrived, the answer is late)."""

    times: int
    error: int | None = None
    http_status: int | None = None
    delay_seconds: float = 0.0
    after_accept: bool = False
    endpoint: str = "message"  # message (sends) | read (user list, conversation) | oauth


@dataclass
class SandboxState:
    refresh_tokens: set[str] = field(default_factory=set)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires_at
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    faults: list[Fault] = field(default_factory=list)
    # users whose last interaction is older than 7 days, or who unfollowed
    outside_window: set[str] = field(default_factory=set)
    unfollowed: set[str] = field(default_factory=set)
    tags: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # in tag order
    calls: int = 0


class ZaloSandbox:
    def __init__(
        self,
        app_id: str,
        app_secret: str,
        oa_secret_key: str,
        seed_refresh_token: str,
        webhook_url: str,
    ) -> None:
        self.app_id = app_id
        self._app_secret = app_secret
        self._oa_secret_key = oa_secret_key
        self.webhook_url = webhook_url
        self.state = SandboxState(refresh_tokens={seed_refresh_token})
        self._session: aiohttp.ClientSession | None = None

    # (method, path under the prefix, the handler's name): everything the sandbox serves.
    ROUTES = (
        ("POST", "/oauth/v4/oa/access_token", "refresh_access_token"),
        ("POST", "/openapi/v3.0/oa/message/cs", "send_consultation"),
        ("POST", "/openapi/v3.0/oa/message/template", "send_template"),
        ("GET", "/openapi/v3.0/oa/user/getlist", "list_users"),
        ("GET", "/openapi/v2.0/oa/conversation", "conversation"),
        ("GET", "/messages", "list_messages"),
        ("POST", "/faults", "add_faults"),
        ("POST", "/tokens/expire", "expire_access_tokens"),
        ("POST", "/users/{user_id}", "set_user"),
        ("POST", "/tags/{tag}", "set_tag"),
        ("POST", "/chat/send", "chat_send"),
        ("GET", "/", "chat_page"),
        ("GET", "", "chat_page"),
    )

    def register(self, app: web.Application, prefix: str = "/sandbox") -> None:
        for method, path, name in self.ROUTES:
            app.router.add_route(method, f"{prefix}{path}", getattr(self, name))
        app.on_cleanup.append(self._close)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    # --- the OA API -------------------------------------------------------------------

    async def refresh_access_token(self, request: web.Request) -> web.Response:
        if (fault := await self._take_fault("oauth", request)) is not None:
            return fault
        form = await request.post()
        if (
            request.headers.get("secret_key") != self._app_secret
            or form.get("app_id") != self.app_id
        ):
            return web.json_response({"error": -14002, "message": "Invalid app"})
        refresh_token = str(form.get("refresh_token", ""))
        if (
            form.get("grant_type") != "refresh_token"
            or refresh_token not in self.state.refresh_tokens
        ):
            return web.json_response({"error": -14014, "message": "Invalid refresh token"})
        self.state.refresh_tokens.discard(refresh_token)  # single-use
        new_refresh = "rt-" + secrets.token_hex(8)
        access = "at-" + secrets.token_hex(8)
        self.state.refresh_tokens.add(new_refresh)
        self.state.access_tokens[access] = time.time() + ACCESS_TOKEN_SECONDS
        await asyncio.sleep(request.get(LATE_ANSWER, 0.0))  # made, but answered late
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": new_refresh,
                "expires_in": str(ACCESS_TOKEN_SECONDS),
            }
        )

    async def send_consultation(self, request: web.Request) -> web.Response:
        if (refused := await self._refusal(request)) is not None:
            return refused
        try:
            body = await request.json()
            user_id = str(body["recipient"]["user_id"])
            message = body["message"]
        except (ValueError, KeyError, TypeError):
            return _error(-201, "Parameters are invalid")
        if problem := _message_problem(message):
            return _error(*problem)
        if user_id in self.state.unfollowed:
            return _error(-213, "User has not followed the OA")
        if user_id in self.state.outside_window:
            return _error(-230, "User has not interacted with the OA in the last 7 days")
        return await self._accept(request, user_id, message)

    async def _refusal(
        self, request: web.Request, endpoint: str = "message"
    ) -> web.Response | None:
        """What every OA API endpoint checks first: a switched-on fault, then the token."""
        self.state.calls += 1
        if (fault := await self._take_fault(endpoint, request)) is not None:
            return fault
        expires_at = self.state.access_tokens.get(request.headers.get("access_token", ""))
        if expires_at is None:
            return _error(-216, "Access token is invalid")
        if expires_at < time.time():
            return _error(-220, "Access token has expired")
        return None

    async def _accept(
        self, request: web.Request, user_id: str, message: dict[str, Any]
    ) -> web.Response:
        message_id = secrets.token_hex(10)
        sent_time = str(int(time.time() * 1000))
        self.state.messages[user_id].append(
            {"message_id": message_id, "sent_time": sent_time, "message": message}
        )
        await asyncio.sleep(request.get(LATE_ANSWER, 0.0))
        return web.json_response(
            {
                "data": {"message_id": message_id, "user_id": user_id, "sent_time": sent_time},
                "error": 0,
                "message": "Success",
            }
        )

    async def send_template(self, request: web.Request) -> web.Response:
        """ZBS template by user id: allowed outside the 7-day window, not to unfollowers."""
        if (refused := await self._refusal(request)) is not None:
            return refused
        try:
            body = await request.json()
            user_id = str(body["user_id"])
            template_id = str(body["template_id"])
            data = dict(body.get("template_data") or {})
        except (ValueError, KeyError, TypeError):
            return _error(-201, "Parameters are invalid")
        if user_id in self.state.unfollowed:
            return _error(-213, "User has not followed the OA")
        return await self._accept(
            request, user_id, {"template_id": template_id, "template_data": data}
        )

    async def conversation(self, request: web.Request) -> web.Response:
        """The latest messages to a user, newest first:
        `?data={"user_id":…,"offset":0,"count":10}` (count ≤ 10)."""
        if (refused := await self._refusal(request, "read")) is not None:
            return refused
        try:
            query = json.loads(request.query.get("data", "{}"))
            user_id = str(query["user_id"])
            offset, count = int(query.get("offset", 0)), int(query.get("count", 0))
        except (ValueError, TypeError, KeyError, AttributeError):
            return _error(-201, "Parameters are invalid")
        if not 0 < count <= 10 or offset < 0:
            return _error(-201, "count must be 1 to 10 and offset not negative")
        newest_first = list(reversed(self.state.messages.get(user_id, [])))
        return web.json_response(
            {
                "data": [
                    {
                        "src": 0,  # sent by the OA (1: by the user)
                        "time": int(sent["sent_time"]),
                        "type": "text" if "text" in sent["message"] else "template",
                        "message": sent["message"].get("text", ""),
                        "message_id": sent["message_id"],
                        "from_id": "sandbox-oa",
                        "to_id": user_id,
                    }
                    for sent in newest_first[offset : offset + count]
                ],
                "error": 0,
                "message": "Success",
            }
        )

    async def list_users(self, request: web.Request) -> web.Response:
        """The OA's followers, optionally by tag: `?data={"offset":0,"count":50,"tag_name":…}`."""
        if (refused := await self._refusal(request, "read")) is not None:
            return refused
        try:
            query = json.loads(request.query.get("data", "{}"))
            offset, count = int(query.get("offset", 0)), int(query.get("count", 0))
        except (ValueError, TypeError, AttributeError):
            return _error(-201, "Parameters are invalid")
        if not 0 < count <= 50 or offset < 0:
            return _error(-201, "count must be 1 to 50 and offset not negative")
        tag = query.get("tag_name")
        members = self.state.tags.get(tag, []) if tag else sorted(self._followers())
        page = members[offset : offset + count]
        return web.json_response(
            {
                "data": {
                    "total": len(members),
                    "count": len(page),
                    "offset": offset,
                    "users": [{"user_id": user_id} for user_id in page],
                },
                "error": 0,
                "message": "Success",
            }
        )

    def _followers(self) -> set[str]:
        """Who the sandbox has seen: messaged, or tagged; minus those who unfollowed."""
        seen = set(self.state.messages) | {u for users in self.state.tags.values() for u in users}
        return seen - self.state.unfollowed

    # --- control, for tests and the chat page -----------------------------------------

    async def list_messages(self, request: web.Request) -> web.Response:
        user_id = request.query.get("user_id", "")
        return web.json_response(
            {"user_id": user_id, "messages": self.state.messages.get(user_id, [])}
        )

    async def add_faults(self, request: web.Request) -> web.Response:
        """Switch faults on for the next calls.

        Body: {"faults": [{"times": 2, "http_status": 503}, {"times": 1, "error": -216},
        {"times": 1, "delay_seconds": 5}, {"times": 1, "delay_seconds": 5, "after_accept": true},
        {"times": 1, "error": -14014, "endpoint": "oauth"}, {"times": 1, "error": -32,
        "endpoint": "read"}]}
        """
        body = await request.json()
        try:
            faults = [Fault(**raw) for raw in body.get("faults", [])]
        except TypeError as exc:
            return web.json_response({"error": f"bad fault: {exc}"}, status=400)
        self.state.faults.extend(faults)
        return web.json_response({"faults": len(self.state.faults)})

    async def expire_access_tokens(self, request: web.Request) -> web.Response:
        for token in self.state.access_tokens:
            self.state.access_tokens[token] = 0.0
        return web.json_response({"expired": len(self.state.access_tokens)})

    async def set_user(self, request: web.Request) -> web.Response:
        """Body: {"outside_window": bool, "unfollowed": bool}."""
        user_id = request.match_info["user_id"]
        body = await request.json()
        for flag, members in (
            ("outside_window", self.state.outside_window),
            ("unfollowed", self.state.unfollowed),
        ):
            if body.get(flag):
                members.add(user_id)
            elif flag in body:
                members.discard(user_id)
        return web.json_response({"user_id": user_id, **body})

    async def set_tag(self, request: web.Request) -> web.Response:
        """What officers do in the OA manager. Body: {"users": [ids, in the OA's order]}."""
        body = await request.json()
        users = [str(user_id) for user_id in body.get("users", [])]
        self.state.tags[request.match_info["tag"]] = users
        return web.json_response({"tag": request.match_info["tag"], "users": len(users)})

    async def chat_send(self, request: web.Request) -> web.Response:
        """Post a correctly signed webhook event to the bot, as Zalo would."""
        body = await request.json()
        user_id = str(body.get("user_id") or "sandbox-user")
        event = self.event(user_id, body.get("event_name", "user_send_text"), body.get("text", ""))
        status = await self.deliver(event)
        return web.json_response({"webhook_status": status, "event": event})

    async def chat_page(self, request: web.Request) -> web.Response:
        page = resources.files("bot.sandbox").joinpath("chat_page.html").read_text("utf-8")
        return web.Response(text=page, content_type="text/html")

    # --- events, as Zalo sends them ---------------------------------------------------

    def event(self, user_id: str, event_name: str, text: str = "") -> dict[str, Any]:
        timestamp = str(int(time.time() * 1000))
        if event_name in ("follow", "unfollow"):
            return {
                "oa_id": "sandbox-oa",
                "follower": {"id": user_id},
                "user_id_by_app": user_id,
                "event_name": event_name,
                "source": "oa_profile",
                "app_id": self.app_id,
                "timestamp": timestamp,
            }
        if event_name == "user_submit_info":  # the OA's user-info form; `text` is the phone
            return {
                "event_name": event_name,
                "app_id": self.app_id,
                "sender": {"id": user_id},
                "recipient": {"id": "sandbox-oa"},
                "timestamp": timestamp,
                "user_id_by_app": user_id,
                "info": {"name": "Người dùng sandbox", "phone": text},
            }
        message: dict[str, Any] = {"msg_id": secrets.token_hex(10)}
        if event_name == "user_send_text":
            message["text"] = text
        else:
            message["attachments"] = [
                {"type": event_name.removeprefix("user_send_"), "payload": {}}
            ]
        return {
            "event_name": event_name,
            "app_id": self.app_id,
            "sender": {"id": user_id},
            "recipient": {"id": "sandbox-oa"},
            "message": message,
            "timestamp": timestamp,
            "user_id_by_app": user_id,
        }

    async def deliver(self, event: dict[str, Any]) -> int:
        raw = json.dumps(event, ensure_ascii=False).encode()
        mac = signature.header_value(self.app_id, raw, event["timestamp"], self._oa_secret_key)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            self.webhook_url,
            data=raw,
            headers={signature.HEADER: mac, "Content-Type": "application/json"},
        ) as resp:
            return resp.status

    async def _take_fault(self, endpoint: str, request: web.Request) -> web.Response | None:
        for fault in self.state.faults:
            if fault.endpoint != endpoint or fault.times <= 0:
                continue
            fault.times -= 1
            if fault.after_accept:
                request[LATE_ANSWER] = fault.delay_seconds
                return None
            if fault.delay_seconds:
                await asyncio.sleep(fault.delay_seconds)
            if fault.http_status:
                return web.json_response({"error": fault.http_status}, status=fault.http_status)
            if fault.error is not None:
                if fault.error in TOKEN_ERRORS:  # the token really is gone, as at Zalo
                    self.state.access_tokens.clear()
                return _error(fault.error, "sandbox fault")
            return None
        return None

    async def _close(self, app: web.Application) -> None:
        await self.close()


def _error(code: int, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message})


def _message_problem(message: Any) -> tuple[int, str] | None:
    """The OA's own limits, so the sandbox refuses what Zalo would refuse."""
    if not isinstance(message, dict):
        return -201, "message is invalid"
    text = message.get("text")
    attachment = message.get("attachment")
    if text is None and attachment is None:
        return -201, "message has neither text nor attachment"
    if text is not None and (not isinstance(text, str) or not text.strip()):
        return -201, "text is empty"
    if isinstance(text, str) and len(text) > 2000:
        return -210, "text exceeds 2000 characters"
    buttons = (attachment or {}).get("payload", {}).get("buttons", []) if attachment else []
    if len(buttons) > 5:
        return -210, "more than 5 buttons"
    return None
