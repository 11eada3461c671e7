"""The first reply states what was asked, for every question of tests/answers.yml."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.brain.agent import Brain
from bot.brain.answer_evaluation import first_replies, load_cases, missing_facts, rate

ANSWERS = Path(__file__).with_name("answers.yml")


def test_a_fact_counts_with_any_case_and_spacing() -> None:
    reply = "Lệ phí:  15.000 đồng nộp trực tiếp"
    assert missing_facts(reply, ("lệ phí: 15.000", "7.000")) == ("7.000",)


async def test_first_replies_state_the_asked_facts(brain: Brain) -> None:
    cases = load_cases(ANSWERS)
    floor = yaml.safe_load(ANSWERS.read_text(encoding="utf-8"))["min_rate"]
    results = await first_replies(brain, Path(__file__).parent.parent / "content", cases)
    misses = [(r.case.text, r.missing, r.first_reply[:120]) for r in results if r.missing]
    assert rate(results) >= floor, misses
