"""Pushes follow the OA's rules: consultation within 7 days, a ZBS template beyond, else none."""

from __future__ import annotations

import datetime as dt

import aiohttp

from bot.storage import outbox, users
from bot.web.app import PROCESSING, SERVICES
from bot.zalo.client import ZaloClient
from bot.zalo.push import Pusher, Template
from tests.conftest import Service

NOW = dt.datetime.now(dt.timezone.utc)
MESSAGE = {"text": "Hồ sơ của anh/chị đã có kết quả."}


async def _pusher(service: Service, session: aiohttp.ClientSession) -> Pusher:
    return Pusher(service.database, ZaloClient(service.settings, service.database, session))


async def test_recent_user_gets_a_consultation_message(service: Service) -> None:
    await service.database.run(users.interacted, "u-recent")
    async with aiohttp.ClientSession() as session:
        result = await (await _pusher(service, session)).push("u-recent", MESSAGE, "k-recent")
    assert (result.channel, result.delivery.status) == ("consultation", "sent")
    assert await service.messages("u-recent") == [MESSAGE]


async def test_user_silent_for_8_days_gets_the_template_when_one_is_configured(
    service: Service,
) -> None:
    await service.database.run(users.interacted, "u-old")
    later = NOW + dt.timedelta(days=8)
    template = Template("tpl-ket-qua", {"ma_ho_so": "G22.39-250715-0001"})
    async with aiohttp.ClientSession() as session:
        pusher = await _pusher(service, session)
        result = await pusher.push("u-old", MESSAGE, "k-old", template, now=later)
        again = await pusher.push("u-old", MESSAGE, "k-old", template, now=later)
    assert (result.channel, result.delivery.status) == ("zbs_template", "sent")
    assert again.delivery.status == "duplicate"
    [sent] = await service.messages("u-old")
    assert sent["template_id"] == "tpl-ket-qua"


async def test_without_a_template_a_silent_user_is_recorded_not_reachable(
    service: Service,
) -> None:
    await service.database.run(users.interacted, "u-gone")
    async with aiohttp.ClientSession() as session:
        pusher = await _pusher(service, session)
        result = await pusher.push("u-gone", MESSAGE, "k-gone", now=NOW + dt.timedelta(days=8))
    assert (result.channel, result.delivery.status) == ("none", "unreachable")
    assert await service.messages("u-gone") == []
    assert await service.database.run(outbox.for_user, "u-gone") == []


async def test_unfollowed_user_is_not_reachable(service: Service) -> None:
    await service.database.run(users.unfollowed, "u-unfollowed")
    async with aiohttp.ClientSession() as session:
        result = await (await _pusher(service, session)).push("u-unfollowed", MESSAGE, "k-u")
    assert result.delivery.status == "unreachable"


async def test_the_sender_pushes_by_the_rules_from_another_loop_through_the_one_client(
    service: Service,
) -> None:
    """The scheduler and the dashboard call the Sender on the webhook's loop; it sends on the
    processing loop, with the client the conversations reply through."""
    await service.database.run(users.interacted, "u-sender")
    sender = service.app[SERVICES].sender
    assert sender is not None and not service.app[PROCESSING].is_current()
    recent = await sender.push("u-sender", MESSAGE, "k-sender")
    gone = await sender.push("u-sender", MESSAGE, "k-sender-late", now=NOW + dt.timedelta(days=8))
    assert (recent.channel, recent.delivery.status) == ("consultation", "sent")
    assert (gone.channel, gone.delivery.status) == ("none", "unreachable")
    assert await service.messages("u-sender") == [MESSAGE]
