"""Maintenance windows on the web (issue 15): a coordinator plans, changes and cancels them;
everyone who logs in sees them. Each change is committed, then carried out as Alertmanager
silences (`webhook.services.silences`); the leader retries what failed.

    GET  /pemeliharaan                 current and upcoming windows; the form (coordinator)
    POST /pemeliharaan                 plan one
    GET  /pemeliharaan/{id}            change it (form)
    POST /pemeliharaan/{id}            save the change
    POST /pemeliharaan/{id}/batal      cancel it (its silences are expired)
    GET  /api/v1/maintenance           the same as JSON (any token; an SKPD admin: its own)
    POST /api/v1/maintenance           plan one (coordinator token)                      -> 201
    PATCH /api/v1/maintenance/{id}     change fields of it (coordinator)                 -> 200
    DELETE /api/v1/maintenance/{id}    cancel it (coordinator)                           -> 200

Times without an offset are the regency's (`SIGAP_TIMEZONE`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.inventory import Inventory
from webhook.core.maintenance import Plan, PlanInvalid, check_plan, parse_plan, sync_state
from webhook.core.workflow import Role
from webhook.services.silences import SYNC_INTERVAL, Silences
from webhook.store.database import DATABASE_ERRORS
from webhook.store.maintenance import add_plan, cancel_plan, change_plan, current_and_upcoming
from webhook.store.models import Maintenance, User
from webhook.web.api import UNAVAILABLE
from webhook.web.auth import api_user, visible_skpds
from webhook.web.http import json_error, read_json_object
from webhook.web.inventory_check import UnknownId, check_nodes, check_skpd
from webhook.web.keys import CLOCK, DATABASE, INVENTORY, LEADERSHIP, METRICS, SETTINGS
from webhook.web.ui.views import checked_form, current_user, render

SILENCES = web.AppKey("silences", Silences)


class Refused(Exception):
    """A change that cannot be made: `status` (404, 409, 422) and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _zone(app: web.Application) -> ZoneInfo:
    return ZoneInfo(app[SETTINGS].timezone)


def plan_json(row: Maintenance, alertmanagers: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "skpd": row.skpd,
        "nodes": list(row.nodes),
        "starts_at": row.starts_at.isoformat(),
        "ends_at": row.ends_at.isoformat(),
        "reason": row.reason,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "cancelled_at": row.cancelled_at.isoformat() if row.cancelled_at else None,
        "silence_ids": dict(row.silence_ids),
        "sync_state": sync_state(row.revision, row.synced_revision, row.sync_error, alertmanagers),
        "sync_error": row.sync_error,
    }


def checked_plan(
    inventory: Inventory | None,
    zone: ZoneInfo,
    data: dict[str, Any],
    base: Plan | None,
    now: datetime,
) -> Plan:
    """The plan people gave (page, API, CLI), parsed and checked against the rules and the
    inventory; PlanInvalid or UnknownId."""
    plan = check_plan(parse_plan(data, zone, base), now, new=base is None)
    check_skpd(inventory, plan.skpd)
    check_nodes(inventory, plan.skpd, plan.nodes)
    return plan


def plan_of(row: Maintenance) -> Plan:
    return Plan(row.skpd, tuple(row.nodes), row.starts_at, row.ends_at, row.reason)


async def _editable(session: AsyncSession, plan_id: int, now: datetime) -> Maintenance:
    row = await session.get(Maintenance, plan_id)
    if row is None:
        raise Refused(404, f"no maintenance window {plan_id}")
    if row.cancelled_at is not None or row.ends_at <= now:
        raise Refused(409, f"maintenance window {plan_id} is over or cancelled")
    return row


async def save(
    app: web.Application, user: User, data: dict[str, Any], plan_id: int | None
) -> Maintenance:
    """Plan (plan_id None) or change a window, commit, then carry it out in Alertmanager.
    Raises Refused, PlanInvalid, UnknownId."""
    if user.role != Role.COORDINATOR:
        raise Refused(403, "only a coordinator plans maintenance")
    now = app[CLOCK]()
    async with app[DATABASE].write() as session:
        if plan_id is None:
            row = add_plan(
                session,
                checked_plan(app.get(INVENTORY), _zone(app), data, None, now),
                user.name,
                now,
            )
        else:
            row = await _editable(session, plan_id, now)
            change_plan(
                row, checked_plan(app.get(INVENTORY), _zone(app), data, plan_of(row), now), now
            )
        await session.flush()
        saved = row.id
    return await _synced(app, saved, now)


async def cancel(app: web.Application, user: User, plan_id: int) -> Maintenance:
    if user.role != Role.COORDINATOR:
        raise Refused(403, "only a coordinator cancels maintenance")
    now = app[CLOCK]()
    async with app[DATABASE].write() as session:
        cancel_plan(await _editable(session, plan_id, now), now)
    return await _synced(app, plan_id, now)


async def _synced(app: web.Application, plan_id: int, now: datetime) -> Maintenance:
    """After the commit: the silences, then the plan as it stands (with its sync state)."""
    await app[SILENCES].sync(plan_id, now)
    async with app[DATABASE].read() as session:
        row = await session.get(Maintenance, plan_id)
    assert row is not None
    return row


# --- JSON API ------------------------------------------------------------------------------------


def _plan_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise json_error(404, f"no maintenance window {text[:20]!r}")
    return int(text)


