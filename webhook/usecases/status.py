"""The public status page's data, gathered once per `status_interval` and served from memory:
a thousand phones refreshing cost one database read and three Prometheus questions per
interval, whichever replica they reach (each replica keeps its own copy)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from exporter.inventory import CORE
from webhook.core.localtime import local, zone_of
from webhook.core.monthly import cause_of
from webhook.core.refusals import Forbidden
from webhook.core.status import (
    DAYS,
    Board,
    Day,
    OpenIncident,
    PastIncident,
    PublicSkpd,
    Window,
    clean_notice,
    condition_of,
    days_back,
    in_any,
    public_nodes,
    public_skpds,
)
from webhook.core.workflow import OPEN_STATES, Role
from webhook.services.prometheus import AvailabilityUnavailable, skpd_availability
from webhook.services.status_source import daily_availability, nodes_up
from webhook.store.database import DATABASE_ERRORS
from webhook.store.maintenance import current_and_upcoming
from webhook.store.notices import add_notice, latest_notice
from webhook.store.queries import forms_of, incidents_between
from webhook.usecases.context import Actor, Resources

log = logging.getLogger("sigap.webhook")
MEMO_LIMIT = 1024
"""Drawings kept per board: every page and badge of 250 SKPDs in both languages."""


@dataclass
class StatusCache:
    """The last board and what was drawn from it; `refreshes` counts the gatherings (each one
    database read and at most three Prometheus questions) for the benchmark."""

    interval: float
    board: Board | None = None
    tried_at: datetime | None = None
    refreshes: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    drawn: dict[Any, Any] = field(default_factory=dict)

    def memo(self, key: Any, make: Callable[[], Any]) -> Any:
        """What `make` draws from the current board, drawn once per board; past MEMO_LIMIT
        drawings (keys a client chose, such as the feed's host) it is drawn, not kept."""
        if key in self.drawn:
            return self.drawn[key]
        drawing = make()
        if len(self.drawn) < MEMO_LIMIT:
            self.drawn[key] = drawing
        return drawing


async def _prometheus(
    res: Resources, days: list[datetime], now: datetime
) -> tuple[dict[str, dict[float, float]], dict[str, float], dict[str, bool]]:
    """Daily figures of the whole days, today's so far (the report's own question), nodes up."""
    url = res.settings.prometheus_url
    if url is None:
        return {}, {}, {}
    try:
        past = await daily_availability(url, days[1], days[-1]) if len(days) > 1 else {}
        today = await skpd_availability(url, days[-1], now) if now > days[-1] else {}
        up = await nodes_up(url, now)
    except AvailabilityUnavailable as error:
        log.warning("status page: Prometheus unreadable", extra={"error": str(error)})
        return {}, {}, {}
    return past, today, up


async def gather(res: Resources) -> Board:
    """Every SKPD's public state now, from the store and Prometheus."""
    now = res.clock()
    zone = res.settings.timezone
    tz = zone_of(zone)
    inventory = res.inventory
    skpds = public_skpds(inventory) if inventory is not None else []
    start = now - timedelta(days=DAYS)
    async with res.database.read() as session:
        incidents = await incidents_between(session, start, now, skpds)
        f04 = await forms_of(session, "f04", [i.id for i in incidents])
        plans = await current_and_upcoming(session, now, skpds)
        notice = await latest_notice(session)
    dates = days_back(local(now, zone).date())
    midnights = [datetime.combine(d, time(), tz) for d in dates]  # each day's start
    past, today, up = await _prometheus(res, midnights, now)
    windows: dict[str, list[Window]] = {}
    for plan in plans:
        windows.setdefault(plan.skpd, []).append(Window(plan.starts_at, plan.ends_at))
    everyone = windows.get(CORE, [])
    board = []
    for skpd in skpds:
        mine = sorted(windows.get(skpd, []) + everyone, key=lambda w: w.starts_at)
        theirs = [i for i in incidents if i.skpd == skpd]
        current = next((i for i in theirs if i.state in OPEN_STATES), None)
        opened = (
            OpenIncident(current.state, current.responsibility, current.estimated_recovery_at)
            if current is not None
            else None
        )
        ends = {round(m.timestamp()) + 86400: d for m, d in zip(midnights, dates, strict=True)}
        figures = {ends[round(at)]: v for at, v in past.get(skpd, {}).items() if round(at) in ends}
        if skpd in today:
            figures[dates[-1]] = today[skpd]
        assert inventory is not None
        board.append(
            PublicSkpd(
                id=skpd,
                name=inventory.skpd_name(skpd),
                condition=condition_of(inventory, skpd, up, opened, in_any(mine, now), now),
                incident=opened,
                maintenance=tuple(mine),
                days=tuple(Day(d, figures.get(d)) for d in dates),
                incidents=tuple(
                    PastIncident(
                        i.opened_at, i.recovered_at, cause_of(f04.get(i.id)), i.responsibility
                    )
                    for i in reversed(theirs)
                ),
            )
        )
    nodes = public_nodes(inventory, up) if inventory is not None else ()
    shown = notice.text if notice is not None and notice.text else None
    return Board(now, tuple(board), nodes, tuple(sorted(up.items())), shown)


async def status_board(res: Resources, cache: StatusCache) -> Board:
    """The board, gathered again only when the last try is older than the interval; concurrent
    askers wait for the one gathering. A failed gathering keeps the last board (its time says
    how old it is) until the next interval: a database down is not a thousand retries."""
    if not _stale(res, cache):
        assert cache.board is not None
        return cache.board
    async with cache.lock:
        if _stale(res, cache):
            cache.tried_at = res.clock()
            try:
                board = await gather(res)
            except DATABASE_ERRORS as error:
                if cache.board is None:
                    raise
                log.warning("status page: kept the last board", extra={"error": str(error)})
            else:
                cache.board, cache.drawn = board, {}
                cache.refreshes += 1
    assert cache.board is not None
    return cache.board


def _stale(res: Resources, cache: StatusCache) -> bool:
    return (
        cache.board is None
        or cache.tried_at is None
        or (res.clock() - cache.tried_at).total_seconds() >= cache.interval
    )


async def post_notice(res: Resources, actor: Actor, text: str, cache: StatusCache) -> str:
    """A coordinator's notice on the public page, kept with who posted it; shown from the next
    request on (the board is gathered again)."""
    if actor.role is not Role.COORDINATOR:
        raise Forbidden("only a coordinator posts a notice on the status page")
    cleaned = clean_notice(text)
    async with res.database.write() as session:
        add_notice(session, cleaned, actor.name, res.clock())
    log.info("status page notice", extra={"by": actor.name, "characters": len(cleaned)})
    cache.tried_at = None
    return cleaned
