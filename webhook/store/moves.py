"""The store's half of a move: load what `webhook.core.workflow.apply_move` needs, write what it
returns — the incident's columns, the timeline entry, the form, the SOP figures — in the
caller's write transaction. The UI, the JSON API, the one-click links, the ping check and
escalation all come through `make_move`; the alert batch applies the same pure function to its
own working copy (`webhook.intake.batch`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import figures, maintenance
from webhook.core.forms import ReportForm
from webhook.core.messages import OPENED
from webhook.core.workflow import (
    Applied,
    FormWrite,
    Move,
    Role,
    State,
    apply_move,
    receive_report,
)
from webhook.store.database import publish
from webhook.store.maintenance import windows_at
from webhook.store.models import Alert, Event, Form, Incident, User
from webhook.store.outbox import owe
from webhook.store.queries import open_incident


async def make_move(
    session: AsyncSession,
    incident: Incident,
    action: str,
    actor: str,
    role: Role,
    data: dict[str, Any],
    now: datetime,
) -> tuple[Applied, Event]:
    """Make one move on `incident` in the session's transaction (TransitionRefused or
    FormInvalid when it cannot be made; nothing is written then)."""
    staff: frozenset[str] = frozenset()
    if action == "dispatch":
        staff = frozenset(
            (
                await session.execute(
                    select(User.name).where(
                        User.role.in_([Role.STAFF.value, Role.COORDINATOR.value]), User.active
                    )
                )
            ).scalars()
        )
    other_open = False
    if action == "reopen":
        other_open = await open_incident(session, incident.skpd) not in (None, incident)
    if action == "repair" and not data.get("staff"):
        data = {**data, "staff": incident.assignee or actor}  # F-04 names who repaired
    move = Move(action, actor, role, now, data, staff, other_open)
    applied = apply_move(incident, move)
    earlier = list(
        (await session.execute(select(Event).where(Event.incident_id == incident.id))).scalars()
    )
    for column, value in applied.changes.items():
        setattr(incident, column, value)
    if applied.form is not None:
        await _save_form(session, incident.id, applied.form, actor, now)
    entry = applied.event
    event = Event(
        incident_id=incident.id,
        at=now,
        actor=entry.actor,
        role=entry.role,
        kind=entry.kind,
        from_state=entry.from_state,
        to_state=entry.to_state,
        data={**entry.data, **await _figures(session, incident, applied, earlier, now)},
    )
    session.add(event)
    for notice in applied.owed:  # sent by the delivery worker once this commits
        owe(session, incident.id, notice, now, actor=actor)
    await session.flush()
    return applied, event


async def _figures(
    session: AsyncSession,
    incident: Incident,
    applied: Applied,
    earlier: list[Event],
    now: datetime,
) -> dict[str, float]:
    """The SOP figures of a move, published for the metrics once it commits: the first time a
    timed stage is reached; on F-04 the estimate's error, and a report's outage (no alerts to
    end it). Returns what the move's event keeps (the downtime ledger)."""
    responsibility = figures.responsibility_label(incident.responsibility)
    stage = figures.first_entry(applied.source.value, applied.target.value, earlier)
    if stage is not None:
        seconds = (now - incident.opened_at).total_seconds()
        publish(session, figures.StageReached(stage, responsibility, seconds))
    if figures.first_acknowledgement(applied.row.action, (e.kind for e in earlier)):
        publish(session, figures.Acknowledged((now - incident.opened_at).total_seconds()))
    if applied.row.action != "repair":
        return {}
    repair_ended_at = datetime.fromisoformat(applied.event.data["repair_ended_at"])
    if incident.estimated_recovery_at is not None:
        error = figures.estimate_error(incident.estimated_recovery_at, repair_ended_at)
        publish(session, figures.EstimateChecked(responsibility, error))
    if await session.scalar(select(Alert.id).where(Alert.incident_id == incident.id).limit(1)):
        return {}  # the alerts' recovery ends this outage (webhook.intake.batch)
    outage = figures.outage_seconds([(incident.opened_at, repair_ended_at)], now)
    downtime = figures.downtime_increment(outage, earlier)
    publish(session, figures.OutageEnded(incident.skpd, responsibility, downtime))
    return {figures.DOWNTIME_KEY: downtime}


async def _save_form(
    session: AsyncSession, incident_id: int, write: FormWrite, by: str, now: datetime
) -> None:
    form = (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == write.kind)
        )
    ).scalar_one_or_none()
    if form is None:
        session.add(
            Form(
                incident_id=incident_id, kind=write.kind, data=write.data, saved_at=now, saved_by=by
            )
        )
    elif write.merge:
        form.data = {**form.data, **write.data}
    else:
        form.data, form.saved_at, form.saved_by = write.data, now, by


async def load_form(session: AsyncSession, incident_id: int, kind: str) -> dict[str, Any] | None:
    form = (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == kind)
        )
    ).scalar_one_or_none()
    return None if form is None else dict(form.data)


async def record_report(
    session: AsyncSession, user: User, form: ReportForm, now: datetime
) -> tuple[Incident, bool]:
    """SOP step 1, second path (UI form or JSON API), through `receive_report`. Returns the
    incident and whether it was opened now (the caller starts the ping check after the
    commit)."""
    incident = await open_incident(session, form.skpd)
    received = receive_report(
        incident, incident.nodes if incident else [], form, user.name, Role(user.role)
    )
    if incident is None:
        incident = Incident(
            skpd=form.skpd,
            state=State.OPENED.value,
            responsibility=None,
            source="report",
            open_key=form.skpd,
            title=form.description.splitlines()[0][:300],
            description=form.description,
            opened_at=now,
            opened_by=user.name,
            stage_entered_at=now,
            truncated_alerts=0,
            planned=maintenance.planned(
                await windows_at(session, form.skpd, now), form.skpd, form.nodes, now
            ),
        )
        session.add(incident)
        publish(session, figures.Opened(form.skpd, "unknown", "report"))
    incident.nodes, incident.updated_at = received.nodes, now
    if received.opens:  # a page to the staff on duty (webhook.services.paging)
        await session.flush()
        owe(session, incident.id, OPENED, now, actor=user.name)
    entry = received.event
    session.add(
        Event(
            incident=incident,
            at=now,
            actor=entry.actor,
            role=entry.role,
            kind=entry.kind,
            from_state=entry.from_state or None,
            to_state=entry.to_state,
            data=entry.data,
        )
    )
    await session.flush()
    return incident, received.opens
