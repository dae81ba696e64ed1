"""Payments Made: every payment of the client, and one payment with what it paid (its receipt).

The list is filtered (All, Invoice Payments, Retainer Payments), sorted (date, amount) and paged in
SQL; the invoices each listed payment paid come from one more query for the page's payments only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Allocation, Invoice, Payment, PaymentKind, PaymentStatus, Refund
from services.database import Database
from services.errors import NotFound
from services.invoice_detail import Party, business_party, client_party
from services.money import Money
from services.paging import page_number
from services.payment_notices import method_text
from services.principal import Principal


class PaymentFilter(StrEnum):
    ALL = "all"
    INVOICE = "invoice"
    RETAINER = "retainer"


FILTER_LABELS = {
    PaymentFilter.ALL: "All",
    PaymentFilter.INVOICE: "Invoice Payments",
    PaymentFilter.RETAINER: "Retainer Payments",
}
STATUS_LABELS = {
    PaymentStatus.PENDING: "Processing",  # waiting for the gateway or a 3-D Secure answer
    PaymentStatus.PROCESSING: "Processing",
    PaymentStatus.SUCCEEDED: "Paid",
    PaymentStatus.FAILED: "Failed",
}
REFUNDED = "Refunded"
APPLIED_KINDS = {
    "payment": "Paid",
    "credit": "Later, from its credit",
    "retainer": "Later, from its retainer",
}
PAID_ON = func.coalesce(Payment.received_at, Payment.created_at)
SORT_COLUMNS: dict[str, Any] = {"date": PAID_ON, "amount": Payment.amount_minor}
PAGE_SIZES = (10, 25, 50, 100)


@dataclass(frozen=True)
class PaymentsQuery:
    filter: PaymentFilter = PaymentFilter.ALL
    sort: str = "date"
    descending: bool = True
    page: int = 1
    page_size: int = 25


@dataclass(frozen=True)
class PaymentRow:
    public_id: str
    receipt_number: str | None
    paid_on: datetime
    amount: Money
    method: str
    paid_for: tuple[str, ...]  # invoice numbers
    is_retainer: bool
    status_label: str


@dataclass(frozen=True)
class PaymentsPage:
    rows: tuple[PaymentRow, ...]
    total_count: int
    query: PaymentsQuery

    @property
    def page_count(self) -> int:
        return max(1, -(-self.total_count // self.query.page_size))


@dataclass(frozen=True)
class AppliedLine:
    invoice_public_id: str
    invoice_number: str
    kind: str  # payment | credit | retainer: paid at once, or applied later from the excess
    amount: Money
    balance_left: Money  # what the invoice still owes now


@dataclass(frozen=True)
class PaymentDetail:
    public_id: str
    receipt_number: str | None
    paid_on: datetime
    amount: Money
    method: str
    status_label: str
    is_retainer: bool
    retainer_invoice_number: str
    applied: tuple[AppliedLine, ...]
    unapplied: Money  # still available as credit (or retainer)
    refunded: Money
    failure_message: str
    is_sandbox: bool
    business: Party
    client: Party
    locale: str

    @property
    def is_receipt(self) -> bool:
        return self.receipt_number is not None


def normalized(query: PaymentsQuery) -> PaymentsQuery:
    """Anything out of range falls back to the default, so a hand-edited URL still shows a page."""
    sort = query.sort if query.sort in SORT_COLUMNS else "date"
    size = query.page_size if query.page_size in PAGE_SIZES else 25
    return PaymentsQuery(query.filter, sort, query.descending, page_number(query.page), size)


def list_payments(db: Database, principal: Principal, query: PaymentsQuery) -> PaymentsPage:
    query = normalized(query)
    where = [Payment.client_id == principal.client_id]
    if query.filter != PaymentFilter.ALL:
        where.append(Payment.kind == query.filter.value)
    column = SORT_COLUMNS[query.sort]
    order = [column.desc(), Payment.id.desc()] if query.descending else [column.asc(), Payment.id.asc()]
    with db.reading() as session:
        total = session.scalar(select(func.count()).select_from(Payment).where(*where)) or 0
        payments = session.scalars(
            select(Payment)
            .where(*where)
            .order_by(*order)
            .limit(query.page_size)
            .offset((query.page - 1) * query.page_size)
        ).all()
        ids = [payment.id for payment in payments]
        paid_for = _invoices_paid(session, payments)
        refunded = _refunded(session, ids)
        rows = tuple(
            PaymentRow(
                public_id=payment.public_id,
                receipt_number=payment.receipt_number,
                paid_on=payment.received_at or payment.created_at,
                amount=Money(payment.amount_minor, payment.currency),
                method=method_text(payment),
                paid_for=tuple(paid_for.get(payment.id, ())),
                is_retainer=payment.kind == PaymentKind.RETAINER,
                status_label=_status(payment, refunded.get(payment.id, 0)),
            )
            for payment in payments
        )
    return PaymentsPage(rows, int(total), query)


def get_payment(db: Database, principal: Principal, public_id: str, *, locale: str = "") -> PaymentDetail:
    """One payment of the signed-in client; another client's is ``NotFound``."""
    return payment_of_client(db, principal.client_id, public_id, locale=locale)


