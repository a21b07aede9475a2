"""A one-page PDF certificate with a QR code that leads to verification."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import segno
from fpdf import FPDF

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"),)


@dataclass(frozen=True)
class CertificateFacts:
    holder: str
    title: str
    category: str
    completed_on: date
    valid_until: date | None
    agency: str
    issuer: str
    credential_id: str
    verify_link: str


def render(facts: CertificateFacts) -> bytes:
    """The certificate as PDF bytes; any text from records is drawn as plain text."""
    pdf = _Pdf(orientation="L", format="Letter")
    pdf.set_auto_page_break(False)
    pdf.add_page()
    family = _font(pdf)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(30)
    pdf.set_font(family, size=14)
    pdf.cell(0, 10, facts.issuer, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=30)
    pdf.cell(0, 20, "Certificate of Training", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=12)
    pdf.cell(0, 10, "awarded to", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=24)
    pdf.cell(0, 16, facts.holder, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=14)
    lines = [
        facts.title,
        f"{facts.category} — completed {facts.completed_on.isoformat()}",
        f"valid until {facts.valid_until.isoformat()}" if facts.valid_until else "",
        facts.agency,
    ]
    for line in filter(None, lines):
        pdf.cell(0, 9, line, align="C", new_x="LMARGIN", new_y="NEXT")
    qr = io.BytesIO()
    segno.make(facts.verify_link, error="m").save(qr, kind="png", scale=4, border=1)
    pdf.image(qr, x=pdf.w - 62, y=pdf.h - 62, w=40, h=40)
    pdf.set_xy(20, pdf.h - 30)
    pdf.set_font(family, size=8)
    pdf.multi_cell(pdf.w - 90, 4, f"Verify: {facts.verify_link}\nCredential {facts.credential_id}")
    return bytes(pdf.output())


class _Pdf(FPDF):
    """FPDF that degrades text the core font cannot draw instead of failing."""

    def normalize_text(self, text: str) -> str:
        if not self.is_ttf_font:
            text = text.encode("latin-1", "replace").decode("latin-1")
        return super().normalize_text(text)


def _font(pdf: FPDF) -> str:
    """DejaVu Sans where installed (any alphabet), else the core font with Latin-1 only."""
    for folder in FONT_DIRS:
        regular = folder / "DejaVuSans.ttf"
        if regular.exists():
            pdf.add_font("DejaVu", fname=str(regular))
            return "DejaVu"
    matplotlib_font = _matplotlib_font()
    if matplotlib_font is not None:
        pdf.add_font("DejaVu", fname=str(matplotlib_font))
        return "DejaVu"
    return "Helvetica"


def _matplotlib_font() -> Path | None:
    try:
        import matplotlib
    except ImportError:
        return None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    return path if path.exists() else None
