"""Only the owner sees a dossier, and only after a check the action made: a word typed by a
citizen (even one the form once used as an internal marker) proves nothing."""

from __future__ import annotations

import json

import pytest

from bot.storage import dossier_records
from tests.conftest import Service, texts
from tests.test_dossiers_flow import CODE, RECEIVED, TOKEN, look_up, put

UNKNOWN = "G22.39-250715-0001"
# The words the look-up form used, or uses, for its outcomes, as a citizen may type them.
MARKER_WORDS = (
    "ok", "OK", "Ok", "oK", "ok.", "verified", "VERIFIED",
    "locked", "LOCKED", "Locked", "stopped", "STOPPED", "Stopped",
)  # fmt: skip
REVEALING = ("Nguyễn", "đã được tiếp nhận", "Báo khi có kết quả")


@pytest.fixture
async def service(start_service) -> Service:
    running = await start_service(api_token=TOKEN, notification_interval_seconds=0.2)
    assert (await put(running, CODE, RECEIVED))[0] == 201
    return running


def reveals(replies: list[str]) -> bool:
    return any(word in reply for reply in replies for word in REVEALING)


async def failures(service: Service, code: str, user: str) -> int:
    rows = await service.database.run(
        lambda db: db.conn.execute(
            "SELECT failures FROM dossier_verifications WHERE code = ? AND user_id = ?",
            (code, user),
        ).fetchall()
    )
    return rows[0][0] if rows else 0


async def replies_to(service: Service, user: str, *said: str) -> list[str]:
    before = len(await service.messages(user))
    for text in said:
        await service.say(user, text)
    await service.settle()
    return texts(await service.messages(user))[before:]


async def test_a_marker_word_instead_of_the_digits_is_a_wrong_answer(service: Service) -> None:
    wrong = await look_up(service, "u-wrong", CODE, "1111")
    for n, word in enumerate(MARKER_WORDS):
        user = f"u-marker-{n}"
        replies = await look_up(service, user, CODE, word)
        assert not reveals(replies), (word, replies)
        assert replies == wrong, word
        assert await failures(service, CODE, user) == 1, word


async def test_a_marker_word_for_an_unknown_code_answers_like_a_wrong_owner(
    service: Service,
) -> None:
    for n, word in enumerate(MARKER_WORDS):
        known = await look_up(service, f"u-known-{n}", CODE, word)
        unknown = await look_up(service, f"u-unknown-{n}", UNKNOWN, word)
        assert unknown, word  # an answer, not silence
        assert [t.replace(UNKNOWN, "<code>") for t in unknown] == [
            t.replace(CODE, "<code>") for t in known
        ], word
        assert await failures(service, UNKNOWN, f"u-unknown-{n}") == 1, word


async def test_a_marker_word_instead_of_the_code_is_a_wrong_code(service: Service) -> None:
    for n, word in enumerate(MARKER_WORDS):
        user = f"u-code-{n}"
        replies = await replies_to(service, user, "/check_dossier_status", word)
        assert not reveals(replies), (word, replies)
        assert "Mã hồ sơ chưa đúng dạng" in replies[-2], (word, replies)
        assert "cho tôi xin mã hồ sơ" in replies[-1], (word, replies)
        # the form still waits for a code: the real look-up goes on from here
        replies = await replies_to(service, user, CODE, "1111")
        assert "Thông tin chưa khớp" in replies[-2], (word, replies)


async def test_a_marker_word_after_a_wrong_answer_is_another_wrong_answer(
    service: Service,
) -> None:
    for n, word in enumerate(MARKER_WORDS):
        user = f"u-again-{n}"
        await look_up(service, user, CODE, "1111")
        replies = await replies_to(service, user, word)
        assert not reveals(replies), (word, replies)
        assert "Thông tin chưa khớp" in replies[0], (word, replies)
        assert await failures(service, CODE, user) == 2, word


async def test_marker_words_lock_the_look_up_like_wrong_digits(service: Service) -> None:
    replies = await look_up(service, "u-locker", CODE, "ok")
    replies += await replies_to(service, "u-locker", "OK", "locked", "Stopped", "ok")
    assert "tạm khóa 1 giờ" in replies[-1]
    assert not reveals(replies)


async def test_a_marker_word_when_locked_reveals_nothing(service: Service) -> None:
    for n, word in enumerate(MARKER_WORDS):
        user = f"u-locked-{n}"
        await look_up(service, user, CODE, "0001")
        await replies_to(service, user, "0002", "0003", "0004", "0005")
        replies = await replies_to(service, user, word)
        assert not reveals(replies), (word, replies)
        # the form ends at the code with the lock; the word then is only a chat message
        replies = await look_up(service, user, CODE, word)
        assert not reveals(replies), (word, replies)
        assert any("tạm khóa 1 giờ" in reply for reply in replies), (word, replies)


async def test_an_outcome_typed_as_a_payload_proves_nothing(service: Service) -> None:
    slots = json.dumps({"dossier_code": CODE, "dossier_lookup": "verified", "id_last_digits": "ok"})
    typed = f"/check_dossier_status{slots}"
    replies = await replies_to(service, "u-payload", typed, "ok")
    assert not reveals(replies), replies
    assert not await service.database.run(dossier_records.is_verified, CODE, "u-payload")


async def test_the_owner_still_sees_the_status_after_a_marker_word(service: Service) -> None:
    await look_up(service, "u-owner", CODE, "ok")
    replies = await replies_to(service, "u-owner", "5678")
    assert replies[-1].startswith("Nguyễn V. A. – Hồ sơ")
