"""The invoice PDF as an e-invoice and as a bank transfer slip: a Factur-X PDF/A-3 carrying the invoice's
XML, the tax numbers and bank details printed, and an EPC QR code a banking app reads (decoded here)."""

from __future__ import annotations

import logging
from dataclasses import replace
from io import BytesIO
from typing import Any

import facturx  # type: ignore[import-untyped]
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from services.e_invoice import factur_x_xml
from services.invoice_detail import InvoiceDocument
from services.money import Money
from services.pdf.invoice import render_invoice_pdf
from tests.unit.pdf.test_invoice_pdf import make_document
from tests.unit.services.test_e_invoice import BANK, BUYER, SELLER, make_e_invoice

EPC_PAYLOAD = "\n".join(
    (
        "BCD",  # the EPC format,
        "002",  # version 2,
        "1",  # UTF-8,
        "SCT",  # a SEPA credit transfer
        "COBADEFFXXX",
        "Atelier Nord GmbH",
        "DE89370400440532013000",
        "EUR829.71",  # the balance due: the total less the payment applied
        "",  # no purpose code
        "",  # no structured reference
        "INV-00042",  # the invoice number as the remittance text
    )
)


def reader(document: InvoiceDocument) -> PdfReader:
    return PdfReader(BytesIO(render_invoice_pdf(document)))


def text_of(pdf: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in pdf.pages)


def qr_codes(pdf: PdfReader) -> list[str]:
    """What every QR code drawn on the pages says, read as a phone's camera would read the image."""
    found = []
    for page in pdf.pages:
        for image in page.images:
            with Image.open(BytesIO(image.data)) as picture:
                found += [code.text for code in zxingcpp.read_barcodes(picture.convert("L"))]
    return found


# --- Factur-X ----------------------------------------------------------------------------------------


def test_an_e_invoice_carries_its_xml_as_factur_x() -> None:
    document = make_e_invoice()
    content = render_invoice_pdf(document)
    attachments = PdfReader(BytesIO(content)).attachments
    assert list(attachments) == ["factur-x.xml"]
    assert attachments["factur-x.xml"] == [factur_x_xml(document)]
    # What an accounting program does: find the XML, check it against the profile's schema.
    name, xml = facturx.get_xml_from_pdf(content, check_xsd=True)
    assert (name, xml) == ("factur-x.xml", factur_x_xml(document))


def test_the_attachment_is_the_documents_associated_file() -> None:
    catalogue: Any = reader(make_e_invoice()).trailer["/Root"].get_object()
    (spec,) = [reference.get_object() for reference in catalogue["/AF"]]
    assert spec["/F"] == spec["/UF"] == "factur-x.xml"
    assert spec["/AFRelationship"] == "/Alternative"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/text/xml"
    assert stream["/Params"]["/ModDate"] == "D:20260615000000Z"  # the invoice's date, not the clock's


def test_an_e_invoice_declares_pdf_a_3b_and_factur_x_in_its_xmp_metadata() -> None:
    pdf = reader(make_e_invoice())
    assert pdf.pdf_header == "%PDF-1.7"
    xmp = pdf.xmp_metadata
    assert xmp is not None
    namespaces = {
        "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
        "fx": "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#",
    }
    values = {
        f"{prefix}:{name}": xmp._get_single_value(namespaces[prefix], name)
        for prefix, name in (
            ("pdfaid", "part"),
            ("pdfaid", "conformance"),
            ("fx", "DocumentType"),
            ("fx", "DocumentFileName"),
            ("fx", "Version"),
            ("fx", "ConformanceLevel"),
        )
    }
    assert values == {
        "pdfaid:part": "3",
        "pdfaid:conformance": "B",
        "fx:DocumentType": "INVOICE",
        "fx:DocumentFileName": "factur-x.xml",
        "fx:Version": "1.0",
        "fx:ConformanceLevel": "EN 16931",
    }
    # PDF/A asks the XMP and the information dictionary to agree.
    info = pdf.metadata
    assert info is not None
    assert xmp.dc_title == {"x-default": info.title}
    assert info.title == "Invoice INV-00042"
    assert xmp.dc_creator == [info.author]
    assert info.author == "Atelier Nord GmbH"
    assert xmp.dc_description == {"x-default": info.subject}
    assert xmp.xmp_creator_tool == info.creator
    assert info.creation_date is not None
    assert xmp.xmp_create_date == info.creation_date.replace(tzinfo=None)
    assert xmp.dc_language == ["en"]


