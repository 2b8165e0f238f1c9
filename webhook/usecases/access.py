"""Who is asking: password logins and their sessions, API tokens, and each one's last use.

Hashing and verifying a password take ~0.1 s of CPU and 64 MiB each, so they run in a small
thread pool of their own, never on the event loop that also receives Alertmanager; argon2's C
code releases the GIL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from webhook.core.credentials import hash_password, verify_password
from webhook.core.sessions import TOUCH, Lifetimes, Login
from webhook.settings import Settings
from webhook.store import people, sessions
from webhook.store.models import User
from webhook.usecases.context import Resources

_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
"""At most two hashes at once: each takes 64 MiB, and a burst of logins must not take them all."""


async def hash_password_async(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, hash_password, password)


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    """`verify_password` off the event loop; `None` (no such user) costs the same."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_HASHING, verify_password, password_hash, password)


def lifetimes_of(settings: Settings) -> Lifetimes:
    return Lifetimes(
        timedelta(seconds=settings.session_idle_timeout),
        timedelta(seconds=settings.session_lifetime),
    )


LoginFailure = Literal["unknown user", "disabled", "bad password"]


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """How a password login went: the user and the new session's token, or why not."""

    user: User | None
    token: str | None
    failure: LoginFailure | None


async def log_in(res: Resources, name: str, password: str, address: str | None) -> LoginAttempt:
    """A password login. An unknown or disabled name costs the same argon2 verification as a
    wrong password."""
    async with res.database.read() as session:
        user = await people.user_by_name(session, name) if name else None
    usable = user is not None and user.active
    valid = await verify_password_async(user.password_hash if usable and user else None, password)
    if user is None or not valid:
        failure: LoginFailure = (
            "unknown user" if user is None else "disabled" if not usable else "bad password"
        )
        return LoginAttempt(user, None, failure)
    async with res.database.write() as session:
        token = await sessions.start_session(
            session, user, res.clock(), lifetimes_of(res.settings), address
        )
    return LoginAttempt(user, token, None)


async def log_out(res: Resources, login: Login) -> None:
    async with res.database.write() as session:
        await sessions.end_session(session, login.id, res.clock())


Use = tuple[Literal["session", "token"], str | int, datetime]
"""A session's or a token's use, owed to the store after the answer (`record_uses`)."""


async def login_of(res: Resources, cookie: str) -> tuple[Login, Use | None] | None:
    """The live login a session cookie names, and its use if one is due to be recorded."""
    now = res.clock()
    async with res.database.read() as session:
        found = await sessions.load_login(
            session, res.settings.secret_key, cookie, now, lifetimes_of(res.settings)
        )
    if found is None:
        return None
    login, due = found
    return login, ("session", login.id, now) if due else None


async def logged_in_user(res: Resources, login: Login | None) -> User | None:
    """The login's user while it is active."""
    if login is None:
        return None
    async with res.database.read() as session:
        user = await session.get(User, login.user_id)
    return user if user is not None and user.active else None


async def token_user(res: Resources, token: str) -> tuple[User, Use | None] | None:
    """The user of a usable API token (active, unexpired, its user active), and its use if one
    is due to be recorded."""
    now = res.clock()
    async with res.database.read() as session:
        found = await people.token_of(session, token, now)
        user = await session.get(User, found.user_id) if found is not None else None
    if found is None or user is None:
        return None
    due = found.last_used_at is None or now - found.last_used_at >= TOUCH
    return user, ("token", found.id, now) if due else None


async def record_uses(res: Resources, uses: Sequence[Use], within: float) -> None:
    """Write the last uses in one short transaction; a writer busy past `within` seconds skips
    them (DATABASE_ERRORS: a last-use time is never worth delaying an answer for)."""
    async with res.database.write(within=within) as session:
        for kind, key, at in uses:
            if kind == "session":
                await sessions.touch_session(session, str(key), at)
            else:
                await people.touch_token(session, int(key), at)
