"""Stages that overrun their target time (`webhook.core.deadlines`): escalated to the coordinator.

`escalate_once()` finds the open incidents whose stage is overdue and not yet escalated in that
stage, and makes SIGAP's `escalate` move on each (`webhook.store.moves`): the timeline entry and,
in the same transaction, the notice that tells the coordinator. The leading replica runs it
every minute (`webhook.services.leadership`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import select

from webhook.core.deadlines import overdue
from webhook.core.workflow import OPEN_STATES, Role, State
from webhook.store.database import Database
from webhook.store.models import Event, Incident
from webhook.store.moves import make_move


async def escalate_once(
    database: Database, targets: Mapping[State, timedelta], now: datetime
) -> list[int]:
    """Escalate every newly overdue stage; returns the incidents escalated."""
    escalated = []
    async with database.write() as session:
        rows = await session.execute(
            select(Incident).where(Incident.state.in_([s.value for s in OPEN_STATES]))
        )
        for incident in rows.scalars():
            if not overdue(incident.state, incident.stage_entered_at, targets, now):
                continue
            already = await session.scalar(
                select(Event.id).where(
                    Event.incident_id == incident.id,
                    Event.kind == "escalate",
                    Event.at >= incident.stage_entered_at,
                )
            )
            if already is not None:
                continue
            target = int(targets[State(incident.state)].total_seconds())
            data = {"target_seconds": target}
            await make_move(session, incident, "escalate", "sigap", Role.SYSTEM, data, now)
            escalated.append(incident.id)
    return escalated
