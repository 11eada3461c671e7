"""`citizenbot run` without a usable model: it refuses to start and says what to run,
without a traceback. The models are copies in a temporary directory (CITIZENBOT_MODEL_DIR)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.brain.training import current_model
from tests.conftest import PROJECT, free_port


def run_without_a_usable_model(model_dir: Path, data_dir: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PORT": str(free_port()),
        "CITIZENBOT_DATA_DIR": str(data_dir),
        "CITIZENBOT_MODEL_DIR": str(model_dir),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_refused_with_advice(result: subprocess.CompletedProcess, problem: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    [line] = [line for line in result.stderr.splitlines() if line.startswith("citizenbot:")]
    assert line.startswith("citizenbot: cannot start:"), line
    assert problem in line and "run `citizenbot train`" in line, line
    assert "serving on" not in result.stdout


def test_run_refuses_to_start_without_a_trained_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    result = run_without_a_usable_model(models, tmp_path / "var")
    assert_refused_with_advice(result, f"no trained model in {models}/")


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_run_refuses_to_start_with_a_corrupt_model(
    damage: str, model_dir: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    real = current_model(model_dir)
    broken = models / real.name
    if damage == "garbage":
        broken.write_bytes(os.urandom(64 * 1024))
    else:  # a copy cut short, as by a full disk or an interrupted transfer
        broken.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    result = run_without_a_usable_model(models, tmp_path / "var")
    assert_refused_with_advice(result, f"the model {broken} could not be loaded")
