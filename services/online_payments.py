"""Paying online: plan what a payment covers, store the attempt, call the gateway, book the outcome.

Every attempt is a payments row (status pending) committed before the gateway is called; its public
id is the idempotency key, so a retried call never charges twice. An invoice is paid only when the
gateway says the charge succeeded; bank debits stay processing until it says so later. While a
payment of an amount is processing, a second payment of the same amount is refused. A card that
asks for 3-D Secure leaves the attempt pending until the browser has completed the challenge and
``complete_action`` books the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import Client, Invoice, InvoiceKind, Payment, PaymentKind, PaymentStatus, SavedPaymentMethod
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import (
    DomainError,
    GatewayUnavailable,
    InvalidAmount,
    InvalidPaymentDetails,
    NotFound,
    PaymentInProgress,
)
from services.gateways.base import ChargeRequest, ChargeResult, ChargeStatus, MethodKind, PaymentGateway
from services.invoices import PAYABLE_STATUSES, check_payable
from services.money import Money
from services.payment_notices import queue_debit_failed, queue_receipt
from services.payment_settings import accepted_methods_of_client
from services.payments import allocate_oldest_first, open_invoices, settle_payment
from services.principal import Principal
from services.records import client_invoice, get_client
from services.saved_methods import gateway_customer, store_method

METHOD_NOT_ACCEPTED = {
    MethodKind.CARD: "Card payments are not accepted at the moment, so nothing was charged. "
    "Please pay by bank account.",
    MethodKind.BANK_ACCOUNT: "Bank account payments are not accepted at the moment, so nothing was "
    "charged. Please pay by card.",
}
ACTION_TIMEOUT = timedelta(hours=1)  # a 3-D Secure challenge left open this long is given up
NOT_VERIFIED = "Your bank's verification was not completed, so nothing was charged."


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
    status: str  # succeeded | processing | requires_action | failed
    amount: Money
    receipt_number: str | None
    failure_message: str
    client_secret: str = ""  # requires_action: what the browser completes the challenge with


def plan_pay_all(db: Database, principal: Principal, *, clock: Clock = utc_now) -> PaymentPlan:
    """Pay Now on Home: the whole outstanding amount not already being paid, oldest due date first."""
    with db.reading() as session:
        currency = get_client(session, principal.client_id).currency
        reserved = in_flight(session, principal.client_id, clock())
        invoices = [
            replace(invoice, balance_minor=invoice.balance_minor - reserved.get(invoice.id, 0))
            for invoice in open_invoices(session, principal.client_id)
        ]
        shares = allocate_oldest_first(invoices, sum(max(0, i.balance_minor) for i in invoices))
        rows = {row.id: row for row in session.scalars(select(Invoice).where(Invoice.id.in_(list(shares))))}
        lines = tuple(
            PlannedLine(rows[i].public_id, rows[i].number, Money(rows[i].balance_due_minor, currency),
                        Money(share, currency))
            for i, share in shares.items()
        )  # fmt: skip
    return PaymentPlan(PaymentKind.INVOICE, lines, Money(sum(shares.values()), currency))


def plan_pay_invoice(
    db: Database, principal: Principal, public_id: str, amount: Money | None = None, *, clock: Clock = utc_now
) -> PaymentPlan:
    """Pay Now on one invoice or retainer invoice: what is due and not being paid, or less."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, public_id)
        balance = Money(invoice.balance_due_minor, invoice.currency)
        reserved = in_flight(session, principal.client_id, clock()).get(invoice.id, 0)
        share = amount if amount is not None else Money(max(0, balance.minor - reserved), balance.currency)
        _check_share(invoice, share, reserved)
        kind = PaymentKind.RETAINER if invoice.kind == InvoiceKind.RETAINER else PaymentKind.INVOICE
        line = PlannedLine(invoice.public_id, invoice.number, balance, share)
    return PaymentPlan(kind, (line,), share)


def in_flight(session: Session, client_id: int, now: datetime) -> dict[int, int]:
    """Invoice id -> the amount of payments towards it that the gateway has not answered yet.

    Processing bank debits, and attempts still waiting for the gateway or a 3-D Secure challenge
    (up to ``ACTION_TIMEOUT``): that much of the invoice cannot be paid again meanwhile.
    """
    rows = session.execute(
        select(Payment.retainer_invoice_id, Payment.amount_minor, Payment.planned_allocations).where(
            Payment.client_id == client_id, _unanswered(now)
        )
    ).all()
    reserved: dict[int, int] = {}
    for retainer_invoice_id, amount_minor, planned in rows:
        shares = [(retainer_invoice_id, amount_minor)] if retainer_invoice_id else [
            (int(line["invoice_id"]), int(line["amount_minor"])) for line in planned
        ]  # fmt: skip
        for invoice_id, share in shares:
            reserved[invoice_id] = reserved.get(invoice_id, 0) + share
    return reserved


