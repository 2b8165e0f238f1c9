"""Signed session cookies, CSRF tokens and the login rate limit of the web UI.

The session is a cookie `name|expires|nonce` signed with HMAC-SHA256 under the service's secret
key (the same key as the one-click links, another purpose string). The CSRF token is derived from
the session's nonce, so every form of a session carries it and a forged cross-site POST cannot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

COOKIE = "sigap_session"
LIFETIME = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    expires: int
    nonce: str


def _mac(secret: str, purpose: str, text: str) -> str:
    raw = hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_session(secret: str, user: str, now: datetime) -> str:
    text = f"{user}|{int((now + LIFETIME).timestamp())}|{secrets.token_urlsafe(16)}"
    encoded = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    return f"{encoded}.{_mac(secret, 'session', text)}"


def read_session(secret: str, cookie: str | None, now: datetime) -> Session | None:
    if not cookie or "." not in cookie:
        return None
    encoded, mac = cookie.rsplit(".", 1)
    try:
        text = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        user, expires, nonce = text.rsplit("|", 2)
    except ValueError:
        return None
    if not hmac.compare_digest(mac, _mac(secret, "session", text)):
        return None
    if int(expires) <= now.timestamp():
        return None
    return Session(user, int(expires), nonce)


def csrf_token(secret: str, session: Session) -> str:
    return _mac(secret, "csrf", session.nonce)


def csrf_ok(secret: str, session: Session, token: object) -> bool:
    return isinstance(token, str) and hmac.compare_digest(token, csrf_token(secret, session))


@dataclass
class LoginLimiter:
    """At most `attempts` failed logins per key (address and name) within `window` seconds."""

    attempts: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)

    def blocked(self, key: str, now: float) -> bool:
        failures = self._failures.get(key)
        if not failures:
            return False
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return len(failures) >= self.attempts

    def failed(self, key: str, now: float) -> None:
        self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
