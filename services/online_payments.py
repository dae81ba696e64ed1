"""Paying online: plan what a payment covers, store the attempt, call the gateway, book the outcome.

Every attempt is a payments row (status pending) committed before the gateway is called; its public
id is the idempotency key, so a retried call never charges twice. An invoice is paid only when the
gateway says the charge succeeded; bank debits stay processing until it says so later. While a
payment of an amount is processing, a second payment of the same amount is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Invoice, InvoiceKind, Payment, PaymentKind, PaymentStatus, SavedPaymentMethod
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import DomainError, InvalidAmount, NotFound, PaymentInProgress
from services.gateways.base import ChargeRequest, ChargeResult, ChargeStatus, PaymentGateway
from services.invoices import PAYABLE_STATUSES, check_payable
from services.money import Money
from services.payments import allocate_oldest_first, open_invoices, settle_payment
from services.principal import Principal
from services.records import client_invoice, get_client


@dataclass(frozen=True)
class PlannedLine:
    invoice_public_id: str
    number: str
    balance_due: Money
    amount: Money


@dataclass(frozen=True)
class PaymentPlan:
    kind: PaymentKind
    lines: tuple[PlannedLine, ...]
    total: Money


@dataclass(frozen=True)
class PaymentOutcome:
    payment_public_id: str
    status: str  # succeeded | processing | failed
    amount: Money
    receipt_number: str | None
    failure_message: str


def plan_pay_all(db: Database, principal: Principal) -> PaymentPlan:
    """Pay Now on Home: the whole outstanding amount, oldest due date first."""
    with db.reading() as session:
        currency = get_client(session, principal.client_id).currency
        invoices = open_invoices(session, principal.client_id)
        shares = allocate_oldest_first(invoices, sum(i.balance_minor for i in invoices))
        rows = {row.id: row for row in session.scalars(select(Invoice).where(Invoice.id.in_(list(shares))))}
        lines = tuple(
            PlannedLine(rows[i].public_id, rows[i].number, Money(rows[i].balance_due_minor, currency),
                        Money(share, currency))
            for i, share in shares.items()
        )  # fmt: skip
    return PaymentPlan(PaymentKind.INVOICE, lines, Money(sum(shares.values()), currency))


def plan_pay_invoice(
    db: Database, principal: Principal, public_id: str, amount: Money | None = None
) -> PaymentPlan:
    """Pay Now on one invoice or retainer invoice: its balance, or less (a partial payment)."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, public_id)
        balance = Money(invoice.balance_due_minor, invoice.currency)
        share = amount if amount is not None else balance
        check_payable(invoice, share)
        kind = PaymentKind.RETAINER if invoice.kind == InvoiceKind.RETAINER else PaymentKind.INVOICE
        line = PlannedLine(invoice.public_id, invoice.number, balance, share)
    return PaymentPlan(kind, (line,), share)


def pay(
    db: Database,
    gateway: PaymentGateway,
    principal: Principal,
    plan: PaymentPlan,
    request: ChargeRequest,
    *,
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """Charge ``plan.total`` through the gateway and book what it answers.

    ``request`` carries the method (new card, new account or saved method); its idempotency key and
    amount are replaced by the stored attempt's.
    """
    method = "bank_account" if request.bank_account is not None else "card"
    payment_public_id = _store_attempt(db, principal, plan, gateway, method, clock())
    charge = ChargeRequest(
        idempotency_key=payment_public_id,
        amount_minor=plan.total.minor,
        currency=plan.total.currency,
        description=", ".join(line.number for line in plan.lines),
        card=request.card,
        bank_account=request.bank_account,
        saved_method_id=request.saved_method_id,
        customer_id=request.customer_id,
        save_method=request.save_method,
    )
    try:
        result = gateway.charge(charge)
    except DomainError as error:
        _fail(db, payment_public_id, str(error), clock)
        raise
    return book_result(db, payment_public_id, result, gateway_name=gateway.name, clock=clock)


def book_result(
    db: Database, payment_public_id: str, result: ChargeResult, *, gateway_name: str, clock: Clock = utc_now
) -> PaymentOutcome:
    """Record what the gateway said about an attempt; called again when a processing one settles."""
    with db.transaction() as session:
        payment = _locked(session, payment_public_id)
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            return _outcome(payment)  # already booked: a repeated answer changes nothing
        payment.gateway_payment_id = result.gateway_payment_id
        payment.method = result.method.kind
        payment.method_brand = result.method.brand
        payment.method_last4 = result.method.last4
        if result.saved and result.method.gateway_method_id:
            _save_method(session, payment, result, gateway_name, clock())
        if result.status == ChargeStatus.SUCCEEDED:
            settle_payment(session, payment, received_at=clock(), clock=clock)
        elif result.status == ChargeStatus.PROCESSING:
            payment.status = PaymentStatus.PROCESSING
        else:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = result.failure_message or "The payment was declined."
        return _outcome(payment)


def settle_processing(db: Database, gateway: PaymentGateway, *, clock: Clock = utc_now) -> int:
    """Ask the gateway about processing payments and book those that settled; returns how many."""
    with db.reading() as session:
        waiting = session.execute(
            select(Payment.public_id, Payment.gateway_payment_id).where(
                Payment.status == PaymentStatus.PROCESSING, Payment.gateway == gateway.name
            )
        ).all()
    booked = 0
    for public_id, gateway_payment_id in waiting:
        if not gateway_payment_id:
            continue
        result = gateway.retrieve(gateway_payment_id)
        if result.status != ChargeStatus.PROCESSING:
            book_result(db, public_id, result, gateway_name=gateway.name, clock=clock)
            booked += 1
    return booked


def _store_attempt(
    db: Database, principal: Principal, plan: PaymentPlan, gateway: PaymentGateway, method: str, now: datetime
) -> str:
    if plan.total.minor <= 0:
        raise InvalidAmount(plan.total, "must be more than zero")
    with db.transaction() as session:
        client = get_client(session, principal.client_id)
        processing = session.scalar(
            select(Payment.id).where(
                Payment.client_id == client.id,
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.PROCESSING)),
                Payment.amount_minor == plan.total.minor,
            )
        )
        if processing is not None:
            raise PaymentInProgress(plan.total)
        invoices = _planned_invoices(session, principal, plan)
        retainer = plan.kind == PaymentKind.RETAINER
        planned = [
            {"invoice_id": invoices[line.invoice_public_id], "amount_minor": line.amount.minor}
            for line in plan.lines
        ]
        payment = Payment(
            organization_id=client.organization_id,
            client_id=client.id,
            portal_user_id=principal.portal_user_id,
            kind=plan.kind,
            retainer_invoice_id=planned[0]["invoice_id"] if retainer else None,
            status=PaymentStatus.PENDING,
            amount_minor=plan.total.minor,
            currency=plan.total.currency,
            method=method,
            gateway=gateway.name,
            is_sandbox=gateway.is_sandbox,
            planned_allocations=[] if retainer else planned,
            created_at=now,
        )
        session.add(payment)
        session.flush()
        return payment.public_id


