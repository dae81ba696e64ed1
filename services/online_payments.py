"""Paying online: plan what a payment covers, store the attempt, call the gateway, book the outcome.

Every attempt is a payments row (status pending) committed before the gateway is called; its public
id is the idempotency key, so a retried call never charges twice. An invoice is paid only when the
gateway says the charge succeeded; bank debits stay processing until it says so later. While a
payment of an amount is pending or processing, a second payment of the same amount is refused. A card
that asks for 3-D Secure leaves the attempt pending until the browser has completed the challenge and
``complete_action`` books the answer.

Whatever fails after the attempt is stored (the gateway not answering, the database failing while the
answer is booked, any error at all), the attempt stays pending with its invoices reserved, the customer
is told it is being confirmed (``PaymentInDoubt``), and ``services.reconciliation`` books the gateway's
answer later. Whatever fails before, nothing was charged (``PaymentNotStarted``).

A plan may use available credits and retainer first (``PaymentPlan.credits``): the attempt holds them
and the booking of its success applies them (``services.checkout_credits``); only the rest is charged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from models import (
    AutoPayAttempt,
    Client,
    GatewayCustomer,
    Invoice,
    InvoiceKind,
    Organization,
    Payment,
    PaymentKind,
    PaymentStatus,
    RefundSource,
    SavedPaymentMethod,
)
from services.audit import record_event
from services.balances import HELD_KEYS
from services.checkout_credits import UsedCredit, apply_held, apply_uses, check_free, held_entry
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import (
    DomainError,
    GatewayUnavailable,
    InvalidAmount,
    InvalidPaymentDetails,
    NotFound,
    PaymentInDoubt,
    PaymentInProgress,
    PaymentNotStarted,
)
from services.gateways.base import ChargeRequest, ChargeResult, ChargeStatus, MethodKind, PaymentGateway
from services.gateways.switch import unwrap
from services.invoices import PAYABLE_STATUSES, check_payable
from services.money import Money
from services.payment_notices import (
    parties_from,
    prepare_receipt,
    queue_debit_failed,
    queue_settled_with_credits,
    with_parties,
)
from services.payment_settings import AcceptedMethods
from services.payments import (
    OpenInvoice,
    PaidInvoice,
    allocate_oldest_first,
    allocate_payment,
    open_invoice_rows,
)
from services.principal import ActsForClient, Principal
from services.receipt_numbering import number_and_queue
from services.records import client_invoice, client_invoices
from services.saved_methods import KnownCustomer, new_gateway_customer, store_method

SAVED_METHOD_GONE = (
    "This saved payment method is no longer available, so nothing was charged. "
    "Please choose another one or enter new details."
)
METHOD_NOT_ACCEPTED = {
    MethodKind.CARD: "Card payments are not accepted at the moment, so nothing was charged. "
    "Please pay by bank account.",
    MethodKind.BANK_ACCOUNT: "Bank account payments are not accepted at the moment, so nothing was "
    "charged. Please pay by card.",
}
ACTION_TIMEOUT = timedelta(hours=1)  # a 3-D Secure challenge left open this long is given up
NOT_VERIFIED = "Your bank's verification was not completed, so nothing was charged."
UNANSWERED = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class PlannedLine:
    invoice_public_id: str
    number: str
    balance_due: Money
    amount: Money


@dataclass(frozen=True)
class CreditUse:
    """Part of an invoice paid with available credits or retainer before anything is charged."""

    invoice_public_id: str
    source: RefundSource
    amount: Money


@dataclass(frozen=True)
class PaymentPlan:
    kind: PaymentKind
    lines: tuple[PlannedLine, ...]
    total: Money  # what the plan pays of the invoices: the credits it uses and the charge
    on_its_way: Money | None = None  # what payments not answered yet cover, so it is not planned again
    credits: tuple[CreditUse, ...] = ()  # used first, oldest invoice first (services.pay_now)

    @property
    def charge(self) -> Money:
        """What the card or account is charged: the total less the credits and retainer used."""
        return self.total - self.used(RefundSource.CREDIT) - self.used(RefundSource.RETAINER)

    def used(self, source: RefundSource) -> Money:
        """The credits (or retainer) the plan uses."""
        return Money(
            sum(use.amount.minor for use in self.credits if use.source == source), self.total.currency
        )

    def used_on(self, invoice_public_id: str) -> dict[RefundSource, int]:
        """Source -> what the plan uses of it on one invoice (minor units)."""
        uses = dict.fromkeys(RefundSource, 0)
        for use in self.credits:
            if use.invoice_public_id == invoice_public_id:
                uses[use.source] += use.amount.minor
        return uses


@dataclass(frozen=True)
class PaymentOutcome:
    payment_public_id: str
    status: str  # succeeded | processing | requires_action | failed
    amount: Money
    receipt_number: str | None
    failure_message: str
    client_secret: str = ""  # requires_action: what the browser completes the challenge with
    credits: tuple[UsedCredit, ...] = ()  # credits and retainer applied with it, when it succeeded now


@dataclass(frozen=True)
class CreditSettlement:
    """Invoices paid with available credits and retainer alone: nothing was charged."""

    total: Money
    invoices: tuple[PaidInvoice, ...]  # what was paid of each, and what is still due
    credits: tuple[UsedCredit, ...]


def plan_pay_all(db: Database, principal: Principal, *, clock: Clock = utc_now) -> PaymentPlan:
    """Pay Now on Home: the whole outstanding amount not already being paid, oldest due date first."""
    with db.reading() as session:
        currency = session.scalar(select(Client.currency).where(Client.id == principal.client_id))
        if currency is None:
            raise NotFound("client", principal.client_id)
        reserved = in_flight(session, principal.client_id)
        open_rows = open_invoice_rows(session, principal.client_id)
        invoices = [
            OpenInvoice(row.id, row.due_date, row.balance_due_minor - reserved.get(row.id, 0))
            for row in open_rows
        ]
        shares = allocate_oldest_first(invoices, sum(max(0, i.balance_minor) for i in invoices))
        rows = {row.id: row for row in open_rows}
        lines = tuple(
            PlannedLine(rows[i].public_id, rows[i].number, Money(rows[i].balance_due_minor, currency),
                        Money(share, currency))
            for i, share in shares.items()
        )  # fmt: skip
        if any(reserved.get(invoice.id) for invoice in invoices):  # what is being charged, credits aside
            charged = _reserved(session, principal.client_id, UNANSWERED, credits=False)
            waiting = sum(charged.get(invoice.id, 0) for invoice in invoices)
        else:
            waiting = 0
    return PaymentPlan(
        PaymentKind.INVOICE,
        lines,
        Money(sum(shares.values()), currency),
        Money(waiting, currency) if waiting else None,
    )


def plan_pay_invoice(
    db: Database,
    principal: ActsForClient,
    public_id: str,
    amount: Money | None = None,
    *,
    clock: Clock = utc_now,
) -> PaymentPlan:
    """Pay Now on one invoice or retainer invoice: what is due and not being paid, or less."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, public_id)
        balance = Money(invoice.balance_due_minor, invoice.currency)
        reserved = in_flight(session, principal.client_id).get(invoice.id, 0)
        share = amount if amount is not None else Money(max(0, balance.minor - reserved), balance.currency)
        _check_share(invoice, share, reserved)
        kind = PaymentKind.RETAINER if invoice.kind == InvoiceKind.RETAINER else PaymentKind.INVOICE
        line = PlannedLine(invoice.public_id, invoice.number, balance, share)
    return PaymentPlan(kind, (line,), share)


