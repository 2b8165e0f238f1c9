"""Applying a workflow move to the store, and the two ways in that are not the web UI's forms.

`apply()` checks the move with `webhook.core.workflow.transition`, changes the incident, writes the
event on the timeline (who, when, from, to, what data) and keeps the F-01/F-04 form; the caller's
transaction commits it all or nothing. After the commit the handlers hand the event to the
notifier, which never blocks them.

- `POST /api/v1/incidents/{id}/actions/{action}` (bearer token, JSON body = the move's data):
  200 with the incident, 409 with the reason when the move is refused.
- `GET /l/{token}` shows what a signed one-click link will do; `POST /l/{token}` does it, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.core import figures, links
from webhook.core.i18n import word
from webhook.core.workflow import (
    FINAL_STATES,
    Role,
    State,
    Transition,
    TransitionRefused,
    find,
    transition,
)
from webhook.store.database import DATABASE_ERRORS, publish
from webhook.store.models import Alert, Event, Form, Incident, UsedLink, User
from webhook.store.queries import get_incident, open_incident, user_by_name
from webhook.web.api import incident_json
from webhook.web.auth import api_user, visible_skpds
from webhook.web.keys import DATABASE, PING_CHECKER, SETTINGS
from webhook.web.ui.session import logged_in

FORM_OF_ACTION = {"confirm": "f01", "repair": "f04"}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("ui") / "templates"),
    autoescape=True,
)
_TEMPLATES.globals["state_name"] = lambda state: word(f"state_{state}", "id")


@dataclass(frozen=True, slots=True)
class Applied:
    incident: Incident
    event: Event
    row: Transition


def _when(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise TransitionRefused(f"{field} {value!r} is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def can_see(user: User, incident: Incident) -> bool:
    skpds = visible_skpds(user)
    return skpds is None or incident.skpd in skpds


async def apply(
    session: AsyncSession,
    incident: Incident,
    action: str,
    actor: str,
    role: Role,
    data: dict[str, Any],
    now: datetime,
) -> Applied:
    """Make one move on `incident` (TransitionRefused when it is not allowed now)."""
    source = State(incident.state)
    row = transition(source, action, role, data)
    target = row.target_from(source)
    if action == "repair":  # checked before anything changes: F-04's times feed the figures
        for field in ("repair_started_at", "repair_ended_at"):
            _when(data[field], field)
    if action == "dispatch":
        assignee = await user_by_name(session, str(data["assignee"]))
        if assignee is None or assignee.role not in (Role.STAFF, Role.COORDINATOR):
            raise TransitionRefused(f"{data['assignee']!r} is not a member of the network staff")
        incident.assignee = incident.holder = assignee.name
    elif action == "acknowledge":
        incident.holder = actor
    elif action in ("report", "set_responsibility"):
        incident.responsibility = str(data["responsibility"])
    elif action == "estimate":
        incident.estimated_recovery_at = _when(data["estimated_recovery_at"], "estimate")
    elif action == "reopen":
        if await open_incident(session, incident.skpd) is not None:
            raise TransitionRefused(f"SKPD {incident.skpd} already has an open incident")
        incident.open_key, incident.closed_at = incident.skpd, None
    if target in FINAL_STATES and source not in FINAL_STATES:
        incident.open_key, incident.closed_at = None, now
    if action in FORM_OF_ACTION:
        await save_form(session, incident.id, FORM_OF_ACTION[action], data, actor, now)
    if action == "close":
        # The SKPD admin's acknowledgement is part of F-04 (SOP step 9: handed to the SKPD).
        f04 = await load_form(session, incident.id, "f04") or {}
        f04.update(acknowledged_by=actor, acknowledged_at=now)
        await save_form(session, incident.id, "f04", f04, actor, now)
    if target != source:
        incident.state, incident.stage_entered_at = target.value, now
    incident.updated_at = now
    recorded = {
        k: v.isoformat() if isinstance(v, datetime) else v
        for k, v in data.items()
        if k != figures.DOWNTIME_KEY  # the ledger is SIGAP's alone, never a person's input
    }
    recorded.update(await _publish_figures(session, incident, action, source, target, data, now))
    event = Event(
        incident_id=incident.id,
        at=now,
        actor=actor,
        role=role.value,
        kind=action,
        from_state=source.value,
        to_state=target.value,
        data=recorded,
    )
    session.add(event)
    await session.flush()
    return Applied(incident, event, row)


async def _publish_figures(
    session: AsyncSession,
    incident: Incident,
    action: str,
    source: State,
    target: State,
    data: dict[str, Any],
    now: datetime,
) -> dict[str, float]:
    """The SOP figures of a move, for the metrics once it commits: the first time a timed stage
    is reached; on F-04 the estimate's error, and a report's outage (no alerts to end it).
    Returns what the move's event keeps (the downtime ledger)."""
    earlier = list(
        (await session.execute(select(Event).where(Event.incident_id == incident.id))).scalars()
    )
    responsibility = figures.responsibility_label(incident.responsibility)
    stage = figures.first_entry(source.value, target.value, earlier)
    if stage is not None:
        seconds = (now - incident.opened_at).total_seconds()
        publish(session, figures.StageReached(stage, responsibility, seconds))
    if action != "repair":
        return {}
    repair_ended_at = _when(data["repair_ended_at"], "repair_ended_at")
    if incident.estimated_recovery_at is not None:
        error = figures.estimate_error(incident.estimated_recovery_at, repair_ended_at)
        publish(session, figures.EstimateChecked(responsibility, error))
    if await session.scalar(select(Alert.id).where(Alert.incident_id == incident.id).limit(1)):
        return {}  # the alerts' recovery ends this outage (webhook.intake.batch)
    outage = figures.outage_seconds([(incident.opened_at, repair_ended_at)], now)
    downtime = figures.downtime_increment(outage, earlier)
    publish(session, figures.OutageEnded(incident.skpd, responsibility, downtime))
    return {figures.DOWNTIME_KEY: downtime}