def _unanswered(now: datetime) -> ColumnElement[bool]:
    return or_(
        Payment.status == PaymentStatus.PROCESSING,
        (Payment.status == PaymentStatus.PENDING) & (Payment.created_at > now - ACTION_TIMEOUT),
    )


def _check_share(invoice: Invoice, share: Money, reserved: int) -> None:
    if reserved and invoice.status in PAYABLE_STATUSES:
        left = invoice.balance_due_minor - reserved
        if left <= 0 or left < share.minor <= invoice.balance_due_minor:
            raise PaymentInProgress(Money(reserved, invoice.currency), invoice.number)
    check_payable(invoice, share)


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
    method = _method_kind(db, principal, gateway, request)
    customer_id = request.customer_id or gateway_customer(db, gateway, principal, clock=clock)
    payment_public_id = _store_attempt(db, principal, plan, gateway, method, clock())
    charge = ChargeRequest(
        idempotency_key=payment_public_id,
        amount_minor=plan.total.minor,
        currency=plan.total.currency,
        description=", ".join(line.number for line in plan.lines),
        card=request.card,
        bank_account=request.bank_account,
        saved_method_id=request.saved_method_id,
        payment_method_id=request.payment_method_id,
        customer_id=customer_id,
        save_method=request.save_method,
    )
    try:
        result = gateway.charge(charge)
    except (
        GatewayUnavailable
    ) as error:  # money may have moved: keep the attempt open for the gateway to settle
        _await_gateway(db, payment_public_id, error.gateway_payment_id)
        raise
    except DomainError as error:
        _fail(db, payment_public_id, str(error), clock)
        raise
    return book_result(
        db, payment_public_id, result, gateway_name=gateway.name, customer_id=customer_id, clock=clock
    )


def _method_kind(db: Database, principal: Principal, gateway: PaymentGateway, request: ChargeRequest) -> str:
    """Card or bank account; refused before anything is stored or charged if the business turned the
    method off in Settings > Payments (a page drawn before then may still offer it)."""
    with db.reading() as session:
        if request.bank_account is not None:
            kind = MethodKind.BANK_ACCOUNT
        elif request.saved_method_id:
            saved = session.scalar(
                select(SavedPaymentMethod.kind).where(
                    SavedPaymentMethod.client_id == principal.client_id,
                    SavedPaymentMethod.gateway == gateway.name,
                    SavedPaymentMethod.gateway_method_id == request.saved_method_id,
                )
            )
            kind = MethodKind(saved) if saved else MethodKind.CARD
        else:
            kind = MethodKind.CARD
        if not accepted_methods_of_client(session, principal.client_id).allows(kind):
            raise InvalidPaymentDetails("method", METHOD_NOT_ACCEPTED[kind])
    return str(kind)