def in_flight(session: Session, client_id: int) -> dict[int, int]:
    """Invoice id -> the amount of payments towards it that the gateway has not given a final answer for,
    with the credits they will apply to it.

    Processing bank debits, and attempts still waiting for the gateway's answer or a 3-D Secure
    challenge: that much of the invoice cannot be paid again until reconciliation books the answer,
    however long that takes (never a time-out: the money may have been taken).
    """
    return _reserved(session, client_id, UNANSWERED)


def being_confirmed(session: Session, client_id: int) -> dict[int, int]:
    """Invoice id -> the part of ``in_flight`` whose charge we are still confirming with the gateway
    (not a bank debit it accepted and that is now processing)."""
    return _reserved(session, client_id, (PaymentStatus.PENDING,))


def in_flight_and_confirming(
    session: Session, client_id: int
) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """``in_flight``, and the money (credits aside) of ``being_confirmed`` and of the bank debits the
    gateway accepted and is processing: what the customer is told is being confirmed, or processed, in
    one query."""
    reserved: dict[int, int] = {}
    confirming: dict[int, int] = {}
    processing: dict[int, int] = {}
    for status, invoice_id, money, held in _unanswered_shares(session, client_id, UNANSWERED):
        reserved[invoice_id] = reserved.get(invoice_id, 0) + money + held
        told = confirming if status == PaymentStatus.PENDING else processing
        if money:
            told[invoice_id] = told.get(invoice_id, 0) + money
    return reserved, confirming, processing


