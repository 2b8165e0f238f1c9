"""The monthly report in the web UI (login required; an SKPD admin sees only its own SKPDs):

    GET /laporan?bulan=2026-11[&skpd=dinkes]     the page (default: the current month)
    GET /laporan.pdf?bulan=...                    the same as PDF, with the letterhead
    GET /laporan.xlsx?bulan=...                   an Excel workbook: the SKPDs, the incidents
    GET /laporan.csv?bulan=...                    one row per SKPD
    GET /laporan/insiden.csv?bulan=...            one row per incident

The CSVs open in Excel with Indonesian regional settings by default (`;`, decimal comma, BOM,
durations as h:mm beside the seconds; also `?format=excel`); `?format=csv` gives the same
figures for programs (`,`, dots, seconds, ids, ISO 8601).

The incident store gives incidents, downtime and stage times; Prometheus (SIGAP_PROMETHEUS_URL)
gives availability. Without it, or when it does not answer, the report is still made and says
that availability is unavailable. A month that is not YYYY-MM is a 400. Months are the
regency's (SIGAP_TIMEZONE, WITA by default), and so are the times shown.
"""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

from aiohttp import web

from webhook.core.charts import report_charts, svg
from webhook.core.figures import RESPONSIBILITIES
from webhook.core.i18n import word
from webhook.core.inventory_check import UnknownId
from webhook.core.monthly import (
    REPORT_STAGES,
    Month,
    format_availability,
    format_duration,
    format_time,
    incidents_table,
    line_cause,
    summary_table,
    table_csv,
)
from webhook.core.pdf import monthly_report_pdf
from webhook.core.refusals import Refused
from webhook.core.workbook import report_workbook
from webhook.usecases import monthly
from webhook.usecases.context import Actor
from webhook.web.keys import RESOURCES
from webhook.web.ui.login import current_user
from webhook.web.ui.rendering import language, refusal, render

CSV_FORMATS = {"excel": True, "csv": False}
"""`?format=` of a CSV download: for Excel (the default) or for programs."""
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def monthly_report(request: web.Request) -> web.Response:
    user, login = await current_user(request)
    lang = language(request)
    res = request.app[RESOURCES]
    zone = res.settings.timezone
    wanted = request.query.get("skpd")
    form = request.query.get("format", "excel")
    if form not in CSV_FORMATS:
        raise web.HTTPBadRequest(
            text=f"format {form!r}: expected excel (the default: Excel, ';' and decimal comma) "
            "or csv (for programs: ',' and dots)"
        )
    try:
        month = Month.parse(request.query["bulan"], zone) if "bulan" in request.query else None
        report = await monthly.monthly_report(res, Actor.of(user), month, wanted, lang)
    except (ValueError, UnknownId) as error:  # a query parameter: the request as a whole
        raise web.HTTPBadRequest(text=getattr(error, "reason", str(error))) from None
    except Refused as refused:
        raise refusal(refused) from None
    filename = f"laporan-{report.month}" + (
        f"-{re.sub(r'[^A-Za-z0-9_.-]', '_', wanted)}" if wanted else ""
    )
    letterhead = res.settings.letterhead
    match request.match_info.get("format", ""):
        case ".pdf":
            return web.Response(
                body=await asyncio.to_thread(monthly_report_pdf, report, lang, letterhead),
                content_type="application/pdf",
                headers={"Content-Disposition": f'inline; filename="{filename}.pdf"'},
            )
        case ".xlsx":
            tables = (summary_table(report, lang), incidents_table(report, lang))
            sheets = (word("summary", lang), word("incidents", lang))
            book = await asyncio.to_thread(report_workbook, tables, sheets, letterhead, lang)
            return web.Response(
                body=book,
                content_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{filename}.xlsx"'},
            )
        case ".csv":
            text = table_csv(summary_table(report, lang), lang, excel=CSV_FORMATS[form])
            return _csv(text, f"{filename}.csv")
        case "/insiden.csv":
            text = table_csv(incidents_table(report, lang), lang, excel=CSV_FORMATS[form])
            return _csv(text, f"{filename}-insiden.csv")
    query = urlencode({"bulan": str(report.month), **({"skpd": wanted} if wanted else {})})
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
    app.router.add_get(r"/laporan{format:(\.pdf|\.xlsx|\.csv|/insiden\.csv)?}", monthly_report)
