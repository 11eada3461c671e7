"""Does the first reply state what was asked? Real-shaped questions (tests/answers.yml), each
with the facts its first reply must state, sent through the whole service and its Zalo
sandbox as new citizens would send them.

Intent accuracy says where a question went; this says whether the citizen got the answer.
"""

from __future__ import annotations

import socket
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml
from aiohttp import web

from bot.brain.agent import Brain
from bot.settings import Settings


@dataclass(frozen=True)
class AnswerCase:
    text: str
    facts: tuple[str, ...]  # every one must appear in the first reply
    style: str


@dataclass(frozen=True)
class AnswerResult:
    case: AnswerCase
    first_reply: str
    missing: tuple[str, ...]

    @property
    def states_the_facts(self) -> bool:
        return not self.missing


def load_cases(path: Path) -> list[AnswerCase]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        AnswerCase(str(item["text"]), tuple(str(f) for f in item["facts"]), item.get("style", ""))
        for item in data["questions"]
    ]


def _plain(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


def missing_facts(reply: str, facts: tuple[str, ...]) -> tuple[str, ...]:
    said = _plain(reply)
    return tuple(fact for fact in facts if _plain(fact) not in said)


async def first_replies(
    brain: Brain, content_dir: Path, cases: list[AnswerCase]
) -> list[AnswerResult]:
    """Send every case as a new citizen through a service on a loopback port; their first
    replies, checked."""
    from bot.web.app import SANDBOX, WORKER, build_app

    with tempfile.TemporaryDirectory(prefix="answer-eval-") as data_dir:
        settings = Settings.from_env(
            {}, port=_free_port(), data_dir=Path(data_dir), content_dir=content_dir
        )
        app = build_app(settings, brain)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.host, settings.port).start()
        try:
            sandbox = app[SANDBOX]
            for n, case in enumerate(cases):
                status = await sandbox.deliver(
                    sandbox.event(f"answers-{n}", "user_send_text", case.text)
                )
                if status != 200:
                    raise RuntimeError(f"the webhook answered {status} to question {n + 1}")
            await app[WORKER].drain()
            results = []
            for n, case in enumerate(cases):
                sent = sandbox.state.messages.get(f"answers-{n}", [])
                reply = sent[0]["message"].get("text", "") if sent else ""
                results.append(AnswerResult(case, reply, missing_facts(reply, case.facts)))
            return results
        finally:
            await runner.cleanup()


def rate(results: list[AnswerResult]) -> float:
    return sum(r.states_the_facts for r in results) / len(results) if results else 0.0


def markdown(path: Path, results: list[AnswerResult]) -> list[str]:
    """The report's section: the rate overall and by style, then the misses."""
    by_style = Counter(r.case.style for r in results)
    stated = Counter(r.case.style for r in results if r.states_the_facts)
    lines = [
        f"## `{path}`: first reply states the asked fact",
        "",
        f"{sum(stated.values())} of {len(results)} questions ({100 * rate(results):.1f}%): "
        "each sent as a new citizen through the service and its sandbox; the first message "
        "of the reply must hold every listed fact.",
        "",
        "| style | questions | stated |",
        "|---|---|---|",
    ]
    lines += [
        f"| {style} | {count} | {100 * stated[style] / count:.1f}% |"
        for style, count in sorted(by_style.items())
    ]
    misses = [r for r in results if not r.states_the_facts]
    if misses:
        lines += ["", "Misses (question → facts missing from the first reply):", ""]
        lines += [f"- {r.case.text[:90]} → {', '.join(r.missing)}" for r in misses]
    return lines + [""]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
