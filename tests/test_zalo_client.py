"""The Zalo client against the sandbox's real error answers: tokens, retries, outbox."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import aiohttp

from bot.storage import Database, outbox, token_records
from bot.web.app import PROCESSING, SERVICES
from bot.zalo.access_token import TOKEN_NAME, AccessTokens
from tests.conftest import Service


async def _outbox(service: Service, user_id: str) -> list[dict]:
    return await service.database.run(outbox.for_user, user_id)


async def _stored_token_pair(service: Service, user: str) -> dict:
    """The pair stored once `user` was answered (the service's first refresh)."""
    await service.say(user, "/greet")
    await service.wait_for_messages(user, 1)
    return await service.database.run(token_records.load, TOKEN_NAME)


async def _expire_access_tokens(service: Service) -> None:
    async with service.http.post(f"{service.url}/sandbox/tokens/expire") as resp:
        assert resp.status == 200


async def test_expired_token_is_refreshed_and_the_message_still_delivered(service: Service) -> None:
    before = await _stored_token_pair(service, "u-token")
    await _expire_access_tokens(service)
    await service.say("u-token", "/thank")
    assert len(await service.wait_for_messages("u-token", 2)) == 2
    after = await service.database.run(token_records.load, TOKEN_NAME)
    # Single-use refresh tokens: the new pair was persisted and the old one is spent.
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert before["refresh_token"] not in service.sandbox.state.refresh_tokens


async def test_invalid_token_error_refreshes_once_and_retries(service: Service) -> None:
    await service.faults({"times": 1, "error": -216})
    await service.say("u-invalid", "/greet")
    await service.settle()
    assert len(await service.messages("u-invalid")) == 1
    [record] = await _outbox(service, "u-invalid")
    assert record["status"] == "sent"


async def test_zalo_5xx_is_retried_with_backoff(service: Service) -> None:
    await service.faults({"times": 2, "http_status": 503})
    await service.say("u-5xx", "/greet")
    await service.settle()
    assert len(await service.messages("u-5xx")) == 1
    [record] = await _outbox(service, "u-5xx")
    assert (record["status"], record["attempts"]) == ("sent", 3)


async def test_zalo_timeout_is_retried(service: Service) -> None:
    await service.faults({"times": 1, "delay_seconds": service.settings.zalo_timeout_seconds + 0.5})
    await service.say("u-timeout", "/greet")
    await service.settle()
    [record] = await _outbox(service, "u-timeout")
    assert (record["status"], record["attempts"]) == ("sent", 2)
    # Zalo took nothing before the timeout, so the retry sends; but it may still process
    # the late request: then the citizen gets the reply twice (docs/reliability.md).
    assert len(await service.messages("u-timeout")) >= 1


async def test_a_send_zalo_took_but_answered_too_late_is_not_sent_again(service: Service) -> None:
    late = service.settings.zalo_timeout_seconds + 0.5
    await service.faults({"times": 1, "delay_seconds": late, "after_accept": True})
    await service.say("u-late-answer", "/greet")
    await service.settle()
    [arrived] = service.sandbox.state.messages["u-late-answer"]  # once, no retry
    [record] = await _outbox(service, "u-late-answer")
    assert (record["status"], record["attempts"]) == ("sent", 1)
    assert record["zalo_message_id"] == arrived["message_id"]


async def test_rate_limit_is_retried(service: Service) -> None:
    await service.faults({"times": 1, "error": -32})
    await service.say("u-ratelimit", "/greet")
    await service.settle()
    [record] = await _outbox(service, "u-ratelimit")
    assert (record["status"], record["attempts"]) == ("sent", 2)


async def test_user_outside_the_7_day_window_is_recorded_unreachable_not_retried(
    service: Service,
) -> None:
    async with service.http.post(
        f"{service.url}/sandbox/users/u-stale", json={"outside_window": True}
    ) as resp:
        assert resp.status == 200
    await service.say("u-stale", "/greet")
    await service.settle()
    [record] = await _outbox(service, "u-stale")
    assert (record["status"], record["error_code"], record["attempts"]) == ("unreachable", -230, 1)
    assert await service.messages("u-stale") == []


async def test_persistent_outage_is_recorded_as_failed(service: Service) -> None:
    attempts = service.settings.zalo_max_attempts
    await service.faults({"times": attempts, "http_status": 502})
    await service.say("u-outage", "/greet")
    await service.settle()
    [record] = await _outbox(service, "u-outage")
    assert (record["status"], record["attempts"]) == ("failed", attempts)


# --- a send cut short by a crash: Zalo has no idempotency key ------------------------------


def _as_if_cut_short(db, idempotency_key: str) -> None:
    """The outbox row as a process killed between Zalo's answer and its record leaves it."""
    db.conn.execute(
        "UPDATE outbox SET status = 'pending', zalo_message_id = NULL WHERE idempotency_key = ?",
        (idempotency_key,),
    )


async def _send_again(service: Service, record: dict) -> str:
    """What re-processing the event after a restart does with that reply."""
    client = service.app[SERVICES].sender.client
    message = json.loads(record["message"])["message"]
    delivery = await service.app[PROCESSING].call(
        client.send_message(record["user_id"], message, record["idempotency_key"])
    )
    return delivery.status


async def test_a_reply_that_reached_zalo_before_a_crash_is_not_sent_again(
    service: Service,
) -> None:
    await service.say("u-cut", "/greet")
    await service.settle()
    [record] = await _outbox(service, "u-cut")
    [arrived] = service.sandbox.state.messages["u-cut"]
    await service.database.run(_as_if_cut_short, record["idempotency_key"])
    assert await _send_again(service, record) == "duplicate"
    assert len(await service.messages("u-cut")) == 1
    [record] = await _outbox(service, "u-cut")
    assert (record["status"], record["zalo_message_id"]) == ("sent", arrived["message_id"])


async def test_a_reply_lost_with_the_crash_is_sent_even_when_an_earlier_one_has_its_text(
    service: Service,
) -> None:
    for _ in range(2):  # the same question twice: two replies with the same text
        await service.say("u-lost", "/greet")
        await service.settle()
    first, second = await _outbox(service, "u-lost")
    assert json.loads(first["message"]) == json.loads(second["message"])
    service.sandbox.state.messages["u-lost"].pop()  # the second never reached Zalo
    await service.database.run(_as_if_cut_short, second["idempotency_key"])
    assert await _send_again(service, second) == "sent"  # the first's message is claimed
    assert len(await service.messages("u-lost")) == 2


async def test_template_endpoints_invalid_token_minus_124_refreshes_and_retries(
    service: Service,
) -> None:
    """-124 is how the ZNS/ZBS template endpoint says the access token is invalid."""
    await service.say("u-template", "/greet")
    await service.wait_for_messages("u-template", 1)
    before = await service.database.run(token_records.load, TOKEN_NAME)
    await service.faults({"times": 1, "error": -124})
    client = service.app[SERVICES].sender.client
    delivery = await service.app[PROCESSING].call(
        client.send_template("u-template", "tpl-1", {"ma_ho_so": "X"}, "template-124")
    )
    assert delivery.status == "sent"
    after = await service.database.run(token_records.load, TOKEN_NAME)
    assert after["access_token"] != before["access_token"]  # refreshed, as for -216
    [_, template] = service.sandbox.state.messages["u-template"]
    assert template["message"]["template_id"] == "tpl-1"
    [record] = [
        r for r in await _outbox(service, "u-template") if r["idempotency_key"] == "template-124"
    ]
    assert (record["status"], record["attempts"]) == ("sent", 1)


async def test_a_refresh_zalo_made_but_answered_slowly_is_waited_for(service: Service) -> None:
    """Given up on after a send's timeout, its answer (the next single-use refresh token) was
    lost and the OA had to be re-authorised."""
    before = await _stored_token_pair(service, "u-slow-refresh")
    slow = service.settings.zalo_timeout_seconds + 1
    await service.faults(
        {"times": 1, "delay_seconds": slow, "after_accept": True, "endpoint": "oauth"}
    )
    await _expire_access_tokens(service)
    await service.say("u-slow-refresh", "/thank")
    assert len(await service.wait_for_messages("u-slow-refresh", 2)) == 2
    after = await service.database.run(token_records.load, TOKEN_NAME)
    assert after["refresh_token"] != before["refresh_token"]
    assert after["refresh_token"] in service.sandbox.state.refresh_tokens


async def test_two_processes_refresh_the_single_use_token_one_at_a_time(service: Service) -> None:
    await service.say("u-two-processes", "/greet")
    await service.wait_for_messages("u-two-processes", 1)  # a token pair is stored
    rejected = (await service.database.run(token_records.load, TOKEN_NAME))["access_token"]
    # Two worker processes' tokens: each its own connection, session and in-process lock.
    databases = [Database.from_settings(service.settings) for _ in range(2)]
    async with aiohttp.ClientSession() as session:
        for database in databases:
            await database.open()
        try:
            refreshed = await asyncio.gather(
                *(AccessTokens(service.settings, db, session).refresh(rejected) for db in databases)
            )
        finally:
            for database in databases:
                await database.close()
    # One refresh: the other process found its result instead of spending the token again.
    assert refreshed[0] == refreshed[1] != rejected
    stored = await service.database.run(token_records.load, TOKEN_NAME)
    assert stored["access_token"] == refreshed[0]
    assert stored["refresh_token"] in service.sandbox.state.refresh_tokens


async def test_instances_on_two_machines_refresh_the_single_use_token_one_at_a_time(
    start_service, postgres_url: str, redis_url: str, tmp_path
) -> None:
    """Each machine its own token-lock file: only the Redis lock keeps them apart."""
    service = await start_service(database_url=postgres_url, redis_url=redis_url)
    await service.say("u-two-machines", "/greet")
    await service.wait_for_messages("u-two-machines", 1)  # a token pair is stored
    rejected = (await service.database.run(token_records.load, TOKEN_NAME))["access_token"]
    machines = [
        dataclasses.replace(service.settings, data_dir=tmp_path / f"machine-{n}") for n in range(2)
    ]
    databases = [Database.from_settings(settings) for settings in machines]
    for settings in machines:
        settings.data_dir.mkdir()
    async with aiohttp.ClientSession() as session:
        for database in databases:
            await database.open()
        try:
            refreshed = await asyncio.gather(
                *(
                    AccessTokens(settings, database, session).refresh(rejected)
                    for settings, database in zip(machines, databases, strict=True)
                )
            )
        finally:
            for database in databases:
                await database.close()
    assert refreshed[0] == refreshed[1] != rejected
    stored = await service.database.run(token_records.load, TOKEN_NAME)
    assert stored["refresh_token"] in service.sandbox.state.refresh_tokens
