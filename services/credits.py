"""Available credits and retainer payments: applying them to invoices, refund requests and refunds.

Credit comes from issued credit notes and from the unallocated part of invoice payments; retainer
balance from retainer payments. Both are drawn oldest first. An open refund request reserves its
amount, and a payment waiting for the gateway holds what it will apply when it succeeds
(``services.checkout_credits``): neither can be applied nor refunded twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Allocation,
    AllocationKind,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundRequest,
    RefundRequestStatus,
    RefundSource,
    RefundStatus,
)
from services.balances import held_by_payments
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InsufficientCredit, InvalidAmount, InvalidStatusChange, NotFound, WrongCurrency
from services.invoices import locked_invoice, reduce_balance
from services.money import Money
from services.records import get_client

SOURCE_NAMES = {RefundSource.CREDIT: "credits", RefundSource.RETAINER: "retainer payments"}
MANUAL_METHOD = "manual"  # paid back by the business itself: cash, cheque, transfer
GATEWAY_METHOD = "gateway"  # paid back to the card or account through the payment gateway


@dataclass(frozen=True)
class RefundRequestRef:
    id: int
    public_id: str
    amount: Money


@dataclass(frozen=True)
class GatewayShare:
    """A refund row waiting for the gateway: the part of an approved refund paid back to a card or account."""

    refund_id: int
    refund_public_id: str  # the idempotency key of the gateway call
    amount: Money
    gateway: str  # the gateway that took the payment
    gateway_payment_id: str


def apply_to_invoice(
    db: Database,
    *,
    client_id: int,
    invoice_id: int,
    amount: Money,
    source: RefundSource,
    clock: Clock = utc_now,
) -> None:
    """Apply available credits or retainer payments to an open invoice of the same client."""
    with db.transaction() as session:
        _check_amount(session, client_id, amount)
        invoice = locked_invoice(session, invoice_id)
        if invoice.client_id != client_id or invoice.kind != InvoiceKind.INVOICE:
            raise NotFound("invoice", invoice_id)
        add_application(session, invoice, amount, source, now=clock())


def add_application(
    session: Session,
    invoice: Invoice,
    amount: Money,
    source: RefundSource,
    *,
    now: datetime,
    own_payment_id: int | None = None,
) -> None:
    """``apply_to_invoice`` in the caller's writing transaction, which holds the invoice's lock and has
    checked that it is the client's. ``own_payment_id`` is a payment applying what it held itself."""
    reduce_balance(invoice, amount)
    kind = AllocationKind.CREDIT if source == RefundSource.CREDIT else AllocationKind.RETAINER
    drawn = _draw(session, invoice.client_id, source, amount, own_request=None, own_payment_id=own_payment_id)
    for payment_id, credit_note_id, share in drawn:
        session.add(
            Allocation(
                invoice_id=invoice.id,
                payment_id=payment_id,
                credit_note_id=credit_note_id,
                kind=kind,
                amount_minor=share,
                created_at=now,
            )
        )


def request_refund(
    db: Database,
    *,
    client_id: int,
    portal_user_id: int | None,
    source: RefundSource,
    amount: Money,
    reason: str = "",
    clock: Clock = utc_now,
) -> RefundRequestRef:
    """Ask the business to pay back available credit or retainer; the amount is reserved meanwhile."""
    with db.transaction() as session:
        return add_refund_request(
            session,
            client_id=client_id,
            portal_user_id=portal_user_id,
            source=source,
            amount=amount,
            reason=reason,
            now=clock(),
        )


def add_refund_request(
    session: Session,
    *,
    client_id: int,
    portal_user_id: int | None,
    source: RefundSource,
    amount: Money,
    reason: str,
    now: datetime,
) -> RefundRequestRef:
    """``request_refund`` in the caller's writing transaction (which may store more with it)."""
    _check_amount(session, client_id, amount)
    _rows, available = _available(session, client_id, source, own_request=None)
    if amount.minor > available:
        raise InsufficientCredit(SOURCE_NAMES[source], Money(max(available, 0), amount.currency), amount)
    request = RefundRequest(
        client_id=client_id,
        portal_user_id=portal_user_id,
        source=source,
        amount_minor=amount.minor,
        currency=amount.currency,
        reason=reason,
        created_at=now,
    )
    session.add(request)
    session.flush()
    return RefundRequestRef(request.id, request.public_id, amount)


