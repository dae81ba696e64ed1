"""Invisible, control and format characters in any field never break a PDF and never show in it.

Every text field of the invoice, the receipt and the statement gets such a character inside each of its
words; each document must render, in the standard Helvetica (Latin text) and in the embedded DejaVu Sans
(Greek text) alike, and read back (pypdf) as if the character had never been typed.
"""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO

import pytest
from pypdf import PdfReader

from services.invoice_detail import InvoiceDocument, Party
from services.payments_made import AppliedLine, PaymentDetail
from services.pdf import render_invoice_pdf
from services.pdf.fonts import printable
from services.pdf.receipt import render_receipt_pdf
from services.pdf.statement import render_statement_pdf
from services.statement import Statement
from tests.unit.pdf.test_invoice_pdf import make_document, make_line
from tests.unit.pdf.test_receipt_pdf import RECEIPT, usd
from tests.unit.pdf.test_statement_pdf import DESCRIPTIONS, make_statement

INVISIBLE = {
    "zero-width-space": "\u200b",
    "right-to-left-override": "\u202e",
    "byte-order-mark": "\ufeff",
    "left-to-right-isolate": "\u2066",
    "word-joiner": "\u2060",
    "soft-hyphen": "\u00ad",
    "tag-letter": "\U000e0041",
    "nul": "\x00",
    "bell": "\x07",
    "escape": "\x1b",
    "delete": "\x7f",
    "c1-control": "\x9b",
    "unpaired-surrogate": "\ud800",
}
# One document in Latin only (set in Helvetica, nothing embedded), one with Greek (DejaVu Sans embedded).
SCRIPTS = {"latin": "Northwind Studio", "greek": "Αθηνά Studio"}


def salted(text: str, char: str) -> str:
    """``text`` with ``char`` inside every word of two letters or more (after its first letter)."""
    return " ".join(word[:1] + char + word[1:] if len(word) > 1 else word for word in text.split(" "))


def party(name: str, char: str) -> Party:
    return Party(
        salted(name, char),
        salted(f"{name} Holdings", char),
        salted("hello@northwind.example", char),
        salted("+1 415 555 0142", char),
        salted("https://northwind.example", char),
        (salted("500 Market Street", char), salted("San Francisco, CA 94105", char)),
    )


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def assert_same_as_without(salted_pdf: bytes, clean_pdf: bytes, char: str, words: tuple[str, ...]) -> None:
    """The document with ``char`` in its fields is the document without it: the same bytes, so the same
    text layer, font and metadata, in which ``words`` read as typed. A lone surrogate is the exception: no
    font or PDF string can hold it, so it prints as U+FFFD (the replacement character), a character wide."""
    clean_text = text_of(clean_pdf)
    assert all(text in clean_text for text in words)
    if char == INVISIBLE["unpaired-surrogate"]:
        salted_text = text_of(salted_pdf)
        assert "\ufffd" in salted_text
        assert all(text in salted_text.replace("\ufffd", "") for text in words)
    else:
        assert salted_pdf == clean_pdf


def invoice(char: str, name: str) -> InvoiceDocument:
    description, tax = salted("Logo design and brand guide", char), salted("VAT", char)
    line = make_line(description, tax_percent="20", tax_name=tax)
    return make_document(
        (line,),
        number=salted("INV-00042", char),
        business=party(name, char),
        client=party("Bluebird Cafe", char),
        notes=salted("Thank you for your business.", char),
        terms=salted("Payment is due within 30 days.", char),
    )


def receipt(char: str, name: str) -> PaymentDetail:
    return replace(
        RECEIPT,
        receipt_number=salted("RCPT-00042", char),
        business=party(name, char),
        client=party("Bluebird Cafe", char),
        method=salted("Visa ending 4242", char),
        applied=(AppliedLine("i1", salted("INV-00007", char), "payment", usd(100_000), usd(0)),),
    )


def statement(char: str, name: str) -> Statement:
    descriptions = {kind: salted(text, char) for kind, text in DESCRIPTIONS.items()}
    made = make_statement(12, client=party(name, char), descriptions=descriptions)
    lines = tuple(replace(line, reference=salted(line.reference, char)) for line in made.lines)
    return replace(made, business=party("Bluebird Cafe", char), lines=lines)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_the_invoice_renders_as_if_the_character_were_not_there(char: str, script: str) -> None:
    clean = render_invoice_pdf(invoice("", SCRIPTS[script]))
    words = (SCRIPTS[script], "Bluebird Cafe", "Logo design and brand guide")
    assert_same_as_without(render_invoice_pdf(invoice(char, SCRIPTS[script])), clean, char, words)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_the_receipt_renders_as_if_the_character_were_not_there(char: str, script: str) -> None:
    clean = render_receipt_pdf(receipt("", SCRIPTS[script]))
    words = (SCRIPTS[script], "Bluebird Cafe", "Visa ending 4242")
    assert_same_as_without(render_receipt_pdf(receipt(char, SCRIPTS[script])), clean, char, words)


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_the_statement_renders_as_if_the_character_were_not_there(char: str, script: str) -> None:
    clean = render_statement_pdf(statement("", SCRIPTS[script]))
    words = (SCRIPTS[script], "Bluebird Cafe", "Refund of credit note")
    assert_same_as_without(render_statement_pdf(statement(char, SCRIPTS[script])), clean, char, words)


def test_a_company_name_with_a_zero_width_space_still_gives_a_receipt() -> None:
    """The report that started this: every receipt download of such a business failed."""
    business = replace(RECEIPT.business, name="Northwind\u200bDesign Studio")
    assert "NorthwindDesign Studio" in text_of(render_receipt_pdf(replace(RECEIPT, business=business)))


@pytest.mark.parametrize(
    "text",
    ["Zoë Łukasiewicz-Nguyễn", "Αθηνά Παπαδοπούλου", "Дмитрий Иванов", "Café – “quoted” 1 234,56 €", "a\nb"],
)
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert printable(text) == text


def test_line_separators_become_line_breaks_and_tabs_spaces() -> None:
    assert printable("a\r\nb\rc\u2028d\u2029e\x85f\x0bg\x0ch\ti") == "a\nb\nc\nd\ne\nf\ng\nh i"


def test_surrogates_become_one_character_when_paired_and_a_replacement_when_alone() -> None:
    assert printable("\ud83d\ude00 \ud800x").endswith("\ufffdx")
    assert printable("x\udfff") == "x\ufffd"


def test_characters_the_fonts_lack_fall_back_to_a_question_mark() -> None:
    assert printable("東京 Office") == "?? Office"
