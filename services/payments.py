"""Payments as bookkeeping: a stored attempt becomes a numbered receipt allocated to invoices.

The gateway flows (issue: payments) create the attempt and call ``settle_payment`` when the gateway
says the money arrived; offline payments recorded by the business are created and settled at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from models import Allocation, AllocationKind, Invoice, InvoiceKind, Payment, PaymentKind, PaymentStatus
from services.amount_bounds import check_amount
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidAmount, InvalidStatusChange, NotFound, WrongCurrency
from services.invoices import PAYABLE_STATUSES, check_payable, locked_invoice, locked_invoices, reduce_balance
from services.money import Money
from services.numbering import next_number
from services.records import get_client


@dataclass(frozen=True)
class PaymentRef:
    id: int
    public_id: str
    receipt_number: str | None
    amount: Money
    unapplied: Money


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    due_date: date
    balance_minor: int


def allocate_oldest_first(invoices: Sequence[OpenInvoice], amount_minor: int) -> dict[int, int]:
    """Spread an amount over invoices, the oldest due date first; what is left over is not allocated."""
    plan: dict[int, int] = {}
    left = amount_minor
    for invoice in sorted(invoices, key=lambda i: (i.due_date, i.id)):
        if left <= 0:
            break
        share = min(left, invoice.balance_minor)
        if share > 0:
            plan[invoice.id] = share
            left -= share
    return plan


def open_invoices(session: Session, client_id: int) -> list[OpenInvoice]:
    return [
        OpenInvoice(row.id, row.due_date, row.balance_due_minor)
        for row in open_invoice_rows(session, client_id)
    ]


def open_invoice_rows(session: Session, client_id: int) -> Sequence[Row[int, date, int, str, str]]:
    """The client's open invoices (not retainers): id, due date, balance due, public id and number."""
    return session.execute(
        select(
            Invoice.id, Invoice.due_date, Invoice.balance_due_minor, Invoice.public_id, Invoice.number
        ).where(
            Invoice.client_id == client_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.balance_due_minor > 0,
            Invoice.status.in_(PAYABLE_STATUSES),
        )
    ).all()


def record_payment(
    db: Database,
    *,
    client_id: int,
    amount: Money,
    method: str,
    received_at: datetime,
    allocations: Mapping[int, int] | None = None,
    kind: PaymentKind = PaymentKind.INVOICE,
    retainer_invoice_id: int | None = None,
    reference: str = "",
    gateway: str = "offline",
    brand: str = "",
    last4: str = "",
    portal_user_id: int | None = None,
    clock: Clock = utc_now,
) -> PaymentRef:
    """Record money received and settle it at once: allocate it, keep any excess as credit.

    ``allocations`` maps invoice ids to minor amounts; each must be open, the client's, and no more
    than its balance, and together no more than ``amount``, which is at most the bound of
    ``services.amount_bounds`` (``AmountTooLarge``).
    """
    plan = dict(allocations or {})
    with db.transaction() as session:
        client = get_client(session, client_id)
        if amount.currency != client.currency:
            raise WrongCurrency(client.currency, amount.currency)
        if amount.minor <= 0:
            raise InvalidAmount(amount, "must be more than zero")
        check_amount(amount)
        if kind == PaymentKind.RETAINER:
            if plan:
                raise ValueError("a retainer payment pays its retainer invoice only")
            if retainer_invoice_id is None:
                raise ValueError("a retainer payment needs its retainer invoice")
            _check_payable(session, client_id, {retainer_invoice_id: amount.minor}, InvoiceKind.RETAINER)
        else:
            if sum(plan.values()) > amount.minor:
                raise InvalidAmount(amount, "is less than the amounts allocated to invoices")
            _check_payable(session, client_id, plan, InvoiceKind.INVOICE)
        payment = Payment(
            organization_id=client.organization_id,
            client_id=client.id,
            portal_user_id=portal_user_id,
            kind=kind,
            retainer_invoice_id=retainer_invoice_id,
            status=PaymentStatus.PENDING,
            amount_minor=amount.minor,
            currency=amount.currency,
            method=method,
            gateway=gateway,
            method_brand=brand,
            method_last4=last4,
            reference=reference,
            planned_allocations=[{"invoice_id": key, "amount_minor": value} for key, value in plan.items()],
            created_at=clock(),
        )
        session.add(payment)
        session.flush()
        settle_payment(session, payment, received_at=received_at, clock=clock)
        return PaymentRef(
            payment.id,
            payment.public_id,
            payment.receipt_number,
            amount,
            Money(payment.unapplied_minor, payment.currency),
        )


