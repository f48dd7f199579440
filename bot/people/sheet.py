"""A printable invite sheet: one QR code and link per code, with the student's name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import qrcode
from fpdf import FPDF

from bot.people.roster import Invitation, deep_link

PER_ROW, ROWS = 3, 4  # twelve cards per A4 page, large enough to scan from a desk


def write_sheet(
    path: Path, cohort: str, invitations: Sequence[Invitation], username: str | None
) -> None:
    """Write an A4 PDF; without the bot's username the card shows `/start CODE`."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"mentorbot - {cohort}")
    card_w, card_h = 190 / PER_ROW, 270 / ROWS
    for index, item in enumerate(invitations):
        if index % (PER_ROW * ROWS) == 0:
            pdf.add_page()
            pdf.set_font("Helvetica", "B", 12)
            pdf.text(10, 10, _latin1(f"Check-in {cohort}: scan de code met je telefoon"))
        slot = index % (PER_ROW * ROWS)
        x, y = 10 + (slot % PER_ROW) * card_w, 15 + (slot // PER_ROW) * card_h
        _card(pdf, x, y, card_w, card_h, item, username)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))


def _card(
    pdf: FPDF, x: float, y: float, w: float, h: float, item: Invitation, username: str | None
) -> None:
    link = deep_link(username, item.invite.code) or f"/start {item.invite.code}"
    pdf.rect(x + 1, y + 1, w - 2, h - 2)
    image = qrcode.make(link, box_size=6, border=1).get_image()
    size = min(w, h) - 22
    pdf.image(image, x=x + (w - size) / 2, y=y + 3, w=size, h=size)
    pdf.set_font("Helvetica", "B", 10)
    pdf.set_xy(x + 2, y + size + 4)
    pdf.cell(w - 4, 5, _latin1(item.name or item.invite.role), align="C")
    pdf.set_font("Helvetica", "", 6)
    pdf.set_xy(x + 2, y + size + 10)
    pdf.multi_cell(w - 4, 3, link, align="C")


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; other characters become "?" instead of failing.
    return text.encode("latin-1", "replace").decode("latin-1")
