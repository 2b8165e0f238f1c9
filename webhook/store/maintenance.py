"""Maintenance windows in the store: the plans a page, the API, the intake and the monthly report
read, and the writes of a plan (each change grows its `revision`, which the silences follow)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Connection, select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.maintenance import Plan
from webhook.store.models import Maintenance


def _live_at(skpd: str, at: datetime) -> tuple[ColumnElement[bool], ...]:
    return (
        Maintenance.skpd == skpd,
        Maintenance.cancelled_at.is_(None),
        Maintenance.starts_at <= at,
        Maintenance.ends_at > at,
    )


def windows_during_sync(
    connection: Connection, skpds: Collection[str], start: datetime, end: datetime
) -> list[Maintenance]:
    """The windows of `skpds` not cancelled that run at some moment of [start, end], for the
    intake's batch (a Core connection): what it needs to judge its new incidents planned."""
    columns = (Maintenance.skpd, Maintenance.nodes, Maintenance.starts_at, Maintenance.ends_at)
    query = select(*columns, Maintenance.cancelled_at).where(
        Maintenance.skpd.in_(list(skpds)),
        Maintenance.cancelled_at.is_(None),
        Maintenance.starts_at <= end,
        Maintenance.ends_at > start,
    )
    return [
        Maintenance(
            skpd=r.skpd,
            nodes=r.nodes,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            cancelled_at=r.cancelled_at,
        )
        for r in connection.execute(query)
    ]


async def windows_at(session: AsyncSession, skpd: str, at: datetime) -> list[Maintenance]:
    """The SKPD's windows running at `at`."""
    return list((await session.execute(select(Maintenance).where(*_live_at(skpd, at)))).scalars())


async def current_and_upcoming(
    session: AsyncSession, now: datetime, skpds: Sequence[str] | None = None
) -> list[Maintenance]:
    """Plans not cancelled that have not ended, soonest first (`skpds`: only those)."""
    query = select(Maintenance).where(Maintenance.cancelled_at.is_(None), Maintenance.ends_at > now)
    if skpds is not None:
        query = query.where(Maintenance.skpd.in_(skpds))
    return list((await session.execute(query.order_by(Maintenance.starts_at))).scalars())


async def active_at(session: AsyncSession, now: datetime) -> list[Maintenance]:
    """Every window running now (the board, the gauge)."""
    query = select(Maintenance).where(
        Maintenance.cancelled_at.is_(None),
        Maintenance.starts_at <= now,
        Maintenance.ends_at > now,
    )
    return list((await session.execute(query.order_by(Maintenance.skpd))).scalars())


async def overlapping(
    session: AsyncSession, start: datetime, end: datetime, skpds: Sequence[str] | None
) -> list[Maintenance]:
    """Plans whose (possibly cancelled-short) time overlaps [start, end): the monthly report."""
    query = select(Maintenance).where(Maintenance.starts_at < end, Maintenance.ends_at > start)
    if skpds is not None:
        query = query.where(Maintenance.skpd.in_(skpds))
    rows = (await session.execute(query.order_by(Maintenance.starts_at))).scalars()
    return [m for m in rows if m.cancelled_at is None or m.cancelled_at > m.starts_at]


async def unsynced(session: AsyncSession, now: datetime) -> list[Maintenance]:
    """Plans whose silences do not yet carry out their latest revision and still matter: not
    ended, or cancelled with silences still to expire."""
    query = select(Maintenance).where(
        (Maintenance.synced_revision.is_(None))
        | (Maintenance.synced_revision != Maintenance.revision)
        | Maintenance.sync_error.is_not(None)
    )
    rows = (await session.execute(query.order_by(Maintenance.id))).scalars()
    return [m for m in rows if m.ends_at > now or (m.cancelled_at is not None and m.silence_ids)]


def add_plan(session: AsyncSession, plan: Plan, actor: str, now: datetime) -> Maintenance:
    row = Maintenance(
        skpd=plan.skpd,
        nodes=list(plan.nodes),
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        reason=plan.reason,
        created_by=actor,
        created_at=now,
        updated_at=now,
        revision=1,
        silence_ids={},
    )
    session.add(row)
    return row


def change_plan(row: Maintenance, plan: Plan, now: datetime) -> None:
    row.skpd, row.nodes = plan.skpd, list(plan.nodes)
    row.starts_at, row.ends_at, row.reason = plan.starts_at, plan.ends_at, plan.reason
    row.updated_at, row.revision = now, row.revision + 1


def cancel_plan(row: Maintenance, now: datetime) -> None:
    """Cancelled: its silences are expired; a window that ran keeps its past as planned time."""
    row.cancelled_at, row.updated_at, row.revision = now, now, row.revision + 1
