"""The JSON API over the incident record, for tools and scripts (bearer tokens).

GET /api/v1/incidents?state=&skpd=&open=&limit=   list, newest first (limit 1-1000, default 100)
GET /api/v1/incidents/{id}                        one, with its alerts and its events (timeline)
POST /api/v1/incidents                            a manual report (SOP step 1: an SKPD admin or
                                                  staff taking a phone call); joins the SKPD's
                                                  open incident if there is one
An SKPD admin's token sees and reports only its own SKPDs. Every error is JSON `{"error": ...}`
naming the input at fault, never the inside; SKPD and node ids are checked against the inventory.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webhook.core.workflow import Role, State
from webhook.store.database import DATABASE_ERRORS
from webhook.store.models import Incident
from webhook.store.queries import get_incident, list_incidents, record_report
from webhook.web.auth import api_user, visible_skpds
from webhook.web.inventory_check import UnknownId, check_nodes, check_skpd
from webhook.web.keys import DATABASE, INVENTORY, PING_CHECKER

REPORTERS = frozenset({Role.STAFF, Role.COORDINATOR, Role.SKPD_ADMIN})
MAX_LIMIT = 1000


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


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


async def incidents(request: web.Request) -> web.Response:
    query = request.query
    states = [s for s in query.get("state", "").split(",") if s]
    unknown = [s for s in states if s not in {x.value for x in State}]
    if unknown:
        raise _bad_request(f"state: unknown state {unknown[0][:64]!r}")
    if query.get("open", "") not in ("true", "false", ""):
        raise _bad_request("open: expected true or false")
    is_open = {"true": True, "false": False, "": None}[query.get("open", "")]
    limit_text = query.get("limit", "100")
    if not (limit_text.isascii() and limit_text.isdigit()) or not 1 <= int(limit_text) <= MAX_LIMIT:
        raise _bad_request(f"limit: expected a whole number from 1 to {MAX_LIMIT}")
    limit = int(limit_text)
    wanted = [s for s in query.get("skpd", "").split(",") if s] if "skpd" in query else None
    try:
        for skpd in wanted or ():
            check_skpd(request.app.get(INVENTORY), skpd, core=True)
    except UnknownId as error:
        raise _bad_request(str(error)) from None
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            skpds = visible_skpds(user)
            if wanted is not None:
                skpds = wanted if skpds is None else [s for s in wanted if s in skpds]
            rows = await list_incidents(
                session, states=states, skpds=skpds, is_open=is_open, limit=limit
            )
    except DATABASE_ERRORS:
        raise _unavailable() from None
    return web.json_response({"incidents": [incident_json(i) for i in rows]})


def _unavailable() -> web.HTTPServiceUnavailable:
    return web.HTTPServiceUnavailable(
        text=json.dumps({"error": "database unavailable; retry in a moment"}),
        content_type="application/json",
    )


async def incident(request: web.Request) -> web.Response:
    text = request.match_info["id"]
    incident_id = int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
    if incident_id is None:
        raise _not_found(text[:20])
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            found = await get_incident(session, incident_id, detail=True)
    except DATABASE_ERRORS:
        raise _unavailable() from None
    skpds = visible_skpds(user)
    if found is None or (skpds is not None and found.skpd not in skpds):
        raise _not_found(str(incident_id))
    return web.json_response(incident_json(found, detail=True))


def _not_found(incident: str) -> web.HTTPNotFound:
    return web.HTTPNotFound(
        text=json.dumps({"error": f"no incident {incident!r}"}), content_type="application/json"
    )


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
    try:
        check_skpd(inventory, spec.skpd)
        check_nodes(inventory, spec.skpd, spec.nodes)
    except UnknownId as error:
        raise _json_error(422, str(error)) from None
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
        raise _unavailable() from None
    if created:
        request.app[PING_CHECKER].schedule(incident_id, actor="sigap")
    async with request.app[DATABASE].read() as session:
        stored = await get_incident(session, incident_id, detail=True)
    assert stored is not None
    return web.json_response(incident_json(stored, detail=True), status=201 if created else 200)


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents", report)
    app.router.add_get("/api/v1/incidents", incidents)
    app.router.add_get("/api/v1/incidents/{id}", incident)
