"""One scheduler per database: two would fire every campaign and reminder twice.

An exclusive `flock` on a file beside the database. The kernel releases it when the
process ends, however it ends, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import socket
from pathlib import Path


class SchedulerLocked(RuntimeError):
    """Another scheduler already runs on this database."""


class SchedulerLock:
    def __init__(self, database_path: Path) -> None:
        self.database_path = database_path
        self.path = database_path.with_name(database_path.name + ".scheduler-lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock at once or raise SchedulerLocked naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise SchedulerLocked(
                f"another citizenbot scheduler already runs on {self.database_path} "
                f"({holder}); only one may run per database: stop it, or give this service "
                "its own CITIZENBOT_DATA_DIR"
            ) from None
        since = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
