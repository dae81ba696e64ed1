"""The back office's Payments page: every payment newest first, recording one received offline, and
what a client has in credits (for refunding it).

Recording is done by ``services.business_documents.record_offline_payment``; this module checks the
form (amount, date, method), spreads the amount over the client's open invoices oldest due date
first unless the business chose the invoices, and keeps what is left over as the client's credit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from babel.numbers import format_decimal
from sqlalchemy import func, select

from models import Client, Invoice, InvoiceKind, Payment, PaymentMethodKind
from services.balances import client_balances
from services.business_documents import PaymentView, record_offline_payment
from services.clients import client_id_for
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails
from services.i18n import _, formatting_locale
from services.invoices import PAYABLE_STATUSES
from services.money import Money
from services.paging import page_number
from services.payments import OpenInvoice, allocate_oldest_first

RECORDABLE_METHODS = {
    PaymentMethodKind.CASH: "Cash",
    PaymentMethodKind.CHEQUE: "Cheque",
    PaymentMethodKind.BANK_TRANSFER: "Bank transfer",
}
METHOD_LABELS = {
    **RECORDABLE_METHODS,
    PaymentMethodKind.CARD: "Card",
    PaymentMethodKind.BANK_ACCOUNT: "Bank debit",
    PaymentMethodKind.OTHER: "Other",
}
MAX_REFERENCE_LENGTH = 100
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class ClientChoice:
    public_id: str
    name: str
    currency: str


@dataclass(frozen=True)
class OpenInvoiceChoice:
    public_id: str
    number: str
    due_date: date
    balance_due: Money


@dataclass(frozen=True)
class PaymentRow:
    public_id: str
    receipt_number: str | None
    client_public_id: str
    client_name: str
    method: str  # as shown: "Cash", "Card · Visa •••• 4242"
    reference: str
    amount: Money
    status: str  # pending | processing | succeeded | failed
    is_retainer: bool
    on: datetime  # received, or created while not received


@dataclass(frozen=True)
class PaymentsList:
    rows: list[PaymentRow]
    total_count: int
    page: int
    page_size: int


@dataclass(frozen=True)
class ClientCredit:
    """What can be refunded directly: available and not reserved by an open refund request."""

    client_public_id: str
    client_name: str
    credits: Money
    retainer: Money


def client_choices(db: Database, organization_id: int) -> list[ClientChoice]:
    """The business's clients by name, for the forms' client pickers."""
    with db.reading() as session:
        rows = session.execute(
            select(Client.public_id, Client.display_name, Client.currency)
            .where(Client.organization_id == organization_id)
            .order_by(func.lower(Client.display_name), Client.id)
        )
        return [ClientChoice(*row) for row in rows]


def open_invoices_of(db: Database, organization_id: int, client_public_id: str) -> list[OpenInvoiceChoice]:
    """The client's invoices with something due, oldest due date first (the order a payment pays them)."""
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
        rows = session.execute(
            select(
                Invoice.public_id,
                Invoice.number,
                Invoice.due_date,
                Invoice.balance_due_minor,
                Invoice.currency,
            )
            .where(
                Invoice.client_id == client_id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.balance_due_minor > 0,
                Invoice.status.in_(PAYABLE_STATUSES),
            )
            .order_by(Invoice.due_date, Invoice.id)
        )
        return [OpenInvoiceChoice(p, n, d, Money(b, c)) for p, n, d, b, c in rows]


def plan_oldest_first(invoices: list[OpenInvoiceChoice], amount: Money) -> dict[str, int]:
    """How ``amount`` pays ``invoices`` oldest due date first: invoice public id -> minor amount."""
    by_position = {position: invoice for position, invoice in enumerate(invoices)}
    plan = allocate_oldest_first(
        [OpenInvoice(position, i.due_date, i.balance_due.minor) for position, i in by_position.items()],
        amount.minor,
    )
    return {by_position[position].public_id: share for position, share in plan.items()}


