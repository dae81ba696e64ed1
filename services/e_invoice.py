"""An invoice as Factur-X / ZUGFeRD data: the UN/CEFACT Cross Industry Invoice (CII) XML of the EN 16931
profile, which the invoice PDF carries as ``factur-x.xml`` (``services.pdf.invoice``).

A pure function of the ``InvoiceDocument`` the PDF prints, so the XML and the page say the same: each
line's net amount is its amount less its discount, each tax category's tax is the sum of its lines'
rounded taxes (the invoice's own rounding rule, once per line), and the totals are the invoice's.

What the model does not know is filled in as a small business's invoice usually needs it:
- tax: a line with a rate is standard-rated VAT (category S), one without is zero-rated (Z);
- the business's tax number goes in as its VAT ID (scheme VA): an e-invoice is made only when it is one
  (``services.invoice_detail.payment_details``), since the buyer identifies the seller by it (BR-CO-26);
  the client's tax number likewise, when it is a VAT ID (EN 16931 has no other for a buyer);
- payment: a SEPA credit transfer (code 58) to the business's IBAN when it set one, referring to the
  invoice number, due on the invoice's due date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree as ET

import facturx  # type: ignore[import-untyped]  # the package ships no types

from services.bank_details import vat_id
from services.dashboard import Address
from services.invoice_detail import DocumentLine, InvoiceDocument, Party
from services.money import Money

FILE_NAME = "factur-x.xml"  # the name Factur-X 1.0 and ZUGFeRD 2 readers look for
PROFILE = "urn:cen.eu:en16931:2017"  # BT-24: EN 16931 (Factur-X and ZUGFeRD's "EN 16931" / "Comfort")
CONFORMANCE_LEVEL = "EN 16931"  # the profile's name in the PDF's XMP metadata
INVOICE = "380"  # UNTDID 1001: commercial invoice
PREPAYMENT_INVOICE = "386"  # a retainer invoice asks for an advance payment
SEPA_CREDIT_TRANSFER = "58"  # UNTDID 4461
STANDARD_RATE, ZERO_RATED = "S", "Z"  # UNTDID 5305
ONE = "C62"  # UN/ECE Recommendation 20: a unit (the editor has no units of measure)

NAMESPACES = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
}
# XML 1.0 has no place for the other control characters, which a pasted description may hold.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

for _prefix, _uri in NAMESPACES.items():
    ET.register_namespace(_prefix, _uri)


class InvalidEInvoice(ValueError):
    """The XML made for an invoice does not pass the profile's schema: a bug, never the customer's."""


def factur_x_xml(document: InvoiceDocument) -> bytes:
    """The invoice's CII XML (EN 16931 profile), UTF-8 with its declaration.

    It is checked against the profile's XML schema (the one the ``factur-x`` package ships) before it is
    handed out; ``InvalidEInvoice`` otherwise, so no invalid e-invoice ever leaves the portal.
    """
    xml = _cii(document)
    try:
        facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    except Exception as error:  # the package raises a bare Exception with the schema's complaint
        raise InvalidEInvoice(f"invoice {document.number}: {error}") from error
    return xml


def _cii(document: InvoiceDocument) -> bytes:
    root = _element("rsm:CrossIndustryInvoice")
    context = _child(root, "rsm:ExchangedDocumentContext")
    _child(_child(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", PROFILE)

    header = _child(root, "rsm:ExchangedDocument")
    _child(header, "ram:ID", document.number)
    _child(header, "ram:TypeCode", PREPAYMENT_INVOICE if document.is_retainer else INVOICE)
    _date(_child(header, "ram:IssueDateTime"), document.issue_date)
    for text in (document.notes, document.terms):
        if text.strip():
            _child(_child(header, "ram:IncludedNote"), "ram:Content", text.strip())

    transaction = _child(root, "rsm:SupplyChainTradeTransaction")
    for number, line in enumerate(document.lines, start=1):
        _line(transaction, number, line)
    agreement = _child(transaction, "ram:ApplicableHeaderTradeAgreement")
    _party(agreement, "ram:SellerTradeParty", document.business)
    _party(agreement, "ram:BuyerTradeParty", document.client)
    _child(transaction, "ram:ApplicableHeaderTradeDelivery")
    _settlement(transaction, document)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def tax_category(line: DocumentLine) -> tuple[str, Decimal]:
    """The line's VAT category and rate, as the XML states them."""
    rate = line.tax_rate_percent
    return (STANDARD_RATE if rate > 0 else ZERO_RATED), rate


