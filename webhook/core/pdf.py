"""Forms F-01 (aduan SKPD) and F-04 (tindakan) and the monthly report as PDF, with the
Diskominfo header.

fpdf2 with the DejaVu fonts of Debian's fonts-dejavu-core (Indonesian text, any Unicode a person
types). Pure: data in, bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from webhook.core import monthly
from webhook.core.figures import RESPONSIBILITIES, TIMED_STAGES
from webhook.core.i18n import word

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

F01_LABELS = (
    ("reporter", "Pelapor"),
    ("skpd", "SKPD"),
    ("contact_confirmed_with", "Dikonfirmasi dengan"),
    ("complaint", "Aduan"),
    ("affected_service", "Layanan terdampak (internet/intranet)"),
    ("reported_at", "Waktu"),
)
F04_LABELS = (
    ("skpd", "SKPD"),
    ("findings", "Temuan"),
    ("actions_taken", "Tindakan"),
    ("parts_replaced", "Perangkat diganti"),
    ("repair_started_at", "Mulai perbaikan"),
    ("repair_ended_at", "Selesai perbaikan"),
    ("result", "Hasil"),
    ("staff", "Staf"),
    ("acknowledged_by", "Diterima oleh admin SKPD"),
)
TITLES = {
    "f01": ("F-01", "FORM ADUAN SKPD"),
    "f04": ("F-04", "FORM TINDAKAN"),
}


def _text(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z")
    return str(value)


def _letterhead(title: str, orientation: str) -> FPDF:
    """A new A4 document with the Diskominfo header on its first page."""
    pdf = FPDF(orientation=orientation, format="A4")
    pdf.set_title(title)
    pdf.set_author("SIGAP · Diskominfo Kabupaten Tanah Bumbu")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 7, "PEMERINTAH KABUPATEN TANAH BUMBU", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 7, "DINAS KOMUNIKASI DAN INFORMATIKA", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(0, 5, "Bidang Jaringan · SIGAP", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_line_width(0.8)
    pdf.line(15, pdf.get_y() + 2, pdf.w - 15, pdf.get_y() + 2)
    pdf.ln(6)
    return pdf


def form_pdf(
    kind: str, incident_id: int, data: Mapping[str, Any], labels: Sequence[tuple[str, str]] = ()
) -> bytes:
    """One form as a PDF document."""
    code, title = TITLES[kind]
    labels = labels or (F01_LABELS if kind == "f01" else F04_LABELS)
    pdf = _letterhead(f"{code} insiden #{incident_id}", "portrait")
    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, f"{code} · {title}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, f"Insiden #{incident_id}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(col_widths=(35, 65), text_align="LEFT") as table:
        for key, label in labels:
            row = table.row()
            row.cell(label)
            row.cell(_text(data.get(key)))
    pdf.ln(12)
    pdf.cell(90, 6, "Staf Admin Jaringan Kominfo", align="C")
    pdf.cell(90, 6, "Admin SKPD", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(18)
    pdf.cell(90, 6, f"( {_text(data.get('staff'))} )", align="C")
    pdf.cell(90, 6, f"( {_text(data.get('acknowledged_by'))} )", align="C")
    return bytes(pdf.output())


def monthly_report_pdf(report: monthly.MonthlyReport, lang: str) -> bytes:
    """The monthly report: the SKPDs' figures, then each SKPD's incidents (A4 landscape)."""
    pdf = _letterhead(f"{word('monthly', lang)} {report.month}", "landscape")

    def t(key: str) -> str:
        return word(key, lang)

    pdf.set_font("DejaVu", "B", 12)
    pdf.cell(0, 8, t("monthly_title").upper(), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 10)
    pdf.cell(0, 6, report.month.name(lang), align="C", new_x="LMARGIN", new_y="NEXT")
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
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 10)
    pdf.cell(0, 6, t("maintenance"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    with pdf.table(col_widths=(60, 30, 30, 30, 30), text_align="LEFT") as table:
        table.row(
            [
                "SKPD",
                t("maintenance"),
                t("downtime_planned"),
                t("downtime_unplanned"),
                t("availability_sla"),
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
        with pdf.table(col_widths=(12, 30, 25, 25, 25, 90), text_align="LEFT") as table:
            table.row(
                [
                    "#",
                    f"{t('opened_at')} (UTC)",
                    t("state"),
                    t("responsibility"),
                    t("downtime"),
                    t("description"),
                ]
            )
            for line in skpd.incidents:
                table.row(
                    [
                        str(line.id),
                        monthly.format_time(line.opened_at),
                        line.state,
                        t(f"responsibility_{line.responsibility}"),
                        monthly.format_duration(line.downtime, lang),
                        line.title or "-",
                    ]
                )
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4, t("monthly_note"))
    return bytes(pdf.output())
