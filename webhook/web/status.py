"""The public status page (no login, read-only) and the NOC's network map:

    GET /status                     every SKPD's connection now, its stage, maintenance, 90 days
    GET /status.json                the same as JSON (openapi.yaml: StatusBoard)
    GET /status.atom                the last 90 days' outages as an Atom feed
    GET /status/{skpd}              one SKPD with its outages of the last 90 days
    GET /status/{skpd}/badge.svg    an embeddable badge of its condition
    GET /peta                       the whole topology coloured by state (login, with names)
    POST /pengumuman                a coordinator's notice on the public page (empty: none)

Everything is drawn from the board `webhook.usecases.status` gathers once per
`status_interval`, and each drawing is kept with the board, so a request costs no database or
Prometheus question. `status_page` turns the public pages off (404) or limits them to the
intranet's `status_networks` (403 elsewhere). Only `lang` is read from the query."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from aiohttp import web

from exporter.inventory import Inventory
from webhook.core.i18n import word
from webhook.core.localtime import format_moment
from webhook.core.refusals import Refused
from webhook.core.status import (
    NOTICE_LIMIT,
    WORDS,
    Board,
    PublicNode,
    PublicSkpd,
    badge_svg,
    bars_svg,
    offices_svg,
    say,
    stage_text,
    topology_svg,
)
from webhook.usecases.context import Actor
from webhook.usecases.status import StatusCache, post_notice, status_board
from webhook.web.keys import RESOURCES
from webhook.web.ui.login import current_user, posted
from webhook.web.ui.rendering import TEMPLATES, language, refusal, render

STATUS_CACHE = web.AppKey("status_cache", StatusCache)
MAX_QUERY = 64
"""A status URL carries `?lang=en` at most; longer query strings are refused."""


def _admitted(request: web.Request) -> None:
    settings = request.app[RESOURCES].settings
    if settings.status_page == "off":
        raise web.HTTPNotFound(text="the status page is turned off\n")
    if len(request.query_string) > MAX_QUERY:
        raise web.HTTPBadRequest(text="query string too long; only ?lang=id|en is read\n")
    if settings.status_page == "intranet":
        try:
            client = ipaddress.ip_address(request.remote or "")
        except ValueError:
            client = None
        if client is None or not any(client in n for n in settings.status_networks):
            raise web.HTTPForbidden(text="the status page is open only inside the intranet\n")


async def _board(request: web.Request) -> Board:
    _admitted(request)
    return await status_board(request.app[RESOURCES], request.app[STATUS_CACHE])


def _lang(request: web.Request) -> str:
    wanted = request.query.get("lang", "id")
    return wanted if wanted in ("id", "en") else "id"


def _cached(
    request: web.Request, board: Board, key: tuple[Any, ...], make: Any, content_type: str
) -> web.Response:
    """The drawing `key` of the board (drawn once), with validators: 304 when the client has it."""
    cache = request.app[STATUS_CACHE]
    body, etag = cache.memo(key, lambda: _drawn(make(), board, key))
    # an intranet-only page must not be kept by a shared cache that also serves the outside
    scope = "private" if request.app[RESOURCES].settings.status_page == "intranet" else "public"
    headers = {
        "ETag": etag,
        "Last-Modified": format_datetime(board.at, usegmt=True),
        "Cache-Control": f"{scope}, max-age={int(cache.interval)}",
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def _drawn(text: str, board: Board, key: tuple[Any, ...]) -> tuple[bytes, str]:
    """The body and its ETag, the same on every replica that gathered the same board."""
    drawing = hashlib.sha256(repr(key).encode()).hexdigest()[:8]
    return text.encode(), f'"{board.etag}-{drawing}"'


def _context(board: Board, request: web.Request, lang: str) -> dict[str, Any]:
    zone = request.app[RESOURCES].settings.timezone
    return {
        "t": lambda key: say(key, lang) if key in WORDS else word(key, lang),
        "lang": lang,
        "board": board,
        "when": lambda at: format_moment(at, zone, lang),
        "stage": lambda s: (
            stage_text(s.incident.state, s.incident.estimate, board.at, zone, lang)
            if s.incident is not None
            else None
        ),
        "bars": lambda s: bars_svg(s.days, lang),
    }


async def status_page(request: web.Request) -> web.Response:
    board = await _board(request)
    lang = _lang(request)
    nodes = board.nodes

    inventory = request.app[RESOURCES].inventory
    positions = (
        {s.id: s.position for s in inventory.skpds.values() if s.position is not None}
        if inventory is not None
        else {}
    )

    def make() -> str:
        return TEMPLATES.get_template("status.html").render(
            **_context(board, request, lang),
            network=topology_svg(nodes),
            offices=offices_svg(board.skpds, positions, lang),
        )

    return _cached(request, board, ("page", lang), make, "text/html")


def _skpd(board: Board, request: web.Request, lang: str) -> PublicSkpd:
    wanted = request.match_info["skpd"]
    found = next((s for s in board.skpds if s.id == wanted), None)
    if found is None:
        html = TEMPLATES.get_template("status_missing.html").render(
            **_context(board, request, lang), wanted=wanted
        )
        raise web.HTTPNotFound(text=html, content_type="text/html")
    return found


async def skpd_page(request: web.Request) -> web.Response:
    board = await _board(request)
    lang = _lang(request)
    skpd = _skpd(board, request, lang)

    def make() -> str:
        return TEMPLATES.get_template("status_skpd.html").render(
            **_context(board, request, lang), skpd=skpd
        )

    return _cached(request, board, ("skpd", skpd.id, lang), make, "text/html")


async def badge(request: web.Request) -> web.Response:
    board = await _board(request)
    lang = _lang(request)
    skpd = _skpd(board, request, lang)
    return _cached(
        request, board, ("badge", skpd.id, lang), lambda: badge_svg(skpd, lang), "image/svg+xml"
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def board_json(board: Board, zone: str, lang: str) -> dict[str, Any]:
    """The board as /status.json answers it (openapi.yaml, `StatusBoard`)."""
    return {
        "updated": board.at.isoformat(),
        "notice": board.notice,
        "skpds": [
            {
                "id": s.id,
                "name": s.name,
                "condition": s.condition.value,
                "condition_text": say(s.condition, lang),
                "stage": stage_text(s.incident.state, s.incident.estimate, board.at, zone, lang)
                if s.incident is not None
                else None,
                "estimated_recovery_at": _iso(s.incident.estimate) if s.incident else None,
                "maintenance": [
                    {"starts_at": _iso(w.starts_at), "ends_at": _iso(w.ends_at)}
                    for w in s.maintenance
                ],
                "days": [
                    {
                        "date": d.day.isoformat(),
                        "availability": d.availability,
                        "downtime_seconds": d.downtime,
                    }
                    for d in s.days
                ],
                "incidents": [
                    {
                        "opened_at": _iso(i.opened_at),
                        "recovered_at": _iso(i.recovered_at),
                        "cause": i.cause,
                        "responsibility": i.responsibility,
                    }
                    for i in s.incidents
                ],
            }
            for s in board.skpds
        ],
        "network": [
            {"id": n.id, "parent": n.parent, "parents": list(n.parents), "role": n.role, "up": n.up}
            for n in board.nodes
        ],
    }


async def status_json(request: web.Request) -> web.Response:
    board = await _board(request)
    lang = _lang(request)
    zone = request.app[RESOURCES].settings.timezone
    return _cached(
        request,
        board,
        ("json", lang),
        lambda: json.dumps(board_json(board, zone, lang), ensure_ascii=False),
        "application/json",
    )


async def status_atom(request: web.Request) -> web.Response:
    board = await _board(request)
    lang = _lang(request)
    base = f"{request.scheme}://{request.host}"

    def make() -> str:
        entries = sorted(
            ((s, i) for s in board.skpds for i in s.incidents),
            key=lambda e: e[1].recovered_at or e[1].opened_at,
            reverse=True,
        )
        return TEMPLATES.get_template("status.atom").render(
            **_context(board, request, lang), entries=entries[:50], base=base
        )

    return _cached(request, board, ("atom", lang, base), make, "application/atom+xml")


async def network_map(request: web.Request) -> web.Response:
    """The NOC wall: every node, the SKPDs' own equipment too, labelled with its name."""
    user, _ = await current_user(request)
    res = request.app[RESOURCES]
    cache = request.app[STATUS_CACHE]
    board = await status_board(res, cache)
    inventory = res.inventory
    drawing = ""
    if inventory is not None:
        drawing = cache.memo(("peta",), lambda: topology_svg(*every_node(inventory, board)))
    return render(
        request,
        "peta.html",
        user=user,
        drawing=drawing,
        board=board,
        say=lambda key: say(key, language(request)),
        limit=NOTICE_LIMIT,
    )