def decline_refund_request(
    db: Database, request_id: int, *, staff_user_id: int | None, note: str = "", clock: Clock = utc_now
) -> None:
    """Decline an open request; its reserved amount becomes available again."""
    with db.transaction() as session:
        request = _open_request(session, request_id, "declined")
        request.status = RefundRequestStatus.DECLINED
        request.decided_by_id = staff_user_id
        request.decision_note = note
        request.decided_at = clock()


def approve_refund_request(
    db: Database,
    request_id: int,
    *,
    staff_user_id: int | None,
    through_gateway: bool = False,
    clock: Clock = utc_now,
) -> list[GatewayShare]:
    """Approve an open request and record its refund rows, in one transaction.

    By default everything is recorded as paid out by hand. With ``through_gateway``, the shares drawn
    from payments taken online (those with a gateway payment id) are stored as pending gateway refunds
    and returned: the caller then asks the gateway (``services.refund_approval``). Either way the money
    leaves the client's available balance now, so it can be neither applied nor refunded twice.
    """
    with db.transaction() as session:
        request = _open_request(session, request_id, "approved")
        amount = Money(request.amount_minor, request.currency)
        rows = _refund(
            session,
            request.client_id,
            RefundSource(request.source),
            amount,
            request,
            clock(),
            through_gateway=through_gateway,
        )
        request.status = RefundRequestStatus.APPROVED
        request.decided_by_id = staff_user_id
        request.decided_at = clock()
        session.flush()
        return [
            GatewayShare(row.id, row.public_id, Money(row.amount_minor, row.currency), gateway, payment_id)
            for row, gateway, payment_id in rows
            if row.method == GATEWAY_METHOD
        ]


def refund_available(
    db: Database,
    *,
    client_id: int,
    source: RefundSource,
    amount: Money,
    refunded_at: datetime | None = None,
    clock: Clock = utc_now,
) -> None:
    """The business pays back part of the client's available (unreserved) credit or retainer."""
    with db.transaction() as session:
        _check_amount(session, client_id, amount)
        _refund(session, client_id, source, amount, None, refunded_at or clock())


def _refund(
    session: Session,
    client_id: int,
    source: RefundSource,
    amount: Money,
    request: RefundRequest | None,
    refunded_at: datetime,
    *,
    through_gateway: bool = False,
) -> list[tuple[Refund, str, str]]:
    """One refund row per share drawn; with ``through_gateway`` online shares are pending gateway rows.

    Returns each row with the gateway and gateway payment id of its payment ("" when not online).
    """
    made: list[tuple[Refund, str, str]] = []
    for payment_id, credit_note_id, share in _draw(session, client_id, source, amount, own_request=request):
        payment = session.get(Payment, payment_id) if payment_id is not None else None
        online = through_gateway and payment is not None and bool(payment.gateway_payment_id)
        row = Refund(
            client_id=client_id,
            payment_id=payment_id,
            credit_note_id=credit_note_id,
            refund_request_id=request.id if request else None,
            amount_minor=share,
            currency=amount.currency,
            status=RefundStatus.PENDING if online else RefundStatus.SUCCEEDED,
            method=GATEWAY_METHOD if online else MANUAL_METHOD,
            refunded_at=refunded_at,
            created_at=refunded_at,
        )
        session.add(row)
        made.append(
            (row, payment.gateway if payment else "", (payment.gateway_payment_id or "") if payment else "")
        )
    session.flush()
    return made


def _check_amount(session: Session, client_id: int, amount: Money) -> None:
    client = get_client(session, client_id)
    if amount.currency != client.currency:
        raise WrongCurrency(client.currency, amount.currency)
    if amount.minor <= 0:
        raise InvalidAmount(amount, "must be more than zero")


