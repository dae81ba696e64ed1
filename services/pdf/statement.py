"""The Statement of Accounts PDF: a ``Statement`` in, the bytes of an A4 PDF out.

Page 1 holds the business and the client, the period, the summary, the ageing and the start of the
transactions, from the balance brought forward; every later page repeats a short heading with the
period, the table's column headings and the balance carried forward from the page before. The closing
balance ends the table. Each page's footer numbers it ("Page 2 of 9").

The font is chosen as for invoices (``services.pdf.invoice.fits_core_font``): the standard Helvetica when
every string fits Windows-1252, else the bundled DejaVu Sans, embedded. Rows are one line each, drawn
with ``FPDF.text`` and measured with the font's width table: a 2,000-line statement takes well under a
second.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from fpdf.fonts import CoreFont, TTFFont

from services.dates import format_day
from services.i18n import N_, _
from services.money import Money, format_money
from services.pdf.fonts import BOLD, CORE_ENCODING, REGULAR, PortalPdf, drawn, embed_fonts
from services.pdf.invoice import (
    BALANCE_FILL,
    BOTTOM_MARGIN,
    HEADER_FILL,
    INK,
    MARGIN,
    MUTED,
    draw_rule,
    fits_core_font,
    party_texts,
)
from services.statement import Statement

Color = tuple[int, int, int]

TITLE = N_("Statement of Accounts")  # each translated where it is drawn
BROUGHT_FORWARD = N_("Balance brought forward")
CARRIED_FORWARD = N_("Balance carried forward")
CLOSING = N_("Closing balance")
NO_LINES = N_("No transactions in this period.")

BODY_SIZE = 8.4
HEADING_SIZE = 7.6
ROW_H = 5.4  # mm per transaction row
TABLE_HEADER_H = 6.6
CELL_PAD = 1.6
DATE_W = 25.0
REFERENCE_W = 28.0
AMOUNT_W = 30.0
BALANCE_W = 31.0
SUMMARY_W = 82.0
ELLIPSIS = "…"  # in Windows-1252 too

# As in services/pdf/invoice.py: Helvetica's widths are keyed by the Windows-1252 byte read as Latin-1.
_TO_WINANSI = str.maketrans(
    {
        char: bytes([code]).decode("latin-1")
        for code in range(0x80, 0xA0)
        if (char := bytes([code]).decode(CORE_ENCODING, errors="ignore"))
    }
)


def render_statement_pdf(statement: Statement) -> bytes:
    """The statement as a PDF. A pure function of ``statement``, safe to call from a worker thread."""
    pdf = _StatementPdf(statement)
    pdf.draw()
    if pdf.embeds_fonts:
        embed_fonts(pdf, still_to_write=pdf.footer_text("0123456789"))
    return bytes(pdf.output())


@dataclass(frozen=True)
class _Row:
    """A transaction row as printed."""

    day: str
    description: str
    reference: str
    amount: str
    balance: str


class _StatementPdf(PortalPdf):
    def __init__(self, statement: Statement) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.statement = statement
        self.locale = statement.locale
        self._days: dict[date, str] = {}
        self._amounts: dict[int, str] = {}
        self.in_table = False
        self.carried = ""  # the balance after the last row drawn, for the next page's first row
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.c_margin = 0
        self.set_auto_page_break(False)  # rows are placed by hand; ``_row_break`` starts new pages
        self.bottom = self.h - BOTTOM_MARGIN
        period = self.period_text = statement.period.dates(self.locale)
        # The same statement on the same day gives the same bytes.
        self.describe(
            title=f"{_(TITLE)} {period}",
            author=statement.business.name,
            subject=_("{title} for {client}, {period}").format(
                title=_(TITLE), client=statement.client.company or statement.client.name, period=period
            ),
            created=datetime.combine(statement.today, time(), tzinfo=UTC),
        )
        self.transaction_w = self.epw - DATE_W - REFERENCE_W - AMOUNT_W - BALANCE_W
        self.columns = (
            (_("Date"), DATE_W, "L"),
            (_("Transaction"), self.transaction_w, "L"),
            (_("Reference"), REFERENCE_W, "L"),
            (_("Amount"), AMOUNT_W, "R"),
            (_("Balance"), BALANCE_W, "R"),
        )
        currency = statement.currency
        self.rows = [
            _Row(
                self._day(line.day),
                line.text(self.locale),
                line.reference,
                self._money(Money(line.amount_minor, currency)),
                self._money(Money(line.balance_minor, currency)),
            )
            for line in statement.lines
        ]
        self.choose_fonts(core_font=fits_core_font(self._printed_texts()))

    def _printed_texts(self) -> Iterator[str]:
        """Every string the document prints: what decides the font."""
        statement = self.statement
        for party in (statement.business, statement.client):
            yield from party_texts(party)
        yield from (_(TITLE), self.period_text, statement.period.label, self._day(statement.today))
        for label, value, _strong in self._summary_rows():
            yield from (label, value)
        for bucket in statement.ageing:
            yield from (bucket.label, self._money(bucket.amount))
        yield self._money(statement.outstanding)
        yield self._reconciliation()
        yield from (column[0] for column in self.columns)
        yield from (
            _(BROUGHT_FORWARD),
            _(CARRIED_FORWARD),
            _(CLOSING),
            _(NO_LINES),
            self._money(statement.closing),
        )
        for row in self.rows:
            yield from (row.day, row.description, row.reference, row.amount, row.balance)
        yield self.footer_text("0123456789")

    # --- the document, top to bottom -----------------------------------------------------------------

    def draw(self) -> None:
        self.add_page()
        y = self._heading()
        y = self._parties_and_summary(y)
        y = self._ageing(y)
        self._transactions(y + 6)

    def _heading(self) -> float:
        statement = self.statement
        business = statement.business
        left_w = self.epw * 0.55
        y = self._write(self.l_margin, self.t_margin, business.name, size=12.5, bold=True, width=left_w)
        for detail in filter(
            None, [*business.address_lines, business.phone, business.email, business.website]
        ):
            y = self._write(self.l_margin, y, detail, size=8.2, color=MUTED, width=left_w, line_h=3.9)
        right_x, right_w = self.l_margin + left_w, self.epw - left_w
        right = self._write(
            right_x, self.t_margin - 1, _(TITLE), size=17, bold=True, align="R", width=right_w
        )
        right = self._write(
            right_x, right + 1, self.period_text, size=9.5, bold=True, align="R", width=right_w, line_h=5
        )
        generated = _("{period} · issued {date}").format(
            period=statement.period.label, date=self._day(statement.today)
        )
        right = self._write(right_x, right, generated, size=8, color=MUTED, align="R", width=right_w)
        y = max(y, right) + 4
        draw_rule(self, y)
        return y

    def _summary_rows(self) -> list[tuple[str, str, bool]]:
        summary = self.statement.summary
        start = self._day(self.statement.period.start)
        return [
            (_("Opening balance on {date}").format(date=start), self._money(summary.opening), False),
            (_("Invoiced"), self._money(summary.invoiced), False),
            (_("Payments received"), self._money(summary.received), False),
            (_("Credit notes"), self._money(summary.credited), False),
            (_("Refunds"), self._money(summary.refunded), False),
            # Named by its day, so that it is not read as the total outstanding printed below it.
            (
                _("Balance on {date}").format(date=self._day(self.statement.period.end)),
                self._money(summary.balance_due),
                True,
            ),
        ]

    def _parties_and_summary(self, top: float) -> float:
        client = self.statement.client
        left_w = self.epw - SUMMARY_W - 8
        y = self._write(self.l_margin, top + 5, _("Statement for").upper(), size=7.4, bold=True, color=MUTED)
        y = self._write(self.l_margin, y, client.company or client.name, size=10.5, bold=True, width=left_w)
        details = [client.name if client.company and client.company != client.name else ""]
        details += [*client.address_lines, client.email, client.phone]
        for detail in filter(None, details):
            y = self._write(self.l_margin, y, detail, size=8.4, color=MUTED, width=left_w, line_h=4)

        x = self.l_margin + self.epw - SUMMARY_W
        box_y = top + 5
        self._write(x, box_y, _("Account summary").upper(), size=7.4, bold=True, color=MUTED)
        row_y = box_y + 5.5
        for label, value, strong in self._summary_rows():
            if strong:
                self.set_fill_color(*BALANCE_FILL)
                self.rect(x, row_y, SUMMARY_W, 7, style="F")
                row_y += 1
            self._write(
                x + CELL_PAD, row_y, label, size=BODY_SIZE, bold=strong, color=INK if strong else MUTED
            )
            self._write(x, row_y, value, size=BODY_SIZE, bold=strong, align="R", width=SUMMARY_W - CELL_PAD)
            row_y += 6 if strong else 4.6
        return max(y, row_y) + 3

    def _ageing(self, top: float) -> float:
        statement = self.statement
        heading = _("Outstanding invoices by days past due, as of {date}").format(
            date=self._day(statement.today)
        )
        heading = heading.upper()
        y = self._write(self.l_margin, top + 3, heading, size=7.4, bold=True, color=MUTED) + 0.8
        cells = [(bucket.label, self._money(bucket.amount)) for bucket in statement.ageing]
        cells.append((_("Total outstanding"), self._money(statement.outstanding)))
        width = self.epw / len(cells)
        self.set_fill_color(*HEADER_FILL)
        self.rect(self.l_margin, y, self.epw, 5.6, style="F")
        draw_rule(self, y + 12.4)
        for index, (label, value) in enumerate(cells):
            x = self.l_margin + index * width
            last = index == len(cells) - 1
            self._write(
                x,
                y + 0.8,
                label,
                size=HEADING_SIZE,
                bold=True,
                color=MUTED,
                align="R",
                width=width - CELL_PAD,
            )
            self._write(x, y + 6.6, value, size=BODY_SIZE, bold=last, align="R", width=width - CELL_PAD)
        y += 12.4
        sentence = self._reconciliation()
        if sentence:
            y = self._write(self.l_margin, y + 1.6, sentence, size=8, color=MUTED, fit=self.epw)
        return y

    def _reconciliation(self) -> str:
        """How the total outstanding comes down to the closing balance, when credits make them differ."""
        statement = self.statement
        counted = statement.credits_counted
        if counted is None or counted.minor <= 0:
            return ""
        return _(
            "Total outstanding {outstanding}, less {credits} of available credits and retainer "
            "payments, leaves a balance of {balance}."
        ).format(
            outstanding=self._money(statement.outstanding),
            credits=self._money(counted),
            balance=self._money(statement.closing),
        )

    def _transactions(self, top: float) -> None:
        statement = self.statement
        self.set_y(top)
        self._table_header()
        self.in_table = True
        self._balance_row(
            self._day(statement.period.start), _(BROUGHT_FORWARD), self._money(statement.opening)
        )
        if not self.rows:
            self._row_break()
            self._write(
                self.l_margin + DATE_W + CELL_PAD,
                self.get_y() + 1.2,
                _(NO_LINES),
                size=BODY_SIZE,
                color=MUTED,
            )
            self.set_y(self.get_y() + ROW_H)
            draw_rule(self, self.get_y())
        x_description = self.l_margin + DATE_W + CELL_PAD
        x_reference = self.l_margin + DATE_W + self.transaction_w + CELL_PAD
        x_amounts = self.l_margin + DATE_W + self.transaction_w + REFERENCE_W
        description_w = self.transaction_w - 2 * CELL_PAD
        reference_w = REFERENCE_W - 2 * CELL_PAD
        for row in self.rows:
            self._row_break()
            y = self.get_y() + 1.2
            self._write(
                self.l_margin + CELL_PAD, y, row.day, size=BODY_SIZE, color=MUTED, fit=DATE_W - 2 * CELL_PAD
            )
            self._write(x_description, y, row.description, size=BODY_SIZE, fit=description_w)
            self._write(x_reference, y, row.reference, size=BODY_SIZE, fit=reference_w)
            self._write(x_amounts, y, row.amount, size=BODY_SIZE, align="R", width=AMOUNT_W - CELL_PAD)
            self._write(
                x_amounts + AMOUNT_W, y, row.balance, size=BODY_SIZE, align="R", width=BALANCE_W - CELL_PAD
            )
            self.set_y(self.get_y() + ROW_H)
            draw_rule(self, self.get_y())
            self.carried = row.balance
        self._row_break(ROW_H + 2)
        self.in_table = False
        self._balance_row(
            self._day(statement.period.end), _(CLOSING), self._money(statement.closing), fill=True
        )

    # --- every page ----------------------------------------------------------------------------------

    def header(self) -> None:
        if self.page == 1:
            return
        client = self.statement.client
        top = self.t_margin - 4
        self._write(self.l_margin, top, _(TITLE), size=9, bold=True)
        self._write(self.l_margin, top + 4.4, self.period_text, size=8, color=MUTED)
        right_w = self.epw * 0.5
        right_x = self.l_margin + self.epw - right_w
        self._write(right_x, top, client.company or client.name, size=9, bold=True, align="R", width=right_w)
        self._write(
            right_x, top + 4.4, self.statement.business.name, size=8, color=MUTED, align="R", width=right_w
        )
        draw_rule(self, top + 10)
        self.set_y(top + 13)
        if self.in_table:
            self._table_header()
            self._balance_row("", _(CARRIED_FORWARD), self.carried)

    def footer(self) -> None:
        y = self.h - 12
        draw_rule(self, y - 2.5)
        self._write(
            self.l_margin, y, self._footer_label(), size=7.2, color=MUTED, line_h=4, fit=self.epw - 30
        )
        # A cell, not FPDF.text: only cells get the page count filled in for the {nb} alias at the end.
        self.set_font(self.typeface, REGULAR, 7.2)
        self.set_xy(self.l_margin, y)
        self.cell(
            self.epw, 4, _("Page {page} of {pages}").format(page=self.page_no(), pages="{nb}"), align="R"
        )

    def footer_text(self, digits: str) -> str:
        """Everything a footer writes: fpdf2 writes the last page's only when the file is put together."""
        return f"{self._footer_label()} {_('Page {page} of {pages}').format(page=digits, pages='')}"

    def _footer_label(self) -> str:
        client = self.statement.client
        return f"{_(TITLE)} · {client.company or client.name} · {self.period_text}"

    # --- the table -----------------------------------------------------------------------------------

    def _table_header(self) -> None:
        y = self.get_y()
        self.set_fill_color(*HEADER_FILL)
        self.rect(self.l_margin, y, self.epw, TABLE_HEADER_H, style="F")
        x = self.l_margin
        for heading, width, align in self.columns:
            self._write(
                x + CELL_PAD,
                y + 1.3,
                heading,
                size=HEADING_SIZE,
                bold=True,
                color=MUTED,
                align=align,
                width=width - 2 * CELL_PAD,
                line_h=4,
            )
            x += width
        self.set_y(y + TABLE_HEADER_H)

    def _balance_row(self, day: str, label: str, balance: str, *, fill: bool = False) -> None:
        y = self.get_y()
        if fill:
            self.set_fill_color(*BALANCE_FILL)
            self.rect(self.l_margin, y, self.epw, ROW_H + 1, style="F")
        text_y = y + 1.2 + (0.5 if fill else 0)
        self._write(self.l_margin + CELL_PAD, text_y, day, size=BODY_SIZE, color=MUTED)
        self._write(self.l_margin + DATE_W + CELL_PAD, text_y, label, size=BODY_SIZE, bold=True)
        self._write(
            self.l_margin + self.epw - BALANCE_W, text_y, balance, size=BODY_SIZE, bold=True, align="R",
            width=BALANCE_W - CELL_PAD,
        )  # fmt: skip
        self.set_y(y + ROW_H + (1 if fill else 0))
        draw_rule(self, self.get_y())

    def _row_break(self, height: float = ROW_H) -> None:
        """Start a new page when the next row would not fit (``header`` repeats headings and balance)."""
        if self.get_y() + height > self.bottom:
            self.add_page()

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
        fit: float | None = None,
    ) -> float:
        """Write one line of ``text`` with its top at ``y``; return the ``y`` below it.

        ``width`` aligns it (and shortens it to fit, with an ellipsis); ``fit`` only shortens it.
        """
        line_h = line_h or size * 0.3528 * 1.45
        self.set_font(self.typeface, BOLD if bold else REGULAR, size)
        self.set_text_color(*color)
        text = self._printable(text)
        room = fit if fit is not None else width
        if room is not None:
            text = self._shorten(text, room)
        left = x + width - self._width(text) if align == "R" and width is not None else x
        if text:
            self.text(left, y + line_h / 2 + size * 0.3528 * 0.36, text)
        return y + line_h

    def _shorten(self, text: str, width: float) -> str:
        if self._width(text) <= width:
            return text
        text = text[: int(width * 2)]  # no character is narrower than half a millimetre at these sizes
        while text and self._width(text + ELLIPSIS) > width:
            text = text[:-1]
        return text.rstrip() + ELLIPSIS

    def _width(self, text: str) -> float:
        """The width of ``text`` in the current font, in mm, from the font's width table (see invoice.py)."""
        font = self.current_font
        if isinstance(font, CoreFont):
            widths = font.cw
            return (
                sum(widths[char] for char in text.translate(_TO_WINANSI)) * self.font_size_pt / 1000 / self.k
            )
        if isinstance(font, TTFFont):
            ttf_widths = font.cw
            return sum(ttf_widths[ord(char)] for char in text) * self.font_size_pt / 1000 / self.k
        return float(self.get_string_width(text))  # pragma: no cover - the document uses one of the two

    def _printable(self, text: str) -> str:
        return drawn(text, core_font=not self.embeds_fonts)

    def _day(self, day: date) -> str:
        if day not in self._days:
            self._days[day] = format_day(day, self.locale)
        return self._days[day]

    def _money(self, money: Money) -> str:
        # Babel takes about 15 microseconds an amount; running balances repeat now and then.
        if money.minor not in self._amounts:
            self._amounts[money.minor] = format_money(money, self.locale)
        return self._amounts[money.minor]
