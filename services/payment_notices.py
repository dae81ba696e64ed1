"""The e-mails a payment sends: the receipt to the customer, a notice to the business, a failed debit.

They are queued in the outbox inside the transaction that books the payment, so a payment is never
booked without its receipt, and a receipt never goes out for a payment that was rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from models import Allocation, Client, Invoice, Organization, Payment, PaymentKind, PortalUser
from services.dates import format_day
from services.gateways.sandbox import SANDBOX_NOTICE
from services.money import Money, format_money
from services.outbox import queue_email


def queue_receipt(session: Session, payment: Payment, now: datetime) -> None:
    """Receipt to the customer who paid and a notice to the business, for a payment that succeeded."""
    business, client, customer_email = _parties(session, payment)
    locale = business.locale

    formatted: dict[int, str] = {}  # the same amounts come up several times in the two messages

    def money(minor: int) -> str:
        if minor not in formatted:
            formatted[minor] = format_money(Money(minor, payment.currency), locale)
        return formatted[minor]

    lines = [
        f"Thank you for your payment to {business.name}.",
        "",
        f"Receipt number: {payment.receipt_number}",
        f"Date: {format_day((payment.received_at or now).date(), locale)}",
        f"Amount: {money(payment.amount_minor)}",
        f"Paid with: {method_text(payment)}",
    ]
    paid = session.execute(
        select(Invoice.number, Allocation.amount_minor, Invoice.balance_due_minor)
        .join(Invoice, Invoice.id == Allocation.invoice_id)
        .where(Allocation.payment_id == payment.id)
        .order_by(Allocation.id)
    ).all()
    if paid:
        lines += ["", "Applied to:"]
        lines += [f"  {number}: {money(amount)} (still due: {money(left)})" for number, amount, left in paid]
    if payment.unapplied_minor:
        kept_as = "retainer" if payment.kind == PaymentKind.RETAINER else "credit"
        lines += ["", f"Available as {kept_as} for future invoices: {money(payment.unapplied_minor)}"]
    if payment.is_sandbox:
        lines += ["", f"{SANDBOX_NOTICE}: this payment was made in the portal's test mode."]
    if customer_email:
        queue_email(
            session,
            to=[customer_email],
            subject=f"Receipt {payment.receipt_number} from {business.name}",
            body_text="\n".join(lines),
            reply_to=business.email,
            client_id=client.id,
            now=now,
        )
    if business.email:
        notice = [
            f"{client.company_name or client.display_name} paid {money(payment.amount_minor)} "
            f"({method_text(payment)}) in the portal.",
            f"Receipt number: {payment.receipt_number}",
        ]
        notice += [f"  {number}: {money(amount)}" for number, amount, _ in paid]
        if payment.is_sandbox:
            notice.append(SANDBOX_NOTICE)
        queue_email(
            session,
            to=[business.email],
            subject=f"Payment received: {money(payment.amount_minor)} from {client.display_name}",
            body_text="\n".join(notice),
            reply_to=customer_email,
            client_id=client.id,
            now=now,
        )


def queue_debit_failed(session: Session, payment: Payment, now: datetime) -> None:
    """A bank debit that was processing failed: the customer learns that the invoices are still due."""
    business, client, customer_email = _parties(session, payment)
    if not customer_email:
        return
    amount = format_money(Money(payment.amount_minor, payment.currency), business.locale)
    body = (
        f"Your payment of {amount} to {business.name} ({method_text(payment)}) did not go through: "
        f"{payment.failure_message}\n\nNothing was taken from your account and the invoices are still due. "
        "You can pay them again from the portal."
    )
    queue_email(
        session,
        to=[customer_email],
        subject=f"Your payment of {amount} to {business.name} failed",
        body_text=body,
        reply_to=business.email,
        client_id=client.id,
        now=now,
    )


def method_text(payment: Payment) -> str:
    """ "Visa ending 4242", "SEPA Direct Debit ending 3000", or the offline method's name."""
    if payment.method_last4:
        return f"{payment.method_brand or 'Card'} ending {payment.method_last4}"
    return payment.method.replace("_", " ").capitalize()


@dataclass(frozen=True)
class _Business:
    name: str
    email: str
    locale: str


@dataclass(frozen=True)
class _Client:
    id: int
    display_name: str
    company_name: str


def _parties(session: Session, payment: Payment) -> tuple[_Business, _Client, str]:
    """The business, the client and the address of the customer who paid (else the client's), in one
    query."""
    row = session.execute(
        select(
            Organization.name,
            Organization.email,
            Organization.locale,
            Client.id,
            Client.display_name,
            Client.company_name,
            Client.email,
            PortalUser.email,
        )
        .select_from(Client)
        .join(Organization, Organization.id == Client.organization_id)
        .outerjoin(PortalUser, PortalUser.id == payment.portal_user_id)
        .where(Client.id == payment.client_id)
    ).one()
    name, business_email, locale, client_id, display_name, company_name, client_email, user_email = row
    if payment.portal_user_id is not None and user_email is None:
        raise NoResultFound(f"no portal user {payment.portal_user_id}")
    business = _Business(name, business_email, locale)
    return business, _Client(client_id, display_name, company_name), user_email or client_email
