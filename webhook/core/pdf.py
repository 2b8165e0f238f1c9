"""Forms F-01 (aduan SKPD) and F-04 (tindakan) and the monthly report as PDF, with the
office's letterhead (`webhook.core.letterhead`, from the settings).

fpdf2 with the DejaVu fonts of Debian's fonts-dejavu-core (Indonesian text, any Unicode a person
types). Pure: data in, bytes out.
"""

from __future__ import annotations

import io
from pathlib import Path

from fpdf import FPDF

from webhook.core import charts, monthly
from webhook.core.documents import Document, signature_lines
from webhook.core.figures import RESPONSIBILITIES, TIMED_STAGES
from webhook.core.i18n import word
from webhook.core.letterhead import Letterhead
from webhook.core.localtime import zone_abbreviation

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
PHOTO_HEIGHT = 75.0
"""Millimetres: the tallest a repair photo is drawn."""
CREST_HEIGHT = 22.0
"""Millimetres: the crest beside the letterhead's lines."""


def _letterhead(title: str, orientation: str, letterhead: Letterhead) -> FPDF:
    """A new A4 document with the letterhead on its first page: the crest on the left, the
    government and office in capitals, the unit, the address line, a double rule."""
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.set_title(title)
    pdf.set_author(f"SIGAP · {letterhead.short_name}")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    top, left, right = pdf.get_y(), pdf.l_margin, pdf.r_margin
    if letterhead.crest is not None:
        crest = pdf.image(str(letterhead.crest), x=left, y=top, h=CREST_HEIGHT)
        indent = float(crest.rendered_width) + 3
        pdf.set_left_margin(left + indent)  # the lines centred between the crest and its mirror
        pdf.set_right_margin(right + indent)
        pdf.set_x(pdf.l_margin)
    pdf.set_font("DejaVu", "B", 13)
    for line in letterhead.title_lines:
        pdf.multi_cell(0, 7, line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    if letterhead.unit:
        pdf.cell(0, 5, letterhead.unit, align="C", new_x="LMARGIN", new_y="NEXT")
    if letterhead.contact_line:
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 4, letterhead.contact_line, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_left_margin(left)
    pdf.set_right_margin(right)
    pdf.set_x(left)
    if letterhead.crest is not None:
        pdf.set_y(max(pdf.get_y(), top + CREST_HEIGHT))
    pdf.set_line_width(0.8)
    pdf.line(15, pdf.get_y() + 2, pdf.w - 15, pdf.get_y() + 2)
    pdf.set_line_width(0.2)
    pdf.line(15, pdf.get_y() + 3, pdf.w - 15, pdf.get_y() + 3)
    pdf.ln(7)
    return pdf


def document_pdf(document: Document, letterhead: Letterhead) -> bytes:
    """F-01 or F-04 as the office prints it: letterhead, title and number, the fields, the
    affected nodes, the place and date, and the two signature blocks with the names."""
    lang = document.lang
    incident = word("incident", lang).lower()
    title = f"{document.code} {document.number or ''} {incident} #{document.incident_id}"
    pdf = _letterhead(title, "portrait", letterhead)
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 7, document.heading, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    number = f"{word('document_number', lang)}: {document.number or '-'}"
    pdf.cell(0, 6, number, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 9.5)
    with pdf.table(col_widths=(30, 70), text_align="LEFT", first_row_as_headings=False) as table:
        for label, value in document.fields:
            row = table.row()
            row.cell(label)
            row.cell(value)
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, word("nodes_affected", lang), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    if document.nodes:
        with pdf.table(col_widths=(17, 52, 17, 38, 18), text_align="LEFT") as table:
            table.row(
                [word(k, lang) for k in ("node", "node_name", "ip_address", "location")]
                + [word("responsibility", lang)]
            )
            for node in document.nodes:
                table.row([node.id, node.name, node.address, node.location, node.responsibility])
    else:
        pdf.cell(0, 5, "-", new_x="LMARGIN", new_y="NEXT")
    if document.photos:
        _photos(pdf, document)
    _signatures(pdf, document)
    return bytes(pdf.output())


def _photos(pdf: FPDF, document: Document) -> None:
    """The repair's photos, two to a row, each scaled to fit its half of the page."""
    gap = 4.0
    width = (pdf.w - pdf.l_margin - pdf.r_margin - gap) / 2
    most = PHOTO_HEIGHT
    first = max(min(most, width * p.height / max(p.width, 1)) for p in document.photos[:2])
    if pdf.get_y() + 9 + first > pdf.h - pdf.b_margin:
        pdf.add_page()  # the heading stays with its first photos
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, word("repair_photos", document.lang), new_x="LMARGIN", new_y="NEXT")
    for start in range(0, len(document.photos), 2):
        pair = document.photos[start : start + 2]
        heights = [min(most, width * p.height / max(p.width, 1)) for p in pair]
        if pdf.get_y() + max(heights) > pdf.h - pdf.b_margin:
            pdf.add_page()
        top = pdf.get_y()
        for column, (photo, height) in enumerate(zip(pair, heights, strict=True)):
            shown = min(width, height * photo.width / max(photo.height, 1))
            x = pdf.l_margin + column * (width + gap) + (width - shown) / 2
            pdf.image(io.BytesIO(photo.data), x=x, y=top, w=shown, h=height)
        pdf.set_y(top + max(heights) + gap)


