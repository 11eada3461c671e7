"""Backups with SQLite's online backup API: consistent while the service keeps writing."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path

from bot.storage.database import create_private

STAMP = "%Y%m%dT%H%M%SZ"
_BACKUP_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)\.db$")


def backup(source: Path, destination_dir: Path) -> Path:
    """Copy `source` into `destination_dir/<name>-<UTC time>.db`; returns the new file."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime(STAMP)
    target = destination_dir / f"{source.stem}-{stamp}.db"
    create_private(target)  # a copy of citizens' messages and the OA's tokens
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst, pages=1024)  # in steps, so writers are never blocked for long
    with sqlite3.connect(target) as check:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        target.unlink()
        raise RuntimeError(f"the backup of {source} failed its integrity check: {result}")
    return target


def expire(destination_dir: Path, stems: set[str], keep_days: int, now: dt.datetime) -> list[Path]:
    """Delete the backups of these databases older than `keep_days`: a backup must not keep
    message logs past their retention period. Returns the files deleted."""
    deleted = []
    for path in sorted(destination_dir.glob("*.db")):
        match = _BACKUP_NAME.match(path.name)
        if match is None or match["stem"] not in stems:
            continue  # not ours: left alone
        taken = dt.datetime.strptime(match["stamp"], STAMP).replace(tzinfo=dt.timezone.utc)
        if now - taken > dt.timedelta(days=keep_days):
            path.unlink()
            deleted.append(path)
    return deleted
