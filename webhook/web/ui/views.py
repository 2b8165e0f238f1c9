"""The server-rendered web UI: login, the board, the incident page, forms, reports, users.

Handlers parse the request, call `webhook.web.moves` / the query helpers, and render. Works
without JavaScript; every POST carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.inventory import Inventory
from webhook.core.deadlines import overdue
from webhook.core.forms import FormInvalid
from webhook.core.i18n import FIELDS, LANGUAGES, word
from webhook.core.pdf import F01_LABELS, F04_LABELS, form_pdf
from webhook.core.workflow import (
    OPEN_STATES,
    TRANSITIONS,
    Role,
    State,
    TransitionRefused,
    available,
)
from webhook.store.models import Incident, Notice, Notification, User
from webhook.store.moves import load_form
from webhook.store.queries import get_incident, list_incidents, record_report, user_by_name
from webhook.web.auth import hash_password, verify_password, visible_skpds
from webhook.web.http import read_form
from webhook.web.keys import DATABASE, INVENTORY, PING_CHECKER, SETTINGS
from webhook.web.moves import NoSuchIncident, can_see, move_incident
from webhook.web.ui.session import (
    COOKIE,
    LIFETIME,
    LoginLimiter,
    Session,
    csrf_ok,
    csrf_token,
    new_session,
    read_session,
)

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True
)
LIMITER = web.AppKey("login_limiter", LoginLimiter)
TARGETS = web.AppKey("escalation_targets", dict[State, timedelta])
FORM_FIELDS = {"f01": F01_LABELS, "f04": F04_LABELS}
DATETIME_FIELDS = {"reported_at", "estimated_recovery_at", "repair_started_at", "repair_ended_at"}


def _now() -> datetime:
    return datetime.now(UTC)


def language(request: web.Request) -> str:
    lang = request.query.get("lang") or request.cookies.get("sigap_lang") or "id"
    return lang if lang in LANGUAGES else "id"


def event_name(kind: str, lang: str) -> str:
    """A timeline entry's name: the workflow move's own label, else the UI's word for it."""
    move = next((t for t in TRANSITIONS if t.action == kind), None)
    if move is not None:
        return move.label_id if lang == "id" else move.label_en
    return word(f"event_{kind}", lang)


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    lang = language(request)
    inventory = request.app.get(INVENTORY)
    html = TEMPLATES.get_template(template).render(
        t=lambda key: word(key, lang),
        event_name=lambda kind: event_name(kind, lang),
        skpd_name=inventory.skpd_name if inventory else str,
        lang=lang,
        fields=FIELDS,
        **context,
    )
    response = web.Response(status=status, text=html, content_type="text/html")
    if "lang" in request.query:
        response.set_cookie("sigap_lang", lang, httponly=True, samesite="Lax")
    return response


def _session(request: web.Request) -> Session | None:
    return read_session(request.app[SETTINGS].secret_key, request.cookies.get(COOKIE), _now())


async def current_user(request: web.Request, session: AsyncSession) -> tuple[User, Session]:
    """The logged-in user, or a redirect to the login page."""
    found = _session(request)
    user = await user_by_name(session, found.user) if found else None
    if found is None or user is None or not user.active:
        raise web.HTTPSeeOther(f"/login?next={request.path}")
    return user, found


async def checked_form(request: web.Request, login: Session) -> dict[str, str]:
    """The form's fields, once its CSRF token is checked (read before any write starts)."""
    form = await read_form(request)
    if not csrf_ok(request.app[SETTINGS].secret_key, login, form.pop("csrf", None)):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page and retry")
    return form


async def login_page(request: web.Request) -> web.Response:
    return render(request, "login.html", next=request.query.get("next", "/"), error=None)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = str(form.get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    limiter, key = request.app[LIMITER], f"{request.remote}|{name}"
    if limiter.blocked(key, time.monotonic()):
        return render(
            request,
            "login.html",
            status=429,
            next=target,
            error=word("too_many", language(request)),
        )
    async with request.app[DATABASE].read() as session:
        user = await user_by_name(session, name)
    if (
        user is None
        or not user.active
        or not await asyncio.to_thread(verify_password, user.password_hash, password)
    ):
        limiter.failed(key, time.monotonic())
        error = word("login_failed", language(request))
        return render(request, "login.html", status=401, next=target, error=error)
    limiter.succeeded(key)
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE,
        new_session(request.app[SETTINGS].secret_key, user.name, _now()),
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    login_session = _session(request)
    if login_session is not None:
        await checked_form(request, login_session)
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE)
    raise response


