"""Every error a person meets in the UI as a page of the site: its layout and language, what
went wrong in words (a refusal's own, else the catalogue's for the status: a 404, a 405 for an
action URL opened directly) and the way back. Machine answers keep theirs: the JSON API, the
health checks, metrics, feeds, files, the public status page and the one-click link pages
(which draw their own)."""

from __future__ import annotations

import re

from aiohttp import web

from webhook.core.i18n import WORDS, word
from webhook.web.middlewares import Handler
from webhook.web.ui.rendering import SAID, language, render

MACHINE_PREFIXES = ("/api/", "/-/", "/metrics", "/static/", "/l/", "/telegram", "/status")
MACHINE_SUFFIXES = (".json", ".pdf", ".csv", ".ics", ".svg", ".atom", ".xlsx")
INCIDENT = re.compile(r"^/incidents/(\d{1,9})(/|$)")


def for_people(request: web.Request) -> bool:
    path = request.path
    return not path.startswith(MACHINE_PREFIXES) and not path.endswith(MACHINE_SUFFIXES)


def error_page(request: web.Request, error: web.HTTPException) -> web.Response:
    """The page for `error`: a refusal's own words; else the catalogue's for its status, with
    the handler's own text when it gave one (what is wrong with a bad request)."""
    lang, status = language(request), error.status
    key = f"error_{status}"
    said = request.get(SAID) or word(key if key in WORDS else "error_other", lang)
    own = (error.text or "") if status < 500 else ""  # a server error's text is for the log
    if SAID not in request and own and own != f"{status}: {error.reason}":
        said = f"{said} {own}"
    incident = INCIDENT.match(request.path)
    back = incident.group(1) if incident and status != 404 else None
    return render(request, "error.html", status=status, message=said, code=status, back=back)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400 or not for_people(request):
            raise
        response = error_page(request, error)
        if error.status == 405:
            response.headers["Allow"] = error.headers.get("Allow", "POST")
        return response
