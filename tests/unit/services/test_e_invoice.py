"""The e-invoice's XML (Factur-X / ZUGFeRD, EN 16931 profile): what an accounting program reads from it is
the invoice the customer reads, to the cent, and it passes the profile's schema and business rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import facturx  # type: ignore[import-untyped]
import pytest
from lxml import etree
from saxonche import PySaxonProcessor

from services.bank_details import BankDetails
from services.dashboard import Address
from services.e_invoice import NAMESPACES, InvalidEInvoice, factur_x_xml
from services.invoice_detail import AppliedAmount, InvoiceDocument, Party
from services.money import Money
from tests.unit.pdf.test_invoice_pdf import make_document, make_line

EUR = "EUR"
SELLER = Party(
    name="Atelier Nord GmbH",
    company="",
    email="rechnung@atelier-nord.example",
    phone="+49 30 1234567",
    website="",
    address_lines=("Hauptstraße 1", "10115 Berlin", "Germany"),
    tax_id="DE 123 456 789",
    address=Address("Hauptstraße 1", "", "Berlin", "", "10115", "DE"),
)
BUYER = Party(
    name="Jeanne Martin",
    company="Client SARL",
    email="compta@client.example",
    phone="",
    website="",
    address_lines=("22 rue de la Paix", "75002 Paris", "France"),
    tax_id="FR40303265045",
    address=Address("22 rue de la Paix", "", "Paris", "", "75002", "FR"),
)
BANK = BankDetails("DE89370400440532013000", "COBADEFFXXX", "Commerzbank")


def make_e_invoice(**overrides: Any) -> InvoiceDocument:
    """A euro invoice with two VAT rates, a discounted line, a line without tax and a payment applied."""
    lines = (
        make_line("Logo design", "1", 45_000, tax_percent="19", tax_name="MwSt.", currency=EUR),
        make_line(
            "Hosting (monthly)",
            "12",
            2_533,
            discount_percent="10",
            tax_percent="19",
            tax_name="MwSt.",
            currency=EUR,
        ),
        make_line("Style guide (printed)", "3", 1_999, tax_percent="7", tax_name="MwSt.", currency=EUR),
        make_line("Postage", "1", 450, currency=EUR),
    )
    paid = AppliedAmount("payment", "Payment RCPT-00001", date(2026, 6, 20), Money(10_000, EUR))
    document = make_document(
        lines, currency=EUR, applied=(paid,), business=SELLER, client=BUYER, bank=BANK, e_invoice=True
    )
    return replace(document, **overrides)


def parsed(document: InvoiceDocument) -> etree._Element:
    return etree.fromstring(factur_x_xml(document))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.xpath(path, namespaces=NAMESPACES)]


def text(root: etree._Element, path: str) -> str:
    (found,) = texts(root, path)
    return found


SETTLEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeSettlement"
TOTALS = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"
AGREEMENT = "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:ApplicableHeaderTradeAgreement"


def cents(value: str) -> int:
    return int(Decimal(value) * 100)


# --- what it says ------------------------------------------------------------------------------------


def test_the_seller_and_the_buyer_are_named_with_their_tax_ids_and_countries() -> None:
    root = parsed(make_e_invoice())
    seller, buyer = f"{AGREEMENT}/ram:SellerTradeParty", f"{AGREEMENT}/ram:BuyerTradeParty"
    assert text(root, f"{seller}/ram:Name") == "Atelier Nord GmbH"
    assert text(root, f"{seller}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "DE123456789"
    assert text(root, f"{seller}/ram:PostalTradeAddress/ram:CountryID") == "DE"
    assert text(root, f"{seller}/ram:PostalTradeAddress/ram:CityName") == "Berlin"
    assert text(root, f"{buyer}/ram:Name") == "Client SARL"  # the company the invoice is addressed to
    assert text(root, f"{buyer}/ram:SpecifiedTaxRegistration/ram:ID[@schemeID='VA']") == "FR40303265045"
    assert text(root, f"{buyer}/ram:PostalTradeAddress/ram:CountryID") == "FR"
    assert text(root, f"{buyer}/ram:URIUniversalCommunication/ram:URIID[@schemeID='EM']") == (
        "compta@client.example"
    )


def test_the_totals_and_taxes_are_the_invoices_to_the_cent() -> None:
    document = make_e_invoice()
    root = parsed(document)
    net = document.subtotal - document.discount
    assert text(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == "EUR"
    assert cents(text(root, f"{TOTALS}/ram:LineTotalAmount")) == net.minor == 78_803
    assert cents(text(root, f"{TOTALS}/ram:TaxBasisTotalAmount")) == net.minor
    assert (
        cents(text(root, f"{TOTALS}/ram:TaxTotalAmount[@currencyID='EUR']")) == document.tax.minor == 14_168
    )
    assert cents(text(root, f"{TOTALS}/ram:GrandTotalAmount")) == document.total.minor == 92_971
    assert cents(text(root, f"{TOTALS}/ram:TotalPrepaidAmount")) == 10_000
    assert cents(text(root, f"{TOTALS}/ram:DuePayableAmount")) == document.balance_due.minor == 82_971
    # Each rate's tax is the sum of its lines' rounded taxes, as on the invoice.
    breakdown = {
        (text(node, "ram:CategoryCode"), text(node, "ram:RateApplicablePercent")): (
            cents(text(node, "ram:BasisAmount")),
            cents(text(node, "ram:CalculatedAmount")),
        )
        for node in root.xpath(f"{SETTLEMENT}/ram:ApplicableTradeTax", namespaces=NAMESPACES)
    }
    assert breakdown == {
        ("S", "19"): (45_000 + 30_396 - 3_040, 8_550 + 5_198),
        ("S", "7"): (5_997, 420),
        ("Z", "0"): (450, 0),
    }
    assert sum(tax for _, tax in breakdown.values()) == document.tax.minor


def test_each_line_has_its_quantity_price_discount_and_net_amount() -> None:
    root = parsed(make_e_invoice())
    items = root.xpath(
        "/rsm:CrossIndustryInvoice/rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem",
        namespaces=NAMESPACES,
    )
    assert [text(item, "ram:SpecifiedTradeProduct/ram:Name") for item in items] == [
        "Logo design", "Hosting (monthly)", "Style guide (printed)", "Postage",
    ]  # fmt: skip
    hosting = items[1]
    assert text(hosting, "ram:SpecifiedLineTradeDelivery/ram:BilledQuantity") == "12"
    assert text(
        hosting, "ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/ram:ChargeAmount"
    ) == ("25.33")
    allowance = "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge"
    assert text(hosting, f"{allowance}/ram:ChargeIndicator/udt:Indicator") == "false"
    assert text(hosting, f"{allowance}/ram:ActualAmount") == "30.40"
    summation = "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation"
    assert text(hosting, f"{summation}/ram:LineTotalAmount") == "273.56"


def test_the_number_dates_payment_account_and_reference_are_the_invoices() -> None:
    root = parsed(make_e_invoice())
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID") == "INV-00042"
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == "380"
    issued = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IssueDateTime/udt:DateTimeString"
    assert text(root, issued) == "20260615"
    due = f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime/udt:DateTimeString"
    assert text(root, due) == "20260715"
    assert text(root, f"{SETTLEMENT}/ram:PaymentReference") == "INV-00042"
    means = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"
    assert text(root, f"{means}/ram:TypeCode") == "58"  # SEPA credit transfer
    assert (
        text(root, f"{means}/ram:PayeePartyCreditorFinancialAccount/ram:IBANID") == "DE89370400440532013000"
    )
    assert text(root, f"{means}/ram:PayeeSpecifiedCreditorFinancialInstitution/ram:BICID") == "COBADEFFXXX"


def test_a_retainer_invoice_is_a_prepayment_invoice() -> None:
    root = parsed(make_e_invoice(is_retainer=True))
    assert text(root, "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:TypeCode") == "386"


def test_amounts_have_the_currencys_decimals() -> None:
    lines = (make_line("Consulting", "2", 15_000, tax_percent="10", currency="JPY"),)
    document = make_document(lines, currency="JPY", business=SELLER, client=BUYER, e_invoice=True)
    root = parsed(document)
    assert text(root, f"{TOTALS}/ram:GrandTotalAmount") == "33000"
    assert text(root, f"{SETTLEMENT}/ram:InvoiceCurrencyCode") == "JPY"


def test_text_that_xml_cannot_hold_is_left_out() -> None:
    root = parsed(make_e_invoice(notes="Thanks\x0b & see <you>", terms=""))
    notes = "/rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:IncludedNote/ram:Content"
    assert texts(root, notes) == ["Thanks & see <you>"]


def test_an_xml_the_schema_refuses_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.e_invoice._cii", lambda document: b"<rsm:CrossIndustryInvoice/>")
    with pytest.raises(InvalidEInvoice):
        factur_x_xml(make_e_invoice())


# --- valid ---------------------------------------------------------------------------------------------


@cache
def _business_rules() -> Any:
    """The EN 16931 profile's Schematron, compiled to XSLT 3 by Factur-X and shipped by the package."""
    stylesheet = resources.files("facturx") / "xsd_and_schematron/facturx-en16931/FACTUR-X_EN16931.xslt"
    processor = PySaxonProcessor(license=False)
    compiled = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(stylesheet))
    return processor, compiled


