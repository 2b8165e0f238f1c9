"""The duty roster in the database, and the paging chain of a new outage.

When an incident opens (an alert or a report), its transaction owes the notice `opened`, which
the delivery worker plans to the staff on duty then (`duty_at`), with a one-click *Tangani*
(acknowledge) link. `page_once()`, run by the leading replica every `paging.interval`, walks the
chain of each incident nobody has taken: unacknowledged `paging.ack_timeout` after the opening
it pages the next on duty (step 2), after as long again the coordinators (step 3). Each step is
SIGAP's `page` move (`webhook.store.moves.make_move`): a line on the timeline and the notice,
in one transaction; a step already on the timeline since the incident's last opening is never
made again. Acknowledging (or a dispatch: someone holds it), any move past `ping_checked`, and a
final state (a transient outage that closed itself, a cancel) end the chain.

Paging is on once a rotation is set (`sigap-webhook roster set` or /piket): without a roster
there is nobody on duty to page, and the stage escalation tells the coordinator as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import roster
from webhook.core.roster import Override, PagingConfig, RosterInvalid, Rotation
from webhook.core.workflow import Role, State
from webhook.store.database import Database
from webhook.store.models import Event, Incident, RosterOverride, RosterRotation, User
from webhook.store.moves import make_move
from webhook.store.people import network_staff

CHAIN_STATES = (State.OPENED.value, State.PING_CHECKED.value)
"""The stages in which an untaken incident is paged: any move beyond them is someone's work."""
OVERRIDES_LOOKBACK = timedelta(days=7)
"""Overrides that ended this long ago may still say who was on duty when a chain began."""
CHAIN_STARTS = ("opened", "reopen")
"""The timeline entries a chain starts from (a reopened outage is paged afresh)."""


def rotation_of(row: RosterRotation | None) -> Rotation | None:
    if row is None:
        return None
    hours, minutes = (int(part) for part in row.handover.split(":"))
    return Rotation(tuple(row.people), row.shift_days, time(hours, minutes), row.starts_on)


async def load_roster(
    session: AsyncSession, since: datetime
) -> tuple[Rotation | None, list[Override]]:
    """The rotation in force and the overrides that end after `since`."""
    row = await session.scalar(select(RosterRotation).order_by(RosterRotation.id.desc()).limit(1))
    overrides = await override_rows(session, since)
    return rotation_of(row), [
        Override(o.person, o.starts_at, o.ends_at, "swap" if o.reason == "swap" else "leave")
        for o in overrides
    ]


async def override_rows(session: AsyncSession, since: datetime) -> list[RosterOverride]:
    """The swaps and leave that end after `since`, soonest first."""
    query = select(RosterOverride).where(RosterOverride.ends_at > since)
    rows = await session.execute(query.order_by(RosterOverride.starts_at, RosterOverride.id))
    return list(rows.scalars())


async def _check_people(session: AsyncSession, people: Sequence[str]) -> None:
    """Only active network staff and coordinators go on the roster."""
    known = {user.name for user in await network_staff(session)}
    unknown = [p for p in people if p not in known]
    if unknown:
        raise RosterInvalid(
            f"{', '.join(unknown)}: not an active network staff member or coordinator"
        )


async def set_rotation(
    session: AsyncSession, rotation: Rotation, by: str, now: datetime
) -> RosterRotation:
    """Put `rotation` in force (the one before stays, as history)."""
    await _check_people(session, rotation.people)
    row = RosterRotation(
        people=list(rotation.people),
        shift_days=rotation.shift_days,
        handover=rotation.handover.strftime("%H:%M"),
        starts_on=rotation.starts_on,
        updated_at=now,
        updated_by=by,
    )
    session.add(row)
    await session.flush()
    return row


async def add_override(
    session: AsyncSession, override: Override, by: str, now: datetime
) -> RosterOverride:
    await _check_people(session, [override.person])
    row = RosterOverride(
        person=override.person,
        starts_at=override.start,
        ends_at=override.end,
        reason=override.reason,
        created_at=now,
        created_by=by,
    )
    session.add(row)
    await session.flush()
    return row


