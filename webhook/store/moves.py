"""The store's half of a move: load what `webhook.core.workflow.apply_move` needs, write what it
returns — the incident's columns, the timeline entry, the form, the SOP figures — in the
caller's write transaction. The UI, the JSON API, the one-click links, the ping check and
escalation all come through `make_move`; the alert batch applies the same pure function to its
own working copy (`webhook.intake.batch`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import figures, maintenance
from webhook.core.forms import CAUSES, UNKNOWN_CAUSE, ReportForm
from webhook.core.localtime import DEFAULT_ZONE, local
from webhook.core.opening import Opening, receive_report
from webhook.core.workflow import (
    Applied,
    FormWrite,
    Move,
    Role,
    TimelineEntry,
    apply_move,
    repeats,
)
from webhook.store.database import publish
from webhook.store.maintenance import windows_at
from webhook.store.models import Alert, Event, Form, Incident
from webhook.store.outbox import owe
from webhook.store.people import network_staff
from webhook.store.queries import alarm_firing, open_incident


async def make_move(
    session: AsyncSession,
    incident: Incident,
    action: str,
    actor: str,
    role: Role,
    data: dict[str, Any],
    now: datetime,
    zone: str = DEFAULT_ZONE,
) -> tuple[Applied, Event]:
    """Make one move on `incident` in the session's transaction (TransitionRefused or
    FormInvalid when it cannot be made; nothing is written then). `zone`: the regency's, whose
    months number the forms."""
    staff: frozenset[str] = frozenset()
    if action == "dispatch":
        staff = frozenset(user.name for user in await network_staff(session))
    other_open = False
    if action == "reopen":
        other_open = await open_incident(session, incident.skpd) not in (None, incident)
    if action == "repair" and not data.get("staff"):
        data = {**data, "staff": incident.assignee or actor}  # F-04 names who repaired
    firing = action == "close" and await alarm_firing(session, incident.id)
    answered = None
    if action == "answer" and incident.skpd_answer is not None:
        answered = (incident.skpd_answer_by or "", incident.skpd_answer)
    move = Move(action, actor, role, now, data, staff, other_open, firing, answered)
    applied = apply_move(incident, move)
    earlier = list(
        (
            await session.execute(
                select(Event).where(Event.incident_id == incident.id).order_by(Event.id)
            )
        ).scalars()
    )
    last = earlier[-1] if earlier else None
    current = {column: getattr(incident, column) for column in applied.changes}
    if last is not None and repeats(applied, current, _entry(last)):
        return applied, last  # an old button pressed again: already so, nothing written
    for column, value in applied.changes.items():
        setattr(incident, column, value)
    if applied.form is not None:
        await _save_form(session, incident.id, applied.form, actor, now, zone)
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


def _entry(event: Event) -> TimelineEntry:
    return TimelineEntry(
        event.kind,
        event.actor,
        event.role,
        event.from_state or "",
        event.to_state,
        dict(event.data),
    )


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
    ledger: dict[str, float] = {}
    if not await session.scalar(select(Alert.id).where(Alert.incident_id == incident.id).limit(1)):
        # a report: F-04 ends its outage (with alerts, their recovery does: webhook.intake.batch)
        outage = figures.outage_seconds([(incident.opened_at, repair_ended_at)], now)
        downtime = figures.downtime_increment(outage, earlier)
        publish(session, figures.OutageEnded(incident.skpd, responsibility, downtime))
        ledger[figures.DOWNTIME_KEY] = downtime
    return ledger | _caused(session, applied, earlier, ledger.get(figures.DOWNTIME_KEY, 0.0))


def _caused(
    session: AsyncSession, applied: Applied, earlier: list[Event], now_counted: float
) -> dict[str, float]:
    """F-04 names the cause: the incident's downtime counted so far (the ledger) that no
    earlier F-04 attributed goes to `sigap_incident_downtime_by_cause_seconds_total`."""
    cause = applied.event.data.get("cause")
    cause = cause if cause in CAUSES else UNKNOWN_CAUSE
    counted = figures.downtime_counted(earlier) + now_counted
    attributed = sum(float(e.data.get(figures.CAUSED_KEY, 0.0)) for e in earlier)
    seconds = max(0.0, counted - attributed)
    publish(session, figures.DowntimeCaused(cause, seconds))
    return {figures.CAUSED_KEY: seconds}


async def _save_form(
    session: AsyncSession, incident_id: int, write: FormWrite, by: str, now: datetime, zone: str
) -> None:
    form = (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == write.kind)
        )
    ).scalar_one_or_none()
    if form is None:
        form = Form(
            incident_id=incident_id, kind=write.kind, data=write.data, saved_at=now, saved_by=by
        )
        session.add(form)
    elif write.merge:
        form.data = {**form.data, **write.data}
    else:
        form.data, form.saved_at, form.saved_by = write.data, now, by
    if form.number_seq is None:
        await _number(session, form, now, zone)


async def _number(session: AsyncSession, form: Form, now: datetime, zone: str) -> None:
    """The form's document number: the next of its kind in the local month. Safe across
    replicas because writes are serialised (`Database.write`); the unique constraint on
    (kind, year, month, seq) would refuse a duplicate all the same."""
    month = local(now, zone)
    last = await session.scalar(
        select(func.max(Form.number_seq)).where(
            Form.kind == form.kind, Form.number_year == month.year, Form.number_month == month.month
        )
    )
    form.number_year, form.number_month, form.number_seq = month.year, month.month, (last or 0) + 1


async def load_form(session: AsyncSession, incident_id: int, kind: str) -> dict[str, Any] | None:
    form = await saved_form(session, incident_id, kind)
    return None if form is None else dict(form.data)


async def saved_form(session: AsyncSession, incident_id: int, kind: str) -> Form | None:
    """The form row with its number and who saved it (the document is built from it)."""
    return (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == kind)
        )
    ).scalar_one_or_none()


async def record_report(
    session: AsyncSession, actor: str, role: Role, form: ReportForm, now: datetime
) -> tuple[Incident, bool]:
    """SOP step 1, second path (the report form, the JSON API, a chat), through
    `receive_report`. Returns the incident and whether it was opened now (the caller starts the
    ping check after the commit)."""
    incident = await open_incident(session, form.skpd)
    planned = incident is None and maintenance.planned(
        await windows_at(session, form.skpd, now), form.skpd, form.nodes, now
    )
    received = receive_report(
        incident, incident.nodes if incident else [], form, actor, role, now, planned
    )
    if received.opening is not None:
        incident = await write_opening(session, received.opening, now)
    assert incident is not None
    incident.nodes, incident.updated_at = received.nodes, now
    if received.opening is None:
        await _add_event(session, incident, received.event, now)
    await session.flush()
    return incident, received.opening is not None


async def write_opening(session: AsyncSession, opening: Opening, now: datetime) -> Incident:
    """Insert the incident an `Opening` declares, its first timeline entry and the notices it
    owes, and count it once this commits."""
    incident = Incident(**opening.columns)
    session.add(incident)
    await session.flush()
    await _add_event(session, incident, opening.event, now)
    for notice in opening.owed:  # the page to the staff on duty (webhook.services.paging)
        owe(session, incident.id, notice, now, actor=opening.event.actor)
    publish(session, opening.fact)
    return incident


async def _add_event(
    session: AsyncSession, incident: Incident, entry: TimelineEntry, now: datetime
) -> None:
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