def _reserved(
    session: Session, client_id: int, statuses: tuple[str, ...], *, credits: bool = True
) -> dict[int, int]:
    reserved: dict[int, int] = {}
    for _, invoice_id, money, held in _unanswered_shares(session, client_id, statuses):
        reserved[invoice_id] = reserved.get(invoice_id, 0) + money + (held if credits else 0)
    return reserved


# The statements every payment runs, made once: making one again for each payment cost about as much as
# running it (0.05-0.1 ms each, a tenth of a payment's work all told).
_UNANSWERED_SHARES = select(
    Payment.status, Payment.retainer_invoice_id, Payment.amount_minor, Payment.planned_allocations
).where(
    Payment.client_id == bindparam("client_id"), Payment.status.in_(bindparam("statuses", expanding=True))
)


def _unanswered_shares(
    session: Session, client_id: int, statuses: tuple[str, ...]
) -> Iterator[tuple[str, int, int, int]]:
    """(status, invoice id, amount, credits held) of each invoice share of the client's payments in
    ``statuses``: the payment's own money, and the credits and retainer it will apply with it.

    Only those few payments are read (``ix_payments_client_received`` starts with client and status),
    however many the client made before.
    """
    rows = session.execute(_UNANSWERED_SHARES, {"client_id": client_id, "statuses": statuses}).all()
    for status, retainer_invoice_id, amount_minor, planned in rows:
        if retainer_invoice_id:
            yield status, retainer_invoice_id, amount_minor, 0
            continue
        for line in planned:
            held = sum(int(line.get(key, 0)) for key in HELD_KEYS.values())
            yield status, int(line["invoice_id"]), int(line["amount_minor"]), held


def _check_share(invoice: Invoice, share: Money, reserved: int) -> None:
    if reserved and invoice.status in PAYABLE_STATUSES:
        left = invoice.balance_due_minor - reserved
        if left <= 0 or left < share.minor <= invoice.balance_due_minor:
            raise PaymentInProgress(Money(reserved, invoice.currency), invoice.number)
    check_payable(invoice, share)


