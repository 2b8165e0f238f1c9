"""Web UI sessions as values: the signed cookie, the CSRF token, and when a session ends.

The cookie holds a random 256-bit token, signed with the service's secret key (so a new
`SIGAP_SECRET_KEY` ends every session at once); the store keeps only the token's SHA-256, the
user, and the times (`webhook.store.sessions`). A session ends at logout, when its user's
password changes or the user is disabled, after `session_idle_timeout` without a request, and
`session_lifetime` after the login whatever happens. The CSRF token is derived from the
session's token, so it dies with the session and no other session's form can be replayed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

TOUCH = timedelta(minutes=1)
"""A session's or token's last use is written at most this often (not a write per request)."""


def _mac(secret: str, purpose: str, text: str) -> str:
    raw = hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def same(offered: str, expected: str) -> bool:
    """Constant-time, and any text (a non-ASCII value is simply wrong, not an error)."""
    return hmac.compare_digest(offered.encode("utf-8", "replace"), expected.encode())


def name_key(name: str) -> str:
    """The one form of a user name that throttling and uniqueness compare: 'Admin ' is 'admin'."""
    return name.strip().casefold()


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_value(secret: str, token: str) -> str:
    return f"{token}.{_mac(secret, 'session', token)}"


def token_of_cookie(secret: str, cookie: str | None) -> str | None:
    """The session token of a well-signed cookie, else None."""
    if not cookie or "." not in cookie:
        return None
    token, mac = cookie.rsplit(".", 1)
    return token if same(mac, _mac(secret, "session", token)) else None


def csrf_token(secret: str, token: str) -> str:
    return _mac(secret, "csrf", token)


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True, slots=True)
class Login:
    """A live web session, as a request sees it."""

    id: str
    user_id: int
    user: str
    csrf: str

    def csrf_ok(self, offered: object) -> bool:
        return isinstance(offered, str) and same(offered, self.csrf)


class StoredSession(Protocol):
    revoked_at: datetime | None
    expires_at: datetime
    last_seen_at: datetime


def live(row: StoredSession, now: datetime, lifetimes: Lifetimes) -> bool:
    """Whether a stored session may still be used at `now`."""
    return (
        row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + lifetimes.idle
    )
