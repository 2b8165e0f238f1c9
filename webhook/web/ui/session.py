"""Web UI sessions (a table), their CSRF tokens, and the login throttle.

The cookie holds a random 256-bit token, signed with the service's secret key (so a new
`SIGAP_SECRET_KEY` ends every session at once); the `web_session` table keeps only the token's
SHA-256, the user, and the times. A session ends at logout, when its user's password changes or
the user is disabled (`webhook.web.auth`), after `session_idle_timeout` without a request, and
`session_lifetime` after the login whatever happens. The CSRF token is derived from the session's
token, so it dies with the session and no other session's form can be replayed.

The login throttle (the `limits` library, in memory, sliding-window counters that expire by
themselves) counts failed logins per client address (an IPv6 client by its /64), per address and
name, and per name. An attacker hammering a name from one address is stopped by the first two
long before the third, so the real person still logs in from elsewhere; the per-address limit
also bounds how many name buckets one address can create.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web
from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.settings import Settings
from webhook.store.models import User, WebSession
from webhook.web.auth import TOUCHES, name_key
from webhook.web.keys import CLOCK, DATABASE, SETTINGS

COOKIE = "sigap_session"
TOUCH = timedelta(minutes=1)
"""`last_seen_at` is written at most this often per session."""


def _mac(secret: str, purpose: str, text: str) -> str:
    raw = hmac.new(secret.encode(), f"{purpose}:{text}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _same(offered: str, expected: str) -> bool:
    """Constant-time, and any text (a non-ASCII value is simply wrong, not an error)."""
    return hmac.compare_digest(offered.encode("utf-8", "replace"), expected.encode())


def session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_value(secret: str, token: str) -> str:
    return f"{token}.{_mac(secret, 'session', token)}"


def token_of_cookie(secret: str, cookie: str | None) -> str | None:
    """The session token of a well-signed cookie, else None."""
    if not cookie or "." not in cookie:
        return None
    token, mac = cookie.rsplit(".", 1)
    return token if _same(mac, _mac(secret, "session", token)) else None


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
        return isinstance(offered, str) and _same(offered, self.csrf)


def lifetimes_of(settings: Settings) -> Lifetimes:
    return Lifetimes(
        timedelta(seconds=settings.session_idle_timeout),
        timedelta(seconds=settings.session_lifetime),
    )


def live(row: WebSession, now: datetime, lifetimes: Lifetimes) -> bool:
    """Whether a stored session may still be used at `now`."""
    return (
        row.revoked_at is None and now < row.expires_at and now < row.last_seen_at + lifetimes.idle
    )


async def start_session(
    session: AsyncSession, user: User, now: datetime, lifetimes: Lifetimes, address: str | None
) -> str:
    """Store a new session for `user` and return its token (for the cookie). Sessions that can
    no longer be used are deleted on the way, so the table holds only live ones."""
    await session.execute(
        delete(WebSession).where(
            or_(
                WebSession.expires_at <= now,
                WebSession.last_seen_at <= now - lifetimes.idle,
                WebSession.revoked_at.is_not(None),
            )
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=session_id(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetimes.absolute,
            address=address,
        )
    )
    return token


async def load_login(
    session: AsyncSession, secret: str, cookie: str | None, now: datetime, lifetimes: Lifetimes
) -> tuple[Login, bool] | None:
    """The live login a cookie names and whether its `last_seen_at` is due a write; None when
    the cookie is forged, the session ended or its user is disabled."""
    token = token_of_cookie(secret, cookie)
    if token is None:
        return None
    found = (
        await session.execute(
            select(WebSession, User)
            .join(User, WebSession.user_id == User.id)
            .where(WebSession.id == session_id(token))
        )
    ).first()
    if found is None:
        return None
    row, user = found[0], found[1]
    if not user.active or not live(row, now, lifetimes):
        return None
    login = Login(row.id, user.id, user.name, csrf_token(secret, token))
    return login, now - row.last_seen_at >= TOUCH


_LOGIN: web.RequestKey[Login | None] = web.RequestKey("sigap_login")


async def logged_in(request: web.Request) -> Login | None:
    """The request's live login (looked up once per request), or None. Its use is recorded
    after the handler (`TOUCHES`), at most once a minute."""
    if _LOGIN in request:
        return request[_LOGIN]
    settings, now = request.app[SETTINGS], request.app[CLOCK]()
    login = None
    cookie = request.cookies.get(COOKIE)
    if cookie:
        async with request.app[DATABASE].read() as session:
            found = await load_login(
                session, settings.secret_key, cookie, now, lifetimes_of(settings)
            )
        if found is not None:
            login, due = found
            if due:
                statement = update(WebSession).where(WebSession.id == login.id)
                request.setdefault(TOUCHES, []).append(statement.values(last_seen_at=now))
    request[_LOGIN] = login
    return login


async def end_session(session: AsyncSession, login: Login, now: datetime) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id == login.id).values(revoked_at=now)
    )


def client_key(address: str | None) -> str:
    """The throttle's key for a client address: an IPv6 client by its /64 (one subscriber
    usually holds a whole /64), anything unparsable as itself."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "-"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class LoginThrottle:
    """Failed logins, counted in three sliding windows (see the module's docstring)."""

    PAIR = RateLimitItemPerMinute(5, 5)
    """5 failures in 5 minutes for one name from one address."""
    ADDRESS = RateLimitItemPerMinute(20, 5)
    """20 failures in 5 minutes from one address, whatever the names."""
    NAME = RateLimitItemPerHour(100)
    """100 failures in an hour for one name from anywhere: at least 20 addresses' worth."""

    def __init__(self) -> None:
        self.storage = MemoryStorage()
        self._limiter = SlidingWindowCounterRateLimiter(self.storage)

    def _buckets(self, address: str | None, name: str) -> list[tuple[RateLimitItem, list[str]]]:
        client, who = client_key(address), name_key(name)
        return [
            (self.PAIR, ["pair", client, who]),
            (self.ADDRESS, ["address", client]),
            (self.NAME, ["name", who]),
        ]

    async def blocked(self, address: str | None, name: str) -> bool:
        for item, keys in self._buckets(address, name):
            if not await self._limiter.test(item, *keys):
                return True
        return False

    async def failed(self, address: str | None, name: str) -> None:
        for item, keys in self._buckets(address, name):
            await self._limiter.hit(item, *keys)

    async def succeeded(self, address: str | None, name: str) -> None:
        """Forget this address's failures for this name only: a login to one's own account
        must not reset an address's budget for guessing others'."""
        await self._limiter.clear(self.PAIR, "pair", client_key(address), name_key(name))

    async def close(self) -> None:
        timer = self.storage.timer
        if timer is not None and not timer.done():
            timer.cancel()
        await self.storage.reset()


THROTTLE = web.AppKey("login_throttle", LoginThrottle)
