"""The credit note PDF: a ``CreditNoteDocument`` in, the bytes of an A4 PDF out.

The business and the customer, the credit note's number, date and status, its lines and totals, what
it was applied to or refunded, and the credit that remains. Laid out like the invoice: text that fits
Windows-1252 is set in the standard Helvetica, anything else embeds the bundled DejaVu subsets; the
words are in the reader's language, the numbers in the business's way of writing them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, time
from decimal import Decimal

from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace

from services.credit_notes import CreditNoteDocument, CreditUse
from services.dates import format_day
from services.i18n import _
from services.invoice_detail import DocumentLine, Party
from services.money import Money, format_money
from services.pdf.fonts import BOLD, REGULAR, PortalPdf, drawn, embed_fonts
from services.pdf.invoice import (
    BALANCE_FILL,
    HEADER_FILL,
    INK,
    MARGIN,
    MUTED,
    RULE,
    Color,
    company_line,
    draw_logo,
    draw_rule,
    fits_core_font,
    format_percent,
    format_quantity,
    party_texts,
)

logger = logging.getLogger(__name__)

BODY_SIZE = 8.8
LINE_H = 4.6
TOTALS_W = 104.0  # the totals block, at the right
TOTALS_VALUE_W = 34.0
# Line-item columns, in mm: #, description (the rest), quantity, rate, tax, amount
NUMBER_W, QUANTITY_W, RATE_W, TAX_W, AMOUNT_W = 8.0, 17.0, 27.0, 27.0, 30.0


def render_credit_note_pdf(document: CreditNoteDocument) -> bytes:
    """The credit note as a PDF; a pure function of ``document``, safe in a worker thread."""
    pdf = _CreditNotePdf(document)
    pdf.draw()
    if pdf.embeds_fonts:
        embed_fonts(pdf, still_to_write=pdf.footer_text())
    return bytes(pdf.output())


class _CreditNotePdf(PortalPdf):
    def __init__(self, document: CreditNoteDocument) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.document = document
        self.locale = document.locale
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.c_margin = 0
        self.set_auto_page_break(True, margin=20)
        # An issued document carries its own date, not the clock's: the same credit note, the same bytes.
        self.describe(
            title=f"{document.title} {document.number}",
            author=document.business.name,
            subject=_("{document} {number} for {client}").format(
                document=document.title, number=document.number, client=document.client.name
            ),
            created=datetime.combine(document.issue_date, time(), tzinfo=UTC),
        )
        self.choose_fonts(core_font=fits_core_font(self._printed_texts()))

    # --- what it prints ------------------------------------------------------------------------------

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    def _printed_texts(self) -> Iterator[str]:
        """Every string the document prints: what decides the font."""
        document = self.document
        yield from (
            document.title,
            f"# {document.number}",
            _("Credit Remaining"),
            self.money(document.remaining),
        )
        for party in (document.business, document.client):
            yield from party_texts(party)
        yield _("Credit to").upper()
        for label, value in self._facts():
            yield from (label, value)
        yield from self._headings()
        for line in document.lines:
            yield from self._line_cells(0, line)
        for label, note, value, _strong in self._totals_rows():
            yield from (label, note, value)
        yield from (_("Reason"), document.reason)
        yield self.footer_text()

    def _facts(self) -> list[tuple[str, str]]:
        document = self.document
        return [
            (_("Credit note date"), format_day(document.issue_date, self.locale)),
            (_("Status"), _(document.status_label)),
        ]

    @staticmethod
    def _headings() -> tuple[str, ...]:
        # Translators: the quantity column's heading, in a narrow column of the invoice PDF.
        return ("#", _("Description"), _("Qty"), _("Rate"), _("Tax"), _("Amount"))

    def _line_cells(self, number: int, line: DocumentLine) -> tuple[str, ...]:
        description = line.description
        if line.discount.minor:
            description += "\n" + _("Discount {percent}: {amount}").format(
                percent=self._percent(line.discount_percent), amount=self.money(-line.discount)
            )
        tax = "–"
        if line.tax.minor or line.tax_name or line.tax_rate_percent:
            tax = f"{self.money(line.tax)}\n{line.tax_name} {self._percent(line.tax_rate_percent)}".strip()
        quantity = format_quantity(line.quantity, self.locale)
        return (str(number), description, quantity, self.money(line.rate), tax, self.money(line.amount))

    def _totals_rows(self) -> list[tuple[str, str, str, bool]]:
        """(label, note under it, amount, strong) for each row of the totals block."""
        document = self.document
        rows = [(_("Sub Total"), "", self.money(document.subtotal), False)]
        if document.discount.minor:
            rows.append((_("Discount"), "", self.money(-document.discount), False))
        rows += [
            (_("Tax"), "", self.money(document.tax), False),
            (_("Total"), "", self.money(document.total), True),
        ]
        rows += [(self._use_label(use), format_day(use.day, self.locale), self.money(-use.amount), False)
                 for use in document.uses]  # fmt: skip
        return rows

    @staticmethod
    def _use_label(use: CreditUse) -> str:
        if use.kind == "applied":
            return _("Applied to invoice {number}").format(number=use.invoice_number)
        return _("Refunded")

    def _percent(self, value: Decimal) -> str:
        return format_percent(value, self.locale)

    # --- the document, top to bottom -----------------------------------------------------------------

    def draw(self) -> None:
        self.add_page()
        self._heading()
        self._parties()
        self._lines()
        self._totals()
        self._reason()

    def _heading(self) -> None:
        document = self.document
        left_w = self.epw * 0.56
        y = self.t_margin
        if document.logo:
            height = draw_logo(self, document.logo, self.l_margin, y)
            if height:
                y += height + 4
            else:  # a broken logo must not keep a customer from their credit note
                logger.warning("credit note %s: the business logo is not a readable image", document.number)
        business = document.business
        y = self._text(self.l_margin, y, left_w, business.name, 12.5, bold=True)
        for detail in filter(
            None, [*business.address_lines, business.phone, business.email, business.website]
        ):
            y = self._text(self.l_margin, y, left_w, detail, 8.4, color=MUTED, line_h=3.9)
        right_x, right_w = self.l_margin + left_w, self.epw - left_w
        right = self._text(right_x, self.t_margin - 1, right_w, document.title, 22, bold=True, align="R")
        right = self._text(right_x, right + 0.5, right_w, f"# {document.number}", 10, bold=True, color=MUTED,
                           align="R")  # fmt: skip
        right = self._text(right_x, right + 5, right_w, _("Credit Remaining"), 8, color=MUTED, align="R")
        right = self._text(right_x, right, right_w, self.money(document.remaining), 15, bold=True, align="R")
        self.set_y(max(y, right) + 5)
        draw_rule(self, self.get_y())

    def _parties(self) -> None:
        top = self.get_y() + 5
        left_w = self.epw * 0.56
        y = self._text(self.l_margin, top, left_w, _("Credit to").upper(), 7.4, bold=True, color=MUTED)
        client = self.document.client
        y = self._party(client, y, left_w)
        label_w, value_w = 38.0, 40.0
        label_x = self.l_margin + self.epw - label_w - value_w
        right = top + 4.4
        for label, value in self._facts():
            self._text(label_x, right, label_w, f"{label}:", 8.6, color=MUTED, align="R")
            right = self._text(label_x + label_w, right, value_w, value, 8.6, align="R")
        self.set_y(max(y, right) + 6)

    def _party(self, party: Party, y: float, width: float) -> float:
        y = self._text(self.l_margin, y, width, party.name, 10.5, bold=True)
        for detail in filter(None, [company_line(party), *party.address_lines, party.email, party.phone]):
            y = self._text(self.l_margin, y, width, detail, 8.6, color=MUTED, line_h=4)
        return y

    def _lines(self) -> None:
        description_w = self.epw - NUMBER_W - QUANTITY_W - RATE_W - TAX_W - AMOUNT_W
        self.set_font(self.typeface, REGULAR, BODY_SIZE)
        self.set_text_color(*INK)
        self.set_draw_color(*RULE)
        headings = FontFace(emphasis="BOLD", color=MUTED, fill_color=HEADER_FILL, size_pt=7.8)
        with self.table(
            col_widths=(NUMBER_W, description_w, QUANTITY_W, RATE_W, TAX_W, AMOUNT_W),
            text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=headings,
            line_height=LINE_H,
            padding=(1.6, 1.8),
            width=self.epw,
            v_align="TOP",
            repeat_headings=1,  # a credit note long enough for two pages has its headings on each
        ) as table:
            heading = table.row()
            for text in self._headings():
                heading.cell(text)
            for number, line in enumerate(self.document.lines, start=1):
                row = table.row()
                for text in self._line_cells(number, line):
                    row.cell(text)
        draw_rule(self, self.get_y())
        self.ln(2)

    def _totals(self) -> None:
        rows = self._totals_rows()
        label_w = TOTALS_W - TOTALS_VALUE_W
        x = self.l_margin + self.epw - TOTALS_W
        needed = len(rows) * 7 + 16
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()
        y = self.get_y() + 2
        for label, note, value, strong in rows:
            if strong:
                draw_rule(self, y, x=x, w=TOTALS_W, color=(209, 213, 219))
            top = y + 1.3
            color: Color = INK if strong else MUTED
            y = self._text(x + 1.8, top, label_w - 3.6, label, BODY_SIZE, bold=strong, color=color)
            if note:
                y = self._text(x + 1.8, y, label_w - 3.6, note, 7.4, color=MUTED, line_h=3.5)
            self._text(x + label_w, top, TOTALS_VALUE_W - 1.8, value, BODY_SIZE, bold=strong, align="R")
            y += 1.3
        y += 1.5
        self.set_fill_color(*BALANCE_FILL)
        self.rect(x, y, TOTALS_W, 10, style="F")
        self._text(x + 1.8, y + 2.4, label_w, _("Credit Remaining"), 10, bold=True, line_h=5.2)
        self._text(x + label_w - 10, y + 2.4, TOTALS_VALUE_W + 10 - 1.8, self.money(self.document.remaining),
                   10.5, bold=True, align="R", line_h=5.2)  # fmt: skip
        self.set_y(y + 17)

    def _reason(self) -> None:
        reason = self.document.reason.strip()
        if not reason:
            return
        if self.get_y() + 14 > self.page_break_trigger:
            self.add_page()
        self.set_x(self.l_margin)
        self.set_text_color(*INK)
        self.set_font(self.typeface, BOLD, 9)
        self.cell(0, 5, _("Reason"), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.typeface, REGULAR, 8.6)
        self.set_text_color(*MUTED)
        self.multi_cell(0, 4.2, reason, new_x="LMARGIN", new_y="NEXT")

    # --- every page ----------------------------------------------------------------------------------

    def footer(self) -> None:
        y = self.h - 12
        draw_rule(self, y - 2.5)
        self._text(self.l_margin, y, self.epw - 30, self._footer_label(), 7.4, color=MUTED, line_h=4)
        # A cell, not FPDF.text: only cells get the page count filled in for the {nb} alias at the end.
        self.set_font(self.typeface, REGULAR, 7.4)
        self.set_xy(self.l_margin, y)
        self.cell(
            self.epw, 4, _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}"), align="R"
        )

    def footer_text(self) -> str:
        """Everything a footer writes: fpdf2 writes the last page's only when the file is put together."""
        return f"{self._footer_label()} {_('Page {page} of {pages}').format(page='0123456789', pages='')}"

    def _footer_label(self) -> str:
        return f"{self.document.title} {self.document.number} · {self.document.client.name}"

    # --- small drawing helpers -----------------------------------------------------------------------

    def _text(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        color: Color = INK,
        align: str = "L",
        line_h: float | None = None,
    ) -> float:
        """Write ``text`` in ``width`` from (x, y), wrapped at spaces; return the ``y`` below it."""
        line_h = line_h or size * 0.3528 * 1.45
        self.set_font(self.typeface, BOLD if bold else REGULAR, size)
        self.set_text_color(*color)
        self.set_xy(x, y)
        self.multi_cell(width, line_h, drawn(text, core_font=not self.embeds_fonts), align=align,
                        new_x="LEFT", new_y="NEXT")  # fmt: skip
        return self.get_y()
