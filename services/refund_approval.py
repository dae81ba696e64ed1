"""The business decides refund requests; what came in online goes back through the gateway.

Approving is three steps, so that nothing is paid twice or lost:

1. One transaction locks the request, draws its amount from the client's credits or retainer (oldest
   first), writes one refund row per share and marks the request approved. Shares drawn from online
   payments are *pending* gateway refunds; shares drawn from offline payments or credit notes are
   recorded as paid out by hand.
2. Each pending row is sent to the gateway with the row's public id as the idempotency key, so asking
   again (``retry_gateway_refund``) can never pay back twice.
3. The answer is recorded on the row. A refusal marks it *failed* and gives its amount back to the
   client's available balance; no clear answer leaves it *pending*, shown as such, to be asked again.

A gateway webhook about a refund we recorded (same gateway refund id) settles that row through
``settle_gateway_refund`` and never adds another one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from models import (
    Client,
    CreditNote,
    Payment,
    Refund,
    RefundRequest,
    RefundRequestStatus,
    RefundSource,
    RefundStatus,
)
from services import credits
from services.audit import record_event
from services.clients import client_id_for
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import DomainError, GatewayUnavailable, NotFound, TextTooLong, human_message
from services.gateways.base import PaymentGateway, RefundResult
from services.i18n import _
from services.money import Money

_log = logging.getLogger(__name__)

MAX_NOTE_LENGTH = 2000
MAX_REASON_LENGTH = 300  # Refund.failure_reason
DECIDED_SHOWN = 100  # decided requests listed below the open ones, newest first


@dataclass(frozen=True)
class RefundLine:
    """One refund row of a request: a share paid back by hand or through the gateway."""

    public_id: str
    amount: Money
    method: str  # manual | gateway
    status: str  # pending | succeeded | failed
    drawn_from: str  # "Receipt RCPT-00012" or "Credit note CN-00003"
    failure_reason: str = ""  # what the gateway said when it refused


@dataclass(frozen=True)
class RefundRequestView:
    public_id: str
    client_public_id: str
    client_name: str
    amount: Money
    source: str  # credit | retainer
    reason: str
    status: str  # open | approved | declined | cancelled
    requested_at: datetime
    decided_at: datetime | None
    decision_note: str
    refunds: tuple[RefundLine, ...]

    @property
    def failed(self) -> Money:
        return Money(sum(r.amount.minor for r in self.refunds if r.status == "failed"), self.amount.currency)

    @property
    def pending(self) -> Money:
        return Money(sum(r.amount.minor for r in self.refunds if r.status == "pending"), self.amount.currency)


@dataclass(frozen=True)
class ApprovalOutcome:
    client_public_id: str
    by_hand: Money  # recorded as paid out by the business itself
    through_gateway: Money  # the gateway said it paid it back
    failed: Money  # refused by the gateway: back in the client's available balance
    pending: Money  # no clear answer yet: ask the gateway again


def list_refund_requests(db: Database, organization_id: int) -> list[RefundRequestView]:
    """Open requests first, oldest first (who has waited longest); then decided ones, newest first."""
    open_first = case((RefundRequest.status == RefundRequestStatus.OPEN, 0), else_=1)
    with db.reading() as session:
        rows = session.execute(
            select(RefundRequest, Client.public_id, Client.display_name)
            .join(Client, Client.id == RefundRequest.client_id)
            .where(Client.organization_id == organization_id)
            .order_by(open_first, RefundRequest.id)
        ).all()
        opened = [row for row in rows if row[0].status == RefundRequestStatus.OPEN]
        decided = sorted(
            (row for row in rows if row[0].status != RefundRequestStatus.OPEN),
            key=lambda row: (row[0].decided_at or row[0].created_at, row[0].id),
            reverse=True,
        )[:DECIDED_SHOWN]
        shown = [*opened, *decided]
        lines = _refund_lines(session, [row[0].id for row in shown])
        return [
            RefundRequestView(
                request.public_id,
                client_public_id,
                client_name,
                Money(request.amount_minor, request.currency),
                request.source,
                request.reason,
                request.status,
                request.created_at,
                request.decided_at,
                request.decision_note,
                tuple(lines.get(request.id, ())),
            )
            for request, client_public_id, client_name in shown
        ]


def approve_refund_request(
    db: Database,
    gateway: PaymentGateway,
    organization_id: int,
    request_public_id: str,
    *,
    staff_user_id: int | None,
    clock: Clock = utc_now,
) -> ApprovalOutcome:
    """Approve an open request: online shares go back through ``gateway``, the rest is paid by hand."""
    request_id, client_public_id = _request_ids(db, organization_id, request_public_id)
    shares = credits.approve_refund_request(
        db, request_id, staff_user_id=staff_user_id, through_gateway=True, clock=clock
    )
    for share in shares:
        _send(db, gateway, share, clock)
    return _outcome(db, request_id, client_public_id)


def decline_refund_request(
    db: Database,
    organization_id: int,
    request_public_id: str,
    *,
    staff_user_id: int | None,
    note: str = "",
    clock: Clock = utc_now,
) -> str:
    """Decline an open request; its amount is available again. Returns the client's public id."""
    if len(note) > MAX_NOTE_LENGTH:
        raise TextTooLong("note", MAX_NOTE_LENGTH)
    request_id, client_public_id = _request_ids(db, organization_id, request_public_id)
    credits.decline_refund_request(
        db, request_id, staff_user_id=staff_user_id, note=note.strip(), clock=clock
    )
    return client_public_id