def complete_action(
    db: Database,
    gateway: PaymentGateway,
    principal: Principal,
    payment_public_id: str,
    *,
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """The browser finished (or abandoned) a 3-D Secure challenge: book what the gateway now says."""
    with db.reading() as session:
        payment = session.scalar(
            select(Payment).where(
                Payment.public_id == payment_public_id, Payment.client_id == principal.client_id
            )
        )
        if payment is None or not payment.gateway_payment_id:
            raise NotFound("payment", payment_public_id)
        gateway_payment_id = payment.gateway_payment_id
    result = gateway.retrieve(gateway_payment_id)
    if result.status == ChargeStatus.REQUIRES_ACTION:  # closed or failed the challenge: nothing was taken
        result = ChargeResult(
            result.gateway_payment_id,
            ChargeStatus.FAILED,
            result.method,
            failure_code="authentication_required",
            failure_message=NOT_VERIFIED,
        )
    return book_result(db, payment_public_id, result, gateway_name=gateway.name, clock=clock)


def book_result(
    db: Database,
    payment_public_id: str,
    result: ChargeResult,
    *,
    gateway_name: str,
    customer_id: str = "",
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """Record what the gateway said about an attempt; called again when a processing one settles.

    Safe to call any number of times with the same answer (a webhook delivered twice, the settle loop
    and a webhook at once): the payment row is locked and a booked payment is never booked again.
    """
    with db.transaction() as session:
        payment = _locked(session, payment_public_id)
        if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            return _outcome(payment)  # already booked: a repeated answer changes nothing
        was_processing = payment.status == PaymentStatus.PROCESSING
        payment.gateway_payment_id = result.gateway_payment_id
        payment.method = result.method.kind
        payment.method_brand = result.method.brand or payment.method_brand
        payment.method_last4 = result.method.last4 or payment.method_last4
        now = clock()
        if result.saved and result.method.gateway_method_id and result.status != ChargeStatus.FAILED:
            store_method(session, payment.client_id, gateway_name, result.method, customer_id, now)
        if result.status == ChargeStatus.SUCCEEDED:
            settle_payment(session, payment, received_at=now, clock=clock)
            queue_receipt(session, payment, now)
        elif result.status == ChargeStatus.PROCESSING:
            payment.status = PaymentStatus.PROCESSING
        elif result.status == ChargeStatus.REQUIRES_ACTION:
            return _outcome(payment, client_secret=result.client_secret)  # stays pending until completed
        else:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = result.failure_message or "The payment was declined."
            if was_processing:
                queue_debit_failed(session, payment, now)
        return _outcome(payment)


def settle_processing(db: Database, gateway: PaymentGateway, *, clock: Clock = utc_now) -> int:
    """Ask the gateway about processing payments and book those that settled; returns how many.

    Pending attempts the gateway knows of are asked about too: a charge whose answer was lost, and
    3-D Secure challenges, which are given up after ``ACTION_TIMEOUT`` so that an abandoned attempt
    does not reserve its invoices for ever.
    """
    stale = clock() - ACTION_TIMEOUT
    with db.reading() as session:
        waiting = session.execute(
            select(Payment.public_id, Payment.gateway_payment_id, Payment.status, Payment.created_at).where(
                Payment.status.in_((PaymentStatus.PROCESSING, PaymentStatus.PENDING)),
                Payment.gateway == gateway.name,
                Payment.gateway_payment_id.is_not(None),
            )
        ).all()
    booked = 0
    for public_id, gateway_payment_id, status, created_at in waiting:
        if not gateway_payment_id:
            continue
        result = gateway.retrieve(gateway_payment_id)
        if result.status == ChargeStatus.REQUIRES_ACTION:
            if status == PaymentStatus.PENDING and created_at > stale:
                continue  # the customer may still be answering the challenge
            result = ChargeResult(
                result.gateway_payment_id, ChargeStatus.FAILED, result.method, failure_message=NOT_VERIFIED
            )
        if result.status != ChargeStatus.PROCESSING:
            book_result(db, public_id, result, gateway_name=gateway.name, clock=clock)
            booked += 1
    return booked


def book_gateway_update(
    db: Database, gateway_name: str, result: ChargeResult, *, clock: Clock = utc_now
) -> bool:
    """A webhook reported a charge's state: book it on the attempt it belongs to; False if none does."""
    with db.reading() as session:
        public_id = session.scalar(
            select(Payment.public_id).where(
                Payment.gateway == gateway_name, Payment.gateway_payment_id == result.gateway_payment_id
            )
        )
    if public_id is None:
        return False
    if result.status in (ChargeStatus.SUCCEEDED, ChargeStatus.FAILED):
        book_result(db, public_id, result, gateway_name=gateway_name, clock=clock)
    return True


def _store_attempt(
    db: Database, principal: Principal, plan: PaymentPlan, gateway: PaymentGateway, method: str, now: datetime
) -> str:
    if plan.total.minor <= 0:
        raise InvalidAmount(plan.total, "must be more than zero")
    with db.transaction() as session:
        # One attempt at a time per client: two tabs paying at once see each other's reservation.
        client = session.scalars(
            select(Client).where(Client.id == principal.client_id).with_for_update()
        ).one()
        invoices = _planned_invoices(session, principal, plan, in_flight(session, client.id, now))
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


def _planned_invoices(
    session: Session, principal: Principal, plan: PaymentPlan, reserved: Mapping[int, int]
) -> Mapping[str, int]:
    """Check every planned amount against the invoice as it is now; return public id -> id."""
    ids = {}
    for line in plan.lines:
        invoice = client_invoice(session, principal, line.invoice_public_id)
        _check_share(invoice, line.amount, reserved.get(invoice.id, 0))
        ids[line.invoice_public_id] = invoice.id
    return ids


def _await_gateway(db: Database, payment_public_id: str, gateway_payment_id: str) -> None:
    """Keep the attempt pending, reserving its invoices, until the settle loop or a webhook books it."""
    if not gateway_payment_id:
        return
    with db.transaction() as session:
        _locked(session, payment_public_id).gateway_payment_id = gateway_payment_id


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


def _outcome(payment: Payment, *, client_secret: str = "") -> PaymentOutcome:
    return PaymentOutcome(
        payment_public_id=payment.public_id,
        status=ChargeStatus.REQUIRES_ACTION if client_secret else payment.status,
        amount=Money(payment.amount_minor, payment.currency),
        receipt_number=payment.receipt_number,
        failure_message=payment.failure_message,
        client_secret=client_secret,
    )
