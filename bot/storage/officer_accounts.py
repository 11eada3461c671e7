"""Officers' accounts and dashboard sessions.

Passwords are kept as scrypt hashes (slow on purpose: call `hash_password` and
`verify_password` in a thread, never on an event loop). Session cookies are stored
hashed, so a copy of the database opens no session.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from bot.storage.sql import Store, insert_returning_id, one, rows
from bot.storage.timestamps import utc_now

SCHEMA = """
CREATE TABLE IF NOT EXISTS officers (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,                -- comma-separated, from ROLES
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,                  -- after too many wrong passwords in a row
    created_at TEXT NOT NULL,
    last_login_at TEXT
);

CREATE TABLE IF NOT EXISTS officer_sessions (
    token_hash TEXT PRIMARY KEY,        -- sha256 of the cookie value
    officer_id INTEGER NOT NULL REFERENCES officers(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
"""

# province: sees every commune of the deployment (bot/admin/commune_scope.py).
ROLES = ("admin", "content_editor", "dossier_operator", "feedback_handler", "province")
# scrypt cost: about 50 ms and 16 MB per hash on these machines.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


class OfficerError(ValueError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True)
class Officer:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]

    def can(self, *roles: str) -> bool:
        """True for an admin, or when the officer has one of `roles`."""
        return "admin" in self.roles or bool(self.roles.intersection(roles))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    encoded = [base64.b64encode(part).decode() for part in (salt, digest)]
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encoded[0]}${encoded[1]}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = base64.b64decode(digest)
    actual = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(actual, expected)


def check_new(username: str, password: str, roles: list[str]) -> None:
    """Raise OfficerError when an account with these values must not be created."""
    if not username or not username.replace(".", "").replace("_", "").isalnum():
        raise OfficerError("the username must be letters, digits, '.' or '_'")
    if len(password) < 10:
        raise OfficerError("the password must have at least 10 characters")
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise OfficerError(f"roles must be among {', '.join(ROLES)}; got {', '.join(roles)}")


def create(
    db: Store,
    username: str,
    display_name: str,
    password_hash: str,
    roles: list[str],
) -> Officer:
    if db.conn.execute("SELECT 1 FROM officers WHERE username = ?", (username,)).fetchone():
        raise OfficerError(f"an officer named {username!r} already exists")
    officer_id = insert_returning_id(
        db,
        "INSERT INTO officers (username, display_name, password_hash, roles, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (username, display_name or username, password_hash, ",".join(roles), utc_now()),
    )
    return Officer(officer_id or 0, username, display_name or username, frozenset(roles))


def _officer(row: dict) -> Officer:
    roles = frozenset(filter(None, row["roles"].split(",")))
    return Officer(row["id"], row["username"], row["display_name"], roles)


def credentials(db: Store, username: str) -> dict | None:
    """The account row with its password hash and lockout state, for a login."""
    return one(db, "SELECT * FROM officers WHERE username = ?", (username,))


def every(db: Store) -> list[dict]:
    """Every account without its password hash, for the accounts page."""
    return [
        {key: value for key, value in row.items() if key != "password_hash"}
        for row in rows(db, "SELECT * FROM officers ORDER BY username")
    ]


def login_failed(db: Store, officer_id: int, max_failed: int, lockout: dt.timedelta) -> bool:
    """Count a wrong password; True when this one locks the account."""
    db.conn.execute(
        "UPDATE officers SET failed_logins = failed_logins + 1 WHERE id = ?", (officer_id,)
    )
    (failed,) = db.conn.execute(
        "SELECT failed_logins FROM officers WHERE id = ?", (officer_id,)
    ).fetchone()
    if failed < max_failed:
        return False
    until = dt.datetime.now(dt.timezone.utc) + lockout
    db.conn.execute(
        "UPDATE officers SET failed_logins = 0, locked_until = ? WHERE id = ?",
        (until.isoformat(timespec="seconds"), officer_id),
    )
    return True


def is_locked(row: dict, now: dt.datetime) -> bool:
    until = row.get("locked_until")
    return bool(until) and dt.datetime.fromisoformat(until) > now


def open_session(db: Store, officer_id: int, lifetime: dt.timedelta) -> str:
    """A successful login: reset the failure count and return a new session's cookie value."""
    token = secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.timezone.utc)
    with db.conn:
        db.conn.execute(
            "UPDATE officers SET failed_logins = 0, locked_until = NULL, last_login_at = ?"
            " WHERE id = ?",
            (utc_now(), officer_id),
        )
        db.conn.execute(
            "INSERT INTO officer_sessions (token_hash, officer_id, csrf_token, created_at,"
            " expires_at) VALUES (?, ?, ?, ?, ?)",
            (
                _digest(token),
                officer_id,
                secrets.token_urlsafe(32),
                utc_now(),
                (now + lifetime).isoformat(timespec="seconds"),
            ),
        )
    return token


def session(db: Store, token: str) -> tuple[Officer, str] | None:
    """The officer and CSRF token of a live session, or None."""
    row = db.conn.execute(
        "SELECT o.id, o.username, o.display_name, o.roles, s.csrf_token, s.expires_at"
        " FROM officer_sessions s JOIN officers o ON o.id = s.officer_id"
        " WHERE s.token_hash = ?",
        (_digest(token),),
    ).fetchone()
    if row is None:
        return None
    if dt.datetime.fromisoformat(row[5]) <= dt.datetime.now(dt.timezone.utc):
        close_session(db, token)
        return None
    officer = _officer({"id": row[0], "username": row[1], "display_name": row[2], "roles": row[3]})
    return officer, row[4]


def close_session(db: Store, token: str) -> None:
    db.conn.execute("DELETE FROM officer_sessions WHERE token_hash = ?", (_digest(token),))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