def retry_gateway_refund(
    db: Database,
    gateway: PaymentGateway,
    organization_id: int,
    refund_public_id: str,
    *,
    clock: Clock = utc_now,
) -> str:
    """Ask the gateway again about a refund still pending; the same idempotency key pays at most once.

    Returns the refund's status afterwards.
    """
    with db.reading() as session:
        row = session.execute(
            select(Refund, Payment)
            .join(Payment, Payment.id == Refund.payment_id)
            .join(Client, Client.id == Refund.client_id)
            .where(Client.organization_id == organization_id, Refund.public_id == refund_public_id)
        ).one_or_none()
        if row is None:
            raise NotFound("refund", refund_public_id)
        refund, payment = row
        share = credits.GatewayShare(
            refund.id,
            refund.public_id,
            Money(refund.amount_minor, refund.currency),
            payment.gateway,
            payment.gateway_payment_id or "",
        )
        status = refund.status
    if status != RefundStatus.PENDING:
        return status
    return _send(db, gateway, share, clock)


def refund_credit(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    source: RefundSource,
    amount: Money,
    clock: Clock = utc_now,
) -> None:
    """Record that the business paid back part of a client's available (unreserved) credit or retainer.

    More than is available is refused with ``InsufficientCredit`` and changes nothing.
    """
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
    credits.refund_available(db, client_id=client_id, source=source, amount=amount, clock=clock)


def settle_gateway_refund(
    session: Session, refund: Refund, succeeded: bool, *, at: datetime, reason: str = ""
) -> bool:
    """The gateway's final word on one of our refund rows (locked by the caller); True if it changed.

    A failed refund gives its amount back to the payment it was drawn from, so the money is again the
    client's available credit (or retainer) instead of being lost. A failure is final: a later
    "succeeded" for a failed row is logged for a person to look at, not booked.
    """
    if refund.status == RefundStatus.FAILED:
        if succeeded:
            _log.warning("Gateway reports refund %s succeeded after it had failed", refund.gateway_refund_id)
        return False
    if succeeded:
        changed = refund.status != RefundStatus.SUCCEEDED
        refund.status = RefundStatus.SUCCEEDED
        return changed
    refund.status = RefundStatus.FAILED
    refund.failure_reason = " ".join(reason.split())[:MAX_REASON_LENGTH]
    if refund.payment_id is not None:
        payment = session.get(Payment, refund.payment_id, with_for_update=True)
        if payment is not None:
            payment.unapplied_minor += refund.amount_minor
    record_event(
        session,
        "refund.failed",
        at=at,
        client_id=refund.client_id,
        subject=("refund", refund.id),
        details={
            "gateway_refund_id": refund.gateway_refund_id or "",
            "amount_minor": refund.amount_minor,
            "reason": refund.failure_reason,
        },
    )
    return True