def _signatures(pdf: FPDF, document: Document) -> None:
    """Place and date on the right, then the two blocks side by side: role, space to sign,
    the name underlined and the NIP."""
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    pdf.ln(8)
    half = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_font("DejaVu", "", 10)
    pdf.set_x(pdf.l_margin + half)
    pdf.cell(half, 6, document.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    for column, who in enumerate(document.signers):
        x = pdf.l_margin + column * half
        pdf.set_xy(x, top)
        pdf.set_font("DejaVu", "", 10)
        pdf.cell(half, 6, who.role, align="C")
        pdf.set_xy(x, top + 26)
        for index, line in enumerate(signature_lines(who)):
            bold = index == 0 and who.name is not None
            pdf.set_font("DejaVu", "BU" if bold else "", 10)
            pdf.set_x(x)
            pdf.cell(half, 5.5, line, align="C", new_x="LEFT", new_y="NEXT")


def monthly_report_pdf(report: monthly.MonthlyReport, lang: str, letterhead: Letterhead) -> bytes:
    """The monthly report: the SKPDs' figures, then each SKPD's incidents (A4 landscape)."""
    pdf = _letterhead(f"{word('monthly', lang)} {report.month}", "landscape", letterhead)

    def t(key: str) -> str:
        return word(key, lang)

    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, t("monthly_title").upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    zone = report.month.zone
    abbreviation = zone_abbreviation(zone, report.month.start)
    heading = f"{report.month.name(lang)} · {t('time_zone')}: {abbreviation}"
    pdf.cell(0, 6, heading, align="C", new_x="LMARGIN", new_y="NEXT")
    if report.availability_problem:
        pdf.cell(0, 6, f"{t('availability_unavailable')}: {report.availability_problem}")
        pdf.ln(6)
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(col_widths=(60, 25, 20, 25, 25, 25, 25), text_align="LEFT") as table:
        table.row(
            [
                "SKPD",
                t("availability"),
                t("outages"),
                f"{t('downtime')} {t('total')}",
                *(t(f"responsibility_{r}") for r in RESPONSIBILITIES),
            ]
        )
        for skpd in report.skpds:
            table.row(
                [
                    skpd.name,
                    monthly.format_availability(skpd.availability, lang),
                    str(skpd.outages),
                    monthly.format_duration(skpd.downtime_total, lang),
                    *(monthly.format_duration(skpd.downtime[r], lang) for r in RESPONSIBILITIES),
                ]
            )
    pdf.add_page()
    for chart in charts.report_charts(report, lang):
        _chart(pdf, chart)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, t("maintenance"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(col_widths=(60, 30, 30, 30, 30, 30), text_align="LEFT") as table:
        table.row(
            [
                "SKPD",
                t("maintenance"),
                t("downtime_planned"),
                t("downtime_unplanned"),
                t("availability_sla"),
                t("availability_internal"),  # the SKPD's own network, apart from Diskominfo's
            ]
        )
        for skpd in report.skpds:
            table.row(
                [
                    skpd.name,
                    monthly.format_duration(skpd.planned_time, lang),
                    monthly.format_duration(skpd.downtime_planned, lang),
                    monthly.format_duration(skpd.downtime_unplanned, lang),
                    monthly.format_availability(skpd.availability_excl_planned, lang),
                    monthly.format_availability(skpd.internal_availability, lang),
                ]
            )
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, t("stage_times"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(col_widths=(60, 25, 25, 25, 25, 25), text_align="LEFT") as table:
        table.row(["SKPD", *(t(f"stage_{s}") for s in TIMED_STAGES)])
        for skpd in report.skpds:
            table.row(
                [
                    skpd.name,
                    *(monthly.format_duration(skpd.time_to_stage[s], lang) for s in TIMED_STAGES),
                ]
            )
    for skpd in report.skpds:
        if not skpd.incidents:
            continue
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(0, 6, f"{skpd.name} ({skpd.skpd})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        with pdf.table(col_widths=(12, 30, 25, 25, 30, 25, 80), text_align="LEFT") as table:
            table.row(
                [
                    "#",
                    t("opened_at"),
                    t("state"),
                    t("responsibility"),
                    t("cause"),
                    t("downtime"),
                    t("description"),
                ]
            )
            for line in skpd.incidents:
                table.row(
                    [
                        str(line.id),
                        monthly.format_time(line.opened_at, zone, lang),
                        t(f"state_{line.state}"),
                        t(f"responsibility_{line.responsibility}"),
                        t(f"cause_{monthly.line_cause(report, line)}"),
                        monthly.format_duration(line.downtime, lang),
                        line.title or "-",
                    ]
                )
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4, t("monthly_note"))
    return bytes(pdf.output())


def _chart(pdf: FPDF, chart: charts.BarChart) -> None:
    """One chart of the report drawn with fpdf2's rectangles and text (the same model as the
    page's SVG): title, a bar per row with its label and figure, the legend."""
    row, label_width, text_width = 5.5, 85.0, 32.0
    plot_width = pdf.w - pdf.l_margin - pdf.r_margin - label_width - text_width
    needed = 10 + row * max(len(chart.bars), 1) + 8
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 7, chart.title, new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    left = pdf.l_margin + label_width
    pdf.set_draw_color(102, 102, 102)
    pdf.set_line_width(0.2)
    pdf.line(left, top, left, top + row * max(len(chart.bars), 1))
    pdf.set_font("DejaVu", "", 8)
    if not chart.bars:
        pdf.set_xy(left + 2, top)
        pdf.cell(plot_width, row, chart.empty_text)
    for index, bar in enumerate(chart.bars):
        y = top + index * row
        pdf.set_xy(pdf.l_margin, y)
        pdf.cell(label_width - 2, row, _fit(pdf, bar.label, label_width - 3), align="R")
        x = left
        for value, series in zip(bar.values, chart.series, strict=True):
            width = plot_width * max(value, 0.0) / chart.scale
            if width > 0:
                pdf.set_fill_color(*_rgb(series.colour))
                pdf.rect(x, y + 0.8, width, row - 1.6, style="F")
            x += width
        pdf.set_xy(x + 1.5, y)
        pdf.cell(text_width, row, bar.text)
    pdf.set_y(top + row * max(len(chart.bars), 1) + 1.5)
    if len(chart.series) > 1:
        x = left
        for series in chart.series:
            pdf.set_fill_color(*_rgb(series.colour))
            pdf.rect(x, pdf.get_y() + 1, 3, 3, style="F")
            pdf.set_xy(x + 4, pdf.get_y())
            pdf.cell(0, 5, series.label)
            x += 8 + pdf.get_string_width(series.label)
        pdf.ln(5)
    pdf.ln(4)
    # fpdf2's tables fill their cells with the current colour: leave it white (the tables after
    # the charts came out grey) and the lines black, as before the chart
    pdf.set_fill_color(255, 255, 255)
    pdf.set_draw_color(0, 0, 0)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` in the current font."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)
