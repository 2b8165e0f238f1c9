"""The duty roster's pages: `/piket` (everyone sees who is on duty, now, next and the coming
shifts; a coordinator sets the rotation and adds or removes swaps and leave) and each person's
calendar feed at a signed URL (`/piket/feed/{name}/{token}.ics`, no login: a phone's calendar
subscribes to it), written with the `icalendar` library (RFC 5545)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import select

from webhook.core import roster
from webhook.core.roster import Override, RosterInvalid
from webhook.core.workflow import Role
from webhook.services.paging import add_override, duty_at, load_roster, set_rotation
from webhook.store.models import RosterOverride, User
from webhook.web.keys import CLOCK, DATABASE, SETTINGS
from webhook.web.ui.views import checked_form, current_user, render

UPCOMING = timedelta(days=14)
"""How far ahead /piket lists the shifts."""
FEED_PAST = timedelta(days=1)


def _zone(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SETTINGS].timezone)


def feed_url(request: web.Request, person: str) -> str:
    settings = request.app[SETTINGS]
    base = (settings.external_url or str(request.url.origin())).rstrip("/")
    return f"{base}/piket/feed/{person}/{roster.feed_token(settings.secret_key, person)}.ics"


async def roster_page(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    zone = _zone(request)
    async with request.app[DATABASE].read() as session:
        user, login = await current_user(request, session)
        duty = await duty_at(session, zone, now)
        rotation, overrides = await load_roster(session, now - timedelta(days=7))
        rows = list(
            (
                await session.execute(
                    select(RosterOverride)
                    .where(RosterOverride.ends_at > now)
                    .order_by(RosterOverride.starts_at, RosterOverride.id)
                )
            ).scalars()
        )
        staff = list(
            (
                await session.execute(
                    select(User.name)
                    .where(User.role.in_([Role.STAFF.value, Role.COORDINATOR.value]), User.active)
                    .order_by(User.name)
                )
            ).scalars()
        )
    since = roster.shift_start(rotation, now, zone)
    until = roster.shift_start(rotation, now + UPCOMING, zone)
    periods = list(roster.duty_periods(rotation, overrides, since, until, zone))
    return render(
        request,
        "roster.html",
        user=user,
        csrf=login.csrf,
        duty=duty,
        rotation=rotation,
        shift=roster.shift_name(rotation) if rotation else "daily",
        periods=periods,
        overrides=rows,
        staff=staff,
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        today=now.astimezone(zone).date().isoformat(),
        feed=feed_url(request, user.name) if user.name in staff else None,
        error=request.query.get("error"),
    )


async def _coordinator(request: web.Request) -> tuple[User, dict[str, str]]:
    async with request.app[DATABASE].read() as session:
        user, login = await current_user(request, session)
    if user.role != Role.COORDINATOR:
        raise web.HTTPForbidden(text="only a coordinator changes the duty roster")
    return user, await checked_form(request, login)


async def rotation_set(request: web.Request) -> web.Response:
    user, form = await _coordinator(request)
    people = form.get("people", "").replace(",", "\n").splitlines()
    try:
        rotation = roster.parse_rotation(
            people, form.get("shift", ""), form.get("handover", ""), form.get("starts_on", "")
        )
        async with request.app[DATABASE].write() as session:
            await set_rotation(session, rotation, user.name, request.app[CLOCK]())
    except RosterInvalid as invalid:
        raise web.HTTPUnprocessableEntity(text=str(invalid)) from None
    raise web.HTTPSeeOther("/piket")


async def override_add(request: web.Request) -> web.Response:
    user, form = await _coordinator(request)
    zone = _zone(request)
    try:
        reason = form.get("reason", "")
        if reason not in roster.REASONS:
            raise RosterInvalid(f"reason {reason!r} is not one of {', '.join(roster.REASONS)}")
        override = Override(
            form.get("person", "").strip(),
            roster.parse_local(form.get("start", ""), zone, "start"),
            roster.parse_local(form.get("end", ""), zone, "end"),
            "swap" if reason == "swap" else "leave",
        )
        async with request.app[DATABASE].write() as session:
            await add_override(session, override, user.name, request.app[CLOCK]())
    except RosterInvalid as invalid:
        raise web.HTTPUnprocessableEntity(text=str(invalid)) from None
    raise web.HTTPSeeOther("/piket")


async def override_delete(request: web.Request) -> web.Response:
    await _coordinator(request)
    try:
        override_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    async with request.app[DATABASE].write() as session:
        row = await session.get(RosterOverride, override_id)
        if row is None:
            raise web.HTTPNotFound(text=f"no override {override_id}")
        await session.delete(row)
    raise web.HTTPSeeOther("/piket")


def calendar(person: str, shifts: list[tuple[datetime, datetime]], now: datetime) -> bytes:
    """One VEVENT per shift; a shift's UID is stable across fetches, so a calendar updates it
    rather than adding a copy."""
    feed = Calendar()
    feed.add("prodid", "-//Diskominfo Tanah Bumbu//SIGAP piket//ID")
    feed.add("version", "2.0")
    feed.add("x-wr-calname", f"Piket jaringan SIGAP: {person}")
    for start, end in shifts:
        event = CalendarEvent()
        event.add("uid", f"piket-{person}-{int(start.timestamp())}@sigap")
        event.add("dtstamp", now)
        event.add("dtstart", start)
        event.add("dtend", end)
        event.add("summary", "Piket jaringan (SIGAP)")
        event.add("description", "Anda bertugas: gangguan baru dikirim kepada Anda (Tangani).")
        feed.add_component(event)
    return feed.to_ical()


async def feed(request: web.Request) -> web.Response:
    person, token = request.match_info["name"], request.match_info["token"]
    settings = request.app[SETTINGS]
    if not roster.feed_token_ok(settings.secret_key, person, token):
        raise web.HTTPNotFound(text="no such calendar feed")
    now = request.app[CLOCK]()
    zone = ZoneInfo(settings.timezone)
    async with request.app[DATABASE].read() as session:
        user = await session.scalar(select(User).where(User.name == person))
        if user is None or not user.active:
            raise web.HTTPNotFound(text="no such calendar feed")
        rotation, overrides = await load_roster(session, now - FEED_PAST)
    # from the start of the shift a day ago: today's shift stays in the calendar all day
    since = roster.shift_start(rotation, now - FEED_PAST, zone)
    until = roster.shift_start(rotation, now + timedelta(weeks=settings.paging.feed_weeks), zone)
    shifts = roster.shifts_of(person, rotation, overrides, since, until, zone)
    return web.Response(
        body=calendar(person, shifts, now),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=900"},
    )


def setup_roster(app: web.Application) -> None:
    app.router.add_get("/piket", roster_page)
    app.router.add_post("/piket/rotation", rotation_set)
    app.router.add_post("/piket/overrides", override_add)
    app.router.add_post("/piket/overrides/{id}/delete", override_delete)
    app.router.add_get("/piket/feed/{name}/{token}.ics", feed)
