"""People in the store: users, the one query of who may be dispatched, API tokens, and what
ends a person's access (disable, password change, token revocation)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.credentials import hash_token
from webhook.core.sessions import name_key
from webhook.core.workflow import Role
from webhook.store.models import ApiToken, User, WebSession

NETWORK_ROLES = (Role.STAFF.value, Role.COORDINATOR.value)


async def user_by_name(session: AsyncSession, name: str) -> User | None:
    return (await session.execute(select(User).where(User.name == name))).scalar_one_or_none()


async def users(session: AsyncSession) -> list[User]:
    return list((await session.execute(select(User).order_by(User.name))).scalars())


async def network_staff(session: AsyncSession) -> list[User]:
    """Who may be dispatched, put on the duty roster or cover a shift: the active network staff
    and coordinators, by name. The one answer to that question, whatever asks it."""
    query = select(User).where(User.role.in_(NETWORK_ROLES), User.active).order_by(User.name)
    return list((await session.execute(query)).scalars())


async def users_named(session: AsyncSession, names: set[str]) -> dict[str, User]:
    found = await session.execute(select(User).where(User.name.in_(names)))
    return {user.name: user for user in found.scalars()}


async def user_named_alike(session: AsyncSession, name: str) -> User | None:
    """A user whose name differs from `name` only by case or surrounding space (there should be
    none besides the user itself: such names would share a login throttle)."""
    key = name_key(name)
    for user in (await session.execute(select(User))).scalars():
        if name_key(user.name) == key:
            return user
    return None


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


async def tokens_with_owners(
    session: AsyncSession, user_id: int | None
) -> list[tuple[ApiToken, str]]:
    """API tokens with their owners' names (all, or one user's), by owner and id."""
    query = select(ApiToken, User.name).join(User, ApiToken.user_id == User.id)
    if user_id is not None:
        query = query.where(User.id == user_id)
    rows = await session.execute(query.order_by(User.name, ApiToken.id))
    return [(token, owner) for token, owner in rows.tuples()]


async def touch_token(session: AsyncSession, token_id: int, now: datetime) -> None:
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))


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