def _send(db: Database, gateway: PaymentGateway, share: credits.GatewayShare, clock: Clock) -> str:
    """Ask the gateway to pay back one pending row and record its answer; returns the row's status."""
    if share.gateway != gateway.name or not share.gateway_payment_id:
        # Taken through another gateway than the one configured now: this one cannot pay it back.
        result = RefundResult("", succeeded=False, failure_message=f"taken through {share.gateway}")
    else:
        try:
            result = gateway.refund(share.gateway_payment_id, share.amount.minor, share.refund_public_id)
        except GatewayUnavailable:
            _log.warning(
                "No clear answer from %s to refund %s; left pending", gateway.name, share.refund_public_id
            )
            return RefundStatus.PENDING
        except DomainError as error:  # the gateway refused and did nothing
            result = RefundResult("", succeeded=False, failure_message=human_message(error))
        except Exception:  # any other failure leaves it unknown whether money moved: stay pending
            _log.exception("Refund %s through %s failed; left pending", share.refund_public_id, gateway.name)
            return RefundStatus.PENDING
    if not result.succeeded:
        _log.warning(
            "Refund %s refused by %s: %s", share.refund_public_id, gateway.name, result.failure_message
        )
    with db.transaction() as session:
        refund = session.get(Refund, share.refund_id, with_for_update=True)
        if refund is None:
            raise NotFound("refund", share.refund_public_id)
        if result.gateway_refund_id and not refund.gateway_refund_id:
            refund.gateway_refund_id = result.gateway_refund_id
        if refund.status == RefundStatus.PENDING:  # a webhook may have settled it meanwhile
            settle_gateway_refund(
                session, refund, result.succeeded, at=clock(), reason=result.failure_message
            )
        return refund.status


def _request_ids(db: Database, organization_id: int, request_public_id: str) -> tuple[int, str]:
    with db.reading() as session:
        row = session.execute(
            select(RefundRequest.id, Client.public_id)
            .join(Client, Client.id == RefundRequest.client_id)
            .where(Client.organization_id == organization_id, RefundRequest.public_id == request_public_id)
        ).one_or_none()
    if row is None:
        raise NotFound("refund request", request_public_id)
    return row[0], row[1]


def _outcome(db: Database, request_id: int, client_public_id: str) -> ApprovalOutcome:
    with db.reading() as session:
        currency = session.get_one(RefundRequest, request_id).currency
        lines = _refund_lines(session, [request_id]).get(request_id, [])

    def total(method: str, status: str) -> Money:
        return Money(
            sum(r.amount.minor for r in lines if r.method == method and r.status == status), currency
        )

    return ApprovalOutcome(
        client_public_id,
        total(credits.MANUAL_METHOD, RefundStatus.SUCCEEDED),
        total(credits.GATEWAY_METHOD, RefundStatus.SUCCEEDED),
        total(credits.GATEWAY_METHOD, RefundStatus.FAILED),
        total(credits.GATEWAY_METHOD, RefundStatus.PENDING),
    )


def _refund_lines(session: Session, request_ids: list[int]) -> dict[int, list[RefundLine]]:
    found: dict[int, list[RefundLine]] = {}
    if not request_ids:
        return found
    rows = session.execute(
        select(Refund, Payment.receipt_number, CreditNote.number)
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .outerjoin(CreditNote, CreditNote.id == Refund.credit_note_id)
        .where(Refund.refund_request_id.in_(request_ids))
        .order_by(Refund.id)
    )
    for refund, receipt_number, note_number in rows:
        drawn_from = (
            _("Credit note {number}").format(number=note_number)
            if note_number
            else _("Receipt {number}").format(number=receipt_number or "—")
        )
        line = RefundLine(
            refund.public_id,
            Money(refund.amount_minor, refund.currency),
            refund.method,
            refund.status,
            drawn_from,
            refund.failure_reason,
        )
        if refund.refund_request_id is not None:
            found.setdefault(refund.refund_request_id, []).append(line)
    return found
