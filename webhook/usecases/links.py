"""A signed one-click link's move (its signature already checked by the door): who it was sent
to must still be able to act, and the link works once (its nonce is stored with the move)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import links
from webhook.core.refusals import NotFound
from webhook.core.workflow import Transition
from webhook.store import people
from webhook.store.models import Incident, UsedLink, User
from webhook.store.queries import alarm_firing, get_incident
from webhook.usecases.context import Actor, Resources
from webhook.usecases.incidents import make_move

USED = "this link has already been used"


async def _holder(session: AsyncSession, claim: links.Claim) -> tuple[User, Incident]:
    """The person the link was sent to and its incident, if it is unused and they may still act
    on it (LinkRefused otherwise)."""
    if await session.get(UsedLink, claim.nonce) is not None:
        raise links.LinkRefused("used", USED)
    user = await people.user_by_name(session, claim.person)
    incident = await get_incident(session, claim.incident_id)
    if (
        user is None
        or not user.active
        or incident is None
        or not Actor.of(user).sees(incident.skpd)
    ):
        raise links.LinkRefused(
            "foreign", "this link is not for anyone who may act on it", key="link_nobody"
        )
    return user, incident


@dataclass(frozen=True, slots=True)
class Offer:
    """What a link's page shows before it acts."""

    holder: User
    incident: Incident
    staff: list[User]
    """Who may be dispatched (for a dispatch link's choice)."""
    alarm_firing: bool
    """A close link's page then asks to confirm closing despite it, as the incident page does."""


async def offer(res: Resources, claim: links.Claim) -> Offer:
    async with res.database.read() as session:
        user, incident = await _holder(session, claim)
        staff = await people.network_staff(session) if claim.action == "dispatch" else []
        firing = claim.action == "close" and await alarm_firing(session, incident.id)
    return Offer(user, incident, staff, firing)


async def use(
    res: Resources, claim: links.Claim, data: Mapping[str, Any]
) -> tuple[Incident, Transition]:
    """Make the link's move as its holder, once: a second use (even at the same moment) is
    LinkRefused("used")."""
    async with res.database.read() as session:
        user, _ = await _holder(session, claim)

    async def use_up(session: AsyncSession) -> None:
        session.add(
            UsedLink(
                nonce=claim.nonce,
                incident_id=claim.incident_id,
                action=claim.action,
                person=claim.person,
                used_at=res.clock(),
            )
        )
        await session.flush()  # a second click at once fails here (IntegrityError)

    try:
        return await make_move(
            res, Actor.of(user), claim.incident_id, claim.action, data, also=use_up
        )
    except IntegrityError:
        raise links.LinkRefused("used", USED) from None
    except NotFound:
        raise links.LinkRefused("foreign", "this incident is gone", key="link_gone") from None
