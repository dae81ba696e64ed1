"""What a customer does with available credits and retainer payments: apply them, or ask for a refund.

The bookkeeping lives in ``services.credits``; this module scopes it to the signed-in client, keeps
what a payment in flight has reserved out of reach, and leaves a trail for the business.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceKind, Organization, RefundSource
from services.audit import record_event
from services.balances import ClientBalances, client_balances
from services.clock import Clock, utc_now
from services.credits import SOURCE_NAMES, add_refund_request, apply_to_invoice
from services.database import Database
from services.errors import InsufficientCredit, InvalidAmount, NotFound, PaymentInProgress, TextTooLong
from services.i18n import _, formatting_locale, using_language
from services.i18n.terms import term
from services.invoices import PAYABLE_STATUSES
from services.money import Money, format_money
from services.online_payments import in_flight, in_flight_and_confirming
from services.outbox import queue_email
from services.principal import Principal
from services.rate_limits import REFUND_REQUESTS, take
from services.records import client_invoice, get_client

MAX_REASON_LENGTH = 1000


@dataclass(frozen=True)
class ApplicableInvoice:
    public_id: str
    number: str
    due_date: date
    balance_due: Money
    can_take: Money  # the balance less what payments in flight will cover
    # The part of those payments still being confirmed with the gateway, and the part that is bank debits
    # it accepted and is processing: their own money, not the credits they will apply with it.
    confirming: Money
    processing: Money


@dataclass(frozen=True)
class CreditOptions:
    available_credits: Money  # less what open refund requests hold
    available_retainer: Money
    invoices: tuple[ApplicableInvoice, ...]  # unpaid invoices, oldest due first

    def available(self, source: RefundSource) -> Money:
        return self.available_credits if source == RefundSource.CREDIT else self.available_retainer


def credit_options(db: Database, principal: Principal, *, clock: Clock = utc_now) -> CreditOptions:
    with db.reading() as session:
        currency = get_client(session, principal.client_id).currency
        balances = client_balances(session, principal.client_id, currency)
        return options_for(session, principal.client_id, currency, balances)


def options_for(session: Session, client_id: int, currency: str, balances: ClientBalances) -> CreditOptions:
    """``credit_options`` inside a transaction that has the client's ``balances`` already (Home)."""
    reserved, confirming, processing = in_flight_and_confirming(session, client_id)
    rows = session.execute(  # the columns shown, not whole invoices: there may be many open
        select(Invoice.public_id, Invoice.number, Invoice.due_date, Invoice.balance_due_minor, Invoice.id)
        .where(
            Invoice.client_id == client_id,
            Invoice.kind == InvoiceKind.INVOICE,
            Invoice.status.in_(PAYABLE_STATUSES),
            Invoice.balance_due_minor > 0,
        )
        .order_by(Invoice.due_date, Invoice.id)
    ).all()
    invoices = tuple(
        ApplicableInvoice(
            row.public_id,
            row.number,
            row.due_date,
            Money(row.balance_due_minor, currency),
            Money(max(0, row.balance_due_minor - reserved.get(row.id, 0)), currency),
            Money(confirming.get(row.id, 0), currency),
            Money(processing.get(row.id, 0), currency),
        )
        for row in rows
    )
    return CreditOptions(  # what an open refund request or a payment on its way holds is not available
        balances.free_credits, balances.free_retainer, invoices
    )


def apply_available(
    db: Database,
    principal: Principal,
    invoice_public_id: str,
    amount: Money,
    source: RefundSource,
    *,
    clock: Clock = utc_now,
) -> None:
    """Apply up to the smaller of the available amount and what is due (and not being paid already)."""
    with db.reading() as session:
        invoice = client_invoice(session, principal, invoice_public_id)
        if invoice.kind != InvoiceKind.INVOICE:
            raise NotFound("invoice", invoice_public_id)  # a retainer invoice is paid, not credited
        reserved = in_flight(session, principal.client_id).get(invoice.id, 0)
        if reserved and amount.minor > invoice.balance_due_minor - reserved:
            raise PaymentInProgress(Money(reserved, invoice.currency), invoice.number)
        invoice_id = invoice.id
    apply_to_invoice(
        db, client_id=principal.client_id, invoice_id=invoice_id, amount=amount, source=source, clock=clock
    )
    with db.transaction() as session:
        record_event(
            session,
            f"{source}.applied",
            at=clock(),
            portal_user_id=principal.portal_user_id,
            client_id=principal.client_id,
            subject=("invoice", invoice_id),
            details={"amount_minor": amount.minor, "currency": amount.currency},
        )


def ask_for_refund(
    db: Database,
    principal: Principal,
    source: RefundSource,
    amount: Money,
    reason: str,
    *,
    clock: Clock = utc_now,
) -> str:
    """Ask the business to pay back credit or retainer; returns the request's reference.

    The amount is reserved at once; the business is told by e-mail and decides in the back office.
    A client may ask ``REFUND_REQUESTS.most`` times a day (``RefundRequestLimitReached``).
    """
    reason = reason.strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise TextTooLong("reason", MAX_REASON_LENGTH)
    if amount.minor <= 0:
        raise InvalidAmount(amount, "must be more than zero")
    options = credit_options(db, principal, clock=clock)
    if amount.minor > options.available(source).minor:
        raise InsufficientCredit(SOURCE_NAMES[source], options.available(source), amount)
    now = clock()
    # The limit, the request and its audit event in one transaction: parallel requests count each other.
    with db.transaction() as session:
        take(session, REFUND_REQUESTS, principal.client_id, now=now)
        ref = add_refund_request(
            session,
            client_id=principal.client_id,
            portal_user_id=principal.portal_user_id,
            source=source,
            amount=amount,
            reason=reason,
            now=now,
        )
        business = session.get_one(Organization, principal.organization_id)
        client = get_client(session, principal.client_id)
        record_event(
            session,
            REFUND_REQUESTS.action,
            at=now,
            portal_user_id=principal.portal_user_id,
            client_id=principal.client_id,
            subject=("refund_request", ref.id),
            details={"amount_minor": amount.minor, "source": str(source)},
        )
        if business.email:
            with using_language(business.default_language, time_zone=business.time_zone):
                _queue_refund_request(session, business, client, principal, amount, source, reason, now)
    return ref.public_id


def _queue_refund_request(
    session: Session,
    business: Organization,
    client: Client,
    principal: Principal,
    amount: Money,
    source: RefundSource,
    reason: str,
    now: datetime,
) -> None:
    """The business's notice of a refund request, in its own language."""
    shown = format_money(amount, formatting_locale(business.locale))
    body = "\n\n".join(
        (
            _("{name} of {client} asks for a refund of {amount} of their available {source}.").format(
                name=principal.name,
                client=client.display_name,
                amount=shown,
                source=term(SOURCE_NAMES[source]),
            ),
            _("Reason: {reason}").format(reason=reason or _("(none given)")),
            _("The amount is held until you approve or decline the request in the back office."),
        )
    )
    queue_email(
        session,
        to=[business.email],
        subject=_("Refund request: {amount} from {client}").format(amount=shown, client=client.display_name),
        body_text=body,
        reply_to=principal.email,
        client_id=client.id,
        now=now,
    )