def broken_rules(xml: bytes) -> list[str]:
    """The business rules the XML breaks (warnings left out), as "id: text"."""
    processor, compiled = _business_rules()
    report = etree.fromstring(
        compiled.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode())).encode()
    )
    failed = report.iter("{http://purl.oclc.org/dsdl/svrl}failed-assert")
    return [
        f"{node.get('id')}: {' '.join(node.findtext('{http://purl.oclc.org/dsdl/svrl}text', '').split())}"
        for node in failed
        if node.get("flag") != "warning"
    ]


VARIANTS: dict[str, dict[str, Any]] = {
    "two rates, a discount, no tax and a payment": {},
    "a buyer without a tax number": {"client": replace(BUYER, tax_id="")},
    "a buyer with a national tax number": {"client": replace(BUYER, tax_id="12/345/67890")},
    "no bank account": {"bank": None},
    "a retainer invoice": {"is_retainer": True},
    "nothing paid yet": {"applied": (), "balance_due": Money(92_971, EUR)},
    "many small lines rounded one by one": {
        "lines": tuple(make_line(f"Item {n}", "1", 5, tax_percent="19", currency=EUR) for n in range(60)),
        "subtotal": Money(300, EUR),
        "discount": Money(0, EUR),
        "tax": Money(60, EUR),  # 60 x round(0.95 cents): the category's 57 cents rounded once would differ
        "total": Money(360, EUR),
        "applied": (),
        "balance_due": Money(360, EUR),
    },
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_xml_passes_the_profiles_schema_and_business_rules(variant: str) -> None:
    xml = factur_x_xml(make_e_invoice(**VARIANTS[variant]))
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert facturx.get_level(etree.fromstring(xml), "factur-x") == "en16931"
    assert broken_rules(xml) == []


def test_the_business_rules_catch_a_total_that_does_not_add_up() -> None:
    """The check above can fail: a grand total one cent off breaks BR-CO-15 (total = basis + tax)."""
    xml = factur_x_xml(make_e_invoice()).replace(
        b"<ram:GrandTotalAmount>929.71<", b"<ram:GrandTotalAmount>929.72<"
    )
    assert any(rule.startswith("BR-CO-15") for rule in broken_rules(xml))
