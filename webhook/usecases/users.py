"""People and their API tokens: add or change, disable and enable, list (the users page and
`sigap-webhook user ...` / `token ...`). Every change is logged (logger `sigap.access`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import phones
from webhook.core.credentials import hash_token, new_api_token
from webhook.core.documents import checked_nip
from webhook.core.inventory_check import check_skpd
from webhook.core.refusals import Conflict, Forbidden, NotFound, Refused
from webhook.core.workflow import Role
from webhook.store import people
from webhook.store.models import ApiToken, User
from webhook.usecases.access import hash_password_async
from webhook.usecases.context import Actor, Resources

log = logging.getLogger("sigap.access")
PERSON_ROLES = tuple(r.value for r in Role if r is not Role.SYSTEM)
"""The roles a person can be given (SIGAP itself is `system`)."""
TokenState = Literal["active", "revoked", "expired"]
TOKEN_STATES: tuple[TokenState, ...] = get_args(TokenState)


@dataclass(frozen=True, slots=True)
class UserChange:
    """A user as a coordinator or the operator gives it; None keeps what is stored."""

    name: str
    role: str
    skpds: tuple[str, ...] = ()
    email: str | None = None
    phone: str | None = None
    full_name: str | None = None
    nip: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class UserSaved:
    user: User
    added: bool
    sessions_ended: int


def _coordinator(by: Actor) -> None:
    if by.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator manages users")


@dataclass(frozen=True, slots=True)
class _Checked:
    skpds: list[str]
    nip: str | None
    full_name: str | None
    phone: str | None
    """E.164 (`+6281250011037`), however it was written."""


def _checked(res: Resources, change: UserChange) -> _Checked:
    """The SKPDs, NIP, full name and phone number of a change, checked (Refused naming the
    field)."""
    if change.role not in PERSON_ROLES:
        raise Refused(f"expected one of {', '.join(PERSON_ROLES)}", "role")
    if not change.name or change.name != change.name.strip() or len(change.name) > 100:
        raise Refused("1 to 100 characters, no surrounding spaces", "name")
    if change.role == Role.SKPD_ADMIN and not change.skpds:
        raise Refused("an skpd_admin needs at least one SKPD", "skpd")
    skpds = [check_skpd(res.inventory, skpd) for skpd in change.skpds]
    try:
        nip = checked_nip(change.nip) if change.nip and change.nip.strip() else None
    except ValueError as error:
        raise Refused(str(error), "nip") from None
    full_name = change.full_name.strip() if change.full_name else None
    if full_name is not None and not 0 < len(full_name) <= 200:
        raise Refused("1 to 200 characters", "full_name")
    try:
        phone = phones.e164(change.phone) if change.phone and change.phone.strip() else None
    except ValueError as error:
        raise Refused(str(error), "phone") from None
    return _Checked(skpds, nip, full_name or None, phone)


async def save_user(res: Resources, by: Actor, change: UserChange) -> UserSaved:
    """Add the user, or change the one of that name (a new password ends its web sessions)."""
    _coordinator(by)
    checked = _checked(res, change)
    password_hash = await hash_password_async(change.password) if change.password else None
    now = res.clock()
    async with res.database.write() as session:
        alike = await people.user_named_alike(session, change.name)
        if alike is not None and alike.name != change.name:
            raise Conflict(
                f"{alike.name!r} exists; names that differ only by case are one person to the login"
            )
        user, added, ended = alike, alike is None, 0
        if user is None:
            user = User(name=change.name, created_at=now)
            session.add(user)
        user.role, user.skpds, user.active = change.role, checked.skpds, True
        user.email = change.email or user.email
        user.phone = checked.phone or user.phone
        user.full_name = checked.full_name or user.full_name
        user.nip = checked.nip or user.nip
        if password_hash is not None:
            user.password_hash = password_hash
            if not added:
                ended = await people.end_sessions(session, user.id, now)
        await session.flush()
    log.info(
        "user added" if added else "user updated",
        extra={"user": change.name, "role": change.role, "by": by.name,
               "password_changed": password_hash is not None},
    )  # fmt: skip
    return UserSaved(user, added, ended)


async def _named(session: AsyncSession, name: str) -> User:
    user = await people.user_by_name(session, name)
    if user is None:
        raise NotFound(f"no user {name!r}; add one with 'user add'")
    return user


async def set_active(res: Resources, by: Actor, name: str, active: bool) -> tuple[int, int]:
    """Enable (logins again; revoked tokens stay revoked) or disable a user (a leaver: no login,
    web sessions ended, API tokens revoked). Returns (sessions ended, tokens revoked)."""
    _coordinator(by)
    async with res.database.write() as session:
        user = await _named(session, name)
        ended, revoked = 0, list[int]()
        if active:
            user.active = True
        else:
            ended, revoked = await people.disable_user(session, user, res.clock())
    verb = "user enabled" if active else "user disabled"
    log.info(verb, extra={"user": name, "by": by.name, "sessions": ended, "tokens": len(revoked)})
    return ended, len(revoked)


async def list_users(res: Resources, by: Actor) -> list[User]:
    _coordinator(by)
    async with res.database.read() as session:
        return await people.users(session)


async def create_token(
    res: Resources, by: Actor, name: str, lifetime: timedelta | None
) -> tuple[ApiToken, str]:
    """A new bearer token for `name` (shown once: only its hash is kept)."""
    _coordinator(by)
    now = res.clock()
    token = new_api_token()
    async with res.database.write() as session:
        user = await _named(session, name)
        if not user.active:
            raise Conflict(f"{name} is disabled; 'user enable {name}' first")
        row = ApiToken(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=now,
            active=True,
            expires_at=now + lifetime if lifetime is not None else None,
        )
        session.add(row)
        await session.flush()
    expires = row.expires_at.strftime("%Y-%m-%dT%H:%MZ") if row.expires_at else "never"
    log.info(
        "token created",
        extra={"user": name, "token_id": row.id, "expires": expires, "by": by.name},
    )
    return row, token


def token_state(token: ApiToken, now: datetime) -> TokenState:
    if not token.active:
        return "revoked"
    return "expired" if token.expires_at is not None and token.expires_at <= now else "active"


async def list_tokens(res: Resources, by: Actor, name: str | None) -> list[tuple[ApiToken, str]]:
    """API tokens (never their secret) with their owners: all, or `name`'s."""
    _coordinator(by)
    async with res.database.read() as session:
        user_id = (await _named(session, name)).id if name is not None else None
        return await people.tokens_with_owners(session, user_id)


async def revoke_tokens(res: Resources, by: Actor, name: str, token_id: int | None) -> list[int]:
    """Revoke `name`'s tokens (all, or `token_id`); the ids revoked."""
    _coordinator(by)
    async with res.database.write() as session:
        user = await _named(session, name)
        revoked = await people.revoke_tokens(session, user.id, token_id)
    if token_id is not None and not revoked:
        raise NotFound(f"{name} has no active token {token_id}")
    log.info("tokens revoked", extra={"user": name, "token_ids": ",".join(map(str, revoked))})
    return revoked
