"""One invoice as the customer reads it, on screen and in the PDF: plain data, no ORM objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Allocation,
    AllocationKind,
    Client,
    CreditNote,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    Organization,
    Payment,
    PaymentStatus,
)
from models.document_line import LineColumns
from services.bank_details import BankDetails, vat_id
from services.clock import Clock, utc_now
from services.dashboard import Address
from services.database import Database
from services.i18n import _, formatting_locale
from services.invoice_list import status_label
from services.invoices import mark_viewed
from services.money import Money
from services.principal import ActsForClient, Principal
from services.records import client_invoice

NO_ADDRESS = Address("", "", "", "", "", "")


@dataclass(frozen=True)
class Party:
    name: str
    company: str
    email: str
    phone: str
    website: str
    address_lines: tuple[str, ...]
    tax_id: str = ""  # the business's tax number or VAT ID, the client's tax number
    address: Address = NO_ADDRESS  # the parts of ``address_lines``, for the e-invoice's XML


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    rate: Money
    discount_percent: Decimal
    tax_name: str
    tax_rate_percent: Decimal
    amount: Money  # quantity x rate, rounded
    discount: Money
    tax: Money


@dataclass(frozen=True)
class AppliedAmount:
    kind: str  # payment | credit | retainer
    label: str  # "Payment RCPT-00003 · Visa •••• 4242", "Credit note CN-00001", ...
    applied_on: date
    amount: Money


@dataclass(frozen=True)
class InvoiceDocument:
    public_id: str
    number: str
    is_retainer: bool
    status: str
    status_label: str
    issue_date: date
    due_date: date
    business: Party
    client: Party
    lines: tuple[DocumentLine, ...]
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    applied: tuple[AppliedAmount, ...]
    balance_due: Money
    notes: str
    terms: str
    locale: str
    logo: bytes | None
    viewed_at: datetime | None
    bank: BankDetails | None = None  # the business's account, when it set its IBAN
    e_invoice: bool = False  # the PDF is Factur-X: PDF/A-3 with the EN 16931 XML (services.e_invoice)

    @property
    def title(self) -> str:
        return _("Retainer Invoice") if self.is_retainer else _("Invoice")

    @property
    def pays_by_epc_qr(self) -> bool:
        """Whether the invoice carries an EPC QR code: a euro amount due, and an IBAN to send it to."""
        return (
            self.bank is not None
            and self.balance_due.currency == "EUR"
            and self.balance_due.minor > 0
            and self.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
        )


def get_invoice(
    db: Database, principal: ActsForClient, public_id: str, *, today: date, with_logo: bool = False
) -> InvoiceDocument:
    """The client's issued invoice (for a signed-in customer, or a pay link's payer); a draft or
    another client's invoice is ``NotFound``."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, public_id)
        client = session.get_one(Client, invoice.client_id)
        organization = session.get_one(Organization, invoice.organization_id)
        lines = session.scalars(
            select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id).order_by(InvoiceLine.position)
        ).all()
        applied = applied_amounts(session, invoice)
        currency = invoice.currency

        def money(minor: int) -> Money:
            return Money(minor, currency)

        return InvoiceDocument(
            public_id=invoice.public_id,
            number=invoice.number,
            is_retainer=invoice.kind == InvoiceKind.RETAINER,
            status=invoice.status,
            status_label=status_label(invoice.status, invoice.due_date, today),
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            business=_party(organization, organization.name, ""),
            client=_party(client, client.display_name, client.company_name),
            lines=document_lines(lines, currency),
            subtotal=money(invoice.subtotal_minor),
            discount=money(invoice.discount_minor),
            tax=money(invoice.tax_minor),
            total=money(invoice.total_minor),
            applied=applied,
            balance_due=money(invoice.balance_due_minor),
            notes=invoice.notes,
            terms=invoice.terms,
            locale=formatting_locale(organization.locale),  # the reader's way of writing numbers
            logo=organization.logo if with_logo else None,
            viewed_at=invoice.viewed_at,
            **payment_details(organization, client, invoice),
        )


def open_invoice(
    db: Database, principal: Principal, public_id: str, *, today: date, clock: Clock = utc_now
) -> InvoiceDocument:
    """The customer opens an invoice: the first look at a sent invoice marks it Viewed, once."""
    document = get_invoice(db, principal, public_id, today=today)
    if document.viewed_at is not None:
        return document
    with db.reading() as session:
        invoice_id = client_invoice(session, principal, public_id).id
    if not mark_viewed(db, invoice_id, clock=clock):
        return get_invoice(db, principal, public_id, today=today)  # another tab recorded it first
    with db.reading() as session:
        invoice = session.get_one(Invoice, invoice_id)
        status, viewed_at = invoice.status, invoice.viewed_at
    # Only the status and the time changed; the rest of the document is as read above.
    return replace(
        document,
        status=status,
        status_label=status_label(status, document.due_date, today),
        viewed_at=viewed_at,
    )


