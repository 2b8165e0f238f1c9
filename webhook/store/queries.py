"""Query helpers of the incident store: each takes the session, so the caller chooses the
transaction (a read snapshot or the write transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from webhook.core.workflow import OPEN_STATES
from webhook.store.models import Alert, Form, Incident, Notice, Notification


async def open_incident(session: AsyncSession, skpd: str) -> Incident | None:
    """The SKPD's open incident (there is at most one)."""
    result = await session.execute(select(Incident).where(Incident.open_key == skpd))
    return result.scalar_one_or_none()


async def alarm_firing(session: AsyncSession, incident_id: int) -> bool:
    """An alert of the incident still fires."""
    query = select(Alert.id).where(Alert.incident_id == incident_id, Alert.status == "firing")
    return await session.scalar(query.limit(1)) is not None


async def open_incidents(session: AsyncSession) -> list[Incident]:
    """Every open incident (at most one per SKPD), for the gauges of /metrics."""
    query = select(Incident).where(Incident.state.in_([s.value for s in OPEN_STATES]))
    return list((await session.execute(query)).scalars())


async def incidents_between(
    session: AsyncSession, start: datetime, end: datetime, skpds: Sequence[str] | None
) -> list[Incident]:
    """Incidents whose life (opening to closing, or now) overlaps [start, end), with their
    alerts and events (the monthly report); `skpds` restricts to those SKPDs (None: all)."""
    query = (
        select(Incident)
        .where(
            Incident.opened_at < end, or_(Incident.closed_at.is_(None), Incident.closed_at >= start)
        )
        .options(selectinload(Incident.alerts), selectinload(Incident.events))
        .order_by(Incident.id)
    )
    if skpds is not None:
        query = query.where(Incident.skpd.in_(skpds))
    return list((await session.execute(query)).scalars())


async def forms_of(session: AsyncSession, kind: str, incident_ids: Sequence[int]) -> dict[int, Any]:
    """incident id -> the data of its form `kind` (f01, f04), for those that have one."""
    rows = await session.execute(
        select(Form.incident_id, Form.data).where(
            Form.kind == kind, Form.incident_id.in_(incident_ids)
        )
    )
    return {incident_id: data for incident_id, data in rows}


async def get_incident(
    session: AsyncSession, incident_id: int, *, detail: bool = False
) -> Incident | None:
    """One incident; `detail` also loads its alerts and events."""
    query = select(Incident).where(Incident.id == incident_id)
    if detail:
        query = query.options(selectinload(Incident.alerts), selectinload(Incident.events))
    return (await session.execute(query)).scalar_one_or_none()


async def list_incidents(
    session: AsyncSession,
    *,
    states: Sequence[str] = (),
    skpds: Sequence[str] | None = None,
    is_open: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Incident]:
    """Incidents, newest first; `skpds` restricts to those SKPDs (None: all)."""
    query = select(Incident).order_by(Incident.id.desc()).limit(limit).offset(offset)
    if states:
        query = query.where(Incident.state.in_(states))
    if skpds is not None:
        query = query.where(Incident.skpd.in_(skpds))
    if is_open is True:
        query = query.where(Incident.state.in_([s.value for s in OPEN_STATES]))
    elif is_open is False:
        query = query.where(Incident.state.not_in([s.value for s in OPEN_STATES]))
    return list((await session.execute(query)).scalars())


async def notifications_of(session: AsyncSession, incident_id: int) -> list[Notification]:
    """The messages sent (or being sent) for an incident, oldest first."""
    query = select(Notification).where(Notification.incident_id == incident_id)
    return list((await session.execute(query.order_by(Notification.id))).scalars())


async def unplannable_notices(session: AsyncSession, incident_id: int) -> list[Notice]:
    """The incident's owed notices that found nobody to tell (their `error` says why)."""
    query = select(Notice).where(Notice.incident_id == incident_id, Notice.error.is_not(None))
    return list((await session.execute(query.order_by(Notice.id))).scalars())