async def board(request: web.Request) -> web.Response:
    now = _now()
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
        incidents = await list_incidents(
            session, skpds=visible_skpds(user), is_open=True, limit=500
        )
    targets = request.app[TARGETS]
    columns = [
        (state, [i for i in incidents if i.state == state.value])
        for state in State
        if state in OPEN_STATES
    ]
    return render(
        request,
        "board.html",
        user=user,
        csrf=csrf_token(request.app[SETTINGS].secret_key, login_session),
        columns=columns,
        now=now,
        overdue=lambda i: overdue(i.state, i.stage_entered_at, targets, now),
        age=lambda i: _age(now - i.opened_at),
    )


def _age(delta: Any) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60}j {minutes % 60}m" if minutes >= 60 else f"{minutes}m"


async def _visible_incident(
    request: web.Request, session: AsyncSession, user: User, detail: bool = False
) -> Incident:
    try:
        incident_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    incident = await get_incident(session, incident_id, detail=detail)
    if incident is None or not can_see(user, incident):
        raise web.HTTPNotFound(text=f"no incident {incident_id}")
    return incident


def _prefill(
    incident: Incident, user: User, f01: dict[str, Any] | None, inventory: Inventory | None
) -> dict[str, str]:
    """Defaults of the action forms, from the incident, the inventory and the saved F-01."""
    skpd = inventory.skpds.get(incident.skpd) if inventory is not None else None
    contact = ""
    if skpd is not None and skpd.contacts:
        first = skpd.contacts[0]
        contact = f"{first.name} ({first.role}{', ' + first.phone if first.phone else ''})"
    now = _now().strftime("%Y-%m-%dT%H:%M")
    first_alert = incident.alerts[0] if incident.alerts else None
    summary = ""
    if first_alert is not None:
        summary = str(
            first_alert.annotations.get("summary") or first_alert.labels.get("alertname", "")
        )
    return {
        "reporter": user.name,
        "complaint": incident.description or incident.title or summary,
        "affected_service": "internet",
        "reported_at": incident.opened_at.strftime("%Y-%m-%dT%H:%M"),
        "responsibility": incident.responsibility or "",
        "repair_started_at": now,
        "repair_ended_at": now,
        "contact_confirmed_with": (f01 or {}).get("contact_confirmed_with", contact),
    }


async def incident_page(request: web.Request) -> web.Response:
    now = _now()
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
        incident = await _visible_incident(request, session, user, detail=True)
        f01 = await load_form(session, incident.id, "f01")
        f04 = await load_form(session, incident.id, "f04")
        notifications = list(
            (
                await session.execute(
                    select(Notification)
                    .where(Notification.incident_id == incident.id)
                    .order_by(Notification.id)
                )
            ).scalars()
        )
        unplannable = list(
            (
                await session.execute(
                    select(Notice)
                    .where(Notice.incident_id == incident.id, Notice.error.is_not(None))
                    .order_by(Notice.id)
                )
            ).scalars()
        )
        staff = list(
            (
                await session.execute(
                    select(User.name)
                    .where(User.role.in_([Role.STAFF.value, Role.COORDINATOR.value]))
                    .order_by(User.name)
                )
            ).scalars()
        )
    role = Role(user.role)
    targets = request.app[TARGETS]
    return render(
        request,
        "incident.html",
        user=user,
        incident=incident,
        csrf=csrf_token(request.app[SETTINGS].secret_key, login_session),
        moves=available(State(incident.state), role),
        prefill=_prefill(incident, user, f01, request.app.get(INVENTORY)),
        staff=staff,
        f01=f01,
        f04=f04,
        notifications=notifications,
        unplannable=unplannable,
        overdue=overdue(incident.state, incident.stage_entered_at, targets, now),
        datetime_fields=DATETIME_FIELDS,
        error=request.query.get("error"),
    )


