"""The credit note PDF, read back with pypdf: the parties, its lines and totals, what it was applied to and
refunded, the credit that remains, in the reader's language."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from io import BytesIO
from typing import Any

from pypdf import PdfReader

from services.credit_notes import CreditNoteDocument, CreditUse
from services.i18n import using_language
from services.money import Money, format_money
from services.pdf.credit_note import render_credit_note_pdf
from tests.unit.pdf.test_invoice_pdf import make_document, make_line


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def make_credit_note(**overrides: Any) -> CreditNoteDocument:
    """CN-00007: $120.00 of goodwill plus a $60.00 refund of a line with 20 % VAT ($192.00 in all); $50.00
    applied to INV-00011, $20.00 refunded, $122.00 left."""
    goodwill = make_line("Goodwill credit for the delayed photo shoot", "1", 12_000)
    hosting = make_line("Unused hosting", "2", 3_000, tax_percent="20", tax_name="VAT")
    invoice = make_document((goodwill, hosting))
    values: dict[str, Any] = {
        "public_id": "cn_4Kd9",
        "number": "CN-00007",
        "status": "open",
        "status_label": "Open",
        "issue_date": date(2026, 9, 7),
        "reason": "Delivery was two weeks late.",
        "business": invoice.business,
        "client": invoice.client,
        "lines": invoice.lines,
        "subtotal": invoice.subtotal,
        "discount": invoice.discount,
        "tax": invoice.tax,
        "total": invoice.total,
        "uses": (
            CreditUse("applied", date(2026, 10, 12), usd(5_000), "INV-00011", "inv_11"),
            CreditUse("refund", date(2026, 11, 2), usd(2_000)),
        ),
        "remaining": invoice.total - usd(7_000),
        "locale": "en_US",
    }
    values.update(overrides)
    return CreditNoteDocument(**values)


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)


def test_the_pdf_has_the_parties_lines_totals_uses_and_the_credit_remaining():
    document = make_credit_note()
    assert document.total == usd(19_200)
    text = text_of(render_credit_note_pdf(document))
    for words in (
        "Acme Studio",
        "1 Main Street",
        "CREDIT TO",
        "Jane Client",
        "Client Ltd",
        "Credit Note",
        "# CN-00007",
        "Credit note date: Sep 7, 2026",
        "Status: Open",
        "Goodwill credit for the delayed photo shoot",
        "Unused hosting",
        "Sub Total $180.00",
        "Tax $12.00",
        "Total $192.00",
        "Applied to invoice INV-00011",
        "Oct 12, 2026",
        "-$50.00",
        "Refunded",
        "-$20.00",
        "Credit Remaining $122.00",
        "Delivery was two weeks late.",
        "Page 1 of 1",
    ):
        assert words in text, words


def test_a_voided_credit_note_says_so_and_has_nothing_left():
    document = make_credit_note(status="void", status_label="Void", uses=(), remaining=usd(0))
    text = text_of(render_credit_note_pdf(document))
    assert "Status: Void" in text
    assert "Credit Remaining $0.00" in text
    assert "Applied to" not in text


def test_it_is_written_in_the_readers_language_with_the_business_numbers():
    document = replace(make_credit_note(), locale="de_DE")
    with using_language("de"):
        content = render_credit_note_pdf(document)
    reader = PdfReader(BytesIO(content))
    text = text_of(content)
    assert "Gutschrift" in text
    assert f"Restguthaben {format_money(usd(12_200), 'de_DE')}".replace("\xa0", " ") in text  # 122,00 $
    assert "07.09.2026" in text
    assert reader.metadata is not None
    assert reader.metadata.title == "Gutschrift CN-00007"


def test_other_scripts_print_in_the_embedded_font():
    document = make_credit_note(reason="Доставка задержалась на две недели.")
    content = render_credit_note_pdf(document)
    assert b"/FontFile2" in content
    assert "Доставка задержалась на две недели." in text_of(content)


def test_the_same_credit_note_gives_the_same_bytes():
    document = make_credit_note()
    assert render_credit_note_pdf(document) == render_credit_note_pdf(document)


def test_many_lines_run_onto_a_second_page_with_the_headings_again():
    lines = tuple(make_line(f"Returned item {number}", "1", 1_000) for number in range(1, 61))
    total = usd(60_000)
    document = make_credit_note(
        lines=lines, subtotal=total, tax=usd(0), total=total, uses=(), remaining=total
    )
    pages = [page.extract_text() for page in PdfReader(BytesIO(render_credit_note_pdf(document))).pages]
    assert len(pages) >= 2
    assert all("Description" in page for page in pages[:2])
    assert "Returned item 60" in "\n".join(pages)
    assert "Credit Remaining $600.00" in pages[-1]
