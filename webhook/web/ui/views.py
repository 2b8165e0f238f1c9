"""The server-rendered web UI: login, the board, the incident page, forms, reports, users.

Handlers parse the request, call `webhook.web.moves` / the query helpers, and render. Works
without JavaScript; every POST carries the session's CSRF token.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import jinja2
from ada_url import URL
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from exporter.inventory import Inventory
from webhook.core.deadlines import overdue
from webhook.core.documents import checked_nip, signature_lines
from webhook.core.forms import CAUSES, FormInvalid, ReportForm, parse_form
from webhook.core.i18n import FIELDS, LANGUAGES, word
from webhook.core.localtime import (
    attach_zone,
    format_moment,
    input_value,
    parse_moment,
    zone_abbreviation,
)
from webhook.core.pdf import document_pdf
from webhook.core.workflow import (
    OPEN_STATES,
    TRANSITIONS,
    Role,
    State,
    TransitionRefused,
    available,
)
from webhook.services.paging import duty_at
from webhook.store.maintenance import active_at
from webhook.store.models import Incident, Notice, Notification, User
from webhook.store.moves import load_form, record_report
from webhook.store.queries import get_incident, list_incidents, user_by_name
from webhook.web.api import REPORTERS
from webhook.web.auth import (
    hash_password_async,
    name_key,
    user_named_alike,
    verify_password_async,
    visible_skpds,
)
from webhook.web.http import read_form
from webhook.web.inventory_check import UnknownId, check_skpd
from webhook.web.keys import CLOCK, DATABASE, INVENTORY, PING_CHECKER, SETTINGS
from webhook.web.moves import NoSuchIncident, can_see, move_incident
from webhook.web.ui.documents import form_document
from webhook.web.ui.session import (
    COOKIE,
    THROTTLE,
    Login,
    LoginThrottle,
    cookie_value,
    end_session,
    lifetimes_of,
    logged_in,
    start_session,
)

log = logging.getLogger("sigap.access")
TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True
)
FORM_KINDS = ("f01", "f04")
DATETIME_FIELDS = {"reported_at", "estimated_recovery_at", "repair_started_at", "repair_ended_at"}
"""The UI's datetime-local fields: wall time in the regency's zone (`attach_zone`)."""


@jinja2.pass_context
def local_time(context: Any, moment: datetime | str | None, short: bool = False) -> str:
    """`{{ incident.opened_at | local }}`: `30 November 2026, 17.02 WITA` in the page's language
    on the regency's clock (a form's ISO 8601 text too)."""
    at = parse_moment(moment) if moment is not None else None
    return format_moment(at, context["zone"], context["lang"], short=short) if at else "-"


TEMPLATES.filters["local"] = local_time


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
    """A page; `csrf` is the request's login's unless given (every page's logout form needs it)."""
    lang = language(request)
    inventory = request.app.get(INVENTORY)
    login = request.get(LOGIN)
    context.setdefault("csrf", login.csrf if login is not None else "")
    zone = request.app[SETTINGS].timezone
    html = TEMPLATES.get_template(template).render(
        t=lambda key: word(key, lang),
        event_name=lambda kind: event_name(kind, lang),
        skpd_name=inventory.skpd_name if inventory else str,
        lang=lang,
        zone=zone,
        zone_name=zone_abbreviation(zone, request.app[CLOCK]()),
        fields=FIELDS,
        **context,
    )
    response = web.Response(status=status, text=html, content_type="text/html")
    if "lang" in request.query:
        response.set_cookie(
            "sigap_lang", lang, httponly=True, samesite="Lax", secure=request.secure
        )
    return response


LOGIN: web.RequestKey[Login] = web.RequestKey("sigap_current_login")
_SITE = "https://sigap.invalid"


def local_path(target: str) -> str:
    """`target` as a path of this site, judged as a browser parses it (WHATWG URL, by the ada
    library: tabs and newlines dropped, backslashes as slashes, dot segments resolved); "/" for
    anything that would leave the site."""
    try:
        url = URL(target, _SITE + "/")
    except ValueError:
        return "/"
    if url.origin != _SITE or url.pathname.startswith("//"):
        return "/"
    return url.pathname + url.search


async def current_user(request: web.Request, session: AsyncSession) -> tuple[User, Login]:
    """The logged-in user, or a redirect to the login page."""
    login = await logged_in(request)
    user = await session.get(User, login.user_id) if login is not None else None
    if login is None or user is None or not user.active:
        back = request.path_qs if request.method == "GET" else request.path
        raise web.HTTPSeeOther("/login?" + urlencode({"next": back}))
    request[LOGIN] = login
    return user, login


async def checked_form(request: web.Request, login: Login) -> dict[str, str]:
    """The form's fields, once its CSRF token is checked (read before any write starts)."""
    form = await read_form(request)
    if not login.csrf_ok(form.pop("csrf", None)):
        raise web.HTTPForbidden(text="CSRF token missing or wrong; reload the page and retry")
    return form


async def login_page(request: web.Request) -> web.Response:
    target = local_path(request.query.get("next", "/"))
    return render(request, "login.html", next=target, error=None)


async def login(request: web.Request) -> web.Response:
    """Password login. Failures are throttled (`LoginThrottle`); an unknown or disabled name
    costs the same argon2 verification as a wrong password; every outcome is logged."""
    form = await request.post()
    typed, password = str(form.get("name", "")), str(form.get("password", ""))
    name, target = typed.strip(), local_path(str(form.get("next", "/")))
    throttle, address = request.app[THROTTLE], request.remote
    where = {"user": name_key(typed), "remote": address}
    lang = language(request)
    if await throttle.blocked(address, name):
        log.warning("login throttled", extra=where)
        error = word("too_many", lang)
        return render(request, "login.html", status=429, next=target, error=error)
    async with request.app[DATABASE].read() as session:
        user = await user_by_name(session, name) if name else None
    usable = user is not None and user.active
    valid = await verify_password_async(user.password_hash if usable and user else None, password)
    if user is None or not valid:
        await throttle.failed(address, name)
        reason = "unknown user" if user is None else "disabled" if not usable else "bad password"
        log.warning("login failed", extra={**where, "reason": reason})
        error = word("login_failed", lang)
        return render(request, "login.html", status=401, next=target, error=error)
    await throttle.succeeded(address, name)
    now = request.app[CLOCK]()
    async with request.app[DATABASE].write() as session:
        token = await start_session(
            session, user, now, lifetimes_of(request.app[SETTINGS]), address
        )
    log.info("login", extra={"user": user.name, "remote": address})
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        COOKIE,
        cookie_value(request.app[SETTINGS].secret_key, token),
        max_age=int(request.app[SETTINGS].session_lifetime),
        httponly=True,
        samesite="Lax",
        secure=request.secure,
    )
    raise response