async def act(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    try:
        incident_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
    data: dict[str, Any] = await checked_form(request, login_session)
    try:
        await move_incident(request.app, user, incident_id, action, data)
    except NoSuchIncident:
        raise web.HTTPNotFound(text=f"no incident {incident_id}") from None
    except (TransitionRefused, FormInvalid) as refused:
        async with request.app[DATABASE].read() as session:
            incident = await _visible_incident(request, session, user)
        status = 422 if isinstance(refused, FormInvalid) else 409
        return render(
            request,
            "refused.html",
            status=status,
            incident=incident,
            reason=refused.reason,
            user=user,
        )
    raise web.HTTPSeeOther(f"/incidents/{incident_id}")


async def form_view(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in FORM_FIELDS:
        raise web.HTTPNotFound()
    async with request.app[DATABASE].read() as session:
        user, _ = await current_user(request, session)
        incident = await _visible_incident(request, session, user)
        data = await load_form(session, incident.id, kind)
    if data is None:
        raise web.HTTPNotFound(text=f"incident {incident.id} has no {kind.upper()} yet")
    data = {**data, "skpd": incident.skpd}  # the form never overrides the incident
    for key in DATETIME_FIELDS & data.keys():
        data[key] = str(data[key]).replace("T", " ")
    if request.match_info.get("pdf"):
        body = await asyncio.to_thread(form_pdf, kind, incident.id, data)
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{kind}-{incident.id}.pdf"'},
        )
    return render(
        request,
        "form.html",
        user=user,
        incident=incident,
        kind=kind,
        labels=FORM_FIELDS[kind],
        data=data,
    )


async def report_page(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
    skpds = visible_skpds(user)
    inventory = request.app.get(INVENTORY)
    choices = sorted(skpds if skpds is not None else (inventory.skpds if inventory else []))
    return render(
        request,
        "report.html",
        user=user,
        csrf=csrf_token(request.app[SETTINGS].secret_key, login_session),
        skpds=choices,
    )


async def report(request: web.Request) -> web.Response:
    """SOP step 1, second path: a person reports an outage (same record as the JSON API's)."""
    now = _now()
    async with request.app[DATABASE].write() as session:
        user, login_session = await current_user(request, session)
        form = await checked_form(request, login_session)
        skpd, description = form.get("skpd", "").strip(), form.get("description", "").strip()
        skpds = visible_skpds(user)
        if not skpd or not description or Role(user.role) == Role.VIEWER:
            raise web.HTTPUnprocessableEntity(text="SKPD and description are needed")
        if skpds is not None and skpd not in skpds:
            raise web.HTTPForbidden(text=f"{user.name} reports only for {', '.join(skpds)}")
        found, created = await record_report(session, user, skpd, description, now)
        incident_id = found.id
    if created:
        request.app[PING_CHECKER].schedule(incident_id, actor="sigap")
    raise web.HTTPSeeOther(f"/incidents/{incident_id}")


async def users_page(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
        if user.role != Role.COORDINATOR:
            raise web.HTTPForbidden(text="only a coordinator manages users")
        users = list((await session.execute(select(User).order_by(User.name))).scalars())
    return render(
        request,
        "users.html",
        user=user,
        users=users,
        roles=[r.value for r in Role if r != Role.SYSTEM],
        csrf=csrf_token(request.app[SETTINGS].secret_key, login_session),
    )


async def users_add(request: web.Request) -> web.Response:
    async with request.app[DATABASE].write() as session:
        user, login_session = await current_user(request, session)
        if user.role != Role.COORDINATOR:
            raise web.HTTPForbidden(text="only a coordinator manages users")
        form = await checked_form(request, login_session)
        role = form.get("role", "")
        if role not in {r.value for r in Role} - {Role.SYSTEM.value} or not form.get("name"):
            raise web.HTTPUnprocessableEntity(text="name and a valid role are needed")
        if await user_by_name(session, form["name"]) is not None:
            raise web.HTTPConflict(text=f"user {form['name']!r} exists")
        session.add(
            User(
                name=form["name"],
                role=role,
                password_hash=(
                    await asyncio.to_thread(hash_password, form["password"])
                    if form.get("password")
                    else None
                ),
                email=form.get("email") or None,
                phone=form.get("phone") or None,
                skpds=[s.strip() for s in form.get("skpds", "").split(",") if s.strip()],
                active=True,
                created_at=_now(),
            )
        )
    raise web.HTTPSeeOther("/users")


async def skpd_page(request: web.Request) -> web.Response:
    """The SKPDs (from the inventory, else from the record): nodes, contacts, incidents."""
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
        incidents = await list_incidents(session, skpds=visible_skpds(user), limit=1000)
    inventory = request.app.get(INVENTORY)
    scope = visible_skpds(user)
    ids = sorted(
        {i.skpd for i in incidents} | (set(inventory.skpds) if inventory is not None else set())
    )
    rows = [
        (
            skpd,
            inventory.skpds.get(skpd) if inventory is not None else None,
            [i for i in incidents if i.skpd == skpd],
        )
        for skpd in ids
        if scope is None or skpd in scope
    ]
    return render(
        request,
        "skpd.html",
        user=user,
        rows=rows,
        inventory=inventory,
        csrf=csrf_token(request.app[SETTINGS].secret_key, login_session),
        open_states={s.value for s in OPEN_STATES},
    )


def setup_views(app: web.Application) -> None:
    app.router.add_get("/skpd", skpd_page)
    app[LIMITER] = LoginLimiter()
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", board)
    app.router.add_get("/report", report_page)
    app.router.add_post("/report", report)
    app.router.add_get("/users", users_page)
    app.router.add_post("/users", users_add)
    app.router.add_get("/incidents/{id}", incident_page)
    app.router.add_post("/incidents/{id}/actions/{action}", act)
    app.router.add_get("/incidents/{id}/forms/{kind}{pdf:\\.pdf}", form_view)
    app.router.add_get("/incidents/{id}/forms/{kind}", form_view)
    app.router.add_static("/static", Path(__file__).with_name("static"))
