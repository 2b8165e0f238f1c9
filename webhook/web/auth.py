"""Who is calling: Alertmanager's credentials, API bearer tokens, and password hashes.

Passwords are argon2id (argon2-cffi). API tokens are 256 random bits shown once; only their
SHA-256 is stored, so a leaked database does not leak a usable token. `api_user()` is the one
place a request becomes a `User`; the web UI's sessions (workflow issue) build on top of it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.workflow import Role
from webhook.store.models import ApiToken, User

_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _HASHER.verify(password_hash, password)
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


async def user_for_token(session: AsyncSession, token: str) -> User | None:
    """The active user behind an active API token, or None."""
    result = await session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.active, User.active)
    )
    return result.scalar_one_or_none()


async def api_user(request: web.Request, session: AsyncSession) -> User:
    """The user whose bearer token the request carries; 401 otherwise."""
    token = bearer_token(request.headers.get("Authorization"))
    user = await user_for_token(session, token) if token else None
    if user is None:
        raise web.HTTPUnauthorized(
            text='{"error": "send Authorization: Bearer <token> '
            '(sigap-webhook token create NAME)"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="sigap"'},
        )
    return user


def visible_skpds(user: User) -> list[str] | None:
    """The SKPDs a user may see: None for all; an SKPD admin only its own."""
    return list(user.skpds) if user.role == Role.SKPD_ADMIN else None
