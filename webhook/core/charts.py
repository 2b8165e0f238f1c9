"""The monthly report's charts, for the head of the office: one model, drawn twice — as inline
SVG on the page (`svg`) and with fpdf2's primitives in the PDF (`webhook.core.pdf`).

Pure. Horizontal bars (SKPD names are long), each bar one or more stacked segments. The SVG uses
presentation attributes only (`fill=`, `font-size=`): the UI's Content-Security-Policy allows no
inline style.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from webhook.core import monthly
from webhook.core.figures import RESPONSIBILITIES
from webhook.core.forms import CAUSES, UNKNOWN_CAUSE
from webhook.core.i18n import word

COLOURS = {
    "availability": "#0b4f8a",
    "diskominfo": "#0b4f8a",
    "skpd": "#d97706",
    "unknown": "#9ca3af",
}
"""Diskominfo blue, the SKPD's side orange, not yet known grey."""


@dataclass(frozen=True, slots=True)
class Series:
    key: str
    label: str
    colour: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    values: tuple[float, ...]
    """One per series of the chart, stacked in order."""
    text: str
    """Written right of the bar: the figure as the tables write it."""


@dataclass(frozen=True, slots=True)
class BarChart:
    key: str
    title: str
    series: tuple[Series, ...]
    bars: tuple[Bar, ...]
    scale: float
    """The value at the right edge of the plot."""
    empty_text: str = ""
    """Written instead of bars when there are none."""


def availability_chart(report: monthly.MonthlyReport, lang: str) -> BarChart:
    """Availability per SKPD, 0-100 %."""
    series = (Series("availability", word("availability", lang), COLOURS["availability"]),)
    bars = tuple(
        Bar(
            skpd.name,
            (100 * (skpd.availability or 0.0),),
            monthly.format_availability(skpd.availability, lang),
        )
        for skpd in report.skpds
    )
    return BarChart("availability", word("chart_availability", lang), series, bars, 100.0)


def _responsibility_series(lang: str) -> tuple[Series, ...]:
    return tuple(Series(r, word(f"responsibility_{r}", lang), COLOURS[r]) for r in RESPONSIBILITIES)


def cause_chart(report: monthly.MonthlyReport, lang: str) -> BarChart:
    """Downtime (hours) by cause from F-04, each bar split by responsibility."""
    table = monthly.downtime_by_cause(report)
    causes = [*CAUSES, UNKNOWN_CAUSE]
    bars = tuple(
        Bar(
            word(f"cause_{cause}", lang),
            tuple(table[cause][r] / 3600 for r in RESPONSIBILITIES),
            monthly.format_duration(sum(table[cause].values()), lang),
        )
        for cause in causes
    )
    return _scaled("causes", word("chart_causes", lang), _responsibility_series(lang), bars, lang)


def responsibility_chart(report: monthly.MonthlyReport, lang: str) -> BarChart:
    """Downtime (hours) per SKPD that had any, split by responsibility."""
    bars = tuple(
        Bar(
            skpd.name,
            tuple(skpd.downtime[r] / 3600 for r in RESPONSIBILITIES),
            monthly.format_duration(skpd.downtime_total, lang),
        )
        for skpd in report.skpds
        if skpd.downtime_total > 0
    )
    title = word("chart_responsibility", lang)
    return _scaled("responsibility", title, _responsibility_series(lang), bars, lang)


def _scaled(
    key: str, title: str, series: tuple[Series, ...], bars: tuple[Bar, ...], lang: str
) -> BarChart:
    top = max((sum(b.values) for b in bars), default=0.0)
    title = f"{title} ({word('hours', lang)})"
    return BarChart(key, title, series, bars, max(top, 1.0), word("no_incidents_month", lang))


def report_charts(report: monthly.MonthlyReport, lang: str) -> tuple[BarChart, ...]:
    return (
        availability_chart(report, lang),
        cause_chart(report, lang),
        responsibility_chart(report, lang),
    )


# --- SVG -----------------------------------------------------------------------------------------

ROW, LABEL_WIDTH, PLOT_WIDTH, TEXT_WIDTH, TOP = 22, 300, 360, 110, 34
WIDTH = LABEL_WIDTH + PLOT_WIDTH + TEXT_WIDTH


def _short(text: str, limit: int = 44) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg(chart: BarChart) -> str:
    """The chart as an <svg> element (text escaped), to be placed in the page as it is."""
    rows = max(len(chart.bars), 1)
    legend_y = TOP + rows * ROW + 14
    height = legend_y + (18 if len(chart.series) > 1 else 0) + 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart.key}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="DejaVu Sans, sans-serif">',
        f'<text x="0" y="16" font-size="15" font-weight="bold" fill="#111">'
        f"{escape(chart.title)}</text>",
        f'<line x1="{LABEL_WIDTH}" y1="{TOP - 4}" x2="{LABEL_WIDTH}" y2="{TOP + rows * ROW}" '
        'stroke="#666" stroke-width="1"/>',
    ]
    if not chart.bars:
        out.append(
            f'<text x="{LABEL_WIDTH + 8}" y="{TOP + 14}" font-size="12" fill="#666">'
            f"{escape(chart.empty_text)}</text>"
        )
    for index, bar in enumerate(chart.bars):
        y = TOP + index * ROW
        out.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" font-size="12" fill="#111" '
            f'text-anchor="end"><title>{escape(bar.label)}</title>{escape(_short(bar.label))}'
            "</text>"
        )
        x = float(LABEL_WIDTH)
        for value, series in zip(bar.values, chart.series, strict=True):
            width = PLOT_WIDTH * max(value, 0.0) / chart.scale
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{width:.1f}" height="{ROW - 6}" '
                    f'fill="{series.colour}"><title>{escape(series.label)}</title></rect>'
                )
            x += width
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + 14}" font-size="12" fill="#111">'
            f"{escape(bar.text)}</text>"
        )
    if len(chart.series) > 1:
        x = float(LABEL_WIDTH)
        for series in chart.series:
            out.append(
                f'<rect x="{x:.0f}" y="{legend_y}" width="12" height="12" fill="{series.colour}"/>'
                f'<text x="{x + 16:.0f}" y="{legend_y + 11}" font-size="12" fill="#111">'
                f"{escape(series.label)}</text>"
            )
            x += 24 + 8 * len(series.label)
    out.append("</svg>")
    return "\n".join(out)
