"""Zalo's webhook signature: plain SHA-256 of app_id + raw body + timestamp + OA secret key.

Not an HMAC (see Zalo's Java SDK `MacUtils.buildMac`); the raw body is the exact bytes
received, never re-serialised JSON.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-ZEvent-Signature"


def compute(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    digest = hashlib.sha256()
    digest.update(app_id.encode())
    digest.update(raw_body)
    digest.update(timestamp.encode())
    digest.update(secret.encode())
    return digest.hexdigest()


def header_value(app_id: str, raw_body: bytes, timestamp: str, secret: str) -> str:
    return "mac=" + compute(app_id, raw_body, timestamp, secret)


def is_valid(header: str | None, app_id: str, raw_body: bytes, timestamp: str, secret: str) -> bool:
    if not header or not header.startswith("mac="):
        return False
    expected = compute(app_id, raw_body, timestamp, secret)
    return hmac.compare_digest(header[4:].strip().lower().encode(), expected.encode())
