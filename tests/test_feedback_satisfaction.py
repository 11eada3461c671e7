"""Satisfaction: asked once after a guide's last step; button scores and words recorded."""

from __future__ import annotations

import pytest

from actions.feedback_form import plain
from actions.satisfaction_answers import verdict_of
from bot.storage import ratings
from tests.conftest import Service, button_titles, project_library, texts

CHOICES = ["Rất hài lòng", "Hài lòng", "Chưa hài lòng"]


async def test_the_last_step_of_a_guide_asks_once_how_satisfied_the_citizen_is(
    service: Service,
) -> None:
    steps = len(project_library().guide_for("proc_birth_registration").steps)
    await service.say("u-guide-end", "/proc_birth_registration")
    for _ in range(steps + 1):  # one more than needed: the question is not asked again
        await service.say("u-guide-end", "/next_step")
    await service.settle()
    messages = await service.messages("u-guide-end")
    asked = [m for m in messages if button_titles(m) == CHOICES]
    assert len(asked) == 1
    assert "hài lòng" in asked[0]["text"]
    payload = asked[0]["attachment"]["payload"]["buttons"][1]["payload"]
    await service.say("u-guide-end", payload)
    await service.settle()
    [rating] = await service.database.run(ratings.for_user, "u-guide-end")
    assert (rating["score"], rating["subject"]) == ("satisfied", "guide:khai-sinh")


async def test_unsatisfied_citizen_is_offered_the_feedback_form(service: Service) -> None:
    await service.say("u-unhappy", '/rate_service{"rating": "unsatisfied"}')
    await service.settle()
    last = (await service.messages("u-unhappy"))[-1]
    assert button_titles(last) == ["Gửi phản ánh"]


async def test_words_about_the_service_are_kept_and_answered_with_the_question(
    service: Service,
) -> None:
    await service.say("u-words", "/rate_service")
    await service.settle()
    [rating] = await service.database.run(ratings.for_user, "u-words")
    assert (rating["score"], rating["comment"]) == (None, "/rate_service")
    assert button_titles((await service.messages("u-words"))[-1]) == CHOICES


async def test_a_typed_choice_counts_as_a_score(service: Service) -> None:
    await service.say("u-typed", "rất hài lòng")
    await service.settle()
    [rating] = await service.database.run(ratings.for_user, "u-typed")
    assert rating["score"] == "very_satisfied"
    assert "Cảm ơn" in texts(await service.messages("u-typed"))[-1]


async def test_a_typed_verdict_is_scored_and_a_complaint_offered(service: Service) -> None:
    # It was kept as a comment and answered "có hài lòng với sự hỗ trợ vừa rồi không?".
    await service.say("u-verdict", "nhân viên một cửa thái độ rất tệ")
    await service.settle()
    [rating] = await service.database.run(ratings.for_user, "u-verdict")
    assert (rating["score"], rating["comment"]) == (
        "unsatisfied",
        "nhân viên một cửa thái độ rất tệ",
    )
    assert button_titles((await service.messages("u-verdict"))[-1]) == ["Gửi phản ánh"]


@pytest.mark.parametrize(
    ("words", "score"),
    [
        ("can bo rat nhiet tinh", "very_satisfied"),
        ("làm nhanh, cán bộ vui vẻ", "satisfied"),
        ("cán bộ không nhiệt tình", "unsatisfied"),
        ("chờ lâu quá, bực mình", "unsatisfied"),
        ("hôm qua tôi lên xã", None),
        ("ad ơi tôi không hài lòng, hỏi mãi không ra", "unsatisfied"),  # "lòng," with its comma
        ("hôm qua tôi lên xã, cảm ơn", None),  # "cảm ơn" folds to "ổn"
        ("5 sao", "very_satisfied"),  # stars typed: asked again, the score was lost
        ("cho 4 sao thôi", "satisfied"),
        ("1 sao", "unsatisfied"),
    ],
)
def test_the_words_of_a_verdict_give_its_score(words: str, score: str | None) -> None:
    assert verdict_of(project_library(), plain(words)) == score
