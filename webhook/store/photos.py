"""Repair photos of an F-04 (`RepairPhoto`): added, listed, read, removed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.photos import CleanPhoto
from webhook.store.models import RepairPhoto


async def photo_count(session: AsyncSession, incident_id: int) -> int:
    found = await session.scalar(
        select(func.count()).select_from(RepairPhoto).where(RepairPhoto.incident_id == incident_id)
    )
    return int(found or 0)


async def add_photo(
    session: AsyncSession, incident_id: int, photo: CleanPhoto, by: str, now: datetime
) -> RepairPhoto:
    row = RepairPhoto(
        incident_id=incident_id,
        uploaded_at=now,
        uploaded_by=by,
        content_type=photo.content_type,
        width=photo.width,
        height=photo.height,
        data=photo.data,
    )
    session.add(row)
    await session.flush()
    return row


async def photos_of(session: AsyncSession, incident_id: int) -> Sequence[RepairPhoto]:
    """The incident's photos, oldest first (the order they are shown and printed)."""
    query = select(RepairPhoto).where(RepairPhoto.incident_id == incident_id)
    return (await session.scalars(query.order_by(RepairPhoto.id))).all()


async def photo_of(session: AsyncSession, incident_id: int, photo_id: int) -> RepairPhoto | None:
    found = await session.get(RepairPhoto, photo_id)
    return found if found is not None and found.incident_id == incident_id else None


async def remove_photo(session: AsyncSession, incident_id: int, photo_id: int) -> bool:
    result = await session.execute(
        delete(RepairPhoto).where(
            RepairPhoto.id == photo_id, RepairPhoto.incident_id == incident_id
        )
    )
    return bool(getattr(result, "rowcount", 0))