async def logout(request: web.Request) -> web.Response:
    login_session = await logged_in(request)
    if login_session is not None:
        await checked_form(request, login_session)
        async with request.app[DATABASE].write() as session:
            await end_session(session, login_session, request.app[CLOCK]())
        log.info("logout", extra={"user": login_session.user, "remote": request.remote})
    response = web.HTTPSeeOther("/login")
    response.del_cookie(COOKIE)
    raise response


async def board(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
        incidents = await list_incidents(
            session, skpds=visible_skpds(user), is_open=True, limit=500
        )
        scope = visible_skpds(user)
        maintenance = [m for m in await active_at(session, now) if scope is None or m.skpd in scope]
        zone = ZoneInfo(request.app[SETTINGS].timezone)
        duty = await duty_at(session, zone, now)
    targets = request.app[SETTINGS].escalation
    columns = [
        (state, [i for i in incidents if i.state == state.value])
        for state in State
        if state in OPEN_STATES
    ]
    return render(
        request,
        "board.html",
        user=user,
        csrf=login_session.csrf,
        columns=columns,
        now=now,
        overdue=lambda i: overdue(i.state, i.stage_entered_at, targets, now),
        age=lambda i: _age(now - i.opened_at),
        maintenance=maintenance,
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        duty=duty if duty.rotation is not None or duty.now else None,
        duty_from=duty.next_from.astimezone(zone).strftime("%d/%m %H:%M") if duty.next_from else "",
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
    incident: Incident,
    user: User,
    f01: dict[str, Any] | None,
    inventory: Inventory | None,
    now: datetime,
    zone: str,
) -> dict[str, str]:
    """Defaults of the action forms, from the incident, the inventory and the saved F-01."""
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
    return {
        "reporter": user.name,
        "complaint": incident.description or incident.title or summary,
        "affected_service": "internet",
        "reported_at": input_value(incident.opened_at, zone),
        "responsibility": incident.responsibility or "",
        "repair_started_at": moment,
        "repair_ended_at": moment,
        "contact_confirmed_with": (f01 or {}).get("contact_confirmed_with", contact),
    }


async def incident_page(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
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
    targets = request.app[SETTINGS].escalation
    return render(
        request,
        "incident.html",
        user=user,
        incident=incident,
        csrf=login_session.csrf,
        moves=available(State(incident.state), role),
        prefill=_prefill(
            incident, user, f01, request.app.get(INVENTORY), now, request.app[SETTINGS].timezone
        ),
        causes=CAUSES,
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
    data: dict[str, Any] = attach_zone(
        await checked_form(request, login_session),
        DATETIME_FIELDS,
        request.app[SETTINGS].timezone,
    )
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
    if kind not in FORM_KINDS:
        raise web.HTTPNotFound()
    async with request.app[DATABASE].read() as session:
        user, _ = await current_user(request, session)
        incident = await _visible_incident(request, session, user)
    document = await form_document(request.app, incident, kind, language(request))
    if document is None:
        raise web.HTTPNotFound(text=f"incident {incident.id} has no {kind.upper()} yet")
    if request.match_info.get("pdf"):
        body = await asyncio.to_thread(document_pdf, document)
        return web.Response(
            body=body,
            content_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{document.filename}"'},
        )
    return render(
        request,
        "form.html",
        user=user,
        incident=incident,
        kind=kind,
        document=document,
        signature_lines=signature_lines,
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
        csrf=login_session.csrf,
        skpds=choices,
    )


async def report(request: web.Request) -> web.Response:
    """SOP step 1, second path: a person reports an outage (same record as the JSON API's)."""
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
    fields = await checked_form(request, login_session)
    if Role(user.role) not in REPORTERS:
        raise web.HTTPForbidden(text=f"a {user.role} cannot report an outage")
    try:
        form = parse_form(ReportForm, fields, "report")
        check_skpd(request.app.get(INVENTORY), form.skpd)
    except (FormInvalid, UnknownId) as error:
        raise web.HTTPUnprocessableEntity(text=getattr(error, "reason", str(error))) from None
    skpds = visible_skpds(user)
    if skpds is not None and form.skpd not in skpds:
        raise web.HTTPForbidden(text=f"{user.name} reports only for {', '.join(skpds)}")
    async with request.app[DATABASE].write() as session:
        found, created = await record_report(session, user, form, request.app[CLOCK]())
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
        csrf=login_session.csrf,
    )


async def users_add(request: web.Request) -> web.Response:
    async with request.app[DATABASE].read() as session:
        user, login_session = await current_user(request, session)
    if user.role != Role.COORDINATOR:
        raise web.HTTPForbidden(text="only a coordinator manages users")
    form = await checked_form(request, login_session)
    role, name = form.get("role", ""), form.get("name", "")
    if role not in {r.value for r in Role} - {Role.SYSTEM.value} or not name.strip():
        raise web.HTTPUnprocessableEntity(text="name and a valid role are needed")
    if name != name.strip() or len(name) > 100:
        raise web.HTTPUnprocessableEntity(text="a name has no surrounding spaces, ≤ 100 characters")
    try:
        skpds = [
            check_skpd(request.app.get(INVENTORY), s.strip())
            for s in form.get("skpds", "").split(",")
            if s.strip()
        ]
    except UnknownId as error:
        raise web.HTTPUnprocessableEntity(text=str(error)) from None
    full_name = form.get("full_name", "").strip() or None
    if full_name is not None and len(full_name) > 200:
        raise web.HTTPUnprocessableEntity(text="a full name has at most 200 characters")
    try:
        nip = checked_nip(form["nip"]) if form.get("nip", "").strip() else None
    except ValueError as error:
        raise web.HTTPUnprocessableEntity(text=str(error)) from None
    password = form.get("password")
    password_hash = await hash_password_async(password) if password else None
    async with request.app[DATABASE].write() as session:
        alike = await user_named_alike(session, name)
        if alike is not None:
            raise web.HTTPConflict(text=f"user {alike.name!r} exists")
        session.add(
            User(
                name=name,
                role=role,
                password_hash=password_hash,
                email=form.get("email") or None,
                phone=form.get("phone") or None,
                full_name=full_name,
                nip=nip,
                skpds=skpds,
                active=True,
                created_at=request.app[CLOCK](),
            )
        )
    log.info("user added", extra={"user": name, "role": role, "by": user.name})
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
        csrf=login_session.csrf,
        open_states={s.value for s in OPEN_STATES},
    )


def setup_views(app: web.Application) -> None:
    app.router.add_get("/skpd", skpd_page)
    app[THROTTLE] = LoginThrottle()

    async def close_throttle(app: web.Application) -> None:
        await app[THROTTLE].close()

    app.on_cleanup.append(close_throttle)
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
