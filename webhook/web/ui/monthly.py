"""The monthly report in the web UI (login required; an SKPD admin sees only its own SKPDs):

    GET /laporan?bulan=2026-11[&skpd=dinkes]     the page (default: the current month)
    GET /laporan.pdf?bulan=...                    the same as PDF, with the Diskominfo header
    GET /laporan.csv?bulan=...                    one row per SKPD
    GET /laporan/insiden.csv?bulan=...            one row per incident

The incident store gives incidents, downtime and stage times; Prometheus (SIGAP_PROMETHEUS_URL)
gives availability. Without it, or when it does not answer, the report is still made and says
that availability is unavailable. A month that is not YYYY-MM is a 400. Months are the
regency's (SIGAP_TIMEZONE, WITA by default), and so are the times shown.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from urllib.parse import urlencode

from aiohttp import web

from exporter.inventory import CORE
from webhook.core.charts import report_charts, svg
from webhook.core.figures import RESPONSIBILITIES
from webhook.core.i18n import word
from webhook.core.maintenance import intervals_within
from webhook.core.monthly import (
    REPORT_STAGES,
    Month,
    build_report,
    cause_of,
    format_availability,
    format_duration,
    format_time,
    incidents_csv,
    line_cause,
    repair_end,
    summary_csv,
)
from webhook.core.pdf import monthly_report_pdf
from webhook.services.prometheus import AvailabilityUnavailable, skpd_availability
from webhook.store.maintenance import overlapping
from webhook.store.queries import forms_of, incidents_between
from webhook.web.auth import visible_skpds
from webhook.web.inventory_check import UnknownId, check_skpd
from webhook.web.keys import CLOCK, DATABASE, INVENTORY, SETTINGS
from webhook.web.ui.views import current_user, language, render

log = logging.getLogger("sigap.webhook")


async def _availability(
    app: web.Application, month: Month, now: datetime, lang: str
) -> tuple[dict[str, float], str | None]:
    """SKPD -> availability over the month (so far), or why there is none."""
    url = app[SETTINGS].prometheus_url
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


async def _availability_in_windows(
    app: web.Application, windows: dict[str, list[tuple[datetime, datetime]]]
) -> dict[str, float]:
    """SKPD -> availability within its maintenance windows (A_W), weighted by their lengths:
    one Prometheus question per window. An SKPD with a window Prometheus has no figure for is
    absent (its availability excluding maintenance is then unknown)."""
    url = app[SETTINGS].prometheus_url
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


async def monthly_report(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    lang = language(request)
    zone = request.app[SETTINGS].timezone
    async with request.app[DATABASE].read() as session:
        user, login = await current_user(request, session)
        try:
            month = Month.parse(request.query["bulan"], zone) if "bulan" in request.query else None
        except ValueError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        month = month or Month.of(now, zone)
        scope = visible_skpds(user)
        wanted = request.query.get("skpd")
        if wanted:
            try:
                check_skpd(request.app.get(INVENTORY), wanted, core=True)
            except UnknownId as error:
                raise web.HTTPBadRequest(text=str(error)) from None
            if scope is not None and wanted not in scope:
                raise web.HTTPForbidden(text=f"{user.name} sees only {', '.join(scope)}")
            scope = [wanted]
        incidents = await incidents_between(session, month.start, month.end, scope)
        f04 = await forms_of(session, "f04", [i.id for i in incidents])
        plans = await overlapping(session, month.start, month.end, scope)
    inventory = request.app.get(INVENTORY)
    every = [*inventory.skpds, CORE] if inventory is not None else []
    names = {
        s: inventory.skpd_name(s) if inventory is not None else s
        for s in (every if scope is None else scope)
    }
    availability, problem = await _availability(request.app, month, now, lang)
    until = min(month.end, now)
    windows = {
        s: spans
        for s in {p.skpd for p in plans}
        if (spans := intervals_within(plans, s, month.start, until))
    }
    in_windows = await _availability_in_windows(request.app, windows) if availability else {}
    report = build_report(
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
    )
    filename = f"laporan-{month}" + (
        f"-{re.sub(r'[^A-Za-z0-9_.-]', '_', wanted)}" if wanted else ""
    )
    match request.match_info.get("format", ""):
        case ".pdf":
            return web.Response(
                body=await asyncio.to_thread(monthly_report_pdf, report, lang),
                content_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
            )
        case ".csv":
            return _csv(summary_csv(report, lang), f"{filename}.csv")
        case "/insiden.csv":
            return _csv(incidents_csv(report, lang), f"{filename}-insiden.csv")
    query = urlencode({"bulan": str(month), **({"skpd": wanted} if wanted else {})})
    return render(
        request,
        "monthly_report.html",
        user=user,
        csrf=login.csrf,
        report=report,
        query=query,
        stages=list(REPORT_STAGES),
        responsibilities=RESPONSIBILITIES,
        availability=lambda ratio: format_availability(ratio, lang),
        duration=lambda seconds: format_duration(seconds, lang),
        when=lambda moment: format_time(moment, zone, lang),
        cause=lambda line: line_cause(report, line),
        charts=[svg(chart) for chart in report_charts(report, lang)],  # text escaped by `svg`
    )


def _csv(text: str, filename: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def setup_monthly_report(app: web.Application) -> None:
    app.router.add_get(r"/laporan{format:(\.pdf|\.csv|/insiden\.csv)?}", monthly_report)
