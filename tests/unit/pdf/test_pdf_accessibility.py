"""Every PDF says its language and title (a reader shows the title, a screen reader speaks the words in
that language), and its text reads back in the order a person reads the page."""

from __future__ import annotations

from io import BytesIO

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from services.pdf.credit_note import render_credit_note_pdf
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf
from services.pdf.statement import render_statement_pdf
from tests.unit.pdf.test_credit_note_pdf import make_credit_note
from tests.unit.pdf.test_invoice_pdf import make_document
from tests.unit.pdf.test_receipt_pdf import RECEIPT
from tests.unit.pdf.test_statement_pdf import make_statement
from tests.unit.services.test_e_invoice import make_e_invoice

DOCUMENTS = {
    "invoice": lambda: render_invoice_pdf(make_document()),
    "e-invoice": lambda: render_invoice_pdf(make_e_invoice()),  # a PDF/A-3 with its QR code and XML
    "receipt": lambda: render_receipt_pdf(RECEIPT),
    "statement": lambda: render_statement_pdf(make_statement(12)),
    "credit note": lambda: render_credit_note_pdf(make_credit_note()),
}
TITLES = {
    "invoice": "Invoice INV-",
    "e-invoice": "Invoice INV-00042",
    "receipt": "Payment Receipt RCPT-00042",
    "statement": "Statement of Accounts",
    "credit note": "Credit Note CN-00007",
}
# On the first page, top to bottom: what each document says first, in between and last.
READING_ORDER = {
    "invoice": [
        "Acme Studio",
        "BILL TO",
        "Description",
        "Logo design",
        "Hosting (monthly)",
        "Sub Total",
        "Notes",
    ],
    "e-invoice": [
        "Atelier Nord GmbH",
        "Tax number: DE 123 456 789",
        "BILL TO",
        "Tax number: FR40303265045",
        "Description",
        "Logo design",
        "PAY BY BANK TRANSFER",
        "DE89 3704 0044 0532 0130 00",
        "Sub Total",
        "Notes",
    ],
    "receipt": ["Payment Receipt", "RCPT-00042", "INV-00007", "INV-00009"],
    "statement": [
        "Statement of Accounts",
        "Bluebird Cafe LLC",
        "Opening balance",
        "Balance on",
        "Total outstanding",
    ],
    "credit note": [
        "Acme Studio",
        "CREDIT TO",
        "Description",
        "Goodwill credit",
        "Unused hosting",
        "Total",
        "Applied to invoice INV-00011",
        "Credit Remaining $122.00",
        "Reason",
    ],
}


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_pdf_carries_its_language_and_a_title_shown_by_the_reader(kind):
    reader = PdfReader(BytesIO(DOCUMENTS[kind]()))
    catalogue = reader.trailer["/Root"].get_object()
    assert isinstance(catalogue, DictionaryObject)
    assert catalogue["/Lang"] == "en"
    assert reader.metadata is not None
    assert (reader.metadata.title or "").startswith(TITLES[kind])
    preferences = catalogue["/ViewerPreferences"].get_object()
    assert isinstance(preferences, DictionaryObject)
    assert bool(preferences["/DisplayDocTitle"])


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_a_pdf_reads_in_the_order_of_the_page(kind):
    first = PdfReader(BytesIO(DOCUMENTS[kind]())).pages[0].extract_text()
    places = [first.find(words) for words in READING_ORDER[kind]]
    assert -1 not in places, dict(zip(READING_ORDER[kind], places, strict=True))
    assert places == sorted(places), dict(zip(READING_ORDER[kind], places, strict=True))
