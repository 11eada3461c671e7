"""The installation's secret key when several processes start on one data folder at once."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest

from bot.storage.secret import load_or_create


def _load_after(barrier: multiprocessing.synchronize.Barrier, data_dir: Path, keys) -> None:
    barrier.wait()
    keys.put(load_or_create(data_dir))


@pytest.fixture(autouse=True)
def _no_configured_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITIZENBOT_SECRET_KEY", raising=False)


def test_processes_starting_together_all_read_the_one_key(tmp_path: Path) -> None:
    # Two instances started together once crashed here: the second's exclusive create failed.
    context = multiprocessing.get_context("fork")
    starters = 6
    barrier = context.Barrier(starters)
    keys = context.Queue()
    processes = [
        context.Process(target=_load_after, args=(barrier, tmp_path / "var", keys))
        for _ in range(starters)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(30)
    assert [process.exitcode for process in processes] == [0] * starters
    read = {keys.get(timeout=5) for _ in range(starters)}
    assert len(read) == 1 and len(read.pop()) == 64
    key_file = tmp_path / "var" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(path.name for path in key_file.parent.iterdir()) == ["secret.key"]


def test_a_key_once_written_is_kept(tmp_path: Path) -> None:
    first = load_or_create(tmp_path)
    assert load_or_create(tmp_path) == first
