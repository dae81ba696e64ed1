"""The payment receipt PDF: a ``PaymentDetail`` in, the bytes of an A4 PDF out.

One page in practice: the business and the customer, the receipt number, date, method and amount,
each invoice the payment paid with what it still owes, and what was kept as credit or retainer.
Text that fits Windows-1252 is set in the standard Helvetica, like the invoice PDF; anything else
embeds the bundled DejaVu subsets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC

from services.dates import format_day
from services.gateways.sandbox import SANDBOX_NOTICE
from services.i18n import _
from services.i18n.terms import term
from services.invoice_detail import Party
from services.money import Money, format_money
from services.payments_made import APPLIED_KINDS, PaymentDetail
from services.pdf.fonts import BOLD, CORE_FAMILY, FAMILY, REGULAR, PortalPdf, drawn, embed_fonts
from services.pdf.invoice import (
    HEADER_FILL,
    INK,
    MARGIN,
    MUTED,
    RULE,
    draw_logo,
    fits_core_font,
)

AMBER = (180, 83, 9)

logger = logging.getLogger(__name__)


def render_receipt_pdf(payment: PaymentDetail, *, logo: bytes | None = None) -> bytes:
    """The receipt of a succeeded payment, with the business's ``logo`` (PNG or JPEG bytes) if given;
    a pure function, safe in a worker thread."""
    pdf = _ReceiptPdf(payment, logo)
    pdf.draw()
    if pdf.embeds_fonts:
        embed_fonts(pdf)
    return bytes(pdf.output())


class _ReceiptPdf(PortalPdf):
    def __init__(self, payment: PaymentDetail, logo: bytes | None = None) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.payment = payment
        self.logo = logo
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.c_margin = 0
        self.set_auto_page_break(True, margin=18)
        paid_on = payment.paid_on
        self.describe(
            title=_("Payment Receipt {number}").format(number=payment.receipt_number),
            author=payment.business.name,
            subject=None,
            created=paid_on.astimezone(UTC) if paid_on.tzinfo else paid_on.replace(tzinfo=UTC),
        )
        self.choose_fonts(core_font=fits_core_font(self._texts()))

    def money(self, value: Money) -> str:
        return format_money(value, self.payment.locale)

    def shown(self, value: str) -> str:
        return drawn(value, core_font=not self.embeds_fonts)

    def font(self, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        if self.embeds_fonts:
            self.set_font(FAMILY, BOLD if bold else REGULAR, size)
        else:
            self.set_font(CORE_FAMILY, "B" if bold else "", size)
        self.set_text_color(*color)

    def _texts(self) -> Iterator[str]:
        payment = self.payment
        for party in (payment.business, payment.client):
            yield from (party.name, party.company, party.email, party.phone, *party.address_lines)
        yield from (payment.method, payment.receipt_number or "", payment.retainer_invoice_number)
        yield from (self.money(payment.amount), self.money(payment.unapplied), self.money(payment.refunded))
        yield format_day(payment.paid_on.date(), payment.locale)
        for line in payment.applied:
            yield from (line.invoice_number, self.money(line.amount), self.money(line.balance_left))

    def footer(self) -> None:
        self.set_y(-12)
        self.font(7.5, color=MUTED)
        note = f"{term(SANDBOX_NOTICE)}. " if self.payment.is_sandbox else ""
        where = _("Receipt {number} · Page {page}").format(
            number=self.payment.receipt_number, page=self.page_no()
        )
        self.cell(0, 4, self.shown(note + where), align="C")

    def draw(self) -> None:
        payment = self.payment
        self.add_page()
        if self.logo:
            height = draw_logo(self, self.logo, self.l_margin, self.t_margin)
            if height:
                self.set_y(self.t_margin + height + 4)
            else:  # a broken logo must not keep a customer from their receipt
                logger.warning(
                    "receipt %s: the business logo is not a readable image", payment.receipt_number
                )
        self.font(20, bold=True)
        self.cell(self.epw / 2, 9, self.shown(_("Payment Receipt")))
        self.font(10, color=MUTED)
        self.cell(
            self.epw / 2,
            9,
            self.shown(f"# {payment.receipt_number}"),
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if payment.is_sandbox:
            self.ln(2)
            self.font(10, bold=True, color=AMBER)
            self.cell(
                0,
                6,
                self.shown(
                    _("{notice} - a test payment made in the portal's sandbox.").format(
                        notice=term(SANDBOX_NOTICE)
                    )
                ),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        self.ln(4)
        top = self.get_y()
        self._party(_("From").upper(), payment.business, self.l_margin, top)
        bottom = self.get_y()
        self._party(_("Received from").upper(), payment.client, self.l_margin + self.epw / 2, top)
        self.set_y(max(bottom, self.get_y()) + 6)
        self._summary()
        self._applied()

    def _party(self, title: str, party: Party, x: float, y: float) -> None:
        self.set_xy(x, y)
        width = self.epw / 2 - 4
        self.font(7.5, bold=True, color=MUTED)
        self.cell(width, 5, self.shown(title), new_x="LEFT", new_y="NEXT")
        self.font(10, bold=True)
        self.multi_cell(width, 5, self.shown(party.company or party.name), new_x="LEFT", new_y="NEXT")
        self.font(9)
        lines = [party.name] if party.company and party.company != party.name else []
        for line in (*lines, *party.address_lines, party.email, party.phone):
            if line:
                self.multi_cell(width, 4.6, self.shown(line), new_x="LEFT", new_y="NEXT")

    def _summary(self) -> None:
        payment = self.payment
        rows = [
            (_("Payment date"), format_day(payment.paid_on.date(), payment.locale)),
            (_("Payment method"), payment.method),
            (_("Receipt number"), payment.receipt_number or ""),
        ]
        if payment.retainer_invoice_number:
            rows.append((_("Retainer invoice"), payment.retainer_invoice_number))
        for label, value in rows:
            self.font(9.5, color=MUTED)
            self.cell(45, 6, self.shown(label))
            self.font(9.5)
            self.cell(0, 6, self.shown(value), new_x="LMARGIN", new_y="NEXT")
        self.ln(3)
        self.set_fill_color(*HEADER_FILL)
        self.font(12, bold=True)
        self.cell(self.epw / 2, 11, "  " + self.shown(_("Amount received")), fill=True)
        self.cell(
            self.epw / 2,
            11,
            self.shown(self.money(payment.amount)) + "  ",
            align="R",
            fill=True,
            new_x="LMARGIN",
            new_y="NEXT",
        )
        self.ln(6)

    def _applied(self) -> None:
        payment = self.payment
        if payment.applied:
            widths = (self.epw * 0.4, self.epw * 0.3, self.epw * 0.3)
            self.font(8.5, bold=True, color=MUTED)
            for heading, width, align in zip(
                (_("Invoice"), _("Amount applied"), _("Still due")), widths, "LRR", strict=True
            ):
                self.cell(width, 7, self.shown(heading), align=align)
            self.ln(7)
            self.set_draw_color(*RULE)
            for line in payment.applied:
                self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
                self.font(9.5)
                label = line.invoice_number
                if line.kind != "payment":
                    label += f" ({term(APPLIED_KINDS.get(line.kind, line.kind)).lower()})"
                self.cell(widths[0], 7, self.shown(label))
                self.cell(widths[1], 7, self.shown(self.money(line.amount)), align="R")
                self.cell(
                    widths[2],
                    7,
                    self.shown(self.money(line.balance_left)),
                    align="R",
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
            self.line(self.l_margin, self.get_y(), self.l_margin + self.epw, self.get_y())
            self.ln(4)
        self.font(9.5)
        kept = (
            _("Available as retainer for future invoices: {amount}")
            if payment.is_retainer
            else _("Available as credit for future invoices: {amount}")
        )
        if payment.unapplied.minor:
            self.cell(
                0,
                6,
                self.shown(kept.format(amount=self.money(payment.unapplied))),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        if payment.refunded.minor:
            self.cell(
                0,
                6,
                self.shown(_("Refunded: {amount}").format(amount=self.money(payment.refunded))),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        self.ln(6)
        self.font(9, color=MUTED)
        self.multi_cell(
            0,
            5,
            self.shown(
                (
                    _("Thank you for your payment. Questions about it go to {business} at {email}.")
                    if payment.business.email
                    else _("Thank you for your payment. Questions about it go to {business}.")
                ).format(business=payment.business.name, email=payment.business.email)
            ),
        )
