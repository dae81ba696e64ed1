"""How long the invoice PDF takes to render: a one-page invoice and a 500-line one.

The one-page invoice is a typical one, in en_US and Latin letters only: it is set in the standard
Helvetica, with no font embedded. The same invoice for a client with a Greek name and a line in Cyrillic
is timed as well: it embeds DejaVu Sans, cut down to the characters used.

Run from the repository root: ``python benchmarks/invoice_pdf.py``. Preparing the bundled fonts, once
per process, is timed on its own and left out of the medians. The fastest run is printed as well: on a
busy machine it is closer to what rendering itself costs than the median is.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pypdf import PdfReader

from services.invoice_detail import AppliedAmount, DocumentLine, InvoiceDocument, Party
from services.money import Money
from services.pdf import render_invoice_pdf
from services.pdf.fonts import preload_fonts

DESCRIPTIONS = (
    "Website redesign: discovery workshop, wireframes and two rounds of revisions for the customer portal",
    "Hosting (monthly)",
    "Consulting hours — senior developer",
    "Support retainer (June)",
)
OTHER_SCRIPT_DESCRIPTIONS = (*DESCRIPTIONS[:2], "Consulting hours — Дмитрий Иванов", "Αναλυτική αναφορά")
CLIENT = Party("Jane Client", "Client Ltd", "billing@client.example", "", "", ("22 Side Road", "Springfield"))
OTHER_SCRIPT_CLIENT = replace(CLIENT, name="Αθηνά Παπαδοπούλου", address_lines=("Athens",))


def invoice(line_count: int) -> InvoiceDocument:
    """A typical invoice: en_US, Latin letters only."""
    return _invoice(line_count, CLIENT, DESCRIPTIONS)


def other_script_invoice(line_count: int) -> InvoiceDocument:
    """The same invoice for a client with a Greek name, and a line in Cyrillic."""
    return _invoice(line_count, OTHER_SCRIPT_CLIENT, OTHER_SCRIPT_DESCRIPTIONS)


def _invoice(line_count: int, client: Party, descriptions: tuple[str, ...]) -> InvoiceDocument:
    lines = tuple(_line(index, descriptions) for index in range(line_count))
    subtotal = Money(sum(line.amount.minor for line in lines), "USD")
    tax = Money(sum(line.tax.minor for line in lines), "USD")
    total = subtotal + tax
    paid = Money(10_000, "USD")
    return InvoiceDocument(
        public_id="benchmark",
        number="INV-00042",
        is_retainer=False,
        status="partially_paid",
        status_label="Partially Paid",
        issue_date=date(2026, 6, 15),
        due_date=date(2026, 7, 15),
        business=Party(
            "Acme Studio", "", "hello@acme.example", "+1 555 0100", "https://acme.example", ("1 Main St",)
        ),
        client=client,
        lines=lines,
        subtotal=subtotal,
        discount=Money(0, "USD"),
        tax=tax,
        total=total,
        applied=(AppliedAmount("payment", "Payment RCPT-00001", date(2026, 6, 20), paid),),
        balance_due=total - paid,
        notes="Thank you for your business.",
        terms="Payment is due within 30 days.",
        locale="en_US",
        logo=None,
        viewed_at=None,
    )


def _line(index: int, descriptions: tuple[str, ...]) -> DocumentLine:
    quantity = Decimal(index % 7 + 1)
    rate = Money(2_500 + index * 10, "USD")
    amount = Money(int(quantity) * rate.minor, "USD")
    tax = Money(amount.minor // 5, "USD")
    return DocumentLine(
        descriptions[index % len(descriptions)], quantity, rate, Decimal(0), "VAT", Decimal(20), amount,
        Money(0, "USD"), tax,
    )  # fmt: skip


def timings_ms(document: InvoiceDocument, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        render_invoice_pdf(document)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    started = time.perf_counter()
    preload_fonts()
    fonts_ms = (time.perf_counter() - started) * 1000
    one_page = invoice(5)
    other_script = other_script_invoice(5)
    long = replace(invoice(500), number="INV-00500")
    render_invoice_pdf(one_page)
    render_invoice_pdf(other_script)
    pages = len(PdfReader(BytesIO(render_invoice_pdf(long))).pages)
    one_page_ms = timings_ms(one_page, 50)
    other_script_ms = timings_ms(other_script, 50)
    long_ms = timings_ms(long, 5)
    rows = [
        ("1 page, Latin only (Helvetica)", one_page_ms, ".1f"),
        ("1 page, Greek and Cyrillic (DejaVu Sans)", other_script_ms, ".1f"),
        (f"500 lines, Latin only, {pages} pages", long_ms, ".0f"),
    ]
    width = max(len(label) for label, _, _ in rows) + 1
    print("invoice PDF, median (fastest run):")
    for label, timings, spec in rows:
        print(f"  {label + ':':<{width}} {statistics.median(timings):{spec}} ms ({min(timings):{spec}} ms)")
    print(f"  preparing the fonts, once per process: {fonts_ms:.0f} ms")


if __name__ == "__main__":
    main()
