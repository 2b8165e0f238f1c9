"""The monthly report's data (SOP figures per SKPD): incidents, downtime and stage times from
the incident store, availability from Prometheus (SIGAP_PROMETHEUS_URL). Without Prometheus, or
when it does not answer, the report is still made and says that availability is unavailable."""

from __future__ import annotations

import logging
from datetime import datetime

from exporter.inventory import CORE
from webhook.core.i18n import word
from webhook.core.inventory_check import check_skpd
from webhook.core.maintenance import intervals_within
from webhook.core.monthly import Month, MonthlyReport, build_report, cause_of, repair_end
from webhook.core.refusals import Forbidden
from webhook.services.prometheus import INTERNAL_RULE, AvailabilityUnavailable, skpd_availability
from webhook.store.maintenance import overlapping
from webhook.store.queries import forms_of, incidents_between
from webhook.usecases.context import Actor, Resources

log = logging.getLogger("sigap.webhook")


async def _availability(
    res: Resources, month: Month, now: datetime, lang: str
) -> tuple[dict[str, float], str | None]:
    """SKPD -> availability over the month (so far), or why there is none."""
    url = res.settings.prometheus_url
    if url is None:
        return {}, word("no_prometheus", lang)
    end = min(month.end, now)
    if end <= month.start:
        return {}, None  # a month still to come: nothing to ask
    try:
        return await skpd_availability(url, month.start, end), None
    except AvailabilityUnavailable as error:  # its detail (addresses, bodies) only in the log
        log.warning("monthly report: no availability", extra={"error": str(error)})
        return {}, word("prometheus_unreachable", lang)


async def _internal_availability(res: Resources, month: Month, now: datetime) -> dict[str, float]:
    """SKPD -> its internal network's availability over the month (so far); none when
    Prometheus does not answer (the connection's figure already says why)."""
    url, end = res.settings.prometheus_url, min(month.end, now)
    if url is None or end <= month.start:
        return {}
    try:
        return await skpd_availability(url, month.start, end, INTERNAL_RULE)
    except AvailabilityUnavailable:
        return {}


async def _availability_in_windows(
    res: Resources, windows: dict[str, list[tuple[datetime, datetime]]]
) -> dict[str, float]:
    """SKPD -> availability within its maintenance windows (A_W), weighted by their lengths:
    one Prometheus question per window. An SKPD with a window Prometheus has no figure for is
    absent (its availability excluding maintenance is then unknown)."""
    url = res.settings.prometheus_url
    found: dict[str, float] = {}
    for skpd, spans in windows.items():
        weighted = 0.0
        for lo, hi in spans:
            try:
                figure = (await skpd_availability(url, lo, hi)).get(skpd) if url else None
            except AvailabilityUnavailable:
                figure = None
            if figure is None:
                break
            weighted += figure * (hi - lo).total_seconds()
        else:
            found[skpd] = weighted / sum((hi - lo).total_seconds() for lo, hi in spans)
    return found


async def monthly_report(
    res: Resources, actor: Actor, month: Month | None, skpd: str | None, lang: str
) -> MonthlyReport:
    """The report of `month` (default: the current one) for every SKPD `actor` sees, or only
    `skpd`; words (availability problems) in `lang`."""
    now = res.clock()
    month = month or Month.of(now, res.settings.timezone)
    scope = list(actor.skpds) if actor.skpds is not None else None
    if skpd:
        check_skpd(res.inventory, skpd, core=True)
        if not actor.sees(skpd):
            raise Forbidden(f"{actor.name} sees only {', '.join(scope or ())}")
        scope = [skpd]
    async with res.database.read() as session:
        incidents = await incidents_between(session, month.start, month.end, scope)
        f04 = await forms_of(session, "f04", [i.id for i in incidents])
        plans = await overlapping(session, month.start, month.end, scope)
    inventory = res.inventory
    every = [*inventory.skpds, CORE] if inventory is not None else []
    names = {
        s: inventory.skpd_name(s) if inventory is not None else s
        for s in (every if scope is None else scope)
    }
    availability, problem = await _availability(res, month, now, lang)
    until = min(month.end, now)
    windows = {
        s: spans
        for s in {p.skpd for p in plans}
        if (spans := intervals_within(plans, s, month.start, until))
    }
    in_windows = await _availability_in_windows(res, windows) if availability else {}
    return build_report(
        month,
        names,
        incidents,
        {i.id: repair_end(f04.get(i.id)) for i in incidents},
        availability,
        problem,
        now,
        windows,
        in_windows,
        causes={i.id: cause_of(f04.get(i.id)) for i in incidents},
        internal_availability=await _internal_availability(res, month, now) if availability else {},
    )
