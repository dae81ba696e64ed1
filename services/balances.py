"""Per-client balances: what the dashboard shows, and the ledger balance they must always agree with.

Invariant, for every client at every moment:
    outstanding - available credits - available retainer
        = invoices - payments (retainer payments included) - credit notes + refunds

Part of what is available may be held: by an open refund request, or by a payment waiting for the
gateway's answer that will apply it when it succeeds (``services.checkout_credits``). Held money is
still the client's, and still counts above, but nothing else may apply or refund it meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from models import (
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundRequest,
    RefundRequestStatus,
    RefundSource,
    RefundStatus,
)
from services.invoices import PAYABLE_STATUSES
from services.money import Money

ISSUED_INVOICE_STATUSES = (*PAYABLE_STATUSES, InvoiceStatus.PAID)
ISSUED_CREDIT_NOTE_STATUSES = (CreditNoteStatus.OPEN, CreditNoteStatus.CLOSED)
UNANSWERED_PAYMENTS = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
# The keys of a planned allocation (``Payment.planned_allocations``) naming the credits and retainer
# that the payment applies to that invoice when it succeeds, besides its own money (``amount_minor``).
HELD_KEYS = {RefundSource.CREDIT: "credit_minor", RefundSource.RETAINER: "retainer_minor"}


@dataclass(frozen=True)
class LastPayment:
    amount: Money
    received_at: datetime


@dataclass(frozen=True)
class ClientBalances:
    outstanding: Money
    available_credits: Money
    available_retainer: Money
    reserved_credits: Money  # part of the available credits held by open refund requests
    reserved_retainer: Money
    last_payment: LastPayment | None
    held_credits: Money  # part of the available credits held by payments waiting for the gateway
    held_retainer: Money

    @property
    def net(self) -> Money:
        """What the client owes (positive) or is owed (negative) on balance."""
        return self.outstanding - self.available_credits - self.available_retainer

    @property
    def free_credits(self) -> Money:
        """The available credits that can be applied or refunded now: neither reserved nor held."""
        return self.available_credits - self.reserved_credits - self.held_credits

    @property
    def free_retainer(self) -> Money:
        return self.available_retainer - self.reserved_retainer - self.held_retainer


def _total(column: Any, *conditions: Any) -> Any:
    return select(func.coalesce(func.sum(column), 0)).where(*conditions).scalar_subquery()


@cache
def _balances_query() -> Any:
    """``client_balances``'s statement, built once: it is run on every Home and every payment, and
    building its thirty conditions cost more than running it."""
    client_id: BindParameter[int] = bindparam("client_id")
    last = (
        select(Payment.amount_minor, Payment.received_at)
        .where(Payment.client_id == client_id, Payment.status == PaymentStatus.SUCCEEDED)
        .order_by(Payment.received_at.desc(), Payment.id.desc())
        .limit(1)
        .subquery()
    )

    def unapplied(kind: PaymentKind) -> Any:
        return _total(
            Payment.unapplied_minor,
            Payment.client_id == client_id,
            Payment.kind == kind,
            Payment.unapplied_minor > 0,
            Payment.status == PaymentStatus.SUCCEEDED,
        )

    def reserved(source: RefundSource) -> Any:
        return _total(
            RefundRequest.amount_minor,
            RefundRequest.client_id == client_id,
            RefundRequest.source == source,
            RefundRequest.status == RefundRequestStatus.OPEN,
        )

    return select(
        _total(
            Invoice.balance_due_minor,
            Invoice.client_id == client_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.balance_due_minor > 0,
            Invoice.status.in_(PAYABLE_STATUSES),
        ).label("outstanding"),
        unapplied(PaymentKind.INVOICE).label("excess"),
        _total(
            CreditNote.remaining_minor,
            CreditNote.client_id == client_id,
            CreditNote.remaining_minor > 0,
            CreditNote.status == CreditNoteStatus.OPEN,
        ).label("credit_notes"),
        unapplied(PaymentKind.RETAINER).label("retainer"),
        reserved(RefundSource.CREDIT).label("reserved_credits"),
        reserved(RefundSource.RETAINER).label("reserved_retainer"),
        select(last.c.amount_minor).scalar_subquery().label("last_amount"),
        select(last.c.received_at).scalar_subquery().label("last_received_at"),
    )


def client_balances(session: Session, client_id: int, currency: str) -> ClientBalances:
    """The dashboard's figures in one query, summing only rows with something left on them."""
    row = session.execute(_balances_query(), {"client_id": client_id}).one()

    def money(value: int) -> Money:
        return Money(int(value), currency)

    last_payment = None
    if row.last_amount is not None:
        last_payment = LastPayment(money(row.last_amount), row.last_received_at)
    held = held_by_payments(session, client_id)
    return ClientBalances(
        outstanding=money(row.outstanding),
        available_credits=money(row.excess + row.credit_notes),
        available_retainer=money(row.retainer),
        reserved_credits=money(row.reserved_credits),
        reserved_retainer=money(row.reserved_retainer),
        last_payment=last_payment,
        held_credits=money(held[RefundSource.CREDIT]),
        held_retainer=money(held[RefundSource.RETAINER]),
    )


def held_by_payments(
    session: Session, client_id: int, *, except_payment_id: int | None = None
) -> dict[RefundSource, int]:
    """Credits and retainer (minor units) that the client's payments still waiting for the gateway's
    final answer will apply when they succeed; a failed payment holds nothing.

    Only those few payments are read (``ix_payments_client_received`` starts with client and status).
    """
    held = dict.fromkeys(HELD_KEYS, 0)
    rows = session.execute(
        select(Payment.id, Payment.planned_allocations).where(
            Payment.client_id == client_id, Payment.status.in_(UNANSWERED_PAYMENTS)
        )
    ).all()
    for payment_id, planned in rows:
        if payment_id == except_payment_id:
            continue
        for line in planned:
            for source, key in HELD_KEYS.items():
                held[source] += int(line.get(key, 0))
    return held


def ledger_balance(session: Session, client_id: int, currency: str) -> Money:
    """Invoices - payments - credit notes + refunds, summed from the records themselves."""
    row = session.execute(
        select(
            _total(
                Invoice.total_minor,
                Invoice.client_id == client_id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status.in_(ISSUED_INVOICE_STATUSES),
            ).label("invoiced"),
            _total(
                Payment.amount_minor,
                Payment.client_id == client_id,
                Payment.status == PaymentStatus.SUCCEEDED,
            ).label("received"),
            _total(
                CreditNote.total_minor,
                CreditNote.client_id == client_id,
                CreditNote.status.in_(ISSUED_CREDIT_NOTE_STATUSES),
            ).label("credited"),
            _total(
                Refund.amount_minor,
                Refund.client_id == client_id,
                Refund.status != RefundStatus.FAILED,
            ).label("refunded"),
        )
    ).one()
    return Money(int(row.invoiced - row.received - row.credited + row.refunded), currency)
