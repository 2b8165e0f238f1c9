"""Telegram in the store: linked chats, one-time link codes, the updates acted on, and the edit
of a message after a press (owed through the outbox like any message)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.figures import NoticeOwed
from webhook.core.messages import EDIT
from webhook.store.database import publish
from webhook.store.models import (
    Event,
    Notification,
    TelegramChat,
    TelegramGroup,
    TelegramLinkCode,
    TelegramUpdate,
    User,
)


def add_code(
    session: AsyncSession, user_id: int, code_hash: str, now: datetime, expires_at: datetime
) -> None:
    session.add(
        TelegramLinkCode(
            code_hash=code_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


async def use_code(
    session: AsyncSession, code_hash: str, chat_id: int, now: datetime, language: str | None
) -> User | None:
    """Link `chat_id` to the person of an unused, unexpired code, using it up; None otherwise.
    The chat's or the person's earlier link is replaced."""
    code = await session.get(TelegramLinkCode, code_hash, with_for_update=True)
    if code is None or code.used_at is not None or code.expires_at <= now:
        return None
    user = await session.get(User, code.user_id)
    if user is None or not user.active:
        return None
    code.used_at = now
    await session.execute(
        delete(TelegramChat).where(
            or_(TelegramChat.chat_id == chat_id, TelegramChat.user_id == user.id)
        )
    )
    session.add(TelegramChat(chat_id=chat_id, user_id=user.id, linked_at=now, language=language))
    await session.flush()
    return user


async def user_of_chat(session: AsyncSession, chat_id: int) -> User | None:
    """The active person linked to `chat_id`."""
    query = (
        select(User)
        .join(TelegramChat, TelegramChat.user_id == User.id)
        .where(TelegramChat.chat_id == chat_id, User.active)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def language_of(session: AsyncSession, chat_id: int) -> str | None:
    """The language a linked chat chose (None: not linked, or the installation's)."""
    return await session.scalar(
        select(TelegramChat.language).where(TelegramChat.chat_id == chat_id)
    )


async def set_language(session: AsyncSession, chat_id: int, language: str) -> bool:
    """Whether `chat_id` is linked (and now answered in `language`)."""
    chat = await session.get(TelegramChat, chat_id)
    if chat is not None:
        chat.language = language
    return chat is not None


async def groups(session: AsyncSession) -> dict[str, str]:
    """The group chats by scope (`noc`, an SKPD's id), each chat id as the outbox's recipient."""
    rows = await session.execute(select(TelegramGroup.scope, TelegramGroup.chat_id))
    return {scope: str(chat_id) for scope, chat_id in rows.all()}


async def list_groups(session: AsyncSession) -> list[TelegramGroup]:
    return list(
        (await session.execute(select(TelegramGroup).order_by(TelegramGroup.scope))).scalars()
    )


async def set_group(
    session: AsyncSession, chat_id: int, scope: str, title: str, by: str, now: datetime
) -> None:
    """`chat_id` becomes the group of `scope`: a scope has one group, a group one scope (an
    earlier setting of either is replaced)."""
    await session.execute(
        delete(TelegramGroup).where(
            or_(TelegramGroup.chat_id == chat_id, TelegramGroup.scope == scope)
        )
    )
    session.add(TelegramGroup(chat_id=chat_id, scope=scope, title=title, set_by=by, set_at=now))
    await session.flush()


async def unset_group(session: AsyncSession, chat_id: int) -> bool:
    """Whether `chat_id` was a group of SIGAP's (it is not any more)."""
    gone = await session.execute(delete(TelegramGroup).where(TelegramGroup.chat_id == chat_id))
    return bool(getattr(gone, "rowcount", 0))


async def chat_of(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(select(TelegramChat.chat_id).where(TelegramChat.user_id == user_id))


async def chats_by_person(session: AsyncSession) -> dict[str, str]:
    """Each linked person's chat id (as the outbox's recipient), by name."""
    query = select(User.name, TelegramChat.chat_id).join(
        TelegramChat, TelegramChat.user_id == User.id
    )
    return {name: str(chat_id) for name, chat_id in (await session.execute(query)).all()}


async def mark_update(session: AsyncSession, update_id: int, now: datetime) -> None:
    """Record that `update_id` is acted on in this transaction; a second time raises
    IntegrityError at the flush (a redelivered update)."""
    session.add(TelegramUpdate(update_id=update_id, received_at=now))
    await session.flush()


async def seen_update(session: AsyncSession, update_id: int) -> bool:
    return await session.get(TelegramUpdate, update_id) is not None


async def last_update(session: AsyncSession) -> int | None:
    return await session.scalar(select(func.max(TelegramUpdate.update_id)))


async def timeline(session: AsyncSession, incident_id: int) -> list[Event]:
    query = select(Event).where(Event.incident_id == incident_id).order_by(Event.id)
    return list((await session.execute(query)).scalars())


def owe_edit(
    session: AsyncSession,
    incident_id: int,
    event: str,
    person: str,
    chat_id: int,
    message_id: int,
    subject: str,
    text: str,
    now: datetime,
) -> None:
    """A pending Telegram message that replaces message `message_id` of `chat_id` (its buttons
    gone), sent by the delivery worker once this transaction commits."""
    session.add(
        Notification(
            incident_id=incident_id,
            notice_id=None,
            event=event,
            channel="telegram",
            recipient=str(chat_id),
            person=person,
            subject=subject,
            text=text,
            links={EDIT: str(message_id)},
            idempotency_key=f"sigap-{uuid.uuid4().hex}",
            status="pending",
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
    )
    publish(session, NoticeOwed(incident_id))
