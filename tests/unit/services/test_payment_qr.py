"""The EPC QR code: what a banking app reads from it is a SEPA transfer of the balance due, in euros, to the
business's IBAN, with the invoice number as the reference; no code where there is nothing to pay by it."""

from __future__ import annotations

import base64
from dataclasses import replace
from io import BytesIO
from urllib.parse import unquote

import pytest
import zxingcpp
from PIL import Image

from services.bank_details import BankDetails
from services.invoice_detail import InvoiceDocument
from services.money import Money
from services.payment_qr import EpcTransfer, epc_qr_data_url, epc_qr_png, epc_transfer
from tests.unit.pdf.test_invoice_pdf import make_document
from tests.unit.services.test_e_invoice import BANK, SELLER, make_e_invoice


def scanned(png: bytes) -> str:
    with Image.open(BytesIO(png)) as image:
        (code,) = zxingcpp.read_barcodes(image.convert("L"))
    assert code.format == zxingcpp.BarcodeFormat.QRCode
    return str(code.text)


def transfer_of(document: InvoiceDocument) -> EpcTransfer:
    transfer = epc_transfer(document)
    assert transfer is not None
    return transfer


def test_the_code_asks_for_a_sepa_transfer_of_the_balance_due() -> None:
    transfer = transfer_of(make_e_invoice())
    assert transfer == EpcTransfer(
        "Atelier Nord GmbH", "DE89370400440532013000", "COBADEFFXXX", 82_971, "INV-00042"
    )
    assert scanned(epc_qr_png(transfer)).split("\n") == [
        "BCD", "002", "1", "SCT", "COBADEFFXXX", "Atelier Nord GmbH", "DE89370400440532013000",
        "EUR829.71", "", "", "INV-00042",
    ]  # fmt: skip


def test_whole_euros_and_a_name_in_any_script_survive_the_code() -> None:
    document = make_e_invoice(balance_due=Money(120_000, "EUR"), business=replace(SELLER, name="Ærø Café ΔΣ"))
    lines = scanned(epc_qr_png(transfer_of(document))).split("\n")
    assert lines[5] == "Ærø Café ΔΣ"  # UTF-8, as the code says on its third line
    assert lines[7] == "EUR1200"


def test_the_bic_is_optional_and_a_long_name_is_cut_to_the_formats_70_characters() -> None:
    document = make_e_invoice(
        bank=BankDetails("DE89370400440532013000"),
        business=replace(SELLER, name="N" * 90),
    )
    lines = scanned(epc_qr_png(transfer_of(document))).split("\n")
    assert lines[4] == ""
    assert lines[5] == "N" * 70


@pytest.mark.parametrize(
    "change",
    [
        {"bank": None},
        {"balance_due": Money(0, "EUR"), "status": "paid"},
        {"status": "void"},
        {"balance_due": Money(100_000_000_000, "EUR")},  # more than one transfer may carry
    ],
    ids=["no IBAN", "nothing due", "void", "too much for one transfer"],
)
def test_no_code_when_there_is_nothing_to_pay_by_it(change: dict[str, object]) -> None:
    assert epc_transfer(make_e_invoice(**change)) is None


def test_no_code_for_another_currency() -> None:
    assert epc_transfer(make_document(bank=BANK)) is None  # in dollars


def test_the_page_gets_the_same_code_as_an_svg() -> None:
    transfer = transfer_of(make_e_invoice())
    url = epc_qr_data_url(transfer)
    assert url.startswith("data:image/svg+xml")
    svg = unquote(url.split(",", 1)[1]) if ";base64" not in url else base64.b64decode(url.split(",", 1)[1])
    assert "<svg" in str(svg)
