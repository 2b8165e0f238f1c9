"""Signed one-click links in the notifications: `GET /l/{token}` shows what the link will do
(mail scanners and previews fetch links, so GET never acts); `POST /l/{token}` does it, once.

The signature is checked before anything else, with no database and no write lock: a forged
or expired link is refused at once. A genuine one acts through `webhook.web.moves` like the
UI's buttons, and its nonce is stored in the same transaction, so it works once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import links
from webhook.core.forms import FormInvalid
from webhook.core.workflow import Role, State, TransitionRefused, find
from webhook.store.models import UsedLink, User
from webhook.store.queries import get_incident, user_by_name
from webhook.web.keys import CLOCK, DATABASE, SETTINGS
from webhook.web.moves import NoSuchIncident, can_see, move_incident
from webhook.web.ui.session import logged_in
from webhook.web.ui.views import render

MAX_FORM_BYTES = 16 * 1024


def _refused(request: web.Request, refused: links.LinkRefused) -> web.Response:
    status = {"forged": 403, "refused": 409, "invalid": 422}.get(refused.kind, 410)
    return render(request, "link_refused.html", status=status, refused=refused)


async def _claim(request: web.Request) -> links.Claim:
    """The link's claim, its signature checked first (LinkRefused: forged, expired, foreign)."""
    secret = request.app[SETTINGS].secret_key
    claim = links.verify(secret, request.match_info["token"], request.app[CLOCK]())
    login = await logged_in(request)
    if login is not None and login.user != claim.person:
        raise links.LinkRefused(
            "foreign",
            f"this link was sent to {claim.person}, and you are logged in as {login.user}",
        )
    return claim


async def _holder(session: AsyncSession, claim: links.Claim) -> User:
    """The person the link was sent to, if it is unused and they may still act on it."""
    if await session.get(UsedLink, claim.nonce) is not None:
        raise links.LinkRefused("used", "this link has already been used")
    user = await user_by_name(session, claim.person)
    incident = await get_incident(session, claim.incident_id)
    if user is None or not user.active or incident is None or not can_see(user, incident):
        raise links.LinkRefused("foreign", "this link is not for anyone who may act on it")
    return user


async def link_get(request: web.Request) -> web.Response:
    try:
        claim = await _claim(request)
        async with request.app[DATABASE].read() as session:
            user = await _holder(session, claim)
            incident = await get_incident(session, claim.incident_id)
            staff: list[str] = []
            if claim.action == "dispatch":
                staff = list(
                    (
                        await session.execute(
                            select(User.name)
                            .where(User.role == Role.STAFF.value, User.active)
                            .order_by(User.name)
                        )
                    ).scalars()
                )
    except links.LinkRefused as refused:
        return _refused(request, refused)
    assert incident is not None
    row = find(State(incident.state), claim.action)
    return render(
        request,
        "link_confirm.html",
        claim=claim,
        incident=incident,
        user=user,
        row=row,
        staff=staff,
    )


async def link_post(request: web.Request) -> web.Response:
    try:
        claim = await _claim(request)
    except links.LinkRefused as refused:
        return _refused(request, refused)
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM_BYTES, request.content_length or 0)
    form = await request.post()
    data: dict[str, Any] = {k: str(v) for k, v in form.items()}
    try:
        async with request.app[DATABASE].read() as session:
            user = await _holder(session, claim)

        async def use_up(session: AsyncSession) -> None:
            session.add(
                UsedLink(
                    nonce=claim.nonce,
                    incident_id=claim.incident_id,
                    action=claim.action,
                    person=claim.person,
                    used_at=request.app[CLOCK](),
                )
            )
            await session.flush()  # a second click at once fails here (IntegrityError)

        incident, row = await move_incident(
            request.app, user, claim.incident_id, claim.action, data, also=use_up
        )
    except links.LinkRefused as refused:
        return _refused(request, refused)
    except NoSuchIncident:
        return _refused(request, links.LinkRefused("foreign", "this incident is gone"))
    except TransitionRefused as refused:
        return _refused(request, links.LinkRefused("refused", refused.reason))
    except FormInvalid as invalid:
        return _refused(request, links.LinkRefused("invalid", invalid.reason))
    except IntegrityError:
        return _refused(request, links.LinkRefused("used", "this link has already been used"))
    return render(request, "link_done.html", incident=incident, row=row)


def setup_links(app: web.Application) -> None:
    app.router.add_get("/l/{token}", link_get)
    app.router.add_post("/l/{token}", link_post)