def _line(transaction: ET.Element, number: int, line: DocumentLine) -> None:
    item = _child(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _child(_child(item, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(number))
    _child(_child(item, "ram:SpecifiedTradeProduct"), "ram:Name", line.description)
    agreement = _child(item, "ram:SpecifiedLineTradeAgreement")
    _child(_child(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", _amount(line.rate))
    delivery = _child(item, "ram:SpecifiedLineTradeDelivery")
    _child(delivery, "ram:BilledQuantity", _decimal(line.quantity)).set("unitCode", ONE)
    settlement = _child(item, "ram:SpecifiedLineTradeSettlement")
    category, rate = tax_category(line)
    tax = _child(settlement, "ram:ApplicableTradeTax")
    _child(tax, "ram:TypeCode", "VAT")
    _child(tax, "ram:CategoryCode", category)
    _child(tax, "ram:RateApplicablePercent", _decimal(rate))
    if line.discount.minor:
        allowance = _child(settlement, "ram:SpecifiedTradeAllowanceCharge")
        _child(_child(allowance, "ram:ChargeIndicator"), "udt:Indicator", "false")
        _child(allowance, "ram:CalculationPercent", _decimal(line.discount_percent))
        _child(allowance, "ram:BasisAmount", _amount(line.amount))
        _child(allowance, "ram:ActualAmount", _amount(line.discount))
        _child(allowance, "ram:Reason", "Discount")
    summation = _child(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
    _child(summation, "ram:LineTotalAmount", _amount(line.amount - line.discount))


def _party(agreement: ET.Element, tag: str, party: Party) -> None:
    element = _child(agreement, tag)
    _child(element, "ram:Name", party.company or party.name)
    address = party.address
    if address.country:  # the one part the schema requires of an address
        _address(_child(element, "ram:PostalTradeAddress"), address)
    if party.email:
        _child(_child(element, "ram:URIUniversalCommunication"), "ram:URIID", party.email).set(
            "schemeID", "EM"
        )
    vat = vat_id(party.tax_id)
    if vat:
        registration = _child(element, "ram:SpecifiedTaxRegistration")
        _child(registration, "ram:ID", vat).set("schemeID", "VA")


def _address(postal: ET.Element, address: Address) -> None:
    for tag, value in (
        ("ram:PostcodeCode", address.postal_code),
        ("ram:LineOne", address.line1),
        ("ram:LineTwo", address.line2),
        ("ram:CityName", address.city),
        ("ram:CountryID", address.country),
        ("ram:CountrySubDivisionName", address.region),
    ):
        if value.strip():
            _child(postal, tag, value.strip())


def _settlement(transaction: ET.Element, document: InvoiceDocument) -> None:
    currency = document.total.currency
    settlement = _child(transaction, "ram:ApplicableHeaderTradeSettlement")
    _child(settlement, "ram:PaymentReference", document.number)
    _child(settlement, "ram:InvoiceCurrencyCode", currency)
    if document.bank is not None:
        means = _child(settlement, "ram:SpecifiedTradeSettlementPaymentMeans")
        _child(means, "ram:TypeCode", SEPA_CREDIT_TRANSFER)
        _child(_child(means, "ram:PayeePartyCreditorFinancialAccount"), "ram:IBANID", document.bank.iban)
        if document.bank.bic:
            institution = _child(means, "ram:PayeeSpecifiedCreditorFinancialInstitution")
            _child(institution, "ram:BICID", document.bank.bic)
    for (category, rate), (basis, tax) in _tax_breakdown(document.lines, currency).items():
        breakdown = _child(settlement, "ram:ApplicableTradeTax")
        _child(breakdown, "ram:CalculatedAmount", _amount(tax))
        _child(breakdown, "ram:TypeCode", "VAT")
        _child(breakdown, "ram:BasisAmount", _amount(basis))
        _child(breakdown, "ram:CategoryCode", category)
        _child(breakdown, "ram:RateApplicablePercent", _decimal(rate))
    _date(
        _child(_child(settlement, "ram:SpecifiedTradePaymentTerms"), "ram:DueDateDateTime"), document.due_date
    )

    net = document.subtotal - document.discount
    prepaid = document.total - document.balance_due
    summation = _child(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _child(summation, "ram:LineTotalAmount", _amount(net))
    _child(summation, "ram:TaxBasisTotalAmount", _amount(net))
    _child(summation, "ram:TaxTotalAmount", _amount(document.tax)).set("currencyID", currency)
    _child(summation, "ram:GrandTotalAmount", _amount(document.total))
    if prepaid.minor:
        _child(summation, "ram:TotalPrepaidAmount", _amount(prepaid))
    _child(summation, "ram:DuePayableAmount", _amount(document.balance_due))


def _tax_breakdown(
    lines: Iterable[DocumentLine], currency: str
) -> dict[tuple[str, Decimal], tuple[Money, Money]]:
    """(category, rate) -> (taxable amount, tax), in the order the categories first appear."""
    breakdown: dict[tuple[str, Decimal], tuple[Money, Money]] = {}
    zero = Money.zero(currency)
    for line in lines:
        key = tax_category(line)
        basis, tax = breakdown.get(key, (zero, zero))
        breakdown[key] = (basis + line.amount - line.discount, tax + line.tax)
    return breakdown


def _element(tag: str) -> ET.Element:
    prefix, name = tag.split(":")
    return ET.Element(f"{{{NAMESPACES[prefix]}}}{name}")


def _child(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = _element(tag)
    parent.append(element)
    if text is not None:
        element.text = _NOT_XML.sub("", text)
    return element


def _date(parent: ET.Element, day: date) -> None:
    _child(parent, "udt:DateTimeString", day.strftime("%Y%m%d")).set("format", "102")


def _amount(money: Money) -> str:
    return f"{money.to_decimal():f}"


def _decimal(value: Decimal) -> str:
    return f"{value.normalize():f}"
