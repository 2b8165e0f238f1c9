"""Who is calling, as values: password hashes, API tokens, Alertmanager's credentials.

Passwords are argon2id (argon2-cffi). Hashing and verifying take ~0.1 s of CPU and 64 MiB each,
so the service runs them off the event loop (`webhook.usecases.access`). A login for a name that
does not exist verifies against a dummy hash, so it costs the same time as a wrong password for
a real one (names cannot be enumerated by timing).

API tokens are 256 random bits shown once; only their SHA-256 is stored, so a leaked database
does not leak a usable token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
"""Verified against when the name is unknown, has no password or is disabled: same cost."""


def hash_password(password: str) -> str:
    """Blocking (~0.1 s): the service calls it off the event loop."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Blocking, and as slow for a missing hash as for a real one."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    return "sigap_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


def alertmanager_authorized(authorization: str | None, token: str | None) -> bool:
    """Alertmanager sends `Authorization: Bearer TOKEN` (http_config.authorization) or basic
    auth with TOKEN as the password (http_config.basic_auth). No token configured: open."""
    if token is None:
        return True
    offered = bearer_token(authorization)
    if offered is None and authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        offered = decoded.partition(":")[2]
    return offered is not None and hmac.compare_digest(offered.encode(), token.encode())
