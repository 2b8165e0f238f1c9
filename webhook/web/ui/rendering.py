"""How every page of the UI is drawn: the Jinja environment and its filters, the page's
language (`?lang=` once, then a cookie; Bahasa Indonesia unless asked), and refusals as pages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from webhook.core.i18n import FIELDS, LANGUAGES, word
from webhook.core.localtime import format_moment, parse_moment, zone_abbreviation
from webhook.core.messages import action_name
from webhook.core.refusals import HTTP_STATUS, Refused
from webhook.core.sessions import Login
from webhook.web.http import status_exception
from webhook.web.keys import CLOCK, INVENTORY, SETTINGS

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True
)
LOGIN: web.RequestKey[Login] = web.RequestKey("sigap_current_login")
"""The request's login, once `webhook.web.ui.login.current_user` has found it."""


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


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    """A page; `csrf` is the request's login's unless given (every page's logout form needs it)."""
    lang = language(request)
    inventory = request.app.get(INVENTORY)
    login = request.get(LOGIN)
    context.setdefault("csrf", login.csrf if login is not None else "")
    zone = request.app[SETTINGS].timezone
    html = TEMPLATES.get_template(template).render(
        t=lambda key: word(key, lang),
        event_name=lambda kind: action_name(kind, lang),
        skpd_name=inventory.skpd_name if inventory else str,
        lang=lang,
        zone=zone,
        zone_name=zone_abbreviation(zone, request.app[CLOCK]()),
        fields=FIELDS,
        letterhead=request.app[SETTINGS].letterhead,
        crest_path=CREST_PATH,
        **context,
    )
    response = web.Response(status=status, text=html, content_type="text/html")
    if "lang" in request.query:
        response.set_cookie(
            "sigap_lang", lang, httponly=True, samesite="Lax", secure=request.secure
        )
    return response


def refusal(refused: Refused) -> web.HTTPException:
    """A refusal as the UI's plain answer: its status by kind, its reason as the text."""
    return status_exception(HTTP_STATUS[refused.kind], refused.reason)


CREST_PATH = "/letterhead/crest"
"""The letterhead's crest image, for the pages that draw the letterhead (public, as printed)."""


async def crest(request: web.Request) -> web.StreamResponse:
    path = request.app[SETTINGS].letterhead.crest
    if path is None:
        raise web.HTTPNotFound(text="no crest is configured (letterhead.crest)")
    return web.FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})


def setup_rendering(app: web.Application) -> None:
    app.router.add_get(CREST_PATH, crest)
