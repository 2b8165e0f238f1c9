"""A move asked for over HTTP — the UI's buttons, the JSON API, a one-click link — made the same
way: the request is read and its sender known before the write transaction starts (a slow
client or a stranger never holds the writer), then `webhook.store.moves.make_move` in one
transaction, which also owes the notices the move sends (`webhook.store.outbox`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core.workflow import Role, State, Transition, transition
from webhook.store.models import Incident, User
from webhook.store.moves import make_move
from webhook.store.queries import get_incident
from webhook.web.auth import visible_skpds
from webhook.web.keys import CLOCK, DATABASE, PING_CHECKER, SETTINGS


def can_see(user: User, incident: Incident) -> bool:
    skpds = visible_skpds(user)
    return skpds is None or incident.skpd in skpds


class NoSuchIncident(Exception):
    """Not there, or not for this user to see (the same answer, so ids cannot be probed)."""


async def move_incident(
    app: web.Application,
    user: User,
    incident_id: int,
    action: str,
    data: dict[str, Any],
    *,
    also: Callable[[AsyncSession], Awaitable[None]] | None = None,
) -> tuple[Incident, Transition]:
    """Make `action` on the incident as `user`; `also` writes more in the same transaction (a
    link's nonce). Raises NoSuchIncident, TransitionRefused, FormInvalid or a database error."""
    now = app[CLOCK]()
    async with app[DATABASE].write() as session:
        incident = await get_incident(session, incident_id)
        if incident is None or not can_see(user, incident):
            raise NoSuchIncident(incident_id)
        if action == "ping_check":
            # SOP step 2 again: the ping checker records the move with its result later
            row = transition(State(incident.state), action, Role(user.role), data)
            app[PING_CHECKER].schedule(incident.id, actor=user.name, role=Role(user.role))
        else:
            applied, _ = await make_move(
                session,
                incident,
                action,
                user.name,
                Role(user.role),
                data,
                now,
                zone=app[SETTINGS].timezone,
            )
            row = applied.row
        if also is not None:
            await also(session)
    return incident, row
