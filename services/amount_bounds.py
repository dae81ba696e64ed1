"""The one bound on amounts: every rate, line, document figure and payment is at most
``MAX_AMOUNT_MINOR``, so every sum the portal makes stays far inside a signed 64-bit integer.

Why 10^13 minor units: it is 100 billion in a currency with cents (USD 100,000,000,000.00), 10 trillion
yen, 10 billion Kuwaiti dinars: above any invoice a business sends, and still small enough to add up.
The database keeps amounts in BigInteger columns and sums them in SQL: SQLite's ``SUM`` stops with
"integer overflow" past 2^63 - 1 (about 9.2 x 10^18) and PostgreSQL's comes back into Python and
BigInteger columns. 9.2 x 10^18 holds 922,337 amounts at the bound; the largest sums the portal makes
(a business's receivables on the dashboard, a client's invoices minus payments minus credit notes plus
refunds) add one or two amounts per document, so 100,000 documents at the bound (10^18) still have a
ninefold margin. Without the bound, one line within the API's per-field limits (100,000 x 10^15 = 10^20)
did not fit its own column, and two documents of 5 x 10^18 overflowed every sum over the business.

Every path that stores an amount checks it here, before anything is written: the invoice and credit
note writers (``services.invoices.replace_lines``, ``services.credit_notes.issue_credit_note``, whom the
REST API, the back-office editors and the demo all call), offline payments
(``services.payments.record_payment``) and the editor's live check of a line. Online payments, applied
credits and refunds are bounded by the balances they draw on.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.errors import AmountTooLarge
from services.money import Money
from services.totals import DocumentTotals, LineInput, LineTotals

MAX_AMOUNT_MINOR = 10**13


def most(currency: str) -> Money:
    """The bound as an amount of ``currency``."""
    return Money(MAX_AMOUNT_MINOR, currency)


def check_amount(amount: Money, *, name: str = "amount", of: str = "payment") -> None:
    """Raise ``AmountTooLarge`` if ``amount`` is above the bound."""
    if amount.minor > MAX_AMOUNT_MINOR:
        raise AmountTooLarge(name, amount, most(amount.currency), of=of)


def check_line(line: LineInput, totals: LineTotals, currency: str, position: int) -> None:
    """Raise ``AmountTooLarge`` for a line whose rate, amount or tax is above the bound.

    Its discount is at most its amount, so that needs no check of its own.
    """
    figures = (("rate", line.unit_price_minor), ("amount", totals.amount_minor), ("tax", totals.tax_minor))
    for name, minor in figures:
        if minor > MAX_AMOUNT_MINOR:
            raise AmountTooLarge(name, Money(minor, currency), most(currency), line=position)


def check_document(lines: Sequence[LineInput], totals: DocumentTotals) -> None:
    """Raise ``AmountTooLarge`` for the first line or document figure above the bound."""
    for position, (line, line_totals) in enumerate(zip(lines, totals.lines, strict=True), start=1):
        check_line(line, line_totals, totals.currency, position)
    for name, amount in (("subtotal", totals.subtotal), ("tax", totals.tax), ("total", totals.total)):
        check_amount(amount, name=name, of="document")