def test_an_e_invoice_embeds_every_font_and_states_its_colours() -> None:
    pdf = reader(make_e_invoice())
    for page in pdf.pages:
        resources: Any = page["/Resources"]
        fonts = resources["/Font"]
        for font in (reference.get_object() for reference in fonts.values()):
            assert font["/Subtype"] == "/Type0", font["/BaseFont"]  # never an unembedded standard font
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]
    catalogue: Any = pdf.trailer["/Root"].get_object()
    (intent,) = [reference.get_object() for reference in catalogue["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    assert intent["/OutputConditionIdentifier"] == "sRGB"
    assert len(intent["/DestOutputProfile"].get_object().get_data()) > 1000  # an ICC profile
    assert "/ID" in pdf.trailer
    assert "/Encrypt" not in pdf.trailer


def test_an_e_invoice_keeps_its_title_and_language_for_readers() -> None:
    pdf = reader(make_e_invoice())
    catalogue: Any = pdf.trailer["/Root"].get_object()
    assert isinstance(catalogue, DictionaryObject)
    assert catalogue["/Lang"] == "en"
    preferences: Any = catalogue["/ViewerPreferences"]
    assert bool(preferences["/DisplayDocTitle"])
    assert pdf.metadata is not None
    assert pdf.metadata.title == "Invoice INV-00042"


def test_the_same_e_invoice_gives_the_same_bytes() -> None:
    assert render_invoice_pdf(make_e_invoice()) == render_invoice_pdf(make_e_invoice())


def test_without_e_invoices_the_pdf_carries_no_xml() -> None:
    pdf = reader(make_e_invoice(e_invoice=False))
    assert not pdf.attachments
    assert pdf.xmp_metadata is None


def test_a_broken_e_invoice_still_gives_the_customer_the_invoice(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(document: InvoiceDocument) -> bytes:
        raise ValueError("a bug")

    monkeypatch.setattr("services.pdf.invoice.factur_x_xml", broken)
    with caplog.at_level(logging.ERROR, logger="services.pdf.invoice"):
        pdf = reader(make_e_invoice())
    assert not pdf.attachments
    assert "Balance Due" in text_of(pdf)
    assert "the e-invoice failed" in caplog.text


# --- what is printed ---------------------------------------------------------------------------------


def test_the_tax_numbers_and_the_bank_details_are_printed() -> None:
    printed = text_of(reader(make_e_invoice()))
    for words in (
        "Tax number: DE 123 456 789",  # as the business typed it
        "Tax number: FR40303265045",
        "PAY BY BANK TRANSFER",
        "Commerzbank",
        "DE89 3704 0044 0532 0130 00",
        "COBADEFFXXX",
    ):
        assert words in printed, words
    caption = " ".join(printed.split("Scan the code", 1)[1].split())  # wrapped in its narrow column
    assert caption.startswith("with your banking app to pay €829.71.")


def test_a_euro_invoice_carries_an_epc_qr_code_for_its_balance_due() -> None:
    assert qr_codes(reader(make_e_invoice(e_invoice=False))) == [EPC_PAYLOAD]
    assert qr_codes(reader(make_e_invoice())) == [EPC_PAYLOAD]  # in the PDF/A too


def test_an_invoice_in_another_currency_prints_the_bank_details_without_a_code() -> None:
    pdf = reader(make_document(business=SELLER, client=BUYER, bank=BANK))  # in dollars
    assert qr_codes(pdf) == []
    assert "DE89 3704 0044 0532 0130 00" in text_of(pdf)
    assert "banking app" not in text_of(pdf)


@pytest.mark.parametrize(
    "change",
    [
        {"bank": None},
        {"status": "paid", "status_label": "Paid", "balance_due": Money(0, "EUR")},
        {"status": "void", "status_label": "Void"},
    ],
    ids=["no IBAN", "nothing due", "void"],
)
def test_no_code_without_an_iban_or_an_amount_to_pay(change: dict[str, object]) -> None:
    assert qr_codes(reader(make_e_invoice(e_invoice=False, **change))) == []


def test_without_bank_details_nothing_about_a_transfer_is_printed() -> None:
    printed = text_of(reader(replace(make_e_invoice(e_invoice=False), bank=None)))
    assert "BANK TRANSFER" not in printed
    assert "IBAN" not in printed
