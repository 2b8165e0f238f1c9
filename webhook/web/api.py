"""The JSON API over the incident record, for tools and scripts (bearer tokens).

GET /api/v1/incidents?state=&skpd=&open=&limit=   list, newest first (limit 1-1000)
GET /api/v1/incidents/{id}                        one, with its alerts and its events (timeline)
POST /api/v1/incidents                            a manual report (SOP step 1: an SKPD admin or
                                                  staff taking a phone call); joins the SKPD's
                                                  open incident if there is one
POST /api/v1/incidents/{id}/actions/{action}      a move of the SOP, its form as the JSON body:
                                                  200 with the incident, 409 when the move is
                                                  not possible now, 422 when the form is wrong
An SKPD admin's token sees and reports only its own SKPDs; SKPD and node ids are checked against
the inventory. Every error is `{"status": "error", "error": "..."}` naming the input at fault,
never the inside (`webhook.web.http`). The sender is known before any write starts.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from webhook.core.forms import FormInvalid, ReportForm, parse_form
from webhook.core.workflow import Role, State, TransitionRefused
from webhook.store.database import DATABASE_ERRORS
from webhook.store.models import Incident
from webhook.store.moves import record_report
from webhook.store.queries import get_incident, list_incidents
from webhook.web.auth import api_user, visible_skpds
from webhook.web.http import json_error, read_json_object
from webhook.web.inventory_check import UnknownId, check_nodes, check_skpd
from webhook.web.keys import CLOCK, DATABASE, INVENTORY, PING_CHECKER
from webhook.web.moves import NoSuchIncident, move_incident

REPORTERS = frozenset({Role.STAFF, Role.COORDINATOR, Role.SKPD_ADMIN})
MAX_LIMIT = 1000
UNAVAILABLE = "database unavailable; retry in a moment"


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def incident_json(incident: Incident, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": incident.id,
        "skpd": incident.skpd,
        "state": incident.state,
        "responsibility": incident.responsibility,
        "source": incident.source,
        "title": incident.title,
        "nodes": incident.nodes,
        "opened_at": _iso(incident.opened_at),
        "recovered_at": _iso(incident.recovered_at),
        "closed_at": _iso(incident.closed_at),
        "holder": incident.holder,
        "assignee": incident.assignee,
        "estimated_recovery_at": _iso(incident.estimated_recovery_at),
        "truncated_alerts": incident.truncated_alerts,
        "planned": incident.planned,
    }
    if detail:
        out["alerts"] = [
            {
                "fingerprint": a.fingerprint,
                "status": a.status,
                "labels": a.labels,
                "annotations": a.annotations,
                "starts_at": _iso(a.starts_at),
                "ends_at": _iso(a.ends_at),
                "resolved_by": a.resolved_by,
            }
            for a in incident.alerts
        ]
        out["events"] = [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "role": e.role,
                "kind": e.kind,
                "from": e.from_state,
                "to": e.to_state,
                "data": e.data,
            }
            for e in incident.events
        ]
    return out


async def incidents(request: web.Request) -> web.Response:
    query = request.query
    states = [s for s in query.get("state", "").split(",") if s]
    unknown = [s for s in states if s not in {x.value for x in State}]
    if unknown:
        raise json_error(400, f"state: unknown state {unknown[0][:64]!r}")
    if query.get("open", "") not in ("true", "false", ""):
        raise json_error(400, "open: expected true or false")
    is_open = {"true": True, "false": False, "": None}[query.get("open", "")]
    limit_text = query.get("limit", "100")
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise json_error(400, f"limit: expected a whole number from 1 to {MAX_LIMIT}")
    wanted = [s for s in query.get("skpd", "").split(",") if s] if "skpd" in query else None
    try:
        for skpd in wanted or ():
            check_skpd(request.app.get(INVENTORY), skpd, core=True)
    except UnknownId as error:
        raise json_error(400, str(error)) from None
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            skpds = visible_skpds(user)
            if wanted is not None:
                skpds = wanted if skpds is None else [s for s in wanted if s in skpds]
            rows = await list_incidents(
                session, states=states, skpds=skpds, is_open=is_open, limit=int(limit_text)
            )
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    return web.json_response({"incidents": [incident_json(i) for i in rows]})


def _incident_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise json_error(404, f"no incident {text[:20]!r}")
    return int(text)


async def incident(request: web.Request) -> web.Response:
    incident_id = _incident_id(request)
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            found = await get_incident(session, incident_id, detail=True)
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    skpds = visible_skpds(user)
    if found is None or (skpds is not None and found.skpd not in skpds):
        raise json_error(404, f"no incident {incident_id}")
    return web.json_response(incident_json(found, detail=True))


async def report(request: web.Request) -> web.Response:
    try:
        form = parse_form(ReportForm, await read_json_object(request), "report")
        inventory = request.app.get(INVENTORY)
        check_skpd(inventory, form.skpd)
        check_nodes(inventory, form.skpd, form.nodes)
    except (FormInvalid, UnknownId) as error:
        raise json_error(422, getattr(error, "reason", str(error))) from None
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
        if Role(user.role) not in REPORTERS:
            raise json_error(403, f"a {user.role} cannot report an outage")
        skpds = visible_skpds(user)
        if skpds is not None and form.skpd not in skpds:
            raise json_error(403, f"{user.name} reports only for {', '.join(skpds)}")
        async with request.app[DATABASE].write() as session:
            found, created = await record_report(session, user, form, request.app[CLOCK]())
            incident_id = found.id
        if created:
            request.app[PING_CHECKER].schedule(incident_id, actor="sigap")
        async with request.app[DATABASE].read() as session:
            stored = await get_incident(session, incident_id, detail=True)
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    assert stored is not None
    return web.json_response(incident_json(stored, detail=True), status=201 if created else 200)


async def act(request: web.Request) -> web.Response:
    incident_id = _incident_id(request)
    action = request.match_info["action"]
    data = await read_json_object(request)
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
        incident, _ = await move_incident(request.app, user, incident_id, action, data)
    except NoSuchIncident:
        raise json_error(404, f"no incident {incident_id}") from None
    except TransitionRefused as refused:
        raise json_error(409, refused.reason) from None
    except FormInvalid as invalid:
        raise json_error(422, invalid.reason) from None
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    return web.json_response(incident_json(incident), status=202 if action == "ping_check" else 200)


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/actions/{action}", act)
    app.router.add_post("/api/v1/incidents", report)
    app.router.add_get("/api/v1/incidents", incidents)
    app.router.add_get("/api/v1/incidents/{id}", incident)
