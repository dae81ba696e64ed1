"""The invoice PDF: an ``InvoiceDocument`` in, the bytes of an A4 PDF out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time
from decimal import Decimal
from io import BytesIO

from babel.numbers import format_decimal
from fpdf import FPDF
from fpdf.errors import FPDFUnicodeEncodingException
from fpdf.fonts import CoreFont, TTFFont
from PIL import Image, UnidentifiedImageError

from services.dates import format_day
from services.e_invoice import factur_x_xml
from services.i18n import N_, _, html_lang, pgettext
from services.i18n.terms import term
from services.invoice_detail import DocumentLine, InvoiceDocument, Party
from services.money import Money, format_money
from services.payment_qr import EpcTransfer, epc_qr_png, epc_transfer
from services.pdf.factur_x import make_factur_x
from services.pdf.fonts import BOLD, CORE_ENCODING, REGULAR, PortalPdf, drawn, embed_fonts

logger = logging.getLogger(__name__)

Color = tuple[int, int, int]
_Measure = Callable[[str], float]

INK: Color = (31, 41, 55)
MUTED: Color = (107, 114, 128)
RULE: Color = (229, 231, 235)
HEADER_FILL: Color = (243, 244, 246)
BALANCE_FILL: Color = (239, 246, 255)
GREEN: Color = (21, 128, 61)
RED: Color = (185, 28, 28)
AMBER: Color = (180, 83, 9)

MARGIN = 16.0  # mm, left, right and top
BOTTOM_MARGIN = 20.0  # room for the page footer
LOGO_BOX = (48.0, 20.0)  # the largest logo, width x height in mm
QR_SIZE = 26.0  # mm, the EPC QR code with its quiet zone: about 0.5 mm a module, easy for a phone

# Line-item columns: (heading, width in mm, alignment); the description takes the rest of the width.
NUMBER_W = 8.0
QUANTITY_W = 17.0
RATE_W = 27.0
TAX_W = 27.0
AMOUNT_W = 30.0
TABLE_HEADER_H = 7.0
CELL_PAD = 1.8
ROW_PAD = 2.0
BODY_SIZE = 8.8
SMALL_SIZE = 7.4
LINE_H = 4.1  # mm per line of table text at BODY_SIZE
SMALL_LINE_H = 3.5

# Helvetica's widths are keyed by the character fpdf2 writes: the Windows-1252 byte, read as Latin-1.
_TO_WINANSI = str.maketrans(
    {
        char: bytes([code]).decode("latin-1")
        for code in range(0x80, 0xA0)
        if (char := bytes([code]).decode(CORE_ENCODING, errors="ignore"))
    }
)

STAMPS = {"paid": (N_("PAID"), GREEN), "void": (N_("VOID"), RED)}  # translated where drawn
STATUS_COLORS = {"paid": GREEN, "void": MUTED, "partially_paid": AMBER}


def render_invoice_pdf(document: InvoiceDocument) -> bytes:
    """The invoice as a PDF: business and client with their tax numbers, dates, line items, totals, amounts
    applied, balance due, and the business's bank account (with an EPC QR code for a euro amount due).

    With ``document.e_invoice`` it is a Factur-X e-invoice: a PDF/A-3 carrying the invoice's EN 16931
    XML (``services.e_invoice``, ``services.pdf.factur_x``).

    A pure function of ``document``: the same document gives the same bytes, and it is safe to call from
    a worker thread (``run.cpu_bound`` or ``run.io_bound``).
    """
    if document.e_invoice:
        try:
            return _render(InvoiceLayout(document))
        except Exception:  # whatever broke the e-invoice, the customer still gets the invoice
            logger.exception(
                "invoice %s: the e-invoice failed; rendering the PDF without it", document.number
            )
            document = replace(document, e_invoice=False)
    try:
        return _render(InvoiceLayout(document))
    except FPDFUnicodeEncodingException:
        # Text that ``_printed_texts`` does not list, outside Windows-1252: a bug, but the customer
        # still gets their invoice, in the embedded font.
        logger.exception("invoice %s: text outside Windows-1252 in the standard font", document.number)
        return _render(InvoiceLayout(document, core_font=False))


def _render(pdf: InvoiceLayout) -> bytes:
    pdf.draw()
    if pdf.embeds_fonts:
        embed_fonts(pdf, still_to_write=pdf.footer_text())
    if pdf.document.e_invoice:
        make_factur_x(pdf, factur_x_xml(pdf.document), language=pdf.language)
    return bytes(pdf.output())


def fits_core_font(texts: Iterable[str]) -> bool:
    """Whether every character of ``texts``, as the PDF prints it, is in Windows-1252.

    A character the bundled faces cannot draw either (it would print as ``?``) also says no: a document
    in another script keeps the embedded font.
    """
    for text in texts:
        printed = drawn(text, core_font=True)
        try:
            printed.encode(CORE_ENCODING)
        except UnicodeEncodeError:
            return False
        if printed.count("?") != text.count("?"):
            return False
    return True


def draw_logo(pdf: FPDF, logo: bytes, x: float, y: float) -> float:
    """Draw ``logo`` at (x, y) fitted into ``LOGO_BOX``, shape kept; its height, or 0 if unreadable."""
    try:
        with Image.open(BytesIO(logo)) as image:
            pixel_w, pixel_h = image.size
        scale = min(LOGO_BOX[0] / pixel_w, LOGO_BOX[1] / pixel_h)
        w, h = pixel_w * scale, pixel_h * scale
        pdf.image(BytesIO(logo), x=x, y=y, w=w, h=h)
    except (UnidentifiedImageError, OSError, ValueError, ZeroDivisionError):
        return 0.0
    return h


def draw_rule(
    pdf: FPDF, y: float, *, x: float | None = None, w: float | None = None, color: Color = RULE
) -> None:
    """A thin horizontal line at ``y``, from ``x`` (the left margin) ``w`` long (the page's text width)."""
    pdf.set_draw_color(*color)
    pdf.set_line_width(0.2)
    left = pdf.l_margin if x is None else x
    pdf.line(left, y, left + (pdf.epw if w is None else w), y)


@dataclass(frozen=True)
class _Column:
    heading: str
    width: float
    align: str  # "L" or "R"


class InvoiceLayout(PortalPdf):
    """The invoice's page layout; a document drawn like an invoice (``services.pdf.quote``) subclasses it
    and overrides what it says differently (``_title``, ``_figure``, ``_facts``, ``_more_texts``)."""

    def __init__(self, document: InvoiceDocument, *, core_font: bool | None = None) -> None:
        """``core_font``: whether to use the standard Helvetica; by default, when the text allows it."""
        super().__init__(orientation="P", unit="mm", format="A4")
        self.document = document
        self.locale = document.locale
        self.in_table = False
        self._formatted: dict[tuple[str, object], str] = {}
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.c_margin = 0  # cells line up with text drawn at the margin
        self.set_auto_page_break(True, margin=BOTTOM_MARGIN)
        self.language = html_lang()  # the language its words are in
        # The PDF renders an issued document, so it carries the document's date, not the clock's:
        # the same invoice always gives the same bytes.
        self.describe(
            title=f"{self._title()} {document.number}",
            author=document.business.name,
            subject=_("{document} {number} for {client}").format(
                document=self._title(), number=document.number, client=document.client.name
            ),
            created=datetime.combine(document.issue_date, time(), tzinfo=UTC),
        )
        description_w = self.epw - NUMBER_W - QUANTITY_W - RATE_W - TAX_W - AMOUNT_W
        self.columns = (
            _Column("#", NUMBER_W, "L"),
            _Column(_("Description"), description_w, "L"),
            # Translators: the quantity column's heading, in a narrow column of the invoice PDF.
            _Column(_("Qty"), QUANTITY_W, "R"),
            _Column(_("Rate"), RATE_W, "R"),
            _Column(_("Tax"), TAX_W, "R"),
            _Column(_("Amount"), AMOUNT_W, "R"),
        )
        self.transfer = epc_transfer(document)
        # The font is decided once, up front, from every string the document prints. PDF/A (an
        # e-invoice) embeds every font, so it never uses the standard Helvetica.
        if document.e_invoice:
            core_font = False
        if core_font is None:
            core_font = fits_core_font(self._printed_texts())
        self.choose_fonts(core_font=core_font)

    def _printed_texts(self) -> Iterator[str]:
        """Every string the document prints, formatted as it is printed: what decides the font."""
        document = self.document
        figure, amount = self._figure()
        yield from (self._title(), f"# {document.number}", figure, self._money(amount))
        for party in (document.business, document.client):
            yield from party_texts(party)
            yield _tax_number(party)
        yield from self._bank_texts()
        yield _("Bill To").upper()
        for label, value, _color in self._facts():
            yield from (f"{label}:", value)
        yield from (column.heading for column in self.columns)
        for line in document.lines:
            yield from (line.description, self._quantity(line.quantity), self._money(line.rate))
            yield self._money(line.amount)
            yield from self._tax_cell(line)
            yield from self._line_notes(line)
        for label, note, value, _strong in self._totals_rows():
            yield from (label, note, value)
        yield from (_("Notes"), document.notes, _("Terms & Conditions"), document.terms)
        yield from self._more_texts()
        yield self.footer_text()  # the footer label, page numbers and the stamp

    # --- what a document drawn like an invoice (a quote: services.pdf.quote) says differently ---------

    def _title(self) -> str:
        return self.document.title

    def _figure(self) -> tuple[str, Money]:
        """The figure under the title and in the band below the totals, with its label."""
        return _("Balance Due"), self.document.balance_due

    def _facts(self) -> list[tuple[str, str, Color]]:
        """The dates and status at the right of the client: (label, value, colour)."""
        document = self.document
        return [
            (_("Issue Date"), format_day(document.issue_date, self.locale), INK),
            (_("Due Date"), format_day(document.due_date, self.locale), INK),
            (_("Status"), term(document.status_label), self._status_color()),
        ]

    def _more_texts(self) -> Iterator[str]:
        """What a subclass prints besides the invoice's texts (they decide the font)."""
        return iter(())

    # --- the document, top to bottom ---------------------------------------------------------------

    def draw(self) -> None:
        self.add_page()
        self._heading()
        self._parties()
        self._line_items()
        self._totals()
        self._notes()

    def _heading(self) -> None:
        document = self.document
        top = self.t_margin
        left_w = self.epw * 0.56
        y = top
        logo_h = self._logo(self.l_margin, y)
        if logo_h:
            y += logo_h + 4
        business = document.business
        y = self._write(self.l_margin, y, business.name, size=12.5, bold=True, line_h=5.6, width=left_w)
        details = [
            *business.address_lines,
            business.phone,
            business.email,
            business.website,
            _tax_number(business),
        ]
        for detail in filter(None, details):
            y = self._write(self.l_margin, y, detail, size=8.4, color=MUTED, line_h=3.9, width=left_w)
        left_bottom = y

        right_x = self.l_margin + left_w
        right_w = self.epw - left_w
        figure, amount = self._figure()
        y = self._write(right_x, top - 1, self._title(), size=22, bold=True, align="R", width=right_w)
        y = self._write(
            right_x,
            y + 0.5,
            f"# {document.number}",
            size=10,
            bold=True,
            color=MUTED,
            align="R",
            width=right_w,
            line_h=5,
        )
        y = self._write(right_x, y + 5, figure, size=8, color=MUTED, align="R", width=right_w)
        y = self._write(
            right_x,
            y,
            self._money(amount),
            size=15,
            bold=True,
            align="R",
            width=right_w,
            line_h=7,
        )
        self.set_y(max(left_bottom, y) + 5)
        draw_rule(self, self.get_y())

    def _parties(self) -> None:
        document = self.document
        top = self.get_y() + 5
        left_w = self.epw * 0.56
        y = self._write(
            self.l_margin, top, _("Bill To").upper(), size=7.4, bold=True, color=MUTED, line_h=4.4
        )
        client = document.client
        y = self._write(self.l_margin, y, client.name, size=10.5, bold=True, line_h=5, width=left_w)
        client_details = [
            company_line(client),
            *client.address_lines,
            client.email,
            client.phone,
            _tax_number(client),
        ]
        for detail in filter(None, client_details):
            y = self._write(self.l_margin, y, detail, size=8.6, color=MUTED, line_h=4, width=left_w)
        left_bottom = y

        label_w = 32.0
        value_w = 40.0
        label_x = self.l_margin + self.epw - label_w - value_w
        y = top + 4.4
        for label, value, color in self._facts():
            self._write(label_x, y, f"{label}:", size=8.6, color=MUTED, align="R", width=label_w, line_h=5)
            y = self._write(
                label_x + label_w,
                y,
                value,
                size=8.6,
                bold=color is not INK,
                color=color,
                align="R",
                width=value_w,
                line_h=5,
            )
        self.set_y(max(left_bottom, y) + 6)

    def _line_items(self) -> None:
        self._table_header()
        self.in_table = True
        for number, line in enumerate(self.document.lines, start=1):
            self._line_row(number, line)
        self.in_table = False

    def _totals_rows(self) -> list[tuple[str, str, str, bool]]:
        """(label, note under it, amount, strong) for each row of the totals block."""
        document = self.document
        rows: list[tuple[str, str, str, bool]] = [(_("Sub Total"), "", self._money(document.subtotal), False)]
        if document.discount:
            rows.append((_("Discount"), "", self._money(-document.discount), False))
        rows.append((self._tax_label(), "", self._money(document.tax), False))
        rows.append((_("Total"), "", self._money(document.total), True))
        for applied in document.applied:
            when = format_day(applied.applied_on, self.locale)
            rows.append((applied.label, when, self._money(-applied.amount), False))
        return rows

    def _totals(self) -> None:
        rows = self._totals_rows()
        block_w = 104.0
        value_w = 34.0
        label_w = block_w - value_w
        x = self.l_margin + self.epw - block_w
        self.set_font(self.typeface, REGULAR, BODY_SIZE)
        wrapped = [
            (self._wrap(label, label_w - 2 * CELL_PAD), note, value, strong)
            for label, note, value, strong in rows
        ]
        heights = [len(lines) * LINE_H + (SMALL_LINE_H if note else 0) + 2.6 for lines, note, _, _ in wrapped]
        band_h = 10.0
        bank_w = x - self.l_margin - 6  # the bank details sit left of the totals
        # The block stays together when it fits on a page; only an improbably long list of payments
        # is left to run over.
        together = max(sum(heights) + band_h + 6, self._bank_details_height(bank_w) + 4)
        if together <= self._room_on_new_page():
            self._keep_together(together)

        y = self.get_y() + 4
        bank_page = self.page
        bank_bottom = self._bank_details(self.l_margin, y, bank_w)
        for (lines, note, value, strong), height in zip(wrapped, heights, strict=True):
            if y + height > self.page_break_trigger:
                self.add_page()
                y = self.get_y()
            if strong:
                draw_rule(self, y, x=x, w=block_w, color=(209, 213, 219))
            top = y + 1.3
            y = top
            for text in lines:
                y = self._write(
                    x + CELL_PAD,
                    y,
                    text,
                    size=BODY_SIZE,
                    bold=strong,
                    line_h=LINE_H,
                    color=INK if strong else MUTED,
                )
            if note:
                y = self._write(x + CELL_PAD, y, note, size=SMALL_SIZE, color=MUTED, line_h=SMALL_LINE_H)
            self._write(
                x + label_w,
                top,
                value,
                size=BODY_SIZE,
                bold=strong,
                align="R",
                width=value_w - CELL_PAD,
                line_h=LINE_H,
            )
            y += 1.3

        y += 1.5
        if y + band_h > self.page_break_trigger:
            self.add_page()
            y = self.get_y()
        self.set_fill_color(*BALANCE_FILL)
        self.rect(x, y, block_w, band_h, style="F")
        middle = y + (band_h - 5.2) / 2
        figure, amount = self._figure()
        self._write(x + CELL_PAD, middle, figure, size=10, bold=True, line_h=5.2)
        self._write(
            x + label_w - 10,
            middle,
            self._money(amount),
            size=10.5,
            bold=True,
            align="R",
            width=value_w + 10 - CELL_PAD,
            line_h=5.2,
        )
        self.set_y(max(y + band_h, bank_bottom if self.page == bank_page else 0) + 7)

    # --- the bank details and the EPC QR code, left of the totals ------------------------------------

    def _bank_rows(self) -> list[tuple[str, str]]:
        bank = self.document.bank
        if bank is None:
            return []
        rows = [(_("Bank"), bank.bank_name)] if bank.bank_name else []
        rows.append((_("IBAN"), bank.iban_grouped))
        if bank.bic:
            rows.append((_("BIC"), bank.bic))
        # Translators: what a payer writes on a bank transfer (Verwendungszweck).
        rows.append((pgettext("bank transfer", "Reference"), self.document.number))
        return rows

    def _bank_texts(self) -> Iterator[str]:
        if self.document.bank is None:
            return
        yield _("Pay by bank transfer").upper()
        for label, value in self._bank_rows():
            yield from (label, value)
        if self.transfer is not None:
            yield _qr_caption(self.transfer, self._money)

    def _bank_details_height(self, width: float) -> float:
        return self._bank_details(self.l_margin, 0.0, width, draw=False)

    def _bank_details(self, x: float, top: float, width: float, *, draw: bool = True) -> float:
        """Draw (or, without ``draw``, measure) the bank details at (x, top); the y below them."""
        rows = self._bank_rows()
        if not rows:
            return top
        heading_h = 4.4
        if draw:
            self._write(
                x, top, _("Pay by bank transfer").upper(), size=7.4, bold=True, color=MUTED, line_h=4.4
            )
        qr_h = 0.0
        text_x, text_w = x, width
        if self.transfer is not None:
            qr_h = QR_SIZE
            if draw:
                png = epc_qr_png(self.transfer)
                self.image(BytesIO(png), x=x - 1.5, y=top + heading_h, w=QR_SIZE, h=QR_SIZE)
            # The code's own quiet zone is white space: the text starts a little into it.
            text_x, text_w = x + QR_SIZE + 1.0, width - QR_SIZE - 1.0
        y = top + heading_h + 1.0
        for label, value in rows:
            y = self._place(text_x, y, label, size=6.8, color=MUTED, line_h=3.1, width=text_w, draw=draw)
            y = self._place(text_x, y, value, size=8.0, line_h=3.9, width=text_w, shrink=True, draw=draw)
        if self.transfer is not None:
            caption = _qr_caption(self.transfer, self._money)
            y = self._place(
                text_x, y + 0.6, caption, size=6.8, color=MUTED, line_h=3.1, width=text_w, draw=draw
            )
        return max(y, top + heading_h + qr_h)

    def _place(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        width: float,
        line_h: float,
        color: Color = INK,
        shrink: bool = False,
        draw: bool = True,
    ) -> float:
        """``_write``, or only the y below the text when not ``draw``."""
        if draw:
            return self._write(x, y, text, size=size, color=color, width=width, line_h=line_h, shrink=shrink)
        if shrink:
            return y + line_h
        self.set_font(self.typeface, REGULAR, size)
        return y + len(self._wrap(text, width)) * line_h

    def _notes(self) -> None:
        for heading, text in (
            (_("Notes"), self.document.notes),
            (_("Terms & Conditions"), self.document.terms),
        ):
            text = self._printable(text.strip())
            if not text:
                continue
            self._keep_together(5 + 2 * 4.2)
            self.set_x(self.l_margin)
            self.set_text_color(*INK)
            self.set_font(self.typeface, BOLD, 9)
            self.cell(0, 5, heading, new_x="LMARGIN", new_y="NEXT")
            self.set_font(self.typeface, REGULAR, 8.6)
            self.set_text_color(*MUTED)
            self.multi_cell(0, 4.2, text, new_x="LMARGIN", new_y="NEXT")
            self.ln(4)

    # --- every page ----------------------------------------------------------------------------------

    def header(self) -> None:
        # The page break inside the line-item table starts the new page with the column headings again.
        if self.in_table:
            self._table_header()

    def footer(self) -> None:
        stamp = STAMPS.get(self.document.status)
        if stamp is not None:
            self._stamp(_(stamp[0]), stamp[1])
        y = self.h - 12
        draw_rule(self, y - 2.5)
        self._write(self.l_margin, y, self._footer_label(), size=7.4, color=MUTED, line_h=4)
        # A cell, not FPDF.text: only cells get the page count filled in for the {nb} alias at the end.
        self.set_xy(self.l_margin, y)
        self.cell(
            self.epw, 4, _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}"), align="R"
        )

    def footer_text(self) -> str:
        """Everything a footer writes: fpdf2 writes the last page's only when the file is put together."""
        stamp = STAMPS.get(self.document.status)
        pages = _("Page {page} of {pages}").format(page="0123456789", pages="")
        return f"{self._footer_label()} {pages} {_(stamp[0]) if stamp else ''}"

    def _footer_label(self) -> str:
        return f"{self._title()} {self.document.number}"

    def _stamp(self, word: str, color: Color) -> None:
        center_x = self.w / 2
        center_y = 128.0
        size = 58.0
        with self.local_context(fill_opacity=0.22, stroke_opacity=0.35):
            self.set_font(self.typeface, BOLD, size)
            text_w = self._width(word)
            box_w = text_w + 16
            box_h = size * 0.3528 + 9
            with self.rotation(angle=24, x=center_x, y=center_y):
                self.set_draw_color(*color)
                self.set_line_width(1.6)
                self.rect(
                    center_x - box_w / 2,
                    center_y - box_h / 2,
                    box_w,
                    box_h,
                    style="D",
                    round_corners=True,
                    corner_radius=4,
                )
                self.set_text_color(*color)
                self.text(center_x - text_w / 2, center_y + size * 0.3528 * 0.36, word)

    # --- the line-item table -------------------------------------------------------------------------

    def _table_header(self) -> None:
        height = TABLE_HEADER_H
        y = self.get_y()
        self.set_fill_color(*HEADER_FILL)
        self.rect(self.l_margin, y, self.epw, height, style="F")
        x = self.l_margin
        for column in self.columns:
            self._write(
                x + CELL_PAD,
                y + 1.6,
                column.heading,
                size=7.8,
                bold=True,
                color=MUTED,
                align=column.align,
                width=column.width - 2 * CELL_PAD,
                line_h=4,
            )
            x += column.width
        self.set_y(y + height)

    def _line_row(self, number: int, line: DocumentLine) -> None:
        description_w = self.columns[1].width - 2 * CELL_PAD
        self.set_font(self.typeface, REGULAR, BODY_SIZE)
        description = self._wrap(line.description, description_w)
        notes = self._line_notes(line)
        text_h = len(description) * LINE_H + len(notes) * SMALL_LINE_H
        tax_lines = self._tax_cell(line)
        numbers_h = LINE_H + (len(tax_lines) - 1) * SMALL_LINE_H
        height = max(text_h, numbers_h) + 2 * ROW_PAD
        room = self.page_break_trigger - self.get_y()
        # A row goes whole onto the next page (where header() repeats the column headings), unless it
        # would not fit on any page: then it starts here and its description carries on overleaf.
        if height > room and (height <= self._room_on_new_page() or room < 2 * ROW_PAD + 3 * LINE_H):
            self.add_page()

        top = self.get_y() + ROW_PAD
        x = self.l_margin
        self._write(x + CELL_PAD, top, str(number), size=BODY_SIZE, color=MUTED, line_h=LINE_H)
        # The description comes next in the page's text, as a person reads the row (a screen reader and
        # text extraction follow the order of writing). One that carries on overleaf is written whole
        # after the row's figures instead, so that it still reads as one text.
        description_x = self.l_margin + self.columns[0].width + CELL_PAD
        styled = [(text, BODY_SIZE, INK, LINE_H) for text in description]
        styled += [(text, SMALL_SIZE, MUTED, SMALL_LINE_H) for text in notes]
        fitting, y = 0, top
        while fitting < len(styled) and y + styled[fitting][3] <= self.page_break_trigger:
            y += styled[fitting][3]
            fitting += 1
        if fitting < len(styled):
            fitting = 0
        description_y = top
        for text, size, color, line_h in styled[:fitting]:
            description_y = self._write(
                description_x, description_y, text, size=size, color=color, line_h=line_h, wrap=False
            )
        x += self.columns[0].width + self.columns[1].width
        cells = (
            (self._quantity(line.quantity), self.columns[2]),
            (self._money(line.rate), self.columns[3]),
            (tax_lines[0], self.columns[4]),
            (self._money(line.amount), self.columns[5]),
        )
        for text, column in cells:
            self._write(
                x + CELL_PAD,
                top,
                text,
                size=BODY_SIZE,
                align="R",
                width=column.width - 2 * CELL_PAD,
                line_h=LINE_H,
                shrink=True,
            )
            x += column.width
        tax_x = self.l_margin + sum(column.width for column in self.columns[:4])
        y = top + LINE_H
        for text in tax_lines[1:]:
            y = self._write(
                tax_x + CELL_PAD,
                y,
                text,
                size=SMALL_SIZE,
                color=MUTED,
                align="R",
                width=TAX_W - 2 * CELL_PAD,
                line_h=SMALL_LINE_H,
                shrink=True,
            )
        bottom = max(y, description_y)

        first_page = self.page
        y = description_y
        for text, size, color, line_h in styled[fitting:]:
            if y + line_h > self.page_break_trigger:
                self.add_page()
                y = self.get_y() + ROW_PAD
            y = self._write(description_x, y, text, size=size, color=color, line_h=line_h, wrap=False)
        bottom = (max(bottom, y) if self.page == first_page else y) + ROW_PAD
        draw_rule(self, bottom)
        self.set_y(bottom)

    def _line_notes(self, line: DocumentLine) -> list[str]:
        if not line.discount:
            return []
        percent = self._percent(line.discount_percent)
        return [_("Discount {percent}: {amount}").format(percent=percent, amount=self._money(-line.discount))]

    def _tax_cell(self, line: DocumentLine) -> list[str]:
        if not line.tax and not line.tax_name and not line.tax_rate_percent:
            return ["–"]
        rate = self._percent(line.tax_rate_percent)
        return [self._money(line.tax), f"{line.tax_name} {rate}".strip()]

    def _tax_label(self) -> str:
        taxes = {(line.tax_name, line.tax_rate_percent) for line in self.document.lines if line.tax}
        if len(taxes) == 1:
            ((name, rate),) = taxes
            return f"{name or _('Tax')} ({self._percent(rate)})"
        return _("Tax")

    # --- small drawing helpers -----------------------------------------------------------------------

    def _write(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float,
        bold: bool = False,
        color: Color = INK,
        align: str = "L",
        width: float | None = None,
        line_h: float | None = None,
        wrap: bool = True,
        shrink: bool = False,
    ) -> float:
        """Write ``text`` with its top at ``y``; return the ``y`` below it.

        Wraps to ``width`` (or, with ``shrink``, makes the type smaller until one line fits). Uses
        ``FPDF.text``, which never starts a page by itself: callers decide where pages break.
        """
        line_h = line_h or size * 0.3528 * 1.45
        self.set_font(self.typeface, BOLD if bold else REGULAR, size)
        self.set_text_color(*color)
        text = self._printable(text)
        if width is not None and shrink:
            lines = [text]
            while size > 5 and self._width(text) > width:
                size -= 0.4
                self.set_font_size(size)
        elif width is not None and wrap:
            lines = self._wrap(text, width)
        else:
            lines = text.split("\n") if wrap else [text]
        # The baseline sits where the cap height centres the text in its line.
        baseline_offset = line_h / 2 + size * 0.3528 * 0.36
        for line in lines:
            left = x
            if align == "R" and width is not None:
                left = x + width - self._width(line)
            self.text(left, y + baseline_offset, line)
            y += line_h
        return y

    def _wrap(self, text: str, width: float) -> list[str]:
        """``text`` in lines no wider than ``width`` in the current font, broken at spaces if possible."""
        lines: list[str] = []
        for paragraph in self._printable(text).split("\n"):
            lines.extend(_wrap_paragraph(paragraph.strip(), width, self._width))
        return lines or [""]

    def _width(self, text: str) -> float:
        """The width of ``text`` (already printable) in the current font, in mm.

        ``FPDF.get_string_width`` gives the same number, but builds text fragments to find it: with a
        few thousand calls for a long invoice, that was a third of the time spent laying it out.
        """
        font = self.current_font
        if isinstance(font, CoreFont):
            core_widths = font.cw
            return (
                sum(core_widths[char] for char in text.translate(_TO_WINANSI))
                * self.font_size_pt
                / 1000
                / self.k
            )
        if not isinstance(font, TTFFont):  # pragma: no cover - the document uses one of the two fonts
            return float(self.get_string_width(text))
        widths = font.cw
        return sum(widths[ord(char)] for char in text) * self.font_size_pt / 1000 / self.k

    def _printable(self, text: str) -> str:
        """``text`` in characters the document's font draws (see ``drawn`` and ``fits_core_font``)."""
        return drawn(text, core_font=not self.embeds_fonts)

    def _room_on_new_page(self) -> float:
        return self.page_break_trigger - self.t_margin - TABLE_HEADER_H

    def _keep_together(self, height: float) -> None:
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()

    def _logo(self, x: float, y: float) -> float:
        """Draw the business's logo, fitted into ``LOGO_BOX``; return its height (0 without a logo)."""
        logo = self.document.logo
        if not logo:
            return 0.0
        height = draw_logo(self, logo, x, y)
        if not height:
            # A broken logo must not keep a customer from their invoice.
            logger.warning("invoice %s: the business logo is not a readable image", self.document.number)
        return height

    # Babel takes tens of microseconds an amount, and every string is formatted twice: once to choose
    # the font, once to draw it.
    def _money(self, money: Money) -> str:
        key = ("money", money)
        if key not in self._formatted:
            self._formatted[key] = format_money(money, self.locale)
        return self._formatted[key]

    def _quantity(self, quantity: Decimal) -> str:
        key = ("quantity", quantity)
        if key not in self._formatted:
            self._formatted[key] = format_quantity(quantity, self.locale)
        return self._formatted[key]

    def _percent(self, value: Decimal) -> str:
        key = ("percent", value)
        if key not in self._formatted:
            self._formatted[key] = format_percent(value, self.locale)
        return self._formatted[key]

    def _status_color(self) -> Color:
        if self.document.status_label == "Overdue":
            return RED
        return STATUS_COLORS.get(self.document.status, INK)


