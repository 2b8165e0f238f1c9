"""Incidents as people see and move them: the board, one incident, the SKPDs, a manual report
(SOP step 1), and every move of the SOP (`make_move`), whichever door it comes through.

A move's input is read and its sender known before the write transaction starts (a slow client
or a stranger never holds the writer); the move itself is `webhook.store.moves.make_move` in one
transaction, which also owes the notices the move sends (`webhook.store.outbox`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from exporter.inventory import Skpd
from webhook.core.forms import ReportForm, parse_form
from webhook.core.i18n import LANGUAGES, word
from webhook.core.inventory_check import check_nodes, check_skpd
from webhook.core.refusals import Forbidden, NotFound
from webhook.core.workflow import Role, State, Transition, TransitionRefused, transition
from webhook.services.paging import Duty, duty_at
from webhook.store import people
from webhook.store.maintenance import active_at
from webhook.store.models import Incident, Maintenance, Notice, Notification, User
from webhook.store.moves import load_form, record_report
from webhook.store.moves import make_move as store_move
from webhook.store.queries import (
    alarm_firing,
    get_incident,
    list_incidents,
    notifications_of,
    unplannable_notices,
)
from webhook.usecases.context import Actor, Resources

REPORTERS = frozenset({Role.STAFF, Role.COORDINATOR, Role.SKPD_ADMIN})
"""Who may report an outage by hand (SOP step 1's second path)."""
CONFIRMED = (True, "on", "true", "1")
"""`despite_alarm` given: JSON's true, a ticked box's "on"."""


async def visible(session: AsyncSession, actor: Actor, incident_id: int) -> Incident:
    """The incident when `actor` may see it; NotFound otherwise (the same answer, so ids cannot
    be probed)."""
    incident = await get_incident(session, incident_id)
    if incident is None or not actor.sees(incident.skpd):
        raise NotFound(f"no incident {incident_id}", key="no_incident", params={"id": incident_id})
    return incident


async def make_move(
    res: Resources,
    actor: Actor,
    incident_id: int,
    action: str,
    data: Mapping[str, Any],
    *,
    also: Callable[[AsyncSession], Awaitable[None]] | None = None,
    check: Callable[[AsyncSession, Incident], Awaitable[None]] | None = None,
) -> tuple[Incident, Transition]:
    """Make `action` on the incident as `actor`; `check` may refuse it first, in the same
    transaction (a chat button's "still as the message showed it"); `also` writes more in it (a
    link's nonce). A close while an alarm of the incident fires needs `despite_alarm` in `data`
    (the UI's tick box, the API's `true`), whichever door it comes through; the timeline says
    so. Raises NotFound, TransitionRefused, FormInvalid or a database error."""
    now = res.clock()
    data = dict(data)
    despite = data.pop("despite_alarm", False) in CONFIRMED
    async with res.database.write() as session:
        incident = await visible(session, actor, incident_id)
        if check is not None:
            await check(session, incident)
        if action == "close" and not despite and await alarm_firing(session, incident.id):
            raise TransitionRefused(
                "an alert of the incident still fires; send despite_alarm: true to close anyway",
                "despite_alarm",
                key="alert_firing",
            )
        if action == "ping_check":
            # SOP step 2 again: the ping checker records the move with its result later
            row = transition(State(incident.state), action, actor.role, data)
            if res.ping_checker is not None:
                res.ping_checker.schedule(incident.id, actor=actor.name, role=actor.role)
        else:
            applied, _ = await store_move(
                session, incident, action, actor.name, actor.role, data, now,
                zone=res.settings.timezone,
            )  # fmt: skip
            row = applied.row
        if also is not None:
            await also(session)
    return incident, row


async def report(res: Resources, actor: Actor, fields: Mapping[str, Any]) -> tuple[Incident, bool]:
    """SOP step 1, second path: a person reports an outage of an SKPD they may report for; it
    joins the SKPD's open incident if there is one. Returns the incident (alerts and events
    loaded) and whether it was opened now (then the ping check starts)."""
    if actor.role not in REPORTERS:
        raise Forbidden(
            f"a {actor.role.value} cannot report an outage",
            key="cannot_report",
            params={"role": {lang: word(f"role_{actor.role.value}", lang) for lang in LANGUAGES}},
        )
    form = parse_form(ReportForm, dict(fields), "report")
    check_skpd(res.inventory, form.skpd)
    check_nodes(res.inventory, form.skpd, form.nodes)
    if not actor.sees(form.skpd):
        skpds = ", ".join(actor.skpds or ())
        raise Forbidden(
            f"{actor.name} reports only for {skpds}",
            key="report_only_for",
            params={"skpds": skpds},
        )
    async with res.database.write() as session:
        found, created = await record_report(session, actor.name, actor.role, form, res.clock())
        incident_id = found.id
    if created and res.ping_checker is not None:
        res.ping_checker.schedule(incident_id, actor="sigap")
    async with res.database.read() as session:
        stored = await get_incident(session, incident_id, detail=True)
    assert stored is not None
    return stored, created


def reportable_skpds(res: Resources, actor: Actor) -> list[str]:
    """The SKPDs `actor` may report for, for a form's choice."""
    if actor.skpds is not None:
        return sorted(actor.skpds)
    return sorted(res.inventory.skpds) if res.inventory is not None else []


async def incidents(
    res: Resources,
    actor: Actor,
    *,
    states: Sequence[str] = (),
    skpds: Sequence[str] | None = None,
    is_open: bool | None = None,
    limit: int = 100,
) -> list[Incident]:
    """Incidents `actor` may see, newest first; `skpds` narrows to those (None: all)."""
    if skpds is not None:
        for skpd in skpds:
            check_skpd(res.inventory, skpd, core=True)
    scope = list(skpds) if skpds is not None else None
    if actor.skpds is not None:
        scope = [s for s in (scope if scope is not None else actor.skpds) if actor.sees(s)]
    async with res.database.read() as session:
        return await list_incidents(
            session, states=states, skpds=scope, is_open=is_open, limit=limit
        )


async def incident(res: Resources, actor: Actor, incident_id: int) -> Incident:
    """One incident with its alerts and timeline, when `actor` may see it."""
    async with res.database.read() as session:
        found = await get_incident(session, incident_id, detail=True)
    if found is None or not actor.sees(found.skpd):
        raise NotFound(f"no incident {incident_id}", key="no_incident", params={"id": incident_id})
    return found


@dataclass(frozen=True, slots=True)
class Board:
    incidents: list[Incident]
    maintenance: list[Maintenance]
    duty: Duty
    now: datetime
    names: dict[str, str]
    """Each person's full name by user name (the cards name the holder so)."""


async def board(res: Resources, actor: Actor) -> Board:
    """The open incidents, the maintenance running now and who is on duty."""
    now = res.clock()
    async with res.database.read() as session:
        open_now = await list_incidents(session, skpds=actor.skpds, is_open=True, limit=500)
        windows = [m for m in await active_at(session, now) if actor.sees(m.skpd)]
        duty = await duty_at(session, res.zone, now)
        names = {u.name: u.full_name or u.name for u in await people.users(session)}
    return Board(open_now, windows, duty, now, names)


@dataclass(frozen=True, slots=True)
class IncidentView:
    incident: Incident
    f01: dict[str, Any] | None
    f04: dict[str, Any] | None
    notifications: list[Notification]
    unplannable: list[Notice]
    staff: list[User]
    """Who may be dispatched."""
    names: dict[str, str]
    """Each person's full name by user name (the timeline names people so)."""
    alarm_firing: bool
    answerer: str | None
    """The SKPD admin who answered its confirmation in the chat, as F-01 names them."""


async def incident_view(res: Resources, actor: Actor, incident_id: int) -> IncidentView:
    """One incident with all its page shows: forms, messages, who may be dispatched."""
    async with res.database.read() as session:
        found = await get_incident(session, incident_id, detail=True)
        if found is None or not actor.sees(found.skpd):
            raise NotFound(
                f"no incident {incident_id}", key="no_incident", params={"id": incident_id}
            )
        answerer = None
        if found.skpd_answer_by is not None:
            admin = await people.user_by_name(session, found.skpd_answer_by)
            answerer = (admin.full_name or admin.name) if admin else found.skpd_answer_by
        return IncidentView(
            found,
            await load_form(session, found.id, "f01"),
            await load_form(session, found.id, "f04"),
            await notifications_of(session, found.id),
            await unplannable_notices(session, found.id),
            await people.network_staff(session),
            {u.name: u.full_name or u.name for u in await people.users(session)},
            await alarm_firing(session, found.id),
            answerer,
        )


async def skpd_overview(
    res: Resources, actor: Actor
) -> list[tuple[str, Skpd | None, list[Incident]]]:
    """Each SKPD `actor` sees (from the inventory, else from the record): its inventory entry
    and its incidents, newest first."""
    async with res.database.read() as session:
        rows = await list_incidents(session, skpds=actor.skpds, limit=1000)
    inventory = res.inventory
    ids = sorted(
        {i.skpd for i in rows} | (set(inventory.skpds) if inventory is not None else set())
    )
    return [
        (
            skpd,
            inventory.skpds.get(skpd) if inventory is not None else None,
            [i for i in rows if i.skpd == skpd],
        )
        for skpd in ids
        if actor.sees(skpd)
    ]