def payment_of_client(db: Database, client_id: int, public_id: str, *, locale: str = "") -> PaymentDetail:
    """``get_payment`` for whoever acts for the client without a session: the e-mail sender that
    renders a receipt it carries."""
    with db.reading() as session:
        payment = session.scalar(
            select(Payment).where(Payment.public_id == public_id, Payment.client_id == client_id)
        )
        if payment is None:
            raise NotFound("payment", public_id)
        applied = session.execute(
            select(
                Invoice.public_id,
                Invoice.number,
                Allocation.kind,
                Allocation.amount_minor,
                Invoice.balance_due_minor,
            )
            .join(Invoice, Invoice.id == Allocation.invoice_id)
            .where(Allocation.payment_id == payment.id)
            .order_by(Allocation.id)
        ).all()
        refunded = _refunded(session, [payment.id]).get(payment.id, 0)
        retainer_number = ""
        if payment.retainer_invoice_id is not None:
            retainer_number = session.get_one(Invoice, payment.retainer_invoice_id).number
        business, business_locale = business_party(session, payment.organization_id)
        client = client_party(session, payment.client_id)
        currency = payment.currency
        return PaymentDetail(
            public_id=payment.public_id,
            receipt_number=payment.receipt_number,
            paid_on=payment.received_at or payment.created_at,
            amount=Money(payment.amount_minor, currency),
            method=method_text(payment),
            status_label=_status(payment, refunded),
            is_retainer=payment.kind == PaymentKind.RETAINER,
            retainer_invoice_number=retainer_number,
            applied=tuple(
                AppliedLine(invoice_id, number, kind, Money(amount, currency), Money(left, currency))
                for invoice_id, number, kind, amount, left in applied
            ),
            unapplied=Money(payment.unapplied_minor, currency),
            refunded=Money(refunded, currency),
            failure_message=payment.failure_message,
            is_sandbox=payment.is_sandbox,
            business=business,
            client=client,
            locale=locale or business_locale,  # business_party gives the reader's way of writing
        )


def _status(payment: Payment, refunded_minor: int) -> str:
    if payment.status == PaymentStatus.SUCCEEDED and refunded_minor >= payment.amount_minor:
        return REFUNDED
    return STATUS_LABELS[PaymentStatus(payment.status)]


def _invoices_paid(session: Session, payments: Sequence[Payment]) -> dict[int, list[str]]:
    """Payment id -> the numbers of the invoices it paid (or its retainer invoice), in order.

    A payment that has not gone through names the invoices it was meant for.
    """
    numbers: dict[int, list[str]] = defaultdict(list)
    planned = {
        payment.id: [int(line["invoice_id"]) for line in payment.planned_allocations]
        for payment in payments
        if payment.status != PaymentStatus.SUCCEEDED
    }
    retainers = {
        payment.id: payment.retainer_invoice_id for payment in payments if payment.retainer_invoice_id
    }
    wanted = {invoice_id for ids in planned.values() for invoice_id in ids} | set(retainers.values())
    names = dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(wanted))).all())
    for payment_id, retainer_id in retainers.items():
        numbers[payment_id].append(names[retainer_id])
    for payment_id, invoice_ids in planned.items():
        numbers[payment_id].extend(names[invoice_id] for invoice_id in invoice_ids)
    allocations = session.execute(
        select(Allocation.payment_id, Invoice.number)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Allocation.payment_id.in_([payment.id for payment in payments]))
        .order_by(Allocation.id)
    ).all()
    for allocated_from, number in allocations:
        if allocated_from is not None and number not in numbers[allocated_from]:
            numbers[allocated_from].append(number)
    return numbers


def _refunded(session: Session, payment_ids: list[int]) -> dict[int, int]:
    if not payment_ids:
        return {}
    rows = session.execute(
        select(Refund.payment_id, func.sum(Refund.amount_minor))
        .where(Refund.payment_id.in_(payment_ids))
        .group_by(Refund.payment_id)
    ).all()
    return {payment_id: int(total) for payment_id, total in rows if payment_id is not None}