def _planned_invoices(session: Session, principal: Principal, plan: PaymentPlan) -> Mapping[str, int]:
    """Check every planned amount against the invoice as it is now; return public id -> id."""
    ids = {}
    for line in plan.lines:
        invoice = client_invoice(session, principal, line.invoice_public_id)
        if invoice.status not in PAYABLE_STATUSES:
            raise NotFound("invoice", line.invoice_public_id)
        check_payable(invoice, line.amount)
        ids[line.invoice_public_id] = invoice.id
    return ids


def _fail(db: Database, payment_public_id: str, message: str, clock: Clock) -> None:
    with db.transaction() as session:
        payment = _locked(session, payment_public_id)
        payment.status = PaymentStatus.FAILED
        payment.failure_message = message[:500]


def _locked(session: Session, public_id: str) -> Payment:
    payment = session.scalars(
        select(Payment).where(Payment.public_id == public_id).with_for_update()
    ).one_or_none()
    if payment is None:
        raise NotFound("payment", public_id)
    return payment


def _save_method(
    session: Session, payment: Payment, result: ChargeResult, gateway_name: str, now: datetime
) -> None:
    session.add(
        SavedPaymentMethod(
            client_id=payment.client_id,
            gateway=gateway_name,
            gateway_method_id=result.method.gateway_method_id,
            kind=result.method.kind,
            brand=result.method.brand,
            last4=result.method.last4,
            exp_month=result.method.exp_month,
            exp_year=result.method.exp_year,
            created_at=now,
        )
    )


def _outcome(payment: Payment) -> PaymentOutcome:
    return PaymentOutcome(
        payment_public_id=payment.public_id,
        status=payment.status,
        amount=Money(payment.amount_minor, payment.currency),
        receipt_number=payment.receipt_number,
        failure_message=payment.failure_message,
    )


@dataclass(frozen=True)
class SavedMethodView:
    public_id: str
    gateway_method_id: str
    kind: str
    label: str  # "Visa •••• 4242, expires 12/2030"


def list_saved_methods(db: Database, principal: Principal, gateway_name: str) -> tuple[SavedMethodView, ...]:
    """The client's saved cards and accounts at this gateway, newest first."""
    with db.reading() as session:
        rows = session.scalars(
            select(SavedPaymentMethod)
            .where(
                SavedPaymentMethod.client_id == principal.client_id,
                SavedPaymentMethod.gateway == gateway_name,
                SavedPaymentMethod.removed_at.is_(None),
            )
            .order_by(SavedPaymentMethod.created_at.desc(), SavedPaymentMethod.id.desc())
        ).all()
    views = []
    for row in rows:
        expiry = f", expires {row.exp_month:02d}/{row.exp_year}" if row.exp_month and row.exp_year else ""
        views.append(SavedMethodView(row.public_id, row.gateway_method_id, row.kind,
                                     f"{row.brand} •••• {row.last4}{expiry}"))  # fmt: skip
    return tuple(views)