async def save_form(
    session: AsyncSession, incident_id: int, kind: str, data: dict[str, Any], by: str, now: datetime
) -> Form:
    form = (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == kind)
        )
    ).scalar_one_or_none()
    clean = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    if form is None:
        form = Form(incident_id=incident_id, kind=kind, data=clean, saved_at=now, saved_by=by)
        session.add(form)
    else:
        form.data, form.saved_at, form.saved_by = clean, now, by
    return form


async def load_form(session: AsyncSession, incident_id: int, kind: str) -> dict[str, Any] | None:
    form = (
        await session.execute(
            select(Form).where(Form.incident_id == incident_id, Form.kind == kind)
        )
    ).scalar_one_or_none()
    return None if form is None else dict(form.data)


def _conflict(reason: str) -> web.HTTPConflict:
    return web.HTTPConflict(text=json.dumps({"error": reason}), content_type="application/json")


async def api_action(request: web.Request) -> web.Response:
    try:
        incident_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    action = request.match_info["action"]
    try:
        data = await request.json() if request.can_read_body else {}
    except ValueError:
        raise web.HTTPBadRequest(text='{"error": "body is not JSON"}') from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}')
    try:
        async with request.app[DATABASE].write() as session:
            user = await api_user(request, session)
            incident = await get_incident(session, incident_id)
            if incident is None or not can_see(user, incident):
                raise web.HTTPNotFound(
                    text=json.dumps({"error": f"no incident {incident_id}"}),
                    content_type="application/json",
                )
            try:
                if action == "ping_check":
                    start_ping_check(request.app, incident, user)
                    return web.json_response(incident_json(incident), status=202)
                applied = await apply(
                    session, incident, action, user.name, Role(user.role), data, _now()
                )
            except TransitionRefused as refused:
                raise _conflict(refused.reason) from None
            body = incident_json(applied.incident)
    except DATABASE_ERRORS:
        raise web.HTTPServiceUnavailable(text="database unavailable") from None
    await after_commit(request.app, applied)
    return web.json_response(body)


