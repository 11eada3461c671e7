"""Zalo's error codes (HTTP 200 with a negative `error`), sorted by what to do about them."""

from __future__ import annotations

RATE_LIMITED = -32
TOKEN_INVALID = -216
TOKEN_EXPIRED = -220
TEMPLATE_TOKEN_INVALID = -124  # the ZNS/ZBS template endpoint's "access token is invalid"
TOKEN_ERRORS = frozenset({TOKEN_INVALID, TOKEN_EXPIRED, TEMPLATE_TOKEN_INVALID})
# Worth another try later: rate limits, a full receive quota, generic send failure, night ban.
TEMPORARY = frozenset({RATE_LIMITED, -200, -218, -234})
# The user cannot be reached by this kind of message: never retry as if it were temporary.
UNREACHABLE = frozenset({-213, -217, -227, -230, -232, -244})


class ZaloApiError(Exception):
    """Zalo refused a call; `code` is its negative error number (or the HTTP status)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code
        self.message = message

    @property
    def temporary(self) -> bool:
        return self.code in TEMPORARY or self.code >= 500


class ZaloUnavailable(Exception):
    """No answer: a timeout, a dropped connection or a 5xx."""


class ZaloNoAnswer(ZaloUnavailable):
    """A timeout or a dropped connection: Zalo may have taken the request all the same."""