def pay(
    db: Database,
    gateway: PaymentGateway,
    principal: ActsForClient,
    plan: PaymentPlan,
    request: ChargeRequest,
    *,
    clock: Clock = utc_now,
) -> PaymentOutcome:
    """Charge ``plan.charge`` through the gateway and book what it answers, with the credits the plan
    uses: held from the start, applied only if the charge succeeds.

    ``request`` carries the method (new card, new account or saved method); its idempotency key and
    amount are replaced by the stored attempt's. Raises a ``DomainError`` for everything: a refusal
    (nothing was charged), ``PaymentNotStarted`` when a fault came before the attempt was stored, and
    ``PaymentInDoubt`` when one came after it (reconciliation books the gateway's answer).
    """
    gateway = unwrap(gateway)  # one gateway for the whole attempt, though Settings may switch meanwhile
    payment_public_id, customer = _before_attempt(
        _store_attempt, db, principal, plan, gateway, request, clock()
    )
    customer_id = request.customer_id or customer.customer_id
    if not customer_id:
        customer_id = _first_customer(db, gateway, principal, customer.name, payment_public_id, clock)
    charge = ChargeRequest(
        idempotency_key=payment_public_id,
        amount_minor=plan.charge.minor,
        currency=plan.charge.currency,
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
    except GatewayUnavailable as error:  # money may have moved: keep the attempt open for reconciliation
        _keep_gateway_id(db, payment_public_id, error.gateway_payment_id)
        raise PaymentInDoubt(payment_public_id, plan.charge) from error
    except DomainError as error:  # a refusal: nothing was charged
        _fail(db, payment_public_id, str(error))
        raise
    except Exception as error:
        log.exception(
            "payment %s: the gateway call failed; it stays open for reconciliation", payment_public_id
        )
        raise PaymentInDoubt(payment_public_id, plan.charge) from error
    return _book_or_doubt(
        db,
        payment_public_id,
        result,
        plan.charge,
        gateway_name=gateway.name,
        customer_id=customer_id,
        clock=clock,
    )


def settle_with_credits(
    db: Database, principal: ActsForClient, plan: PaymentPlan, *, clock: Clock = utc_now
) -> CreditSettlement:
    """Pay a plan that its credits and retainer cover in full, with no gateway at all.

    One transaction, under the client's lock like ``pay``: the invoices and the credits are checked as
    they are now (``CreditNoLongerAvailable`` if the credits were used meanwhile, and nothing changes),
    then applied, each with an audit event, and the customer and the business are told.
    """
    if not plan.lines:
        raise InvalidAmount(plan.total, "must be more than zero")
    if plan.charge.minor != 0:
        raise ValueError(f"{plan.charge} is left to charge: pay() pays this plan")
    now = clock()
    with db.transaction() as session:
        _locked_client(session, principal)
        invoices = _planned_invoices(session, principal, plan, in_flight(session, principal.client_id))
        check_free(session, principal.client_id, {source: plan.used(source) for source in RefundSource})
        uses = [(invoices[use.invoice_public_id], use.source, use.amount.minor) for use in plan.credits]
        used = apply_uses(
            session, principal.client_id, uses, now=now, portal_user_id=principal.portal_user_id
        )
        if sum(use.amount.minor for use in used) != plan.total.minor:  # checked above: never, but never less
            raise RuntimeError(f"credits covered {used} of {plan.total}; rolled back")
        settled = tuple(
            PaidInvoice(
                line.number,
                line.amount.minor,
                session.get_one(Invoice, invoices[line.invoice_public_id]).balance_due_minor,
            )
            for line in plan.lines
        )
        queue_settled_with_credits(session, principal.client_id, principal.portal_user_id, settled, used, now)
    return CreditSettlement(plan.total, settled, used)


def _before_attempt(step: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a step that comes before the attempt is stored: a fault there means nothing was charged."""
    try:
        return step(*args, **kwargs)
    except DomainError:
        raise
    except Exception as error:
        log.exception("a payment could not be started")
        raise PaymentNotStarted() from error


def _book_or_doubt(
    db: Database,
    payment_public_id: str,
    result: ChargeResult,
    amount: Money,
    *,
    gateway_name: str,
    customer_id: str = "",
    clock: Clock,
) -> PaymentOutcome:
    """Book the gateway's answer; if booking fails, the charge stands and reconciliation books it."""
    try:
        return book_result(
            db, payment_public_id, result, gateway_name=gateway_name, customer_id=customer_id, clock=clock
        )
    except Exception as error:
        log.exception(
            "payment %s: the gateway answered %s but booking failed", payment_public_id, result.status
        )
        raise PaymentInDoubt(payment_public_id, amount) from error


def _first_customer(
    db: Database,
    gateway: PaymentGateway,
    principal: ActsForClient,
    name: str,
    payment_public_id: str,
    clock: Clock,
) -> str:
    """The client's first payment at this gateway: its customer is made there before the charge. If
    that fails, no charge was asked for under the stored attempt, so it is closed as failed at once."""
    try:
        return new_gateway_customer(db, gateway, principal, name, clock=clock)
    except Exception as error:
        _fail(db, payment_public_id, "The payment could not be started; nothing was charged.")
        if isinstance(error, DomainError):
            raise
        log.exception("payment %s: the gateway's customer could not be made", payment_public_id)
        raise PaymentNotStarted() from error


def _method_kind(
    session: Session,
    principal: ActsForClient,
    gateway: PaymentGateway,
    request: ChargeRequest,
    accepted: AcceptedMethods,
) -> str:
    """Card or bank account; refused before anything is stored or charged if the business turned the
    method off in Settings > Payments (a page drawn before then may still offer it)."""
    if request.bank_account is not None:
        kind = MethodKind.BANK_ACCOUNT
    elif request.saved_method_id:
        # Only the client's own method, and not one removed since the page was drawn: a gateway may
        # well charge any method id it knows (the sandbox does), whoever sends it.
        saved = session.scalar(
            select(SavedPaymentMethod.kind).where(
                SavedPaymentMethod.client_id == principal.client_id,
                SavedPaymentMethod.gateway == gateway.name,
                SavedPaymentMethod.gateway_method_id == request.saved_method_id,
                SavedPaymentMethod.removed_at.is_(None),
            )
        )
        if saved is None:
            raise InvalidPaymentDetails("method", SAVED_METHOD_GONE)
        kind = MethodKind(saved)
    else:
        kind = MethodKind.CARD
    if not accepted.allows(kind):
        raise InvalidPaymentDetails("method", METHOD_NOT_ACCEPTED[kind])
    return str(kind)


def complete_action(
    db: Database,
    gateway: PaymentGateway,
    principal: ActsForClient,
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
        amount = Money(payment.amount_minor, payment.currency)
    try:
        result = gateway.retrieve(gateway_payment_id)
        if result.status in (ChargeStatus.REQUIRES_ACTION, ChargeStatus.FAILED):  # closed or failed it
            # Cancelled at the gateway before it is booked as failed, so it cannot be completed later.
            result = gateway.cancel(gateway_payment_id)
    except Exception as error:
        log.warning("payment %s: no answer after the challenge (%s); reconciliation asks again",
                    payment_public_id, error)  # fmt: skip
        raise PaymentInDoubt(payment_public_id, amount) from error
    if result.status == ChargeStatus.REQUIRES_ACTION:
        result = ChargeResult(
            result.gateway_payment_id,
            ChargeStatus.FAILED,
            result.method,
            failure_code="authentication_required",
            failure_message=NOT_VERIFIED,
        )
    return _book_or_doubt(db, payment_public_id, result, amount, gateway_name=gateway.name, clock=clock)


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
        payment, row = _locked_with_parties(session, payment_public_id)
        now = clock()
        if _succeeded_after_failure(session, payment, result, now):
            payment.status = PaymentStatus.PENDING  # booked below like any success
        elif payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            return _outcome(payment)  # already booked: a repeated answer changes nothing
        was_processing = payment.status == PaymentStatus.PROCESSING
        payment.gateway_payment_id = result.gateway_payment_id or payment.gateway_payment_id
        payment.method = result.method.kind
        payment.method_brand = result.method.brand or payment.method_brand
        payment.method_last4 = result.method.last4 or payment.method_last4
        if result.saved and result.method.gateway_method_id and result.status != ChargeStatus.FAILED:
            store_method(session, payment.client_id, gateway_name, result.method, customer_id, now)
        if result.status == ChargeStatus.SUCCEEDED:
            used = apply_held(session, payment, now)  # the credits first, then the charge pays the rest
            with session.no_autoflush:  # written at once with the messages, just before the number
                paid = allocate_payment(session, payment, received_at=now, clock=clock)
                parties = parties_from(row, payment.portal_user_id)
                receipt = prepare_receipt(session, payment, paid, now, credits=used, parties=parties)
            number_and_queue(session, payment, receipt, now)  # from here to the commit, other receipts wait
            return _outcome(payment, credits=used)
        elif result.status == ChargeStatus.PROCESSING:
            payment.status = PaymentStatus.PROCESSING
        elif result.status == ChargeStatus.REQUIRES_ACTION:
            return _outcome(payment, client_secret=result.client_secret)  # stays pending until completed
        else:
            payment.status = PaymentStatus.FAILED
            payment.failure_message = result.failure_message or "The payment was declined."
            if was_processing and not _auto_pay_charge(session, payment):
                queue_debit_failed(session, payment, now)
        return _outcome(payment)


def _auto_pay_charge(session: Session, payment: Payment) -> bool:
    """Whether auto-pay made this payment: auto-pay then tells the customer of its failure itself, with the
    pay link and the day of the next try, instead of the Pay page's "your payment failed"."""
    made_by = select(AutoPayAttempt.id).where(AutoPayAttempt.payment_id == payment.id)
    return session.scalar(made_by) is not None


def book_gateway_update(
    db: Database, gateway_name: str, result: ChargeResult, *, clock: Clock = utc_now
) -> bool:
    """A webhook reported a charge's state: book it on the attempt it belongs to; False if none does.

    The attempt is found by the gateway's id or, when its answer never reached us (so we do not know
    that id), by our payment id in the charge's metadata.
    """
    with db.reading() as session:
        public_id = session.scalar(
            select(Payment.public_id).where(
                Payment.gateway == gateway_name, Payment.gateway_payment_id == result.gateway_payment_id
            )
        )
        if public_id is None and result.reference:
            public_id = session.scalar(
                select(Payment.public_id).where(
                    Payment.gateway == gateway_name, Payment.public_id == result.reference
                )
            )
    if public_id is None:
        return False
    if result.status != ChargeStatus.REQUIRES_ACTION:  # a challenge is the browser's to finish
        book_result(db, public_id, result, gateway_name=gateway_name, clock=clock)
    return True


def _store_attempt(
    db: Database,
    principal: ActsForClient,
    plan: PaymentPlan,
    gateway: PaymentGateway,
    request: ChargeRequest,
    now: datetime,
) -> tuple[str, KnownCustomer]:
    """Check the method and the plan and store the attempt, in one transaction: its public id, and the
    client's customer at the gateway if known. The credits the plan uses are held from its commit."""
    if plan.charge.minor <= 0:
        raise InvalidAmount(plan.charge, "must be more than zero")
    with db.transaction() as session:
        payer = _locked_payer(session, principal, gateway)
        method = _method_kind(session, principal, gateway, request, payer.accepted)
        invoices = _planned_invoices(session, principal, plan, in_flight(session, principal.client_id))
        check_free(session, principal.client_id, {source: plan.used(source) for source in RefundSource})
        retainer = plan.kind == PaymentKind.RETAINER
        planned = [
            {
                "invoice_id": invoices[line.invoice_public_id],
                "amount_minor": line.amount.minor - sum(uses.values()),
                **held_entry(uses),
            }
            for line in plan.lines
            for uses in [plan.used_on(line.invoice_public_id)]
        ]
        payment = Payment(
            organization_id=payer.organization_id,
            client_id=principal.client_id,
            portal_user_id=principal.portal_user_id,
            kind=plan.kind,
            retainer_invoice_id=planned[0]["invoice_id"] if retainer else None,
            status=PaymentStatus.PENDING,
            amount_minor=plan.charge.minor,
            currency=plan.charge.currency,
            method=method,
            gateway=gateway.name,
            gateway_account=gateway.account,
            is_sandbox=gateway.is_sandbox,
            planned_allocations=[] if retainer else planned,
            created_at=now,
        )
        session.add(payment)
        session.flush()
        return payment.public_id, payer.customer


@dataclass(frozen=True)
class _Payer:
    organization_id: int
    accepted: AcceptedMethods
    customer: KnownCustomer


_PAYER = (
    select(
        Client.organization_id,
        Client.company_name,
        Client.display_name,
        Organization.accept_cards,
        Organization.accept_bank_debits,
        GatewayCustomer.customer_id,
    )
    .join(Organization, Organization.id == Client.organization_id)
    .outerjoin(
        GatewayCustomer,
        (GatewayCustomer.client_id == Client.id) & (GatewayCustomer.gateway == bindparam("gateway")),
    )
    .where(Client.id == bindparam("client_id"))
    .with_for_update(of=Client)
)


def _locked_payer(session: Session, principal: ActsForClient, gateway: PaymentGateway) -> _Payer:
    """The client's row, locked, with the methods its business accepts and its customer at the gateway,
    in one query. The lock keeps to one attempt at a time per client: two tabs paying at once see each
    other's reservation."""
    row = session.execute(_PAYER, {"client_id": principal.client_id, "gateway": gateway.name}).one_or_none()
    if row is None:
        raise NotFound("client", principal.client_id)
    return _Payer(
        row.organization_id,
        AcceptedMethods(bool(row.accept_cards), bool(row.accept_bank_debits)),
        KnownCustomer(row.customer_id or "", row.company_name or row.display_name),
    )


def _locked_client(session: Session, principal: ActsForClient) -> None:
    """The client's row, locked as ``_locked_payer`` locks it: one payment at a time per client."""
    locked = session.scalar(select(Client.id).where(Client.id == principal.client_id).with_for_update())
    if locked is None:
        raise NotFound("client", principal.client_id)


def _planned_invoices(
    session: Session, principal: ActsForClient, plan: PaymentPlan, reserved: Mapping[int, int]
) -> Mapping[str, int]:
    """Check every planned amount against the invoice as it is now; return public id -> id."""
    found = client_invoices(session, principal, [line.invoice_public_id for line in plan.lines])
    ids = {}
    for line in plan.lines:
        invoice = found.get(line.invoice_public_id)
        if invoice is None:
            raise NotFound("invoice", line.invoice_public_id)
        _check_share(invoice, line.amount, reserved.get(invoice.id, 0))
        ids[line.invoice_public_id] = invoice.id
    _check_credits(plan)
    return ids


def _check_credits(plan: PaymentPlan) -> None:
    """Credits go on the plan's own invoices (not a retainer invoice), none more than the line."""
    if not plan.credits:
        return
    if plan.kind != PaymentKind.INVOICE:
        raise ValueError("credits and retainer pay invoices, not retainer invoices")
    lines = {line.invoice_public_id: line.amount.minor for line in plan.lines}
    for use in plan.credits:
        if use.invoice_public_id not in lines or use.amount.minor <= 0:
            raise ValueError(f"a credit use of {use.amount} off the plan's lines")
    for public_id, amount in lines.items():
        if sum(plan.used_on(public_id).values()) > amount:
            raise ValueError(f"more credits than the {amount} planned for invoice {public_id}")


def _keep_gateway_id(db: Database, payment_public_id: str, gateway_payment_id: str) -> None:
    """The attempt stays pending, reserving its invoices, until reconciliation or a webhook books it;
    the gateway's id, when the charge got that far, saves reconciliation a search."""
    if not gateway_payment_id:
        return
    try:
        with db.transaction() as session:
            _locked(session, payment_public_id).gateway_payment_id = gateway_payment_id
    except Exception:  # reconciliation finds the charge by our id all the same
        log.exception("payment %s: could not keep the gateway's id %s", payment_public_id, gateway_payment_id)


def _fail(db: Database, payment_public_id: str, message: str) -> None:
    """The gateway refused: nothing was charged. If even this cannot be written, reconciliation finds no
    charge for the attempt and closes it the same way."""
    try:
        with db.transaction() as session:
            payment = _locked(session, payment_public_id)
            payment.status = PaymentStatus.FAILED
            payment.failure_message = message[:500]
    except Exception:
        log.exception("payment %s: could not record the gateway's refusal", payment_public_id)


def _succeeded_after_failure(session: Session, payment: Payment, result: ChargeResult, now: datetime) -> bool:
    """The gateway says an attempt we booked as failed succeeded after all: the money was taken, so it
    is booked (a charge completed after its attempt was given up). Recorded for the business to see."""
    if payment.status != PaymentStatus.FAILED or result.status != ChargeStatus.SUCCEEDED:
        return False
    log.warning(
        "payment %s was booked as failed, but the gateway says it succeeded: booking it", payment.public_id
    )
    record_event(
        session,
        "payment.succeeded_after_failure",
        at=now,
        client_id=payment.client_id,
        subject=("payment", payment.id),
        details={"gateway_payment_id": result.gateway_payment_id, "failure": payment.failure_message[:200]},
    )
    payment.failure_message = ""
    return True


_LOCKED_PAYMENT = select(Payment).where(Payment.public_id == bindparam("public_id")).with_for_update()
# The payment being booked, locked, with those its receipt goes to and comes from.
_LOCKED_WITH_PARTIES = (
    with_parties(select(Payment).join(Client, Client.id == Payment.client_id), Payment.portal_user_id)
    .where(Payment.public_id == bindparam("public_id"))
    .with_for_update(of=Payment)
)


def _locked_with_parties(session: Session, public_id: str) -> tuple[Payment, Row[Any]]:
    """``_locked``, with the columns of its receipt's parties in the same statement (``parties_from``)."""
    row = session.execute(_LOCKED_WITH_PARTIES, {"public_id": public_id}).one_or_none()
    if row is None:
        raise NotFound("payment", public_id)
    return row[0], row


def _locked(session: Session, public_id: str) -> Payment:
    payment = session.scalars(_LOCKED_PAYMENT, {"public_id": public_id}).one_or_none()
    if payment is None:
        raise NotFound("payment", public_id)
    return payment


def _outcome(
    payment: Payment, *, client_secret: str = "", credits: tuple[UsedCredit, ...] = ()
) -> PaymentOutcome:
    return PaymentOutcome(
        payment_public_id=payment.public_id,
        status=ChargeStatus.REQUIRES_ACTION if client_secret else payment.status,
        amount=Money(payment.amount_minor, payment.currency),
        receipt_number=payment.receipt_number,
        failure_message=payment.failure_message,
        client_secret=client_secret,
        credits=credits,
    )
