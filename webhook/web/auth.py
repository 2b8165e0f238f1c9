"""Who is calling: Alertmanager's credentials, API bearer tokens, password hashes, and what ends
a person's access (disable, password change, token revocation).

Passwords are argon2id (argon2-cffi). Hashing and verifying take ~0.1 s of CPU and 64 MiB each,
so they run in a small thread pool of their own, never on the event loop that also receives
Alertmanager (`hash_password_async`, `verify_password_async`); argon2's C code releases the GIL.
A login for a name that does not exist verifies against a dummy hash, so it costs the same time
as a wrong password for a real one (names cannot be enumerated by timing).

API tokens are 256 random bits shown once; only their SHA-256 is stored, so a leaked database does
not leak a usable token. They expire (`expires_at`), can be revoked, and stop working the moment
their user is disabled. `api_user()` is the one place a request becomes a `User`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.workflow import Role
from webhook.store.models import ApiToken, User, WebSession
from webhook.web.keys import CLOCK

log = logging.getLogger("sigap.access")
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
"""Verified against when the name is unknown, has no password or is disabled: same cost."""
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
"""At most two hashes at once: each takes 64 MiB, and a burst of logins must not take them all."""
TOKEN_TOUCH = timedelta(minutes=1)
"""`last_used_at` is written at most this often per token (a write per API call would not do)."""


def hash_password(password: str) -> str:
    """Blocking: for the CLI and tests. Handlers use `hash_password_async`."""
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Blocking, and as slow for a missing hash as for a real one."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """`verify_password` off the event loop; `None` (no such user) costs the same."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, verify_password, password_hash, password)


def name_key(name: str) -> str:
    """The one form of a user name that throttling and uniqueness compare: 'Admin ' is 'admin'."""
    return name.strip().casefold()


async def user_named_alike(session: AsyncSession, name: str) -> User | None:
    """A user whose name differs from `name` only by case or surrounding space (there should be
    none besides the user itself: such names would share a login throttle)."""
    key = name_key(name)
    for user in (await session.execute(select(User))).scalars():
        if name_key(user.name) == key:
            return user
    return None


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


async def token_of(session: AsyncSession, token: str, now: datetime) -> ApiToken | None:
    """The usable API token (active, not expired, its user active), or None."""
    result = await session.execute(
        select(ApiToken)
        .join(User, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token),
            ApiToken.active,
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            User.active,
        )
    )
    return result.scalar_one_or_none()


TOUCHES = web.RequestKey("sigap_touches", list)
"""Small writes a request owes after its handler (a session's or token's last use), done by
`webhook.web.middlewares` in one write transaction: handlers often hold only a read session."""


async def api_user(request: web.Request, session: AsyncSession) -> User:
    """The user whose bearer token the request carries; 401 otherwise."""
    now = request.app[CLOCK]()
    token = bearer_token(request.headers.get("Authorization"))
    found = await token_of(session, token, now) if token else None
    user = await session.get(User, found.user_id) if found is not None else None
    if found is None or user is None:
        raise web.HTTPUnauthorized(
            text=json.dumps(
                {"error": "send Authorization: Bearer <token> (sigap-webhook token create NAME)"}
            ),
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="sigap"'},
        )
    if found.last_used_at is None or now - found.last_used_at >= TOKEN_TOUCH:
        statement = update(ApiToken).where(ApiToken.id == found.id).values(last_used_at=now)
        request.setdefault(TOUCHES, []).append(statement)
    return user


def visible_skpds(user: User) -> list[str] | None:
    """The SKPDs a user may see: None for all; an SKPD admin only its own."""
    return list(user.skpds) if user.role == Role.SKPD_ADMIN else None


async def end_sessions(session: AsyncSession, user_id: int, now: datetime) -> int:
    """End every web session of a user (logout everywhere); how many were live."""
    result = await session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_tokens(
    session: AsyncSession, user_id: int, token_id: int | None = None
) -> list[int]:
    """Revoke all of a user's active API tokens, or only `token_id`; the ids revoked."""
    query = select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.active)
    if token_id is not None:
        query = query.where(ApiToken.id == token_id)
    tokens = list((await session.execute(query)).scalars())
    for token in tokens:
        token.active = False
    return [t.id for t in tokens]


async def disable_user(session: AsyncSession, user: User, now: datetime) -> tuple[int, list[int]]:
    """A leaver: no login, every session ended, every token revoked (enabling the user again
    brings none of them back). Returns (sessions ended, tokens revoked)."""
    user.active = False
    return await end_sessions(session, user.id, now), await revoke_tokens(session, user.id)
