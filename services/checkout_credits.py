"""Available credits and retainer used at checkout: held by a payment's attempt, applied when it succeeds.

Pay Now applies the customer's credits and retainer first, oldest invoice first, and charges the card
or account only for the rest (``services.pay_now``). What a payment is to use rides in its attempt's
planned allocations (``services.balances.HELD_KEYS``), written in the transaction that stores the
attempt after ``check_free`` found it still free under the client's lock. From then on it is held:
nothing else may apply or refund it (``services.credits`` counts the holds) for as long as the gateway
has not given its final answer, a payment in doubt included. ``apply_held`` applies it in the
transaction that books the charge as succeeded; a charge booked as failed holds nothing any more. So
credits are never used without their charge, nor a charge booked without its credits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from models import InvoiceKind, Payment, RefundSource
from services.audit import record_event
from services.balances import HELD_KEYS
from services.credits import SOURCE_NAMES, add_application, free_to_use
from services.errors import CreditNoLongerAvailable
from services.invoices import PAYABLE_STATUSES, locked_invoices
from services.money import Money


@dataclass(frozen=True)
class UsedCredit:
    """Credits or retainer applied to one invoice at checkout."""

    invoice_number: str
    source: RefundSource
    amount: Money


def check_free(session: Session, client_id: int, planned: Mapping[RefundSource, Money]) -> None:
    """Refuse (``CreditNoLongerAvailable``, changing nothing) if less of each source is free than
    planned; the sources stay locked until the caller's transaction ends, so that the caller's hold or
    use is written before anything else can draw on them. The caller holds the client's lock."""
    for source, amount in planned.items():
        if amount.minor <= 0:
            continue
        free = free_to_use(session, client_id, source)
        if amount.minor > free:
            raise CreditNoLongerAvailable(SOURCE_NAMES[source], Money(max(free, 0), amount.currency), amount)


def held_entry(uses: Mapping[RefundSource, int]) -> dict[str, int]:
    """The keys a planned allocation gets for the credits and retainer it holds (none for none)."""
    return {HELD_KEYS[source]: minor for source, minor in uses.items() if minor > 0}


def apply_held(session: Session, payment: Payment, now: datetime) -> tuple[UsedCredit, ...]:
    """Apply what a payment held, in the transaction that books it as succeeded, before its own money.

    An invoice paid or voided meanwhile by other means takes only what it still owes; what is not
    applied stays available to the customer, as the charge's excess does.
    """
    uses = [
        (int(line["invoice_id"]), source, int(line[key]))
        for line in payment.planned_allocations
        for source, key in HELD_KEYS.items()
        if int(line.get(key, 0)) > 0
    ]
    return apply_uses(
        session,
        payment.client_id,
        uses,
        now=now,
        portal_user_id=payment.portal_user_id,
        payment=payment,
    )


def apply_uses(
    session: Session,
    client_id: int,
    uses: Sequence[tuple[int, RefundSource, int]],
    *,
    now: datetime,
    portal_user_id: int | None,
    payment: Payment | None = None,
) -> tuple[UsedCredit, ...]:
    """Apply (invoice id, source, amount) in order, each as far as its invoice still owes and the source
    still has (``payment``'s own hold counting as its own), with an audit event each."""
    if not uses:
        return ()
    invoices = locked_invoices(session, [invoice_id for invoice_id, _source, _minor in uses])
    own_payment_id = payment.id if payment is not None else None
    free: dict[RefundSource, int] = {}
    used: list[UsedCredit] = []
    for invoice_id, source, wanted in uses:
        invoice = invoices[invoice_id]
        if (
            invoice.client_id != client_id
            or invoice.kind != InvoiceKind.INVOICE
            or invoice.status not in PAYABLE_STATUSES
        ):
            continue
        if source not in free:
            free[source] = free_to_use(session, client_id, source, own_payment_id=own_payment_id)
        share = min(wanted, invoice.balance_due_minor, free[source])
        if share <= 0:
            continue
        amount = Money(share, invoice.currency)
        add_application(session, invoice, amount, source, now=now, own_payment_id=own_payment_id)
        free[source] -= share
        details: dict[str, object] = {"amount_minor": share, "currency": amount.currency, "at_checkout": True}
        if payment is not None:
            details["payment"] = payment.public_id
        record_event(
            session,
            f"{source}.applied",
            at=now,
            portal_user_id=portal_user_id,
            client_id=client_id,
            subject=("invoice", invoice.id),
            details=details,
        )
        used.append(UsedCredit(invoice.number, RefundSource(source), amount))
    return tuple(used)
