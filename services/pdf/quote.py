"""The quote PDF: a ``QuoteDocument`` in, the bytes of an A4 PDF out.

Laid out as the invoice is (``services.pdf.invoice``: the same heading, parties, line items, totals,
fonts and footer), but titled Quote, with its valid-until day instead of a due date, its total instead
of a balance due, the deposit asked on acceptance, and the customer's answer: the typed name that signed
the acceptance with its time and address, or the reason for a decline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from babel.numbers import format_decimal
from fpdf.errors import FPDFUnicodeEncodingException

from services.dates import format_day, format_moment
from services.i18n import _
from services.i18n.terms import term
from services.invoice_detail import InvoiceDocument
from services.money import Money, babel_locale
from services.pdf.fonts import BOLD, REGULAR, embed_fonts
from services.pdf.invoice import GREEN, INK, MUTED, RED, Color, InvoiceLayout, draw_rule
from services.quote_documents import QuoteDocument

logger = logging.getLogger(__name__)

LABEL_COLORS: dict[str, Color] = {"Accepted": GREEN, "Declined": RED, "Expired": RED}


def render_quote_pdf(quote: QuoteDocument) -> bytes:
    """The quote as a PDF; a pure function of ``quote``, safe in a worker thread."""
    try:
        return _render(_QuotePdf(quote))
    except FPDFUnicodeEncodingException:
        logger.exception("quote %s: text outside Windows-1252 in the standard font", quote.number)
        return _render(_QuotePdf(quote, core_font=False))


def _render(pdf: _QuotePdf) -> bytes:
    pdf.draw()
    if pdf.embeds_fonts:
        embed_fonts(pdf, still_to_write=pdf.footer_text())
    return bytes(pdf.output())


def _as_invoice_layout(quote: QuoteDocument) -> InvoiceDocument:
    """The quote in the fields the invoice's layout reads; what differs is said by ``_QuotePdf``."""
    return InvoiceDocument(
        public_id=quote.public_id,
        number=quote.number,
        is_retainer=False,
        status=quote.status,  # no PAID or VOID stamp
        status_label=quote.status_label,
        issue_date=quote.issue_date,
        due_date=quote.valid_until,
        business=quote.business,
        client=quote.client,
        lines=quote.lines,
        subtotal=quote.subtotal,
        discount=quote.discount,
        tax=quote.tax,
        total=quote.total,
        applied=(),
        balance_due=quote.total,
        notes=quote.notes,
        terms=quote.terms,
        locale=quote.locale,
        logo=quote.logo,
        viewed_at=None,
    )


class _QuotePdf(InvoiceLayout):
    def __init__(self, quote: QuoteDocument, *, core_font: bool | None = None) -> None:
        self.quote = quote  # before the invoice's layout starts, which asks for the title and texts
        super().__init__(_as_invoice_layout(quote), core_font=core_font)

    def _title(self) -> str:
        return _("Quote")

    def _figure(self) -> tuple[str, Money]:
        return _("Total"), self.quote.total

    def _facts(self) -> list[tuple[str, str, Color]]:
        quote = self.quote
        return [
            (_("Issue Date"), format_day(quote.issue_date, self.locale), INK),
            (_("Valid Until"), format_day(quote.valid_until, self.locale), INK),
            (_("Status"), term(quote.status_label), LABEL_COLORS.get(quote.status_label, INK)),
        ]

    def _totals_rows(self) -> list[tuple[str, str, str, bool]]:
        rows = super()._totals_rows()
        if self.quote.deposit_percent:
            rows.append((self._deposit_label(), "", self._money(self.quote.deposit), False))
        return rows

    def _deposit_label(self) -> str:
        percent = format_decimal(self.quote.deposit_percent.normalize(), locale=babel_locale(self.locale))
        return _("Deposit on acceptance ({percent} %)").format(percent=percent)

    def _answer_lines(self) -> tuple[str, list[str]]:
        """The heading and lines of the customer's answer, or of how to give one."""
        quote, answer = self.quote, self.quote.answer
        if answer is not None and answer.accepted:
            lines = [
                _("Signed: {name}").format(name=answer.signature),
                _("Accepted by {person} on {moment} from the address {address}.").format(
                    person=answer.by, moment=format_moment(answer.at, self.locale), address=answer.ip_address
                ),
            ]
            if quote.invoice_number:
                lines.append(_("Invoice {number} was issued for it.").format(number=quote.invoice_number))
            return _("Accepted"), lines
        if answer is not None:
            when = _("Declined by {person} on {moment}.").format(
                person=answer.by, moment=format_moment(answer.at, self.locale)
            )
            return _("Declined"), [when, _("Reason: {reason}").format(reason=answer.reason)]
        if quote.expired:
            return _("Expired"), [
                _("This quote was valid until {day} and can no longer be accepted.").format(
                    day=format_day(quote.valid_until, self.locale)
                )
            ]
        return _("Acceptance"), [
            _("This quote is valid until {day}. Accept or decline it in the portal.").format(
                day=format_day(quote.valid_until, self.locale)
            )
        ]

    def _more_texts(self) -> Iterator[str]:
        yield from (_("Total"), self._deposit_label())
        heading, lines = self._answer_lines()
        yield heading.upper()
        yield from lines

    def draw(self) -> None:
        super().draw()
        heading, lines = self._answer_lines()
        self._keep_together(12 + 4.6 * len(lines))
        draw_rule(self, self.get_y())
        self.ln(3)
        self.set_x(self.l_margin)
        self.set_text_color(*MUTED)
        self.set_font(self.typeface, BOLD, 7.4)
        self.cell(0, 4.4, self._printable(heading.upper()), new_x="LMARGIN", new_y="NEXT")
        for number, line in enumerate(lines):
            signed = number == 0 and self.quote.answer is not None and self.quote.answer.accepted
            self.set_text_color(*INK)
            self.set_font(self.typeface, BOLD if signed else REGULAR, 10.5 if signed else 8.6)
            self.multi_cell(0, 5.6 if signed else 4.6, self._printable(line), new_x="LMARGIN", new_y="NEXT")
