"""The webhook over real loopback HTTP: signature, replay window, durability, de-duplication."""

from __future__ import annotations

import json
import time

from bot.storage import inbox
from bot.zalo import signature
from tests.conftest import Service, texts


async def test_signed_text_event_gets_a_reply_in_the_sandbox(service: Service) -> None:
    await service.say("u-hello", "xin chào")
    replies = await service.wait_for_messages("u-hello", 1)
    assert replies, "the bot did not answer"
    assert "Xin chào" in replies[0]["text"]


async def test_wrong_signature_gets_401_and_nothing_is_processed(service: Service) -> None:
    event = service.event("u-forged", text="xin chào")
    signed_body = json.dumps(event).encode()
    mac = signature.header_value(
        service.settings.zalo_app_id, signed_body, event["timestamp"], "not-the-oa-secret"
    )
    for headers in ({signature.HEADER: mac}, {signature.HEADER: "mac=" + "0" * 64}):
        resp = await service.http.post(
            f"{service.url}/webhook/zalo", data=signed_body, headers=headers
        )
        assert resp.status == 401
    await service.settle()
    assert await service.database.run(inbox.status_of, event["message"]["msg_id"]) is None
    assert await service.messages("u-forged") == []


async def test_unsigned_event_is_never_recorded(service: Service) -> None:
    event = service.event("u-unsigned", text="xin chào")
    resp = await service.post_event(event, signed=False)
    assert resp.status == 401
    await service.settle()
    assert await service.database.run(inbox.status_of, event["message"]["msg_id"]) is None
    assert await service.messages("u-unsigned") == []


async def test_event_outside_the_replay_window_is_refused(service: Service) -> None:
    event = service.event("u-replay", text="xin chào")
    event["timestamp"] = str(int((time.time() - 7 * 3600) * 1000))  # older than 6 h
    resp = await service.post_event(event)
    assert resp.status == 403
    await service.settle()
    assert await service.messages("u-replay") == []


async def test_zalo_retry_inside_the_window_is_accepted_once(service: Service) -> None:
    event = service.event("u-retry", text="xin chào")
    event["timestamp"] = str(int((time.time() - 2 * 3600) * 1000))  # Zalo's last retry: ~2 h
    assert (await service.post_event(event)).status == 200
    assert len(await service.wait_for_messages("u-retry", 1)) == 1


async def test_duplicate_msg_id_is_processed_once(service: Service) -> None:
    event = service.event("u-dup", text="/greet")
    first = await service.post_event(event)
    second = await service.post_event(event)
    assert (first.status, second.status) == (200, 200)
    await service.settle()
    assert len(await service.messages("u-dup")) == 1


async def test_duplicate_msg_id_is_still_refused_after_a_restart(service: Service) -> None:
    event = service.event("u-dup-restart", text="/greet")
    await service.post_event(event)
    await service.settle()
    await service.restart()  # the sandbox restarts too, with no messages
    assert (await service.post_event(event)).status == 200
    await service.settle()
    assert await service.messages("u-dup-restart") == []


async def test_acknowledged_events_resume_after_a_restart(service: Service) -> None:
    event = service.event("u-resume", text="/greet")
    await service.stop()
    # The process died after recording the event and before processing it.
    from bot.storage import Database

    database = Database.from_settings(service.settings)
    await database.open()
    await database.run(
        inbox.record,
        event["message"]["msg_id"],
        "user_send_text",
        "u-resume",
        int(event["timestamp"]),
        event,
    )
    await database.close()
    await service.start()
    assert len(await service.wait_for_messages("u-resume", 1)) == 1


# Seven messages whose replies are told apart by their first words.
SEQUENCE = ["/greet", "/thank", "/goodbye", "/deny", "/affirm", "/greet", "/goodbye"]
REPLY_STARTS = [
    "Xin chào",
    "Dạ không có gì",
    "Chào anh/chị",
    "Dạ vâng ạ",
    "Dạ vâng.",
    "Xin chào",
    "Chào anh/chị",
]


async def test_burst_from_one_user_is_answered_in_order(service: Service) -> None:
    for text in SEQUENCE:
        await service.say("u-burst", text)
    await service.settle()
    replies = texts(await service.messages("u-burst"))
    assert len(replies) == len(SEQUENCE)
    for reply, start in zip(replies, REPLY_STARTS, strict=True):
        assert reply.startswith(start), (reply, start)


async def test_body_that_is_not_an_event_gets_400(service: Service) -> None:
    resp = await service.http.post(f"{service.url}/webhook/zalo", data=b"{not json")
    assert resp.status == 400
    resp = await service.http.post(f"{service.url}/webhook/zalo", json=[1, 2, 3])
    assert resp.status == 400


async def test_oversized_body_is_refused(service: Service) -> None:
    event = service.event("u-big", text="a" * (service.settings.max_body_bytes + 10))
    resp = await service.post_event(event)
    assert resp.status == 413


async def test_healthz_reports_the_loaded_model(service: Service) -> None:
    async with service.http.get(f"{service.url}/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200
    assert body["model"].startswith("citizenbot-")
    assert body["sandbox"] is True


async def inbox_size(service: Service) -> int:
    return await service.database.run(
        lambda db: db.conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0]
    )


async def test_the_consoles_unsigned_empty_probe_gets_200_and_nothing_is_recorded(
    service: Service,
) -> None:
    """Setting the webhook URL in Zalo's developer console may POST `{}`, unsigned."""
    resp = await service.http.post(
        f"{service.url}/webhook/zalo", data=b"{}", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 200
    await service.settle()
    assert await inbox_size(service) == 0


async def test_a_get_of_the_webhook_url_gets_200_and_nothing_is_recorded(service: Service) -> None:
    async with service.http.get(f"{service.url}/webhook/zalo") as resp:
        assert resp.status == 200
    assert await inbox_size(service) == 0


async def test_anything_more_than_the_empty_probe_still_needs_the_signature(
    service: Service,
) -> None:
    now = str(int(time.time() * 1000))
    for body, status in (
        ({"timestamp": now}, 401),
        ({"event_name": "follow", "follower": {"id": "u-probe"}, "timestamp": now}, 401),
        ({"event_name": "follow"}, 400),  # no timestamp: not a Zalo event at all
    ):
        async with service.http.post(f"{service.url}/webhook/zalo", json=body) as resp:
            assert resp.status == status, body
    await service.settle()
    assert await inbox_size(service) == 0
