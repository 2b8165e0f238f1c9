"""The duty roster's pages: `/piket` (everyone sees who is on duty, now, next and the coming
shifts; a coordinator sets the rotation and adds or removes swaps and leave) and each person's
calendar feed at a signed URL (`/piket/feed/{name}/{token}.ics`, no login: a phone's calendar
subscribes to it), written with the `icalendar` library (RFC 5545)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from webhook.core import roster
from webhook.core.refusals import Refused
from webhook.usecases import roster as roster_uses
from webhook.usecases.context import Actor
from webhook.web.keys import RESOURCES, SETTINGS
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import refusal, render

UPCOMING = timedelta(days=14)
"""How far ahead /piket lists the shifts."""


def feed_url(request: web.Request, person: str) -> str:
    settings = request.app[SETTINGS]
    base = (settings.external_url or str(request.url.origin())).rstrip("/")
    return f"{base}/piket/feed/{person}/{roster.feed_token(settings.secret_key, person)}.ics"


async def roster_page(request: web.Request) -> web.Response:
    user, login = await current_user(request)
    res = request.app[RESOURCES]
    view = await roster_uses.roster_view(res, UPCOMING)
    zone = res.zone
    return render(
        request,
        "roster.html",
        user=user,
        csrf=login.csrf,
        duty=view.duty,
        rotation=view.rotation,
        shift=roster.shift_name(view.rotation) if view.rotation else "daily",
        periods=view.periods,
        overrides=view.overrides,
        staff=view.staff,
        local=lambda moment: moment.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        today=res.clock().astimezone(zone).date().isoformat(),
        feed=feed_url(request, user.name) if user.name in {p.name for p in view.staff} else None,
        error=request.query.get("error"),
    )


async def rotation_set(request: web.Request) -> web.Response:
    user, form = await posted(request)
    people = form.get("people", "").replace(",", "\n").splitlines()
    try:
        await roster_uses.put_rotation(
            request.app[RESOURCES], Actor.of(user), people, form.get("shift", ""),
            form.get("handover", ""), form.get("starts_on", ""),
        )  # fmt: skip
    except Refused as refused:
        raise refusal(refused, request) from None
    raise web.HTTPSeeOther("/piket")


async def override_add(request: web.Request) -> web.Response:
    user, form = await posted(request)
    try:
        await roster_uses.put_override(
            request.app[RESOURCES], Actor.of(user), form.get("person", ""),
            form.get("start", ""), form.get("end", ""), form.get("reason", ""),
        )  # fmt: skip
    except Refused as refused:
        raise refusal(refused, request) from None
    raise web.HTTPSeeOther("/piket")


async def override_delete(request: web.Request) -> web.Response:
    user, _ = await posted(request)
    try:
        override_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    try:
        await roster_uses.remove_override(request.app[RESOURCES], Actor.of(user), override_id)
    except Refused as refused:
        raise refusal(refused, request) from None
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
    res = request.app[RESOURCES]
    shifts = await roster_uses.shifts_of(res, person, settings.paging.feed_weeks)
    if shifts is None:
        raise web.HTTPNotFound(text="no such calendar feed")
    return web.Response(
        body=calendar(person, shifts, res.clock()),
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