def _open_request(session: Session, request_id: int, wanted: str) -> RefundRequest:
    request = session.get(RefundRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound("refund request", request_id)
    if request.status != RefundRequestStatus.OPEN:
        raise InvalidStatusChange("refund request", request.public_id, request.status, wanted)
    return request


def _sources(session: Session, client_id: int, source: RefundSource) -> list[Payment | CreditNote]:
    kind = PaymentKind.INVOICE if source == RefundSource.CREDIT else PaymentKind.RETAINER
    payments = session.scalars(
        select(Payment)
        .where(
            Payment.client_id == client_id,
            Payment.kind == kind,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.unapplied_minor > 0,
        )
        .order_by(Payment.received_at, Payment.id)
        .with_for_update()
    ).all()
    found: list[Payment | CreditNote] = list(payments)
    if source == RefundSource.CREDIT:
        notes = session.scalars(
            select(CreditNote)
            .where(
                CreditNote.client_id == client_id,
                CreditNote.status == CreditNoteStatus.OPEN,
                CreditNote.remaining_minor > 0,
            )
            .order_by(CreditNote.issue_date, CreditNote.id)
            .with_for_update()
        ).all()
        found = [*notes, *found]
    return found


def _remaining(row: Payment | CreditNote) -> int:
    return row.unapplied_minor if isinstance(row, Payment) else row.remaining_minor


def _reserved(session: Session, client_id: int, source: RefundSource) -> int:
    return int(
        session.scalar(
            select(func.coalesce(func.sum(RefundRequest.amount_minor), 0)).where(
                RefundRequest.client_id == client_id,
                RefundRequest.source == source,
                RefundRequest.status == RefundRequestStatus.OPEN,
            )
        )
        or 0
    )


def free_to_use(
    session: Session, client_id: int, source: RefundSource, *, own_payment_id: int | None = None
) -> int:
    """How much of the client's credits or retainer neither a refund request nor a payment on its way
    holds (but ``own_payment_id``'s own hold), with the sources locked until the transaction ends, so
    that nothing else can take them before the caller has."""
    return _available(session, client_id, source, None, own_payment_id=own_payment_id)[1]


def _available(
    session: Session,
    client_id: int,
    source: RefundSource,
    own_request: RefundRequest | None,
    *,
    own_payment_id: int | None = None,
) -> tuple[list[Payment | CreditNote], int]:
    """The sources, locked and oldest first, and how much of them no open request reserves and no
    payment waiting for the gateway holds.

    The sources are locked before the holds are read: a payment storing its attempt locks them too,
    so its hold is committed (and seen here) before anyone else can draw on them.
    """
    rows = _sources(session, client_id, source)
    reserved = _reserved(session, client_id, source) - (own_request.amount_minor if own_request else 0)
    held = held_by_payments(session, client_id, except_payment_id=own_payment_id)[source]
    return rows, sum(_remaining(row) for row in rows) - reserved - held


def _draw(
    session: Session,
    client_id: int,
    source: RefundSource,
    amount: Money,
    own_request: RefundRequest | None,
    *,
    own_payment_id: int | None = None,
) -> list[tuple[int | None, int | None, int]]:
    """Take ``amount`` from the sources, oldest first; returns (payment id, credit note id, share)."""
    rows, available = _available(session, client_id, source, own_request, own_payment_id=own_payment_id)
    if amount.minor > available:
        raise InsufficientCredit(SOURCE_NAMES[source], Money(max(available, 0), amount.currency), amount)
    taken: list[tuple[int | None, int | None, int]] = []
    left = amount.minor
    for row in rows:
        share = min(left, _remaining(row))
        if share <= 0:
            continue
        if isinstance(row, Payment):
            row.unapplied_minor -= share
            taken.append((row.id, None, share))
        else:
            row.remaining_minor -= share
            if row.remaining_minor == 0:
                row.status = CreditNoteStatus.CLOSED
            taken.append((None, row.id, share))
        left -= share
        if left == 0:
            break
    session.flush()
    return taken
