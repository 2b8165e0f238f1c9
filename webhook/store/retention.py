"""Deleting finished rows older than a cutoff, one bounded batch per statement.

Nothing references these tables by foreign key (notification points at notice and incident,
not the reverse), so a delete never cascades into the record.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from webhook.store.models import Notification, RawNotification, UsedLink, WebSession


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
    raise ValueError(f"unknown retention kind {kind!r}")


async def prune_batch(session: AsyncSession, kind: str, cutoff: datetime, limit: int) -> int:
    """Delete at most `limit` finished rows of `kind` older than `cutoff`; the rows deleted."""
    key, condition = _finished(kind, cutoff)
    table = key.table  # type: ignore[attr-defined]
    chosen = select(key).where(condition).limit(limit).scalar_subquery()
    result = await session.execute(
        delete(table).where(key.in_(chosen)), execution_options={"synchronize_session": False}
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
