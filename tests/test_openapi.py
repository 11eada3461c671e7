"""schemathesis against `citizenbot run` in its own process, from bot/web/openapi.yaml: every
answer is documented (status code, content type, body schema) and none is a server error,
for the dossier API with and without its token and for Zalo's webhook, unsigned and signed.

Unsigned webhook calls can only get 400 (not a Zalo event), 401 (wrong signature), or 200 for
the console's empty probe `{}` (nothing recorded): that is the point of the signature. The
signed run computes the real signature over the exact bytes sent, with a current timestamp,
so generated events get past it and are recorded.

OPENAPI_EXAMPLES sets hypothesis' examples per operation and run (100 by default: about a
minute in all on a quiet machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from bot.settings import SANDBOX_APP_ID, SANDBOX_OA_SECRET_KEY
from bot.zalo import signature
from tests.conftest import PROJECT, free_port

EXAMPLES = int(os.environ.get("OPENAPI_EXAMPLES", "100"))
OPENAPI = PROJECT / "bot" / "web" / "openapi.yaml"
PORT = free_port()
URL = f"http://127.0.0.1:{PORT}"
TOKEN = "openapi-test-token"

RUN = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# The service is tolerant where the description states the canonical form (phone numbers
# with any separators, a dossier code in lower case or with spaces around it, a JSON number
# for a phone, "detail": null): data the description calls invalid may be accepted, so
# "invalid data must be refused" does not hold by design. Every other check runs.
TOLERANT = [negative_data_rejection]


def load(*modes: GenerationMode) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_path(OPENAPI)
    schema.config.update(base_url=URL)
    schema.config.generation.update(modes=list(modes))
    return schema


schema = load(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
dossier_api = schema.include(operation_id="putDossierStatus")
positive_webhook = load(GenerationMode.POSITIVE).include(operation_id="receiveZaloEvent")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`citizenbot run` with the dossier API on; its log file."""
    data_dir = tmp_path_factory.mktemp("openapi")
    env = {
        **os.environ,
        "PORT": str(PORT),
        "CITIZENBOT_DATA_DIR": str(data_dir),
        "CITIZENBOT_API_TOKEN": TOKEN,
        # Every run sends wrong tokens on purpose (hundreds): past 10 an address would get
        # 429 for ten minutes. The limits have their own tests (tests/test_rate_limit.py).
        "CITIZENBOT_AUTH_FAILURE_LIMIT": "off",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    log_path = data_dir / "service.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=env, stdout=log, stderr=log
        )
    for _ in range(240):
        try:
            with urllib.request.urlopen(f"{URL}/healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("the service did not start: " + log_path.read_text()[-2000:])
    yield log_path
    process.terminate()
    process.wait(timeout=60)
    assert "Traceback" not in log_path.read_text(), "the service logged a crash"


def with_token(case: schemathesis.Case) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"} if case.path.startswith("/api/") else {}


@RUN
@schema.parametrize()
def test_every_answer_is_documented_and_never_a_server_error(
    service: Path, case: schemathesis.Case
) -> None:
    """With the token where one is needed; schemathesis' auth check also sends each
    dossier request without it and with a wrong one and expects 401."""
    case.call_and_validate(headers=with_token(case), excluded_checks=TOLERANT)


@RUN
@dossier_api.parametrize()
def test_dossier_api_without_the_right_token_answers_401_whatever_the_request(
    service: Path, case: schemathesis.Case
) -> None:
    # schemathesis also tries other methods on the path: those get 405 before any token check
    expected = 401 if case.method == "PUT" else 405
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic b3BlbmFwaQ=="}):
        response = case.call(headers=headers)
        assert response.status_code == expected, response.text
        case.validate_response(response, excluded_checks=TOLERANT)


@RUN
@positive_webhook.parametrize()
def test_signed_webhook_events_are_acknowledged_and_documented(
    service: Path, case: schemathesis.Case
) -> None:
    """Sign the exact bytes sent (app_id + body + timestamp + OA secret key), with a
    timestamp inside the replay window: every event the description allows gets 200."""
    case.body["timestamp"] = str(int(time.time() * 1000))
    raw = json.dumps(case.body, ensure_ascii=False).encode()
    mac = signature.header_value(SANDBOX_APP_ID, raw, case.body["timestamp"], SANDBOX_OA_SECRET_KEY)
    sent = case.as_transport_kwargs(headers={signature.HEADER: mac})
    sent.pop("json", None)
    response = requests.request(**sent, data=raw, timeout=10)
    assert response.status_code == 200, response.text
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )


def test_the_description_is_served_as_it_is_in_the_repository(service: Path) -> None:
    with urllib.request.urlopen(f"{URL}/openapi.yaml", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("application/yaml")
        assert response.read().decode() == OPENAPI.read_text(encoding="utf-8")


def test_the_service_still_answers_after_the_runs(service: Path) -> None:
    with urllib.request.urlopen(f"{URL}/healthz", timeout=5) as response:
        assert json.loads(response.read())["status"] == "ok"