def _check_payable(session: Session, client_id: int, plan: Mapping[int, int], kind: InvoiceKind) -> None:
    for invoice_id, share in plan.items():
        invoice = locked_invoice(session, invoice_id)
        if invoice.client_id != client_id or invoice.kind != kind:
            raise NotFound("invoice", invoice_id)
        check_payable(invoice, Money(share, invoice.currency))


def settle_payment(
    session: Session, payment: Payment, *, received_at: datetime, clock: Clock = utc_now
) -> None:
    """The gateway (or the business) says the money arrived: allocate it and number the receipt."""
    allocate_payment(session, payment, received_at=received_at, clock=clock)
    number_receipt(session, payment)
    session.flush()


def number_receipt(session: Session, payment: Payment) -> None:
    """Give a settled payment its receipt number: the last thing its transaction does before it writes
    what is pending and commits. The sequence's row, every receipt's, stays locked from here until the
    commit, so nothing slow may come after this."""
    with session.no_autoflush:
        payment.receipt_number = next_number(session, payment.organization_id, "receipt")


@dataclass(frozen=True)
class PaidInvoice:
    number: str
    amount_minor: int  # what the payment paid of it
    left_minor: int  # what is still due after


def allocate_payment(
    session: Session, payment: Payment, *, received_at: datetime, clock: Clock = utc_now
) -> list[PaidInvoice]:
    """Settle a payment but for its receipt number (``number_receipt``): allocate it to its invoices,
    and return what it paid of each, in order (none for a retainer, which is paid but not allocated).

    Planned allocations are clamped to what is still due, since an invoice may have been paid by other
    means meanwhile; whatever is not allocated stays on the payment as available credit (or retainer).
    """
    if payment.status not in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
        raise InvalidStatusChange("payment", payment.public_id, payment.status, "settled")
    payment.status = PaymentStatus.SUCCEEDED
    payment.received_at = received_at
    left = payment.amount_minor
    now = clock()
    paid: list[PaidInvoice] = []
    if payment.kind == PaymentKind.RETAINER and payment.retainer_invoice_id is not None:
        retainer = locked_invoice(session, payment.retainer_invoice_id)
        if retainer.status in PAYABLE_STATUSES and left <= retainer.balance_due_minor:
            reduce_balance(retainer, Money(left, payment.currency))
        else:
            # Voided, or paid by other means while this payment was on its way: the money is kept as
            # available retainer, on account rather than on that invoice.
            payment.retainer_invoice_id = None
    else:
        locked = locked_invoices(
            session, [int(planned["invoice_id"]) for planned in payment.planned_allocations]
        )
        for planned in payment.planned_allocations:
            invoice = locked[int(planned["invoice_id"])]
            if invoice.status not in PAYABLE_STATUSES or invoice.client_id != payment.client_id:
                continue
            share = min(int(planned["amount_minor"]), invoice.balance_due_minor, left)
            if share <= 0:
                continue
            reduce_balance(invoice, Money(share, payment.currency))
            paid.append(PaidInvoice(invoice.number, share, invoice.balance_due_minor))
            session.add(
                Allocation(
                    invoice_id=invoice.id,
                    payment_id=payment.id,
                    kind=AllocationKind.PAYMENT,
                    amount_minor=share,
                    created_at=now,
                )
            )
            left -= share
    payment.unapplied_minor = left
    return paid


def get_payment(session: Session, payment_id: int) -> Payment:
    payment = session.get(Payment, payment_id, with_for_update=True)
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment
