"""The duty roster (jadwal piket): who is on duty now and next, the coming shifts, a person's
calendar, and a coordinator's (or the operator's) rotation, swaps and leave. Times as people
type them are the regency's (`SIGAP_TIMEZONE`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from webhook.core import roster
from webhook.core.refusals import Forbidden, NotFound
from webhook.core.roster import Override, RosterInvalid, Rotation
from webhook.core.workflow import Role
from webhook.services.paging import (
    Duty,
    add_override,
    duty_at,
    load_roster,
    override_rows,
    set_rotation,
)
from webhook.store import people
from webhook.store.models import RosterOverride, User
from webhook.usecases.context import Actor, Resources

log = logging.getLogger("sigap.access")
FEED_PAST = timedelta(days=1)
"""A calendar feed starts a day back: today's shift stays in the calendar all day."""


def _coordinator(actor: Actor) -> None:
    if actor.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator changes the duty roster")


async def put_rotation(
    res: Resources, actor: Actor, people_in_order: Sequence[str], shift: str, handover: str,
    starts_on: str | None,
) -> Rotation:  # fmt: skip
    """Put a rotation in force: names in order of duty, `daily`/`weekly` shifts handed over at
    local `HH:MM`, person 1's first shift on `starts_on` (local date; default today)."""
    _coordinator(actor)
    now = res.clock()
    starts_on = starts_on or now.astimezone(res.zone).date().isoformat()
    rotation = roster.parse_rotation(people_in_order, shift, handover, starts_on)
    async with res.database.write() as session:
        await set_rotation(session, rotation, actor.name, now)
    log.info("roster set", extra={"people": ",".join(rotation.people), "by": actor.name})
    return rotation


async def put_override(
    res: Resources, actor: Actor, person: str, start: str, end: str, reason: str
) -> Override:
    """A swap (`person` covers) or leave (`person` is off), from local times as typed."""
    _coordinator(actor)
    if reason not in roster.REASONS:
        raise RosterInvalid(f"reason {reason!r} is not one of {', '.join(roster.REASONS)}")
    override = Override(
        person.strip(),
        roster.parse_local(start, res.zone, "start"),
        roster.parse_local(end, res.zone, "end"),
        "swap" if reason == "swap" else "leave",
    )
    async with res.database.write() as session:
        await add_override(session, override, actor.name, res.clock())
    log.info("roster override", extra={"user": override.person, "reason": override.reason})
    return override


async def remove_override(res: Resources, actor: Actor, override_id: int) -> None:
    _coordinator(actor)
    async with res.database.write() as session:
        row = await session.get(RosterOverride, override_id)
        if row is None:
            raise NotFound(f"no override {override_id}")
        await session.delete(row)


async def on_duty(res: Resources) -> Duty:
    """Who is on duty now and who takes over next."""
    async with res.database.read() as session:
        return await duty_at(session, res.zone, res.clock())


@dataclass(frozen=True, slots=True)
class RosterView:
    duty: Duty
    rotation: Rotation | None
    periods: list[tuple[datetime, datetime, tuple[str, ...]]]
    """From the start of the current shift until `days` ahead: who is on duty in each."""
    overrides: list[RosterOverride]
    """Swaps and leave not over yet."""
    staff: list[User]
    """Who may go on the roster (`webhook.store.people.network_staff`)."""


async def roster_view(res: Resources, ahead: timedelta) -> RosterView:
    now, zone = res.clock(), res.zone
    async with res.database.read() as session:
        duty = await duty_at(session, zone, now)
        rotation, overrides = await load_roster(session, now - timedelta(days=7))
        staff = await people.network_staff(session)
        rows = await override_rows(session, now)
    since = roster.shift_start(rotation, now, zone)
    until = roster.shift_start(rotation, now + ahead, zone)
    periods = list(roster.duty_periods(rotation, overrides, since, until, zone))
    return RosterView(duty, rotation, periods, rows, staff)


async def shifts_of(
    res: Resources, person: str, weeks: int
) -> list[tuple[datetime, datetime]] | None:
    """`person`'s shifts from a day back to `weeks` ahead (their calendar feed); None when no
    active user has that name."""
    now, zone = res.clock(), res.zone
    async with res.database.read() as session:
        user = await people.user_by_name(session, person)
        if user is None or not user.active:
            return None
        rotation, overrides = await load_roster(session, now - FEED_PAST)
    since = roster.shift_start(rotation, now - FEED_PAST, zone)
    until = roster.shift_start(rotation, now + timedelta(weeks=weeks), zone)
    return list(roster.shifts_of(person, rotation, overrides, since, until, zone))
