"""The installation's secret key for keyed hashes of phone and ID numbers.

Taken from CITIZENBOT_SECRET_KEY, else generated once into the data directory (mode 600).
Losing it makes stored hashes unmatchable (owners are then verified by last 4 digits only).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path


def load_or_create(data_dir: Path) -> bytes:
    configured = os.environ.get("CITIZENBOT_SECRET_KEY")
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        _create_once(path)
    return path.read_text().strip().encode()


def _create_once(path: Path) -> None:
    """Write a key beside the target, then link it in: processes starting together on one
    data folder all read the one key that won, and never a half-written file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        with contextlib.suppress(FileExistsError):  # another process's key won: read that
            os.link(draft, path)
    finally:
        os.unlink(draft)
