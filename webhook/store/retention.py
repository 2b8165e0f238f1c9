"""Deleting finished rows older than a cutoff, one bounded batch per statement.

Nothing references these tables by foreign key (notification points at notice and incident,
not the reverse), so a delete never cascades into the record.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, make_url, or_, select, table, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from webhook.store.database import Database
from webhook.store.models import (
    Base,
    InboundMessage,
    Notification,
    RawNotification,
    TelegramLinkCode,
    TelegramUpdate,
    UsedLink,
    WebSession,
)


def _finished(
    kind: str, cutoff: datetime
) -> tuple[InstrumentedAttribute[Any], ColumnElement[bool]]:
    """The key column and the condition of a row of `kind` done before `cutoff`."""
    if kind == "raw_notification":
        return RawNotification.id, RawNotification.received_at < cutoff
    if kind == "notification":  # never a pending one: it still has to be sent
        return Notification.id, and_(
            Notification.status.in_(("sent", "failed")), Notification.created_at < cutoff
        )
    if kind == "web_session":
        return WebSession.id, or_(WebSession.expires_at < cutoff, WebSession.revoked_at < cutoff)
    if kind == "used_link":
        return UsedLink.nonce, UsedLink.used_at < cutoff
    if kind == "telegram_update":  # never the newest: where long polling resumes
        newest = select(func.max(TelegramUpdate.update_id)).scalar_subquery()
        return TelegramUpdate.update_id, and_(
            TelegramUpdate.received_at < cutoff, TelegramUpdate.update_id < newest
        )
    if kind == "telegram_link_code":
        return TelegramLinkCode.code_hash, TelegramLinkCode.expires_at < cutoff
    if kind == "inbound_message":  # keyed by (channel, message_id): the condition again outside
        return InboundMessage.message_id, InboundMessage.received_at < cutoff
    raise ValueError(f"unknown retention kind {kind!r}")


async def prune_batch(session: AsyncSession, kind: str, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` finished rows of `kind` older than `cutoff`; the rows deleted."""
    key, condition = _finished(kind, cutoff)
    table = key.table  # type: ignore[attr-defined]
    chosen = select(key).where(condition).limit(limit).scalar_subquery()
    result = await session.execute(
        delete(table).where(key.in_(chosen), condition),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def database_figures(session: AsyncSession, is_sqlite: bool) -> tuple[int, dict[str, int]]:
    """The database's size in bytes and rows per table: exact counts on SQLite (one file of
    one regency), the planner's `reltuples` estimate on PostgreSQL (no table scan)."""
    tables = sorted(Base.metadata.tables)
    if is_sqlite:
        pages = int(await session.scalar(text("PRAGMA page_count")) or 0)
        size = pages * int(await session.scalar(text("PRAGMA page_size")) or 0)
        rows = {
            name: int(await session.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in tables
        }
        return size, rows
    size = int(await session.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    result = await session.execute(
        text(
            "SELECT relname, reltuples FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace"
        )
    )
    estimates = {str(name): max(0, int(n)) for name, n in result}
    return size, {name: estimates.get(name, 0) for name in tables}


def filesystem_free_ratio(database: Database) -> float | None:
    """The share of the filesystem holding a SQLite database still free (None: PostgreSQL, or
    an in-memory database): a full disk stops every write, so it is watched before it is full."""
    if not database.is_sqlite:
        return None
    path = make_url(database.url).database
    if not path or path == ":memory:":
        return None
    stats = os.statvfs(Path(path).resolve().parent)
    return stats.f_bavail / stats.f_blocks if stats.f_blocks else None
