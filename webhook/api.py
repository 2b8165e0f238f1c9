"""The JSON API over the incident record, for tools and scripts (bearer tokens)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from webhook.auth import bearer_token, hash_token
from webhook.db import get_incident, list_incidents
from webhook.keys import DATABASE
from webhook.models import ApiToken, Incident, User
from webhook.receiver import DATABASE_ERRORS
from webhook.workflow import Role, State


async def user_for_token(session: AsyncSession, token: str) -> User | None:
    """The active user behind an active API token, or None."""
    result = await session.execute(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.active, User.active)
    )
    return result.scalar_one_or_none()


def visible_skpds(user: User) -> list[str] | None:
    """None: every SKPD. An SKPD admin sees only its own."""
    return list(user.skpds) if user.role == Role.SKPD_ADMIN else None


async def _api_user(request: web.Request, session: AsyncSession) -> User:
    token = bearer_token(request.headers.get("Authorization"))
    user = await user_for_token(session, token) if token else None
    if user is None:
        raise web.HTTPUnauthorized(
            text='{"error": "send Authorization: Bearer <token> '
            '(sigap-webhook token create NAME)"}',
            content_type="application/json",
            headers={"WWW-Authenticate": 'Bearer realm="sigap"'},
        )
    return user


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
        out["timeline"] = [
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
            user = await _api_user(request, session)
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
            user = await _api_user(request, session)
            found = await get_incident(session, incident_id, detail=True)
    except DATABASE_ERRORS:
        raise web.HTTPServiceUnavailable(text="database unavailable") from None
    skpds = visible_skpds(user)
    if found is None or (skpds is not None and found.skpd not in skpds):
        raise web.HTTPNotFound(text=f"no incident {incident_id}")
    return web.json_response(incident_json(found, detail=True))


def setup_api(app: web.Application) -> None:
    app.router.add_get("/api/v1/incidents", incidents)
    app.router.add_get("/api/v1/incidents/{id}", incident)