@dataclass(frozen=True, slots=True)
class Duty:
    """Who is on duty at a moment, and who takes over next (the board's line)."""

    now: list[str]
    next: list[str]
    next_from: datetime | None
    rotation: Rotation | None


async def duty_at(session: AsyncSession, zone: ZoneInfo, at: datetime) -> Duty:
    rotation, overrides = await load_roster(session, at)
    following, since = roster.next_on_duty(rotation, overrides, at, zone)
    return Duty(roster.on_duty(rotation, overrides, at, zone), following, since, rotation)


@dataclass(frozen=True, slots=True)
class Step:
    incident_id: int
    step: int
    people: list[str]


def _due(
    incident: Incident,
    entries: list[Event],
    rotation: Rotation,
    overrides: list[Override],
    coordinators: list[str],
    timeout: timedelta,
    zone: ZoneInfo,
    now: datetime,
) -> tuple[int, str, list[str], datetime] | None:
    """The chain's next step for `incident` if it is due: (step, to, people, waited since)."""
    starts = [e.at for e in entries if e.kind in CHAIN_STARTS]
    start = max(starts, default=incident.opened_at)
    pages = [e for e in entries if e.kind == "page" and e.at >= start]
    done = {int(e.data.get("step", 0)) for e in pages}
    last = max([start, *(e.at for e in pages)])
    if 3 in done or now - last < timeout:
        return None
    if 2 not in done:
        first = roster.on_duty(rotation, overrides, start, zone)
        following, _ = roster.next_on_duty(rotation, overrides, now, zone)
        later = [p for p in following if p not in first]
        if later:
            return 2, "next_on_duty", later, last
    return 3, "coordinator", coordinators, last


async def page_once(
    database: Database, config: PagingConfig, zone: ZoneInfo, now: datetime
) -> list[Step]:
    """Make every paging step that is due at `now`; returns the steps made."""
    timeout = timedelta(seconds=config.ack_timeout)
    made: list[Step] = []
    async with database.write() as session:
        rotation, overrides = await load_roster(session, now - OVERRIDES_LOOKBACK)
        if rotation is None:
            return made
        incidents = list(
            (
                await session.execute(
                    select(Incident)
                    .where(Incident.state.in_(CHAIN_STATES), Incident.holder.is_(None))
                    .order_by(Incident.id)
                )
            ).scalars()
        )
        if not incidents:
            return made
        entries: dict[int, list[Event]] = {i.id: [] for i in incidents}
        for entry in (
            await session.execute(
                select(Event).where(
                    Event.incident_id.in_(list(entries)),
                    Event.kind.in_([*CHAIN_STARTS, "page"]),
                )
            )
        ).scalars():
            entries[entry.incident_id].append(entry)
        coordinators = list(
            (
                await session.execute(
                    select(User.name)
                    .where(User.role == Role.COORDINATOR.value, User.active)
                    .order_by(User.name)
                )
            ).scalars()
        )
        for incident in incidents:
            due = _due(
                incident,
                entries[incident.id],
                rotation,
                overrides,
                coordinators,
                timeout,
                zone,
                now,
            )
            if due is None:
                continue
            step, to, people, since = due
            data = {
                "step": step,
                "to": to,
                "people": people,
                "after_seconds": int((now - since).total_seconds()),
            }
            await make_move(session, incident, "page", "sigap", Role.SYSTEM, data, now)
            made.append(Step(incident.id, step, people))
    return made


async def paged_people(
    session: AsyncSession, incident_ids: set[int]
) -> dict[tuple[int, datetime], list[str]]:
    """Whom each `page` step of these incidents named, by (incident, time of the step): the
    recipients of its notice (owed at the same moment)."""
    rows = await session.execute(
        select(Event.incident_id, Event.at, Event.data).where(
            Event.incident_id.in_(list(incident_ids)), Event.kind == "page"
        )
    )
    return {(row.incident_id, row.at): list(row.data.get("people", [])) for row in rows}
