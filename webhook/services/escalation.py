"""Stages that overrun their target time: marked overdue, re-notified, escalated to the coordinator.

`overdue()` is pure (the clock passed in). `escalate_once()` finds the open incidents whose stage
is overdue and not yet escalated in that stage, writes an `escalate` event on the timeline and
has the notifier tell the coordinator. Targets are configurable per stage in the `escalation:`
section of the config file, e.g. `escalation: {opened: 15m, reported: 30m}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from exporter.inventory import parse_duration
from webhook.core.workflow import OPEN_STATES, State
from webhook.store.database import Database
from webhook.store.models import Event, Incident

# SOP targets: confirm within 15 minutes, dispatch within 30, and so on.
DEFAULT_TARGETS: dict[State, timedelta] = {
    State.OPENED: timedelta(minutes=15),
    State.PING_CHECKED: timedelta(minutes=15),
    State.CONFIRMED: timedelta(minutes=15),
    State.REPORTED: timedelta(minutes=30),
    State.DISPATCHED: timedelta(hours=1),
    State.ESTIMATED: timedelta(minutes=30),
    State.FORWARDED: timedelta(minutes=30),
    State.REPAIR_ORDERED: timedelta(hours=4),
    State.REPAIRED: timedelta(days=1),
}


def targets_of(section: Mapping[str, Any] | None) -> dict[State, timedelta]:
    targets = dict(DEFAULT_TARGETS)
    for name, value in (section or {}).items():
        try:
            state = State(name)
        except ValueError:
            raise ValueError(f"escalation.{name}: not a stage ({', '.join(State)})") from None
        if state not in OPEN_STATES:
            raise ValueError(f"escalation.{name}: a final stage has no target time")
        targets[state] = timedelta(seconds=parse_duration(value))
    return targets


def overdue(
    state: str, stage_entered_at: datetime, targets: Mapping[State, timedelta], now: datetime
) -> bool:
    target = targets.get(State(state))
    return target is not None and now - stage_entered_at > target


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
            target = targets[State(incident.state)]
            session.add(
                Event(
                    incident_id=incident.id,
                    at=now,
                    actor="sigap",
                    role="system",
                    kind="escalate",
                    from_state=incident.state,
                    to_state=incident.state,
                    data={"target_seconds": int(target.total_seconds())},
                )
            )
            escalated.append(incident.id)
    return escalated
