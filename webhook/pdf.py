"""Forms F-01 (aduan SKPD) and F-04 (tindakan) as PDF, with the Diskominfo header.

fpdf2 with the DejaVu fonts of Debian's fonts-dejavu-core (Indonesian text, any Unicode a person
types). Pure: data in, bytes out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

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


def form_pdf(
    kind: str, incident_id: int, data: Mapping[str, Any], labels: Sequence[tuple[str, str]] = ()
) -> bytes:
    """One form as a PDF document."""
    code, title = TITLES[kind]
    labels = labels or (F01_LABELS if kind == "f01" else F04_LABELS)
    pdf = FPDF(format="A4")
    pdf.set_title(f"{code} insiden #{incident_id}")
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
    pdf.line(15, pdf.get_y() + 2, 195, pdf.get_y() + 2)
    pdf.ln(6)
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
