"""The back office's dashboard: what clients owe the business, what needs its attention, recent money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from models import (
    OPEN_INVOICE_STATUSES,
    Client,
    Invoice,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    RefundRequest,
    RefundRequestStatus,
)
from services.conversations import unread_count
from services.database import Database
from services.money import Money

RECENT_PAYMENTS = 6


@dataclass(frozen=True)
class Receivables:
    """Open invoices in one currency: how much is owed and how much of it is past due."""

    outstanding: Money
    overdue: Money
    open_count: int
    overdue_count: int


@dataclass(frozen=True)
class RecentPayment:
    public_id: str
    client_name: str
    amount: Money
    method: str
    status: str
    received_at: datetime | None


@dataclass(frozen=True)
class BusinessOverview:
    receivables: tuple[Receivables, ...]  # one per currency, the largest first
    drafts: int
    unread: int  # comment threads, messages and reviews nobody has opened yet (as the inbox counts)
    open_refund_requests: int
    recent_payments: tuple[RecentPayment, ...]


def business_overview(db: Database, organization_id: int, *, today: date) -> BusinessOverview:
    with db.reading() as session:
        return BusinessOverview(
            receivables=_receivables(session, organization_id, today),
            drafts=session.scalar(
                select(func.count())
                .select_from(Invoice)
                .where(Invoice.organization_id == organization_id, Invoice.status == InvoiceStatus.DRAFT)
            )
            or 0,
            unread=unread_count(db, organization_id),
            open_refund_requests=session.scalar(
                select(func.count())
                .select_from(RefundRequest)
                .join(Client, Client.id == RefundRequest.client_id)
                .where(
                    Client.organization_id == organization_id,
                    RefundRequest.status == RefundRequestStatus.OPEN,
                )
            )
            or 0,
            recent_payments=_recent_payments(session, organization_id),
        )


def _receivables(session: Session, organization_id: int, today: date) -> tuple[Receivables, ...]:
    overdue = Invoice.due_date < today
    rows = session.execute(
        select(
            Invoice.currency,
            func.sum(Invoice.balance_due_minor),
            func.sum(case((overdue, Invoice.balance_due_minor), else_=0)),
            func.count(),
            func.sum(case((overdue, 1), else_=0)),
        )
        .where(
            Invoice.organization_id == organization_id,
            Invoice.status.in_(OPEN_INVOICE_STATUSES),
            Invoice.balance_due_minor > 0,
        )
        .group_by(Invoice.currency)
    ).all()
    figures = [
        Receivables(
            outstanding=Money(int(owed or 0), currency),
            overdue=Money(int(late or 0), currency),
            open_count=int(count or 0),
            overdue_count=int(late_count or 0),
        )
        for currency, owed, late, count, late_count in rows
    ]
    return tuple(sorted(figures, key=lambda item: -item.outstanding.minor))


def _recent_payments(session: Session, organization_id: int) -> tuple[RecentPayment, ...]:
    rows = session.execute(
        select(Payment, Client.display_name)
        .join(Client, Client.id == Payment.client_id)
        .where(
            Payment.organization_id == organization_id,
            Payment.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.PROCESSING)),
        )
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(RECENT_PAYMENTS)
    ).all()
    return tuple(
        RecentPayment(
            public_id=payment.public_id,
            client_name=name,
            amount=Money(payment.amount_minor, payment.currency),
            method=payment.method,
            status=payment.status,
            received_at=payment.received_at or payment.created_at,
        )
        for payment, name in rows
    )
