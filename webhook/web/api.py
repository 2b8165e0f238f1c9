"""The JSON API over the incident record, for tools and scripts (bearer tokens).

GET /api/v1/incidents?state=&skpd=&open=&limit=   list, newest first
GET /api/v1/incidents/{id}                        one, with its alerts and its events (timeline)
POST /api/v1/incidents                            a manual report (SOP step 1: an SKPD admin or
                                                  staff taking a phone call); joins the SKPD's
                                                  open incident if there is one
POST /api/v1/incidents/{id}/actions/{action}      a move of the SOP, its form as the JSON body:
                                                  200 with the incident, 409 when the move is
                                                  not possible now, 422 when the form is wrong
An SKPD admin's token sees and reports only its own SKPDs. Errors: {"status": "error",
"error": "..."} (`webhook.web.http`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webhook.core.forms import FormInvalid
from webhook.core.workflow import Role, State, TransitionRefused
from webhook.store.database import DATABASE_ERRORS
from webhook.store.models import Incident
from webhook.store.queries import get_incident, list_incidents, record_report
from webhook.web.auth import api_user, visible_skpds
from webhook.web.http import json_error, read_json_object
from webhook.web.keys import DATABASE, INVENTORY, PING_CHECKER
from webhook.web.moves import NoSuchIncident, move_incident

REPORTERS = frozenset({Role.STAFF, Role.COORDINATOR, Role.SKPD_ADMIN})


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
        raise web.HTTPBadRequest(text=f"unknown state {unknown[0]!r}")
    is_open = {"true": True, "false": False, "": None}.get(query.get("open", ""))
    try:
        limit = min(int(query.get("limit", "100")), 1000)
    except ValueError:
        raise web.HTTPBadRequest(text="limit must be a number") from None
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            skpds = visible_skpds(user)
            if "skpd" in query:
                wanted = query["skpd"].split(",")
                skpds = wanted if skpds is None else [s for s in wanted if s in skpds]
            rows = await list_incidents(
                session, states=states, skpds=skpds, is_open=is_open, limit=limit
            )
    except DATABASE_ERRORS:
        raise web.HTTPServiceUnavailable(text="database unavailable") from None
    return web.json_response({"incidents": [incident_json(i) for i in rows]})


async def incident(request: web.Request) -> web.Response:
    try:
        incident_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            found = await get_incident(session, incident_id, detail=True)
    except DATABASE_ERRORS:
        raise web.HTTPServiceUnavailable(text="database unavailable") from None
    skpds = visible_skpds(user)
    if found is None or (skpds is not None and found.skpd not in skpds):
        raise web.HTTPNotFound(text=f"no incident {incident_id}")
    return web.json_response(incident_json(found, detail=True))


class Report(BaseModel):
    """A manual outage report (SOP step 1, second path)."""

    model_config = ConfigDict(extra="forbid")

    skpd: str = Field(min_length=1, max_length=64)
    description: str = Field(min_length=1, max_length=5000)
    nodes: list[str] = Field(default_factory=list, max_length=100)
    reporter: str | None = Field(default=None, max_length=100)
    """Who reported it, when not the token's user (e.g. the caller on the phone)."""


def _json_error(status: int, message: str) -> web.HTTPException:
    error = web.HTTPUnprocessableEntity if status == 422 else web.HTTPForbidden
    return error(text=json.dumps({"error": message}), content_type="application/json")


async def report(request: web.Request) -> web.Response:
    try:
        spec = Report.model_validate_json(await request.read())
    except ValidationError as error:
        message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise _json_error(422, message) from None
    inventory = request.app.get(INVENTORY)
    if inventory is not None:
        if spec.skpd not in inventory.skpds:
            raise _json_error(422, f"skpd: unknown SKPD {spec.skpd!r}")
        unknown = [n for n in spec.nodes if n not in inventory.nodes]
        if unknown or any(inventory.nodes[n].skpd != spec.skpd for n in spec.nodes):
            raise _json_error(422, f"nodes: not nodes of {spec.skpd}: {unknown or spec.nodes}")
    now = datetime.now(UTC)
    try:
        async with request.app[DATABASE].write() as session:
            user = await api_user(request, session)
            if Role(user.role) not in REPORTERS:
                raise _json_error(403, f"a {user.role} cannot report an outage")
            skpds = visible_skpds(user)
            if skpds is not None and spec.skpd not in skpds:
                raise _json_error(403, f"{user.name} reports only for {', '.join(skpds)}")
            found, created = await record_report(
                session,
                user,
                spec.skpd,
                spec.description,
                now,
                nodes=spec.nodes,
                reporter=spec.reporter,
            )
            incident_id = found.id
    except DATABASE_ERRORS:
        raise web.HTTPServiceUnavailable(text="database unavailable") from None
    if created:
        request.app[PING_CHECKER].schedule(incident_id, actor="sigap")
    async with request.app[DATABASE].read() as session:
        stored = await get_incident(session, incident_id, detail=True)
    assert stored is not None
    return web.json_response(incident_json(stored, detail=True), status=201 if created else 200)


async def act(request: web.Request) -> web.Response:
    try:
        incident_id = int(request.match_info["id"])
    except ValueError:
        raise json_error(404, f"no incident {request.match_info['id']}") from None
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
        raise json_error(503, "database unavailable; retry", **{"Retry-After": "5"}) from None
    return web.json_response(incident_json(incident), status=202 if action == "ping_check" else 200)


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/actions/{action}", act)
    app.router.add_post("/api/v1/incidents", report)
    app.router.add_get("/api/v1/incidents", incidents)
    app.router.add_get("/api/v1/incidents/{id}", incident)
