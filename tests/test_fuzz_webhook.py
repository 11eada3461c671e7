"""Hostile and malformed webhook input against `citizenbot run` in its own process: always an
answer below 500, and the queue drains afterwards (nothing stuck)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.settings import SANDBOX_APP_ID, SANDBOX_OA_SECRET_KEY
from bot.zalo import signature
from tests.conftest import PROJECT, free_port

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
STATUSES: list[int] = []

# Unicode that trips naive code: combining marks, RTL, zero-width, emoji, NUL, surrogates' kin.
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=("Cs",)),  # JSON from Zalo is valid UTF-8
        st.sampled_from(
            [
                "\u0301",
                "\u0323",
                "\u202e",
                "\u200b",
                "\u200d",
                "\ufeff",
                "👍",
                "\U0001f3fd",
                "\x00",
                "đ",
                "Đ",
                "ệ",
                "\u0110",
            ]
        ),
    ),
    max_size=300,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ODD_TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("fuzz")
    env = {
        **os.environ,
        "PORT": str(port),
        "CITIZENBOT_DATA_DIR": str(data_dir),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    log = (data_dir / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the service did not start: " + Path(log.name).read_text()[-2000:])
    yield url
    process.terminate()
    process.wait(timeout=60)
    assert "Traceback" not in Path(log.name).read_text(), "the service logged a crash"


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        f"{url}/webhook/zalo", data=body, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    STATUSES.append(status)
    return status


def signed(body: bytes, timestamp: str) -> dict[str, str]:
    mac = signature.header_value(SANDBOX_APP_ID, body, timestamp, SANDBOX_OA_SECRET_KEY)
    return {signature.HEADER: mac, "Content-Type": "application/json"}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(body=st.binary(max_size=2000))
def test_random_bytes_are_refused_cleanly(service_url: str, body: bytes) -> None:
    assert post(service_url, body, {"Content-Type": "application/json"}) < 500


@FUZZ
@given(payload=JSON_VALUES)
def test_any_signed_json_gets_an_answer_below_500(service_url: str, payload: object) -> None:
    body = json.dumps({"data": payload, "timestamp": str(int(time.time() * 1000))}).encode()
    timestamp = json.loads(body)["timestamp"]
    assert post(service_url, body, signed(body, timestamp)) < 500


@FUZZ
@given(
    event_name=st.sampled_from(
        [
            "user_send_text",
            "user_send_image",
            "follow",
            "unfollow",
            "oa_send_text",
            "user_seen_message",
            "user_submit_info",
        ]
    )
    | st.text(max_size=30),
    sender=JSON_VALUES,
    message=JSON_VALUES,
    text=ODD_TEXT,
)
def test_signed_events_with_wrong_types_and_odd_text_never_fail(
    service_url: str, event_name: str, sender: object, message: object, text: str
) -> None:
    timestamp = str(int(time.time() * 1000))
    event = {
        "event_name": event_name,
        "app_id": SANDBOX_APP_ID,
        "timestamp": timestamp,
        "sender": sender,
        "follower": sender,
        "recipient": {"id": "oa"},
        "message": message if not isinstance(message, dict) else {**message, "text": text},
    }
    body = json.dumps(event, ensure_ascii=False).encode()
    assert post(service_url, body, signed(body, timestamp)) < 500


def test_after_the_fuzzing_the_queue_drains_and_the_bot_still_answers(service_url: str) -> None:
    for _ in range(240):
        with urllib.request.urlopen(f"{service_url}/healthz") as response:
            if json.loads(response.read())["queued_events"] == 0:
                break
        time.sleep(0.5)
    else:
        pytest.fail("events are stuck in the queue")
    timestamp = str(int(time.time() * 1000))
    event = {
        "event_name": "user_send_text",
        "app_id": SANDBOX_APP_ID,
        "timestamp": timestamp,
        "sender": {"id": "u-after-fuzz"},
        "recipient": {"id": "oa"},
        "message": {"msg_id": f"after-fuzz-{timestamp}", "text": "/greet"},
    }
    body = json.dumps(event).encode()
    assert post(service_url, body, signed(body, timestamp)) == 200
    for _ in range(100):
        with urllib.request.urlopen(f"{service_url}/sandbox/messages?user_id=u-after-fuzz") as r:
            if json.loads(r.read())["messages"]:
                break
        time.sleep(0.2)
    else:
        pytest.fail("the bot no longer answers after the fuzzing")
    print(f"\nfuzzing: {len(STATUSES)} requests, answers {sorted(set(STATUSES))}, none ≥ 500")
