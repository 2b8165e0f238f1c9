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

from collections.abc import Callable
from typing import Any

from aiohttp import web

from webhook.core.refusals import Refused
from webhook.store.database import DATABASE_ERRORS
from webhook.store.models import Maintenance
from webhook.usecases import maintenance
from webhook.usecases.context import Actor, Resources
from webhook.web.api import UNAVAILABLE
from webhook.web.auth import api_user
from webhook.web.http import json_error, json_refusal, read_json_object
from webhook.web.keys import RESOURCES
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import language, refusal, render


def plan_json(res: Resources, row: Maintenance) -> dict[str, Any]:
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
        "sync_state": maintenance.silence_state(res, row),
        "sync_error": row.sync_error,
    }


def _plan_id(request: web.Request, error: Callable[[str], web.HTTPException]) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise error(f"no maintenance window {text[:20]!r}")
    return int(text)


def _json_404(message: str) -> web.HTTPException:
    return json_error(404, message)


def _page_404(message: str) -> web.HTTPException:
    return web.HTTPNotFound(text=message)


async def _change(res: Resources, actor: Actor, form: dict[str, Any], plan_id: int | None,
                  cancel: bool) -> Maintenance:  # fmt: skip
    if cancel:
        assert plan_id is not None
        row, _ = await maintenance.cancel_plan(res, actor, plan_id)
    else:
        row, _ = await maintenance.save_plan(res, actor, form, plan_id)
    return row


# --- JSON API ------------------------------------------------------------------------------------


async def _api_call(request: web.Request, plan_id: int | None, *, cancel: bool = False) -> Any:
    data = {} if cancel else await read_json_object(request)
    res = request.app[RESOURCES]
    try:
        user = await api_user(request)
        row = await _change(res, Actor.of(user), data, plan_id, cancel)
    except Refused as refused:
        raise json_refusal(refused) from None
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    return plan_json(res, row)


async def api_list(request: web.Request) -> web.Response:
    res = request.app[RESOURCES]
    try:
        user = await api_user(request)
        rows = await maintenance.plans(res, Actor.of(user))
    except DATABASE_ERRORS:
        raise json_error(503, UNAVAILABLE, **{"Retry-After": "5"}) from None
    return web.json_response({"maintenance": [plan_json(res, r) for r in rows]})


async def api_create(request: web.Request) -> web.Response:
    return web.json_response(await _api_call(request, None), status=201)


async def api_change(request: web.Request) -> web.Response:
    return web.json_response(await _api_call(request, _plan_id(request, _json_404)))


async def api_cancel(request: web.Request) -> web.Response:
    return web.json_response(await _api_call(request, _plan_id(request, _json_404), cancel=True))


# --- pages ---------------------------------------------------------------------------------------


async def page(
    request: web.Request,
    editing: int | None = None,
    refused: Refused | None = None,
    typed: dict[str, str] | None = None,
) -> web.Response:
    """The windows and the form; after a refusal, the form again with what was typed and the
    error beside its field."""
    user, login = await current_user(request)
    res = request.app[RESOURCES]
    rows = await maintenance.plans(res, Actor.of(user))
    edited = await maintenance.plan(res, editing) if editing is not None else None
    inventory, zone = res.inventory, res.zone
    field = lambda moment: moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    values = {"skpd": "", "nodes": "", "starts_at": field(res.clock()), "ends_at": "", "reason": ""}
    if edited is not None:
        values = {
            "skpd": edited.skpd,
            "nodes": ",".join(edited.nodes),
            "reason": edited.reason,
            "starts_at": field(edited.starts_at),
            "ends_at": field(edited.ends_at),
        }
    values |= {k: v for k, v in (typed or {}).items() if k in values}
    lang = language(request)
    errors = {refused.field: refused.say(lang)} if refused and refused.field else {}
    return render(
        request,
        "maintenance.html",
        status=422 if refused else 200,
        user=user,
        csrf=login.csrf,
        plans=rows,
        edited=edited,
        values=values,
        errors=errors,
        error=refused.say(lang) if refused and not errors else None,
        now=res.clock(),
        skpds=sorted(inventory.skpds) if inventory is not None else [],
        nodes_of={s: sorted(x.node_ids) for s, x in inventory.skpds.items()} if inventory else {},
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        field=field,
        state=lambda r: maintenance.silence_state(res, r),
    )


async def list_page(request: web.Request) -> web.Response:
    return await page(request)


async def edit_page(request: web.Request) -> web.Response:
    return await page(request, editing=_plan_id(request, _page_404))


async def _form_call(request: web.Request, plan_id: int | None, *, cancel: bool) -> web.Response:
    user, form = await posted(request)
    fields = {k: v for k, v in form.items() if v or k == "nodes"}
    try:
        await _change(request.app[RESOURCES], Actor.of(user), fields, plan_id, cancel)
    except Refused as refused:
        if refused.kind != "invalid":
            raise refusal(refused, request) from None
        return await page(request, editing=plan_id, refused=refused, typed=form)
    raise web.HTTPSeeOther("/pemeliharaan")


async def create_form(request: web.Request) -> web.Response:
    return await _form_call(request, None, cancel=False)


async def change_form(request: web.Request) -> web.Response:
    return await _form_call(request, _plan_id(request, _page_404), cancel=False)


async def cancel_form(request: web.Request) -> web.Response:
    return await _form_call(request, _plan_id(request, _page_404), cancel=True)


# --- wiring --------------------------------------------------------------------------------------


def setup_maintenance(app: web.Application) -> None:
    app.router.add_get("/api/v1/maintenance", api_list)
    app.router.add_post("/api/v1/maintenance", api_create)
    app.router.add_patch("/api/v1/maintenance/{id}", api_change)
    app.router.add_delete("/api/v1/maintenance/{id}", api_cancel)
    app.router.add_get("/pemeliharaan", list_page)
    app.router.add_post("/pemeliharaan", create_form)
    app.router.add_get("/pemeliharaan/{id}", edit_page)
    app.router.add_post("/pemeliharaan/{id}", change_form)
    app.router.add_post("/pemeliharaan/{id}/batal", cancel_form)
