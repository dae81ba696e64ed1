"""The receipt PDF: read back, it carries the business, the customer and every number of the payment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO

from pypdf import PdfReader

from services.invoice_detail import Party
from services.money import Money
from services.payments_made import AppliedLine, PaymentDetail
from services.pdf.receipt import render_receipt_pdf


def usd(minor: int) -> Money:
    return Money(minor, "USD")


RECEIPT = PaymentDetail(
    public_id="p1",
    receipt_number="RCPT-00042",
    paid_on=datetime(2026, 11, 3, 15, 30, tzinfo=UTC),
    amount=usd(123_456),
    method="Visa ending 4242",
    status_label="Paid",
    is_retainer=False,
    retainer_invoice_number="",
    applied=(
        AppliedLine("i1", "INV-00007", "payment", usd(100_000), usd(0)),
        AppliedLine("i2", "INV-00009", "payment", usd(20_000), usd(5_500)),
    ),
    unapplied=usd(3_456),
    refunded=usd(0),
    failure_message="",
    is_sandbox=False,
    business=Party(
        "Northwind Design Studio",
        "",
        "hello@northwind.example",
        "+1 415 555 0142",
        "",
        ("500 Market Street", "San Francisco, CA 94105"),
    ),
    client=Party("Dana Demo", "Bluebird Cafe LLC", "demo@client.example", "", "", ("18 Harbor Road",)),
    locale="en_US",
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_the_receipt_reads_back_with_every_figure():
    text = text_of(render_receipt_pdf(RECEIPT))
    for expected in (
        "Payment Receipt",
        "RCPT-00042",
        "Northwind Design Studio",
        "Bluebird Cafe LLC",
        "Nov 3, 2026",
        "Visa ending 4242",
        "$1,234.56",
        "INV-00007",
        "$1,000.00",
        "INV-00009",
        "$200.00",
        "$55.00",  # still due on INV-00009
        "Available as credit for future invoices: $34.56",
    ):
        assert expected in text, expected
    assert "Sandbox" not in text


def test_a_sandbox_receipt_says_no_real_money():
    text = text_of(render_receipt_pdf(replace(RECEIPT, is_sandbox=True)))
    assert "Sandbox - no real money" in text


def test_a_retainer_receipt_names_the_retainer_invoice_and_what_is_kept():
    retainer = replace(
        RECEIPT, is_retainer=True, retainer_invoice_number="RET-00003", applied=(), unapplied=RECEIPT.amount
    )
    text = text_of(render_receipt_pdf(retainer))
    assert "RET-00003" in text
    assert "Available as retainer for future invoices: $1,234.56" in text


def test_names_outside_latin_are_embedded_and_read_back():
    greek = replace(RECEIPT, client=replace(RECEIPT.client, company="Καφέ Ωμέγα ΑΕ", name="Дана"))
    pdf = render_receipt_pdf(greek)
    assert b"/FontFile2" in pdf  # DejaVu subsets, not the standard Helvetica
    text = text_of(pdf)
    assert "Καφέ Ωμέγα ΑΕ" in text
    assert "Дана" in text


def test_the_same_payment_gives_the_same_bytes():
    assert render_receipt_pdf(RECEIPT) == render_receipt_pdf(RECEIPT)
