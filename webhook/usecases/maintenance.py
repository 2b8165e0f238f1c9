"""Maintenance windows (issue 15): a coordinator (or the operator) plans, changes and cancels
them; everyone sees them. Each change is committed, then carried out as Alertmanager silences
(`webhook.services.silences`); the leader retries what failed. Times without an offset are the
regency's (`SIGAP_TIMEZONE`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.inventory_check import check_nodes, check_skpd
from webhook.core.maintenance import Plan, check_plan, parse_plan, sync_state
from webhook.core.refusals import Conflict, Forbidden, NotFound
from webhook.core.workflow import Role
from webhook.store.maintenance import add_plan, change_plan, current_and_upcoming
from webhook.store.maintenance import cancel_plan as store_cancel
from webhook.store.models import Maintenance
from webhook.usecases.context import Actor, Resources

log = logging.getLogger("sigap.access")


def _planner(actor: Actor) -> None:
    if actor.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator plans or cancels maintenance")


def _checked(res: Resources, data: Mapping[str, Any], base: Plan | None, now: datetime) -> Plan:
    """The plan people gave, parsed and checked against the rules and the inventory."""
    plan = check_plan(parse_plan(dict(data), res.zone, base), now, new=base is None)
    check_skpd(res.inventory, plan.skpd)
    check_nodes(res.inventory, plan.skpd, plan.nodes)
    return plan


def _plan_of(row: Maintenance) -> Plan:
    return Plan(row.skpd, tuple(row.nodes), row.starts_at, row.ends_at, row.reason)


async def _editable(session: AsyncSession, plan_id: int, now: datetime) -> Maintenance:
    row = await session.get(Maintenance, plan_id)
    if row is None:
        raise NotFound(f"no maintenance window {plan_id}")
    if row.cancelled_at is not None or row.ends_at <= now:
        raise Conflict(f"maintenance window {plan_id} is over or cancelled")
    return row


async def save_plan(
    res: Resources, actor: Actor, data: Mapping[str, Any], plan_id: int | None = None
) -> tuple[Maintenance, str | None]:
    """Plan (plan_id None) or change a window, commit, then carry it out in Alertmanager.
    Returns the plan as it stands and why its silences are not in place yet (None: they are)."""
    _planner(actor)
    now = res.clock()
    async with res.database.write() as session:
        if plan_id is None:
            row = add_plan(session, _checked(res, data, None, now), actor.name, now)
        else:
            row = await _editable(session, plan_id, now)
            change_plan(row, _checked(res, data, _plan_of(row), now), now)
        await session.flush()
        saved = row.id
    log.info("maintenance planned" if plan_id is None else "maintenance changed",
             extra={"plan": saved, "by": actor.name})  # fmt: skip
    return await _synced(res, saved, now)


async def cancel_plan(res: Resources, actor: Actor, plan_id: int) -> tuple[Maintenance, str | None]:
    """Cancel a running or upcoming window; its silences are expired."""
    _planner(actor)
    now = res.clock()
    async with res.database.write() as session:
        store_cancel(await _editable(session, plan_id, now), now)
    log.info("maintenance cancelled", extra={"plan": plan_id, "by": actor.name})
    return await _synced(res, plan_id, now)


async def _synced(res: Resources, plan_id: int, now: datetime) -> tuple[Maintenance, str | None]:
    """After the commit: the silences, then the plan as it stands (with its sync state)."""
    error = await res.silences.sync(plan_id, now)
    async with res.database.read() as session:
        row = await session.get(Maintenance, plan_id)
    assert row is not None
    return row, error


async def plans(res: Resources, actor: Actor) -> list[Maintenance]:
    """The current and upcoming windows of the SKPDs `actor` sees."""
    async with res.database.read() as session:
        return await current_and_upcoming(session, res.clock(), actor.skpds)


async def plan(res: Resources, plan_id: int) -> Maintenance | None:
    async with res.database.read() as session:
        return await session.get(Maintenance, plan_id)


def silence_state(res: Resources, row: Maintenance) -> str:
    """none | pending | synced | failed: how far the plan's silences are in place."""
    return sync_state(row.revision, row.synced_revision, row.sync_error, len(res.silences.urls))
