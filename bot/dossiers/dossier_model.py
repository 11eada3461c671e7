"""Dossiers as the one-stop system reports them, validated, with personal data reduced to
what verification needs: a masked name, and for phone and ID number a keyed hash and the
last 4 digits."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

from bot.storage.dossier_records import DossierUpdate

# The portal's codes: 000.00.24.H26-250101-0001, G22.39-250715-0001, H26.123-250930-0042.
# nlu/entities.yml holds the same pattern for the NLU (a test keeps the two equal).
CODE_PATTERN = r"(?:\d{3}\.\d{2}\.\d{2}\.[A-Za-z]\d{2}|[A-Za-z]\d{2}(?:\.\d{1,3}){1,2})-\d{6}-\d{4}"
CODE = re.compile(CODE_PATTERN)

# status → the detail fields it must carry
STATUSES: dict[str, tuple[str, ...]] = {
    "received": (),
    "processing": (),
    "need_documents": ("missing",),
    "result_ready": ("pickup_place", "pickup_date"),
    "returned": (),
    "rejected": ("reason",),
}
# Longest accepted texts (bot/web/openapi.yaml says the same): they end up in Zalo messages of
# at most 2,000 characters.
MAX_LENGTH = {"procedure": 300, "applicant_name": 200, "detail": 1000}
# RFC 3339 as other systems write it ("Z", 1 to 9 fraction digits), which Python 3.10's
# fromisoformat refuses: rewritten to "+00:00" and 6 digits before parsing.
_UTC = re.compile(r"[Zz]$")
_FRACTION = re.compile(r"(\d{2}:\d{2}:\d{2})\.(\d+)")


class InvalidDossier(ValueError):
    """An update that cannot be accepted; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def normalise_code(code: str) -> str:
    return code.strip().upper()


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def normalise_phone(value: str) -> str:
    """0912 345 678, +84912345678 and 84912345678 are the same number."""
    number = digits(value)
    if number.startswith("84") and len(number) == 11:
        number = "0" + number[2:]
    return number


def keyed_hash(value: str, secret: bytes) -> str:
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()


def mask_name(name: str) -> str:
    """ "Nguyễn Văn An" → "Nguyễn V. A.": enough for the owner to recognise, no more."""
    parts = name.split()
    if not parts:
        return ""
    return " ".join([parts[0]] + [p[0] + "." for p in parts[1:]])


def parse_update(code: str, body: Any, secret: bytes) -> DossierUpdate:
    """Validate one update (API body or CSV row); raise InvalidDossier naming the field."""
    code = normalise_code(code)
    if not CODE.fullmatch(code):
        raise InvalidDossier("code", "not a dossier code of the portal's format")
    if not isinstance(body, dict):
        raise InvalidDossier("body", "must be a JSON object")
    status = _text(body, "status")
    if status not in STATUSES:
        raise InvalidDossier("status", "must be one of " + ", ".join(STATUSES))
    detail_raw = body.get("detail") or {}
    if not isinstance(detail_raw, dict):
        raise InvalidDossier("detail", "must be an object")
    detail = {}
    for key in STATUSES[status]:
        value = detail_raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise InvalidDossier(f"detail.{key}", f"required when status is {status}")
        detail[key] = _checked(value.strip(), f"detail.{key}", MAX_LENGTH["detail"])
    if status == "result_ready":
        _date(detail["pickup_date"], "detail.pickup_date")
    occurred_at = _text(body, "occurred_at")
    when = _date(occurred_at, "occurred_at", with_time=True)
    phone = normalise_phone(str(body.get("phone") or ""))
    id_number = digits(str(body.get("id_number") or ""))
    if phone and not re.fullmatch(r"0\d{9}", phone):
        raise InvalidDossier("phone", "not a Vietnamese phone number")
    if id_number and len(id_number) not in (9, 12):
        raise InvalidDossier("id_number", "must have 9 or 12 digits")
    if not phone and not id_number:
        raise InvalidDossier("phone", "phone or id_number is needed to verify the owner")
    return DossierUpdate(
        code=code,
        procedure=_checked(_text(body, "procedure"), "procedure", MAX_LENGTH["procedure"]),
        applicant_masked=mask_name(
            _checked(_text(body, "applicant_name"), "applicant_name", MAX_LENGTH["applicant_name"])
        ),
        phone_hash=keyed_hash(phone, secret) if phone else None,
        phone_last4=phone[-4:] if phone else None,
        id_hash=keyed_hash(id_number, secret) if id_number else None,
        id_last4=id_number[-4:] if id_number else None,
        status=status,
        detail=detail,
        occurred_at=when.isoformat(),
    )


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidDossier(key, "is required")
    return value.strip()


def _checked(value: str, field: str, max_length: int) -> str:
    """Text that fits a message and can be stored (JSON may carry lone surrogates)."""
    if len(value) > max_length:
        raise InvalidDossier(field, f"longer than {max_length} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidDossier(field, "not valid Unicode text") from None
    return value


def _date(value: str, field: str, with_time: bool = False) -> dt.datetime:
    rfc3339 = _FRACTION.sub(lambda m: f"{m[1]}.{(m[2] + '00000')[:6]}", _UTC.sub("+00:00", value))
    try:
        parsed = dt.datetime.fromisoformat(rfc3339)
    except ValueError:
        example = "2026-11-23T08:30:00+07:00" if with_time else "2026-11-30"
        raise InvalidDossier(field, f"not an ISO date, e.g. {example}") from None
    if with_time and parsed.tzinfo is None:
        raise InvalidDossier(field, "needs a UTC offset, e.g. +07:00")
    return parsed
