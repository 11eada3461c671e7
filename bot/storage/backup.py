"""Backups with SQLite's online backup API: consistent while the service keeps writing."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path


def backup(source: Path, destination_dir: Path) -> Path:
    """Copy `source` into `destination_dir/<name>-<UTC time>.db`; returns the new file."""
    destination_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = destination_dir / f"{source.stem}-{stamp}.db"
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=1024)  # in steps, so writers are never blocked for long
    with sqlite3.connect(target) as check:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        target.unlink()
        raise RuntimeError(f"the backup of {source} failed its integrity check: {result}")
    return target