def every_node(inventory: Inventory, board: Board) -> tuple[list[PublicNode], dict[str, str]]:
    """Every node of the inventory in topology order with its state, and its label."""
    up = dict(board.node_up)
    nodes = [
        PublicNode(n.id, n.parent, n.role, n.skpd, up.get(n.id), n.parents)
        for n in (inventory.nodes[i] for i in inventory.topology_order())
    ]
    return nodes, {n.id: n.name or n.id for n in inventory.nodes.values()}


async def notice(request: web.Request) -> web.Response:
    """A coordinator posts (or, empty, takes down) the public page's notice."""
    user, form = await posted(request)
    try:
        await post_notice(
            request.app[RESOURCES], Actor.of(user), form.get("text", ""), request.app[STATUS_CACHE]
        )
    except Refused as refused:
        raise refusal(refused, request) from None
    raise web.HTTPSeeOther("/peta")


def setup_status(app: web.Application) -> None:
    app[STATUS_CACHE] = StatusCache(app[RESOURCES].settings.status_interval)
    app.router.add_get("/status", status_page)
    app.router.add_get("/status.json", status_json)
    app.router.add_get("/status.atom", status_atom)
    app.router.add_get("/status/{skpd}", skpd_page)
    app.router.add_get("/status/{skpd}/badge.svg", badge)
    app.router.add_get("/peta", network_map)
    app.router.add_post("/pengumuman", notice)
