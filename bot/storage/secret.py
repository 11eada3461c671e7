"""The installation's secret key for keyed hashes of phone and ID numbers.

Taken from CITIZENBOT_SECRET_KEY, else generated once into the data directory (mode 600).
Losing it makes stored hashes unmatchable (owners are then verified by last 4 digits only).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def load_or_create(data_dir: Path) -> bytes:
    configured = os.environ.get("CITIZENBOT_SECRET_KEY")
    if configured:
        return configured.encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode()
