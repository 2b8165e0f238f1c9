"""The incident pages: the board, one incident with its moves, its F-01 and F-04, the SKPDs,
and the manual report form (SOP step 1). Works without JavaScript; every POST carries the
session's CSRF token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from exporter.inventory import Inventory
from webhook.core.confirmation import f01_from_answer
from webhook.core.deadlines import overdue
from webhook.core.documents import signature_lines
from webhook.core.forms import CAUSES, FormInvalid
from webhook.core.i18n import word
from webhook.core.localtime import attach_zone, input_value
from webhook.core.pdf import document_pdf
from webhook.core.refusals import NotFound, Refused
from webhook.core.workflow import (
    F01_FIELDS,
    F04_FIELDS,
    OPEN_STATES,
    Role,
    State,
    available,
    next_step,
    owner,
    waiting_on,
)
from webhook.store.models import Incident, User
from webhook.usecases import incidents
from webhook.usecases.context import Actor
from webhook.usecases.documents import form_document
from webhook.usecases.photos import ATTACHERS
from webhook.web.http import status_exception
from webhook.web.keys import INVENTORY, RESOURCES, SETTINGS
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import language, refusal, render

FORM_KINDS = ("f01", "f04")
TIMELINE_FIELDS = frozenset(
    {*F01_FIELDS, *F04_FIELDS, "findings", "estimated_recovery_at", "responsibility",
     "assignee", "reason", "cause", "parts_replaced", "staff", "answer"}
)  # fmt: skip
"""What a timeline line shows of its move's data: what people typed (never SIGAP's own keys:
alert times, fingerprints, the downtime ledger)."""
DESTRUCTIVE = frozenset({"cancel", "close"})
"""Moves behind a confirmation step of their own, in a style apart."""
DATETIME_FIELDS = {"reported_at", "estimated_recovery_at", "repair_started_at", "repair_ended_at"}
"""The UI's datetime-local fields: wall time in the regency's zone (`attach_zone`)."""


def incident_id_of(request: web.Request) -> int:
    text = request.match_info["id"]
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise web.HTTPNotFound()
    return int(text)


def _age(delta: timedelta, lang: str) -> str:
    """How long an incident has been open, in words: `1 jam 5 menit`, `4 menit`."""
    minutes = int(delta.total_seconds() // 60)
    hour, minute = word("unit_hour", lang), word("unit_minute", lang)
    if minutes >= 60:
        return f"{minutes // 60} {hour} {minutes % 60} {minute}"
    return f"{minutes} {minute}"


async def board(request: web.Request) -> web.Response:
    user, login = await current_user(request)
    found = await incidents.board(request.app[RESOURCES], Actor.of(user))
    now, duty = found.now, found.duty
    zone = request.app[RESOURCES].zone
    targets = request.app[SETTINGS].escalation
    columns = [
        (state, [i for i in found.incidents if i.state == state.value])
        for state in State
        if state in OPEN_STATES
    ]
    return render(
        request,
        "board.html",
        user=user,
        csrf=login.csrf,
        columns=columns,
        now=now,
        overdue=lambda i: overdue(i.state, i.stage_entered_at, targets, now),
        age=lambda i: _age(now - i.opened_at, language(request)),
        maintenance=found.maintenance,
        names=found.names,
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        duty=duty if duty.rotation is not None or duty.now else None,
        duty_from=duty.next_from.astimezone(zone).strftime("%d/%m %H:%M") if duty.next_from else "",
    )


def _prefill(
    incident: Incident,
    user: User,
    f01: dict[str, Any] | None,
    inventory: Inventory | None,
    now: datetime,
    zone: str,
    answerer: str | None,
    lang: str,
) -> dict[str, str]:
    """Defaults of the action forms, from the incident, the inventory, the saved F-01 and what
    was typed earlier (the findings of the estimate carry into F-04)."""
    skpd = inventory.skpds.get(incident.skpd) if inventory is not None else None
    contact = ""
    if skpd is not None and skpd.contacts:
        first = skpd.contacts[0]
        contact = f"{first.name} ({first.role}{', ' + first.phone if first.phone else ''})"
    moment = input_value(now, zone)
    first_alert = incident.alerts[0] if incident.alerts else None
    summary = ""
    if first_alert is not None:
        summary = str(
            first_alert.annotations.get("summary") or first_alert.labels.get("alertname", "")
        )
    estimates = [e for e in incident.events if e.kind == "estimate" and e.data.get("findings")]
    prefill = {
        "reporter": user.full_name or user.name,
        "complaint": incident.description or incident.title or summary,
        "affected_service": "internet",
        "reported_at": input_value(incident.opened_at, zone),
        "responsibility": incident.responsibility or "",
        "repair_started_at": moment,
        "repair_ended_at": moment,
        "contact_confirmed_with": (f01 or {}).get("contact_confirmed_with", contact),
        "findings": str(estimates[-1].data["findings"]) if estimates else "",
    }
    # the SKPD answered in the chat (SOP 3): F-01 says with whom, when and what; one press
    answered = f01_from_answer(incident, user.name, answerer or "", lang)
    if answered is not None and f01 is None:
        prefill |= {k: v for k, v in answered.items() if k != "reported_at"}
    return prefill


PING_WAIT = timedelta(seconds=60)
"""How long after "Cek ping ulang" the page refreshes itself until the result is on it."""


def _ping_pending(incident: Incident, asked: str | None, now: datetime) -> bool:
    """A re-check asked at `asked` (epoch seconds, from the redirect) has no result yet."""
    if not asked or not asked.isdigit():
        return False
    at = datetime.fromtimestamp(int(asked), UTC)
    done = any(e.kind == "ping_check" and e.at.replace(tzinfo=UTC) >= at for e in incident.events)
    return not done and now - at < PING_WAIT


async def incident_page(
    request: web.Request,
    *,
    status: int = 200,
    typed: dict[str, str] | None = None,
    failed: str | None = None,
    refused: Refused | None = None,
) -> web.Response:
    """The incident, led by the one next step of the person looking; with `refused`, the move
    `failed` shown again with what they typed and each error beside its field."""
    user, login = await current_user(request)
    res = request.app[RESOURCES]
    lang = language(request)
    try:
        view = await incidents.incident_view(res, Actor.of(user), incident_id_of(request))
    except Refused as missing:
        raise refusal(missing, request) from None
    incident, now = view.incident, res.clock()
    state, role = State(incident.state), Role(user.role)
    moves = available(state, role)
    step = next_step(state, role, incident.holder, user.name)
    if failed is not None:  # the form that was refused leads, open, whatever the SOP's order
        step = next((m for m in moves if m.action == failed), step)
    errors: dict[str, str] = {}
    if isinstance(refused, FormInvalid):
        errors = refused.field_errors(lang)
    elif refused is not None and refused.field:
        errors = {refused.field: refused.say(lang)}
    prefill = _prefill(
        incident,
        user,
        view.f01,
        request.app.get(INVENTORY),
        now,
        res.settings.timezone,
        view.answerer,
        lang,
    )
    return render(
        request,
        "incident.html",
        status=status,
        user=user,
        incident=incident,
        csrf=login.csrf,
        step=step,
        waiting=waiting_on(state),
        owner=owner,
        others=[m for m in moves if m is not step and m.action not in DESTRUCTIVE],
        destructive=[m for m in moves if m is not step and m.action in DESTRUCTIVE],
        prefill={**prefill, **(typed or {})},
        errors=errors,
        failed=failed,
        error=refused.say(lang) if refused is not None and not errors else None,
        causes=CAUSES,
        staff=view.staff,
        names=view.names,
        alarm_firing=view.alarm_firing,
        f01=view.f01,
        f04=view.f04,
        notifications=view.notifications,
        unplannable=view.unplannable,
        overdue=overdue(incident.state, incident.stage_entered_at, res.settings.escalation, now),
        datetime_fields=DATETIME_FIELDS | {"confirmed_at"},
        timeline_fields=TIMELINE_FIELDS,
        min_estimate=input_value(now, res.settings.timezone),
        ping_pending=_ping_pending(incident, request.query.get("cek"), now),
        node_name=_node_name(request.app.get(INVENTORY)),
    )


def _node_name(inventory: Inventory | None) -> Callable[[str], str]:
    """A node as people know it: the inventory's name (its id when it has none)."""

    def name(node: str) -> str:
        found = inventory.nodes.get(node) if inventory is not None else None
        return (found.name or node) if found is not None else node

    return name