def start_ping_check(app: web.Application, incident: Incident, user: User) -> None:
    """SOP step 2 again: the ping checker records the move with its result when it has one."""
    transition(State(incident.state), "ping_check", Role(user.role), {})
    app[PING_CHECKER].schedule(incident.id, actor=user.name, role=Role(user.role))


def _now() -> datetime:
    return datetime.now(UTC)


async def after_commit(app: web.Application, applied: Applied) -> None:
    """Tell the people the SOP names (in the background: never blocks the answer)."""
    from webhook.services.delivery import NOTIFIER

    notifier = app.get(NOTIFIER)
    if notifier is not None:
        await notifier.event_committed(applied.incident.id, applied.event.id)


def _page(status: int, template: str, **context: Any) -> web.Response:
    html = _TEMPLATES.get_template(template).render(**context)
    return web.Response(status=status, text=html, content_type="text/html")


async def _check_link(
    request: web.Request, session: AsyncSession
) -> tuple[links.Claim, Incident, User]:
    secret = request.app[SETTINGS].secret_key
    claim = links.verify(secret, request.match_info["token"], _now())
    login = await logged_in(request)
    if login is not None and login.user != claim.person:
        raise links.LinkRefused(
            "foreign",
            f"this link was sent to {claim.person}, and you are logged in as {login.user}",
        )
    if await session.get(UsedLink, claim.nonce) is not None:
        raise links.LinkRefused("used", "this link has already been used")
    user = await user_by_name(session, claim.person)
    incident = await get_incident(session, claim.incident_id)
    if user is None or not user.active or incident is None or not can_see(user, incident):
        raise links.LinkRefused("foreign", "this link is not for anyone who may act on it")
    return claim, incident, user


async def link_get(request: web.Request) -> web.Response:
    """Show what the link will do; never act (mail scanners and previews fetch links)."""
    try:
        async with request.app[DATABASE].read() as session:
            claim, incident, user = await _check_link(request, session)
            staff = await _staff(session) if claim.action == "dispatch" else []
    except links.LinkRefused as refused:
        return _page(410 if refused.kind != "forged" else 403, "link_refused.html", refused=refused)
    row = find(State(incident.state), claim.action)
    return _page(
        200,
        "link_confirm.html",
        claim=claim,
        incident=incident,
        user=user,
        row=row,
        staff=staff,
    )


async def _staff(session: AsyncSession) -> list[str]:
    rows = await session.execute(
        select(User.name).where(User.role == Role.STAFF.value, User.active).order_by(User.name)
    )
    return list(rows.scalars())


async def link_post(request: web.Request) -> web.Response:
    form = await request.post()
    data = {k: str(v) for k, v in form.items() if k != "token"}
    try:
        async with request.app[DATABASE].write() as session:
            claim, incident, user = await _check_link(request, session)
            try:
                applied = await apply(
                    session, incident, claim.action, user.name, Role(user.role), data, _now()
                )
            except TransitionRefused as refused:
                return _page(
                    409,
                    "link_refused.html",
                    refused=links.LinkRefused("refused", refused.reason),
                )
            session.add(
                UsedLink(
                    nonce=claim.nonce,
                    incident_id=claim.incident_id,
                    action=claim.action,
                    person=claim.person,
                    used_at=_now(),
                )
            )
            await session.flush()
    except links.LinkRefused as refused:
        return _page(410 if refused.kind != "forged" else 403, "link_refused.html", refused=refused)
    except IntegrityError:
        # Two clicks at once: the second finds the nonce already stored.
        used = links.LinkRefused("used", "this link has already been used")
        return _page(410, "link_refused.html", refused=used)
    await after_commit(request.app, applied)
    return _page(200, "link_done.html", incident=applied.incident, row=applied.row)


def setup_actions(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/actions/{action}", api_action)
    app.router.add_get("/l/{token}", link_get)
    app.router.add_post("/l/{token}", link_post)