def party_texts(party: Party) -> Iterator[str]:
    """Everything a document may print of ``party`` but its tax number: what helps decide the font."""
    yield from (party.name, party.company, party.email, party.phone, party.website)
    yield from party.address_lines


def company_line(party: Party) -> str:
    """The company under the party's name, unless it is the name again."""
    return party.company if party.company and party.company != party.name else ""


def _tax_number(party: Party) -> str:
    return _("Tax number: {tax_number}").format(tax_number=party.tax_id) if party.tax_id else ""


def _qr_caption(transfer: EpcTransfer, money: Callable[[Money], str]) -> str:
    amount = money(Money(transfer.amount_minor, "EUR"))
    return _("Scan the code with your banking app to pay {amount}.").format(amount=amount)


def format_quantity(quantity: Decimal, locale: str) -> str:
    """A line's quantity as documents print it: up to four decimals, grouped as ``locale`` writes numbers."""
    return str(format_decimal(quantity, format="#,##0.####", locale=locale))


def format_percent(value: Decimal, locale: str) -> str:
    """A discount or tax rate as documents print it: up to two decimals and a percent sign."""
    return f"{format_decimal(value, format='#,##0.##', locale=locale)}%"


def _wrap_paragraph(paragraph: str, width: float, measure: _Measure) -> list[str]:
    if measure(paragraph) <= width:
        return [paragraph]
    lines: list[str] = []
    current = ""
    for word in paragraph.split(" "):
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        # A word wider than the column (a long URL or reference) is cut where it reaches the edge.
        while measure(word) > width:
            cut = _longest_fitting_prefix(word, width, measure)
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    lines.append(current)
    return lines


def _longest_fitting_prefix(word: str, width: float, measure: _Measure) -> int:
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low