def document_lines(lines: Iterable[LineColumns], currency: str) -> tuple[DocumentLine, ...]:
    """An invoice's or credit note's stored lines as documents show them, in ``currency``."""
    return tuple(
        DocumentLine(
            description=line.description,
            quantity=line.quantity,
            rate=Money(line.unit_price_minor, currency),
            discount_percent=line.discount_percent,
            tax_name=line.tax_name,
            tax_rate_percent=line.tax_rate_percent,
            amount=Money(line.amount_minor, currency),
            discount=Money(line.discount_minor, currency),
            tax=Money(line.tax_minor, currency),
        )
        for line in lines
    )


def business_party(session: Session, organization_id: int) -> tuple[Party, str]:
    """The business as documents show it, and its locale."""
    organization = session.get_one(Organization, organization_id)
    return _party(organization, organization.name, ""), formatting_locale(organization.locale)


def client_party(session: Session, client_id: int) -> Party:
    client = session.get_one(Client, client_id)
    return _party(client, client.display_name, client.company_name)


def payment_details(organization: Organization, client: Client, invoice: Invoice) -> dict[str, Any]:
    """The invoice's ``bank`` and ``e_invoice``: what the business set, for this invoice.

    An e-invoice is made only of an issued invoice (a draft may change, a void one must not be booked)
    and only when the XML can hold what EN 16931 requires: the business's VAT ID and both countries.
    """
    bank = (
        BankDetails(organization.iban, organization.bic, organization.bank_name)
        if organization.iban
        else None
    )
    e_invoice = (
        organization.e_invoices
        and invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.VOID)
        and bool(vat_id(organization.tax_id) and organization.country and client.country)
    )
    return {"bank": bank, "e_invoice": e_invoice}


def _party(row: Client | Organization, name: str, company: str) -> Party:
    address = Address(
        row.address_line1, row.address_line2, row.city, row.region, row.postal_code, row.country
    )
    website = row.website if isinstance(row, Organization) else ""
    tax_id = row.tax_id if isinstance(row, Organization) else row.tax_number
    return Party(name, company, row.email, row.phone, website, tuple(address.lines()), tax_id, address)


def applied_amounts(session: Session, invoice: Invoice) -> tuple[AppliedAmount, ...]:
    """What paid this invoice: payments, credits and retainer applications (for a retainer, its payments)."""
    if invoice.kind == InvoiceKind.RETAINER:
        return _retainer_payments(session, invoice)
    rows = session.execute(
        select(Allocation, Payment, CreditNote)
        .outerjoin(Payment, Payment.id == Allocation.payment_id)
        .outerjoin(CreditNote, CreditNote.id == Allocation.credit_note_id)
        .where(Allocation.invoice_id == invoice.id)
        .order_by(Allocation.created_at, Allocation.id)
    ).all()
    applied = []
    for allocation, payment, credit_note in rows:
        if credit_note is not None:
            label = _("Credit note {number}").format(number=credit_note.number)
        elif allocation.kind == AllocationKind.RETAINER:
            label = _("Retainer payment {number}").format(number=payment.receipt_number)
        elif allocation.kind == AllocationKind.CREDIT:
            label = _("Credit from payment {number}").format(number=payment.receipt_number)
        else:
            label = _payment_label(payment)
        applied.append(
            AppliedAmount(
                kind=allocation.kind,
                label=label,
                applied_on=allocation.created_at.date(),
                amount=Money(allocation.amount_minor, invoice.currency),
            )
        )
    return tuple(applied)


def _payment_label(payment: Payment) -> str:
    method = f" · {payment.method_brand} •••• {payment.method_last4}" if payment.method_last4 else ""
    return _("Payment {number}").format(number=payment.receipt_number) + method


def _retainer_payments(session: Session, invoice: Invoice) -> tuple[AppliedAmount, ...]:
    payments = session.scalars(
        select(Payment)
        .where(Payment.retainer_invoice_id == invoice.id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.received_at, Payment.id)
    ).all()
    return tuple(
        AppliedAmount(
            kind="payment",
            label=_payment_label(payment),
            applied_on=(payment.received_at or payment.created_at).date(),
            amount=Money(min(payment.amount_minor, invoice.total_minor), invoice.currency),
        )
        for payment in payments
    )