async def incident_get(request: web.Request) -> web.Response:
    return await incident_page(request)


async def act(request: web.Request) -> web.Response:
    incident_id = incident_id_of(request)
    user, form = await posted(request)
    res, actor = request.app[RESOURCES], Actor.of(user)
    action = request.match_info["action"]
    typed = {k: v for k, v in form.items() if k != "csrf"}
    data: dict[str, Any] = attach_zone(typed, DATETIME_FIELDS, res.settings.timezone)
    try:
        await incidents.make_move(res, actor, incident_id, action, data)
    except NotFound as missing:
        raise refusal(missing, request) from None
    except Refused as refused:
        status = 422 if isinstance(refused, FormInvalid) else 409
        return await incident_page(
            request, status=status, typed=typed, failed=action, refused=refused
        )
    if action == "ping_check":  # back to the page, which refreshes itself until the result
        raise web.HTTPSeeOther(f"/incidents/{incident_id}?cek={int(res.clock().timestamp())}#cek")
    raise web.HTTPSeeOther(f"/incidents/{incident_id}")


async def form_view(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in FORM_KINDS:
        raise web.HTTPNotFound()
    user, _ = await current_user(request)
    return await form_page(request, user, kind, pdf=bool(request.match_info.get("pdf")))


async def form_page(
    request: web.Request,
    user: User,
    kind: str,
    *,
    pdf: bool = False,
    photo_error: str | None = None,
    status: int = 200,
) -> web.Response:
    """The incident's F-01 or F-04 as a page (with `photo_error` beside the photo upload, when
    one was refused) or as a PDF."""
    res = request.app[RESOURCES]
    try:
        incident = await incidents.incident(res, Actor.of(user), incident_id_of(request))
    except Refused as refused:
        raise refusal(refused, request) from None
    document = await form_document(res, incident, kind, language(request))
    if document is None and photo_error is not None:
        raise status_exception(status, photo_error)  # no F-04 page to come back to
    if document is None:
        raise web.HTTPNotFound(
            text=word("form_missing", language(request)).format(kind=kind.upper())
        )
    if pdf:
        body = await asyncio.to_thread(document_pdf, document, res.settings.letterhead)
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
        )
    photos = res.settings.photos
    return render(
        request,
        "form.html",
        status=status,
        user=user,
        incident=incident,
        kind=kind,
        document=document,
        signature_lines=signature_lines,
        may_attach=Role(user.role) in ATTACHERS,
        photo_error=photo_error,
        photo_limits={"count": photos.max_count, "size": photos.max_bytes // (1024 * 1024)},
    )


async def report_page(
    request: web.Request, typed: dict[str, str] | None = None, refused: Refused | None = None
) -> web.Response:
    """The report form; after a refusal, again with what was typed and the error beside its
    field."""
    user, login = await current_user(request)
    skpds = incidents.reportable_skpds(request.app[RESOURCES], Actor.of(user))
    lang = language(request)
    errors: dict[str, str] = {}
    if isinstance(refused, FormInvalid):
        errors = refused.field_errors(lang)
    elif refused is not None and refused.field:
        errors = {refused.field: refused.say(lang)}
    return render(
        request,
        "report.html",
        status=422 if refused is not None else 200,
        user=user,
        csrf=login.csrf,
        skpds=skpds,
        values=typed or {},
        errors=errors,
        error=refused.say(lang) if refused is not None and not errors else None,
    )


async def report(request: web.Request) -> web.Response:
    """SOP step 1, second path: a person reports an outage (the JSON API's rules)."""
    user, form = await posted(request)
    fields: dict[str, Any] = {k: v for k, v in form.items() if k != "nodes"}
    if nodes := [n.strip() for n in form.get("nodes", "").split(",") if n.strip()]:
        fields["nodes"] = nodes
    try:
        found, _ = await incidents.report(request.app[RESOURCES], Actor.of(user), fields)
    except Refused as refused:
        if refused.kind != "invalid":
            raise refusal(refused, request) from None
        return await report_page(request, form, refused)
    raise web.HTTPSeeOther(f"/incidents/{found.id}")


async def skpd_page(request: web.Request) -> web.Response:
    """The SKPDs (from the inventory, else from the record): nodes, contacts, incidents."""
    user, login = await current_user(request)
    rows = await incidents.skpd_overview(request.app[RESOURCES], Actor.of(user))
    return render(
        request,
        "skpd.html",
        user=user,
        rows=rows,
        inventory=request.app.get(INVENTORY),
        csrf=login.csrf,
        open_states={s.value for s in OPEN_STATES},
    )


def setup_incidents(app: web.Application) -> None:
    app.router.add_get("/", board)
    app.router.add_get("/skpd", skpd_page)
    app.router.add_get("/report", report_page)
    app.router.add_post("/report", report)
    app.router.add_get("/incidents/{id}", incident_get)
    app.router.add_post("/incidents/{id}/actions/{action}", act)
    app.router.add_get("/incidents/{id}/forms/{kind}{pdf:\\.pdf}", form_view)
    app.router.add_get("/incidents/{id}/forms/{kind}", form_view)