def record_received_payment(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    amount: Money,
    method: PaymentMethodKind,
    received_on: date,
    reference: str = "",
    allocations: Mapping[str, int] | None = None,
    clock: Clock = utc_now,
) -> PaymentView:
    """Record cash, a cheque or a bank transfer the client paid.

    Without ``allocations`` it pays the open invoices oldest due date first; with them, the invoices
    and amounts chosen. Whatever is not allocated is kept as the client's available credit. A zero or
    negative amount, a date in the future, or allocations above the amount are refused (``InvalidDetails``).
    """
    now = clock()
    errors: dict[str, str] = {}
    if amount.minor <= 0:
        errors["amount"] = _("Enter an amount more than zero.")
    if received_on > now.date():
        errors["date"] = _("The date cannot be in the future.")
    if method not in RECORDABLE_METHODS:
        errors["method"] = _("Choose cash, cheque or bank transfer.")
    if len(reference) > MAX_REFERENCE_LENGTH:
        errors["reference"] = _("The reference can be at most {count} characters long.").format(
            count=format_decimal(MAX_REFERENCE_LENGTH, locale=formatting_locale())
        )
    chosen = {key: share for key, share in (allocations or {}).items() if share != 0}
    if any(share < 0 for share in chosen.values()):
        errors["allocations"] = _("Amounts for invoices cannot be negative.")
    elif sum(chosen.values()) > amount.minor > 0:
        errors["allocations"] = _("The amounts for invoices add up to more than the payment.")
    if errors:
        raise InvalidDetails(errors)
    if allocations is None:
        chosen = plan_oldest_first(open_invoices_of(db, organization_id, client_public_id), amount)
    received_at = now if received_on == now.date() else datetime.combine(received_on, time(12), tzinfo=UTC)
    return record_offline_payment(
        db,
        organization_id,
        client_public_id=client_public_id,
        amount=amount,
        method=method,
        received_at=received_at,
        allocations=chosen,
        reference=reference.strip(),
        clock=clock,
    )


def list_all_payments(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str | None = None,
    page: int = 1,
    page_size: int = 25,
) -> PaymentsList:
    """Every payment of the business (or of one client), newest first, one page at a time."""
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    page = page_number(page)
    conditions = [Payment.organization_id == organization_id]
    if client_public_id:
        conditions.append(Client.public_id == client_public_id)
    on = func.coalesce(Payment.received_at, Payment.created_at)
    with db.reading() as session:
        total = session.scalar(
            select(func.count())
            .select_from(Payment)
            .join(Client, Client.id == Payment.client_id)
            .where(*conditions)
        )
        rows = session.execute(
            select(Payment, Client.public_id, Client.display_name)
            .join(Client, Client.id == Payment.client_id)
            .where(*conditions)
            .order_by(on.desc(), Payment.id.desc())
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
        return PaymentsList(
            [
                PaymentRow(
                    payment.public_id,
                    payment.receipt_number,
                    client_public,
                    client_name,
                    _method_label(payment),
                    payment.reference,
                    Money(payment.amount_minor, payment.currency),
                    payment.status,
                    payment.kind == "retainer",
                    payment.received_at or payment.created_at,
                )
                for payment, client_public, client_name in rows
            ],
            int(total or 0),
            page,
            page_size,
        )


def client_credit(db: Database, organization_id: int, client_public_id: str) -> ClientCredit:
    """The client's credits and retainer that the business may pay back now (what open requests and
    payments on their way hold excluded)."""
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
        client = session.get_one(Client, client_id)
        balances = client_balances(session, client_id, client.currency)
        return ClientCredit(
            client.public_id,
            client.display_name,
            balances.free_credits,
            balances.free_retainer,
        )


def _method_label(payment: Payment) -> str:
    try:
        label = METHOD_LABELS[PaymentMethodKind(payment.method)]
    except ValueError:
        label = payment.method.replace("_", " ").capitalize()
    if payment.method_brand and payment.method_last4:
        return f"{label} · {payment.method_brand} •••• {payment.method_last4}"
    return label
