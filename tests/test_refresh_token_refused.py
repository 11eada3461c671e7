"""Zalo refuses the refresh token in the middle of a burst: the service says so at CRITICAL,
records the replies as failed (once each, not retried forever) and keeps running; once an
officer has re-authorised the OA and set the new ZALO_REFRESH_TOKEN, replies go out again."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from bot.brain.agent import Brain
from bot.storage import inbox, outbox, token_records
from bot.zalo.access_token import TOKEN_NAME
from tests.conftest import PROJECT, Service, free_port
from tests.external_zalo import SEED_REFRESH_TOKEN, ExternalZalo, post_webhook, signed

USERS = 12
REAUTHORISED_REFRESH_TOKEN = "refresh-token-after-reauthorisation"


async def wait_for(condition, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def start_service(zalo: ExternalZalo, brain: Brain, data_dir: Path, port: int, refresh: str):
    settings = zalo.settings(
        refresh,
        port=port,
        data_dir=data_dir,
        content_dir=PROJECT / "content",
        zalo_timeout_seconds=1.0,
        zalo_backoff_seconds=0.01,
    )
    service = Service(settings, brain)
    await service.start()
    return service


async def test_refused_refresh_token_fails_replies_loudly_until_the_oa_is_reauthorised(
    brain: Brain, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    zalo = ExternalZalo()
    await zalo.start()
    port = free_port()
    service = await start_service(zalo, brain, tmp_path / "var", port, SEED_REFRESH_TOKEN)
    try:
        async with aiohttp.ClientSession() as http:
            warm_up = zalo.text_event("u-before", "/greet")
            assert await post_webhook(http, service.url, *signed(warm_up)) == 200
            await wait_for(lambda: zalo.delivered() == 1)

            burst = [zalo.text_event(f"u-refused-{n}", "/greet") for n in range(USERS)]
            revoked = False

            async def send(n: int) -> int | None:
                nonlocal revoked
                await asyncio.sleep(n * 0.1)
                if not revoked and zalo.delivered() >= 3:
                    # Mid-burst the refresh token stops working (revoked, or its 3 months are
                    # over) just as the access token expires.
                    revoked = True
                    zalo.sandbox.state.refresh_tokens.clear()
                    async with http.post(f"{zalo.url}/tokens/expire") as resp:
                        assert resp.status == 200
                return await post_webhook(http, service.url, *signed(burst[n]))

            assert await asyncio.gather(*(send(n) for n in range(USERS))) == [200] * USERS
            assert revoked
            await service.settle()
            async with http.get(f"{service.url}/healthz") as resp:
                assert resp.status == 200  # still serving

            rows = {
                f"u-refused-{n}": await service.database.run(outbox.for_user, f"u-refused-{n}")
                for n in range(USERS)
            }
            for event in burst:
                key = event["message"]["msg_id"]
                assert await service.database.run(inbox.status_of, key) == "done"
            outcome = Counter(row["status"] for user in rows.values() for row in user)
            assert set(outcome) == {"sent", "failed"} and sum(outcome.values()) == USERS, outcome
            for user_id, [row] in rows.items():
                delivered = zalo.messages(user_id)
                if row["status"] == "sent":
                    assert len(delivered) == 1
                else:  # one try, no retries with a token Zalo will never accept again
                    assert (row["error_code"], row["attempts"], delivered) == (-216, 1, [])
            criticals = [
                r
                for r in caplog.records
                if r.levelno == logging.CRITICAL and r.name == "bot.zalo.access_token"
            ]
            assert len(criticals) == 1  # said once, not once per reply
            assert "re-authorise" in criticals[0].getMessage()
            assert not [r for r in caplog.records if r.exc_info], "something crashed"
            failed_users = [user_id for user_id, [row] in rows.items() if row["status"] == "failed"]

            # An officer authorises the OA again and sets the new refresh token; restarted,
            # the service starts a new token chain from it.
            zalo.sandbox.state.refresh_tokens.add(REAUTHORISED_REFRESH_TOKEN)
            await service.close()
            service = await start_service(
                zalo, brain, tmp_path / "var", port, REAUTHORISED_REFRESH_TOKEN
            )
            later = [zalo.text_event(user_id, "/thank") for user_id in [*failed_users, "u-after"]]
            for event in later:
                assert await post_webhook(http, service.url, *signed(event)) == 200
            await service.settle()
            for event in later:
                user_id = event["sender"]["id"]
                [row] = [
                    r
                    for r in await service.database.run(outbox.for_user, user_id)
                    if r["idempotency_key"].startswith(event["message"]["msg_id"])
                ]
                assert row["status"] == "sent"
                assert zalo.messages(user_id)[-1]["message_id"] == row["zalo_message_id"]
            stored = await service.database.run(token_records.load, TOKEN_NAME)
            assert stored["refresh_token"] in zalo.sandbox.state.refresh_tokens
    finally:
        await service.close()
        await zalo.stop()


async def test_a_rate_limited_refresh_is_tried_again_not_taken_for_a_refusal(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """-32 answers the refresh when Zalo is counting calls: the refresh token is still good."""
    await service.say("u-refresh-limited", "/greet")
    await service.wait_for_messages("u-refresh-limited", 1)
    async with service.http.post(f"{service.url}/sandbox/tokens/expire") as resp:
        assert resp.status == 200
    await service.faults({"times": 1, "error": -32, "endpoint": "oauth"})
    await service.say("u-refresh-limited", "/thank")
    await service.settle()
    assert len(await service.messages("u-refresh-limited")) == 2
    rows = await service.database.run(outbox.for_user, "u-refresh-limited")
    assert [row["status"] for row in rows] == ["sent", "sent"]
    assert not [r for r in caplog.records if r.levelno == logging.CRITICAL]
