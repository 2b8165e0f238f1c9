"""The users page (coordinators): every person, a form that adds a user or changes the one of
that name, and disabling (a leaver) or enabling again, by the CLI's rules
(`webhook.usecases.users`)."""

from __future__ import annotations

from aiohttp import web

from webhook.core.refusals import Refused
from webhook.usecases import users
from webhook.usecases.context import Actor
from webhook.web.keys import RESOURCES
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import refusal, render


async def users_page(request: web.Request) -> web.Response:
    user, login = await current_user(request)
    try:
        everyone = await users.list_users(request.app[RESOURCES], Actor.of(user))
    except Refused as refused:
        raise refusal(refused, request) from None
    return render(
        request, "users.html", user=user, users=everyone, roles=users.PERSON_ROLES, csrf=login.csrf
    )


async def users_save(request: web.Request) -> web.Response:
    user, form = await posted(request)
    change = users.UserChange(
        name=form.get("name", ""),
        role=form.get("role", ""),
        skpds=tuple(s.strip() for s in form.get("skpds", "").split(",") if s.strip()),
        email=form.get("email") or None,
        phone=form.get("phone") or None,
        full_name=form.get("full_name") or None,
        nip=form.get("nip") or None,
        password=form.get("password") or None,
    )
    try:
        await users.save_user(request.app[RESOURCES], Actor.of(user), change)
    except Refused as refused:
        raise refusal(refused, request) from None
    raise web.HTTPSeeOther("/users")


async def users_active(request: web.Request) -> web.Response:
    user, form = await posted(request)
    active = request.path.endswith("/enable")
    try:
        await users.set_active(request.app[RESOURCES], Actor.of(user), form.get("name", ""), active)
    except Refused as refused:
        raise refusal(refused, request) from None
    raise web.HTTPSeeOther("/users")


def setup_users(app: web.Application) -> None:
    app.router.add_get("/users", users_page)
    app.router.add_post("/users", users_save)
    app.router.add_post("/users/disable", users_active)
    app.router.add_post("/users/enable", users_active)
