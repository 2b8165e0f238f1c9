"""Signed one-click links in the notifications: `GET /l/{token}` shows what the link will do
(mail scanners and previews fetch links, so GET never acts); `POST /l/{token}` does it, once.

The signature is checked before anything else, with no database and no write lock: a forged
or expired link is refused at once. A genuine one makes its move through
`webhook.usecases.links` like the UI's buttons, its nonce stored in the same transaction, so
it works once.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from webhook.core import links
from webhook.core.forms import FormInvalid
from webhook.core.refusals import NotFound, Refused
from webhook.core.workflow import State, find
from webhook.usecases import links as link_uses
from webhook.web.keys import CLOCK, RESOURCES, SETTINGS
from webhook.web.ui.login import logged_in
from webhook.web.ui.rendering import language, render

MAX_FORM_BYTES = 16 * 1024


def _refused(request: web.Request, refused: links.LinkRefused) -> web.Response:
    status = {"forged": 403, "refused": 409, "invalid": 422}.get(refused.kind, 410)
    said = refused.say(language(request))
    return render(request, "link_refused.html", status=status, kind=refused.kind, message=said)


def _as_link_refusal(refused: Refused | links.LinkRefused) -> links.LinkRefused:
    if isinstance(refused, links.LinkRefused):
        return refused
    if isinstance(refused, NotFound):
        return links.LinkRefused("foreign", "this incident is gone", key="link_gone")
    kind = "invalid" if isinstance(refused, FormInvalid) else "refused"
    return links.LinkRefused(kind, refused.reason, refusal=refused)


async def _claim(request: web.Request) -> links.Claim:
    """The link's claim, its signature checked first (LinkRefused: forged, expired, foreign)."""
    secret = request.app[SETTINGS].secret_key
    claim = links.verify(secret, request.match_info["token"], request.app[CLOCK]())
    login = await logged_in(request)
    if login is not None and login.user != claim.person:
        raise links.LinkRefused(
            "foreign",
            f"this link was sent to {claim.person}, and you are logged in as {login.user}",
            key="link_other_person",
            params={"person": claim.person, "user": login.user},
        )
    return claim


async def link_get(request: web.Request) -> web.Response:
    try:
        claim = await _claim(request)
        offer = await link_uses.offer(request.app[RESOURCES], claim)
    except (Refused, links.LinkRefused) as refused:
        return _refused(request, _as_link_refusal(refused))
    return render(
        request,
        "link_confirm.html",
        claim=claim,
        incident=offer.incident,
        user=offer.holder,
        row=find(State(offer.incident.state), claim.action),
        staff=offer.staff,
        alarm_firing=offer.alarm_firing,
    )


async def link_post(request: web.Request) -> web.Response:
    try:
        claim = await _claim(request)
    except links.LinkRefused as refused:
        return _refused(request, refused)
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_FORM_BYTES, request.content_length or 0)
    form = await request.post()
    data: dict[str, Any] = {k: str(v) for k, v in form.items()}
    try:
        incident, row = await link_uses.use(request.app[RESOURCES], claim, data)
    except (Refused, links.LinkRefused) as refused:
        return _refused(request, _as_link_refusal(refused))
    return render(request, "link_done.html", incident=incident, row=row)


def setup_links(app: web.Application) -> None:
    app.router.add_get("/l/{token}", link_get)
    app.router.add_post("/l/{token}", link_post)
