"""The status page's notices: each helper takes the session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.store.models import StatusNotice


async def latest_notice(session: AsyncSession) -> StatusNotice | None:
    query = select(StatusNotice).order_by(StatusNotice.id.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()


def add_notice(session: AsyncSession, text: str, actor: str, now: datetime) -> StatusNotice:
    row = StatusNotice(text=text, posted_by=actor, posted_at=now)
    session.add(row)
    return row
