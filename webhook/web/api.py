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

from webhook.core.inventory_check import UnknownId
from webhook.core.refusals import Refused
from webhook.core.workflow import State
from webhook.store.database import DATABASE_ERRORS
from webhook.store.models import Incident
from webhook.usecases import incidents as usecases
from webhook.usecases.context import Actor
from webhook.web.auth import api_user
from webhook.web.http import json_error, json_refusal, read_json_object
from webhook.web.keys import RESOURCES

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


def _unavailable() -> web.HTTPException:
    return json_error(503, UNAVAILABLE, **{"Retry-After": "5"})


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
        user = await api_user(request)
        rows = await usecases.incidents(
            request.app[RESOURCES], Actor.of(user), states=states, skpds=wanted,
            is_open=is_open, limit=int(limit_text),
        )  # fmt: skip
    except UnknownId as error:  # a query parameter: the request's fault as a whole
        raise json_error(400, error.reason) from None
    except DATABASE_ERRORS:
        raise _unavailable() from None
    return web.json_response({"incidents": [incident_json(i) for i in rows]})


def _incident_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise json_error(404, f"no incident {text[:20]!r}")
    return int(text)


async def incident(request: web.Request) -> web.Response:
    incident_id = _incident_id(request)
    try:
        user = await api_user(request)
        found = await usecases.incident(request.app[RESOURCES], Actor.of(user), incident_id)
    except Refused as refused:
        raise json_refusal(refused) from None
    except DATABASE_ERRORS:
        raise _unavailable() from None
    return web.json_response(incident_json(found, detail=True))


async def report(request: web.Request) -> web.Response:
    fields = await read_json_object(request)
    try:
        user = await api_user(request)
        stored, created = await usecases.report(request.app[RESOURCES], Actor.of(user), fields)
    except Refused as refused:
        raise json_refusal(refused) from None
    except DATABASE_ERRORS:
        raise _unavailable() from None
    return web.json_response(incident_json(stored, detail=True), status=201 if created else 200)


async def act(request: web.Request) -> web.Response:
    incident_id = _incident_id(request)
    action = request.match_info["action"]
    data = await read_json_object(request)
    try:
        user = await api_user(request)
        found, _ = await usecases.make_move(
            request.app[RESOURCES], Actor.of(user), incident_id, action, data
        )
    except Refused as refused:
        raise json_refusal(refused) from None
    except DATABASE_ERRORS:
        raise _unavailable() from None
    return web.json_response(incident_json(found), status=202 if action == "ping_check" else 200)


def setup_api(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/actions/{action}", act)
    app.router.add_post("/api/v1/incidents", report)
    app.router.add_get("/api/v1/incidents", incidents)
    app.router.add_get("/api/v1/incidents/{id}", incident)
