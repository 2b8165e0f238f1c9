"""Web UI sessions in the store (`web_session`): only the token's SHA-256, the user, the times
(`webhook.core.sessions` says what a session is and when it ends)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.sessions import (
    TOUCH,
    Lifetimes,
    Login,
    csrf_token,
    live,
    session_id,
    token_of_cookie,
)
from webhook.store.models import User, WebSession


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


async def touch_session(session: AsyncSession, login_id: str, now: datetime) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id == login_id).values(last_seen_at=now)
    )


async def end_session(session: AsyncSession, login_id: str, now: datetime) -> None:
    await session.execute(
        update(WebSession).where(WebSession.id == login_id).values(revoked_at=now)
    )