async def _api_call(request: web.Request, plan_id: int | None, *, delete: bool = False) -> Any:
    data = {} if delete else await read_json_object(request)
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
        if delete:
            assert plan_id is not None
            return await cancel(request.app, user, plan_id)
        return await save(request.app, user, data, plan_id)
    except Refused as refused:
        raise json_error(refused.status, str(refused)) from None
    except (PlanInvalid, UnknownId) as error:
        raise json_error(422, str(error)) from None
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None


async def api_list(request: web.Request) -> web.Response:
    try:
        async with request.app[DATABASE].read() as session:
            user = await api_user(request, session)
            rows = await current_and_upcoming(session, request.app[CLOCK](), visible_skpds(user))
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    count = len(request.app[SILENCES].urls)
    return web.json_response({"maintenance": [plan_json(r, count) for r in rows]})


async def api_create(request: web.Request) -> web.Response:
    row = await _api_call(request, None)
    return web.json_response(plan_json(row, len(request.app[SILENCES].urls)), status=201)


async def api_change(request: web.Request) -> web.Response:
    row = await _api_call(request, _plan_id(request))
    return web.json_response(plan_json(row, len(request.app[SILENCES].urls)))


async def api_cancel(request: web.Request) -> web.Response:
    row = await _api_call(request, _plan_id(request), delete=True)
    return web.json_response(plan_json(row, len(request.app[SILENCES].urls)))


# --- pages ---------------------------------------------------------------------------------------


def _local(app: web.Application) -> Any:
    zone = _zone(app)
    return lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


async def page(
    request: web.Request, editing: int | None = None, error: str | None = None
) -> web.Response:
    now = request.app[CLOCK]()
    async with request.app[DATABASE].read() as session:
        user, login = await current_user(request, session)
        rows = await current_and_upcoming(session, now, visible_skpds(user))
        edited = await session.get(Maintenance, editing) if editing is not None else None
    inventory = request.app.get(INVENTORY)
    zone = _zone(request.app)
    field = lambda moment: moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    return render(
        request,
        "maintenance.html",
        status=422 if error else 200,
        user=user,
        csrf=login.csrf,
        plans=rows,
        edited=edited,
        error=error,
        now=now,
        skpds=sorted(inventory.skpds) if inventory is not None else [],
        nodes_of={s: sorted(x.node_ids) for s, x in inventory.skpds.items()} if inventory else {},
        local=_local(request.app),
        field=field,
        state=lambda r: sync_state(
            r.revision, r.synced_revision, r.sync_error, len(request.app[SILENCES].urls)
        ),
    )


async def list_page(request: web.Request) -> web.Response:
    return await page(request)


async def edit_page(request: web.Request) -> web.Response:
    plan_id = _page_id(request)
    return await page(request, editing=plan_id)


def _page_id(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise web.HTTPNotFound()
    return int(text)


async def _form_call(request: web.Request, plan_id: int | None, *, delete: bool) -> web.Response:
    async with request.app[DATABASE].read() as session:
        user, login = await current_user(request, session)
    form = await checked_form(request, login)
    try:
        if delete:
            assert plan_id is not None
            await cancel(request.app, user, plan_id)
        else:
            fields = {k: v for k, v in form.items() if v or k == "nodes"}
            await save(request.app, user, fields, plan_id)
    except Refused as refused:
        raise _http(refused) from None
    except (PlanInvalid, UnknownId) as error:
        return await page(request, editing=plan_id, error=str(error))
    raise web.HTTPSeeOther("/pemeliharaan")


def _http(refused: Refused) -> web.HTTPException:
    kinds = {403: web.HTTPForbidden, 404: web.HTTPNotFound, 409: web.HTTPConflict}
    return kinds.get(refused.status, web.HTTPUnprocessableEntity)(text=str(refused))


async def create_form(request: web.Request) -> web.Response:
    return await _form_call(request, None, delete=False)


async def change_form(request: web.Request) -> web.Response:
    return await _form_call(request, _page_id(request), delete=False)


async def cancel_form(request: web.Request) -> web.Response:
    return await _form_call(request, _page_id(request), delete=True)


# --- wiring --------------------------------------------------------------------------------------


def setup_maintenance(app: web.Application) -> None:
    silences = Silences(
        app[DATABASE], app[SETTINGS].alertmanager_urls, app[METRICS].silence_requests
    )
    app[SILENCES] = silences

    async def retry_ctx(app: web.Application) -> AsyncIterator[None]:
        async def round_() -> None:
            await silences.sync_unsynced(app[CLOCK]())

        task = asyncio.create_task(
            app[LEADERSHIP].repeat(SYNC_INTERVAL, round_, "maintenance silences")
        )
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    if silences.urls:
        app.cleanup_ctx.append(retry_ctx)
    app.router.add_get("/api/v1/maintenance", api_list)
    app.router.add_post("/api/v1/maintenance", api_create)
    app.router.add_patch("/api/v1/maintenance/{id}", api_change)
    app.router.add_delete("/api/v1/maintenance/{id}", api_cancel)
    app.router.add_get("/pemeliharaan", list_page)
    app.router.add_post("/pemeliharaan", create_form)
    app.router.add_get("/pemeliharaan/{id}", edit_page)
    app.router.add_post("/pemeliharaan/{id}", change_form)
    app.router.add_post("/pemeliharaan/{id}/batal", cancel_form)
