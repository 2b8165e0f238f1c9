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

ROW, LABEL, PLOT_WIDTH, TEXT_WIDTH, TOP, FONT = 46, 18, 290, 110, 30, 15
"""Each bar under its label, across the width: the chart stays legible scaled to a phone's
390 px (the viewBox is 400 wide, so 15 units are about 12 px there)."""
WIDTH = PLOT_WIDTH + TEXT_WIDTH


def _short(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def svg(chart: BarChart) -> str:
    """The chart as an <svg> element (text escaped), to be placed in the page as it is."""
    rows = max(len(chart.bars), 1)
    legend_y = TOP + rows * ROW + 8
    height = legend_y + (22 * len(chart.series) if len(chart.series) > 1 else 0) + 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{chart.key}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(chart.title)}" font-family="DejaVu Sans, sans-serif">',
        f'<text x="0" y="18" font-size="{FONT + 2}" font-weight="bold" fill="#111">'
        f"{escape(_short(chart.title, 40))}<title>{escape(chart.title)}</title></text>",
    ]
    if not chart.bars:
        out.append(
            f'<text x="0" y="{TOP + 16}" font-size="{FONT}" fill="#666">'
            f"{escape(chart.empty_text)}</text>"
        )
    for index, bar in enumerate(chart.bars):
        y = TOP + index * ROW
        out.append(
            f'<text x="0" y="{y + LABEL - 3}" font-size="{FONT}" fill="#111">'
            f"<title>{escape(bar.label)}</title>{escape(_short(bar.label))}</text>"
        )
        x = 0.0
        for value, series in zip(bar.values, chart.series, strict=True):
            width = PLOT_WIDTH * max(value, 0.0) / chart.scale
            if width > 0:
                out.append(
                    f'<rect x="{x:.1f}" y="{y + LABEL}" width="{width:.1f}" '
                    f'height="{ROW - LABEL - 8}" fill="{series.colour}">'
                    f"<title>{escape(series.label)}</title></rect>"
                )
            x += width
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + LABEL + 15}" font-size="{FONT}" fill="#111">'
            f"{escape(bar.text)}</text>"
        )
    if len(chart.series) > 1:
        for index, series in enumerate(chart.series):
            y = legend_y + 22 * index
            out.append(
                f'<rect x="0" y="{y}" width="14" height="14" fill="{series.colour}"/>'
                f'<text x="20" y="{y + 12}" font-size="{FONT}" fill="#111">'
                f"{escape(series.label)}</text>"
            )
    out.append("</svg>")
    return "\n".join(out)
