"""Reconciliation: every payment attempt without a final answer is asked about until it has one.

Between "the gateway was asked" and "its answer is booked" anything can fail: the process killed, the
database gone, the network lost. An attempt is a payments row (pending) stored before the gateway is
called, and our payment's public id goes to the gateway as the idempotency key and in its metadata, so
our side alone can always ask again:

- an attempt with the gateway's id is asked about by that id (bank debits settling, a 3-D Secure
  challenge the customer may still be answering);
- an attempt without one (the answer was lost) is looked up by our id. If the gateway has no charge for
  it once no request of it can still be on its way (``IN_DOUBT_GRACE``), the attempt is closed at the
  gateway, so that nothing can be charged for it later, and booked as failed: nothing was charged.
  Only the account the attempt was made with can say so: after the owner changed the gateway's keys
  in Settings, such an attempt stays reserved (counted as unreachable) until that account is back.

Only final answers are booked, exactly once (``book_result`` locks the row). Until then the attempt keeps
its invoices reserved: money is never resolved by a time-out. This runs at start-up and then every few
seconds, as the scheduler's sticky ``payment_settling`` job (``services.jobs``): several instances sharing a
database could all run it safely, but only the one holding the job asks the gateway, and keeps it between
runs, so that its ``AskSchedule`` is the only one that counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from models import GatewayCustomer, Payment, PaymentStatus
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import DomainError
from services.events import Events
from services.gateways.base import (
    ChargeQuery,
    ChargeResult,
    ChargeStatus,
    MethodInfo,
    MethodKind,
    PaymentGateway,
)
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.live_topics import payments_topics
from services.online_payments import ACTION_TIMEOUT, NOT_VERIFIED, book_result

log = logging.getLogger(__name__)

# Longer than any request of a charge can take (Stripe: 30 s a request, with retries), so that once an
# attempt is this old without a charge at the gateway, none is on its way.
IN_DOUBT_GRACE = timedelta(minutes=10)
# An attempt is asked about every round while it is young, then less often as it ages, up to this.
MAX_ASK_INTERVAL = timedelta(minutes=10)
NEVER_CHARGED = "The payment did not reach the payment service, so nothing was charged."


@dataclass(frozen=True)
class Reconciliation:
    booked: int  # attempts whose answer was booked this round
    waiting: int  # attempts asked about that have no final answer yet
    unreachable: int  # attempts made with a gateway that is not configured now
    settled: tuple[str, ...] = ()  # public ids of the payments booked this round


@dataclass(frozen=True)
class _Attempt:
    public_id: str
    gateway: str
    gateway_payment_id: str
    status: str
    method: str
    created_at: datetime
    customer_id: str
    account: str  # the gateway account it was made with; "" before accounts were recorded


class AskSchedule:
    """When each attempt is next asked about: every round while young, then at a tenth of its age.

    A bank debit may take days to settle; asking Stripe about each one every two seconds for days would
    be wasted requests. Kept in memory: a restart asks about everything at once, which is what start-up
    reconciliation is for.
    """

    def __init__(self) -> None:
        self._asked: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def due(self, attempt: _Attempt, now: datetime) -> bool:
        interval = min((now - attempt.created_at) / 10, MAX_ASK_INTERVAL)
        with self._lock:
            last = self._asked.get(attempt.public_id)
            if last is not None and now - last < interval:
                return False
            self._asked[attempt.public_id] = now
            return True

    def forget(self, public_ids: Iterable[str]) -> None:
        with self._lock:
            for public_id in public_ids:
                self._asked.pop(public_id, None)


def reconcile_payments(
    db: Database,
    gateways: Iterable[PaymentGateway],
    *,
    clock: Clock = utc_now,
    schedule: AskSchedule | None = None,
    grace: timedelta = IN_DOUBT_GRACE,
) -> Reconciliation:
    """Ask the gateways about every unanswered attempt and book each final answer once.

    ``gateways`` are those the portal can reach now (the configured one and the sandbox); attempts made
    with another stay reserved and are counted as unreachable. A gateway that fails to answer about one
    attempt is logged and asked again next round; a database failure ends the round (the caller's loop
    reports the outage and tries again).
    """
    by_name: dict[str, PaymentGateway] = {}
    for reachable in gateways:
        by_name.setdefault(reachable.name, reachable)
    now = clock()
    booked = waiting = unreachable = 0
    settled: list[str] = []
    attempts = _unanswered_attempts(db)
    for attempt in attempts:
        gateway = by_name.get(attempt.gateway)
        if gateway is None:
            unreachable += 1
            continue
        if schedule is not None and not schedule.due(attempt, now):
            waiting += 1
            continue
        foreign = bool(attempt.account) and attempt.account != gateway.account
        try:
            answer = _ask(gateway, attempt, now, grace, foreign=foreign)
        except DomainError as error:
            if foreign:  # the account configured now does not know the charge (Stripe: 404)
                unreachable += 1
                continue
            log.warning("could not ask %s about payment %s: %s", gateway.name, attempt.public_id, error)
            waiting += 1  # the gateway did not answer; ask again next round
            continue
        if answer is None:
            if foreign and not attempt.gateway_payment_id:
                unreachable += 1
            else:
                waiting += 1
            continue
        outcome = book_result(
            db,
            attempt.public_id,
            answer,
            gateway_name=gateway.name,
            customer_id=attempt.customer_id,
            clock=clock,
        )
        if outcome.status in (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED):
            booked += 1
            settled.append(attempt.public_id)
            if attempt.status == PaymentStatus.PENDING and not attempt.gateway_payment_id:
                log.info("payment %s had no answer; the gateway says %s", attempt.public_id, outcome.status)
        else:
            waiting += 1
    if schedule is not None:
        schedule.forget(a.public_id for a in attempts if a.gateway not in by_name)
    return Reconciliation(booked=booked, waiting=waiting, unreachable=unreachable, settled=tuple(settled))


def _ask(
    gateway: PaymentGateway, attempt: _Attempt, now: datetime, grace: timedelta, *, foreign: bool
) -> ChargeResult | None:
    """The answer to book for ``attempt`` now, or None while there is nothing final (or new) to book.

    ``foreign``: the attempt was made with another account of this gateway (its keys changed since). A
    charge it made can still be asked about by its id (the same account under new keys answers), but
    not finding one there proves nothing.
    """
    age = now - attempt.created_at
    query = ChargeQuery(attempt.public_id, attempt.customer_id, attempt.created_at)
    if attempt.gateway_payment_id:
        result = gateway.retrieve(attempt.gateway_payment_id)
    else:
        found = gateway.find_charge(query)
        if found is None:
            if age < grace or foreign:
                return None  # the request may still be on its way, or the charge is in another account
            found = gateway.close_attempt(query)
            if found is None:
                return _never_charged(attempt)
        result = found
    if result.status == ChargeStatus.SUCCEEDED:
        return result
    if result.status == ChargeStatus.PROCESSING:
        new = attempt.status != PaymentStatus.PROCESSING or not attempt.gateway_payment_id
        return result if new else None
    if result.status == ChargeStatus.REQUIRES_ACTION and age < ACTION_TIMEOUT:
        # The customer may still be answering the challenge; book only the gateway's id, if new.
        return result if not attempt.gateway_payment_id else None
    if result.status == ChargeStatus.FAILED and not attempt.gateway_payment_id and age < grace:
        return None  # created but not yet confirmed: the charge may be under way right now
    # Failed, or a challenge given up: make it final at the gateway first, so that it can never be
    # completed after we booked it as failed; if it was completed meanwhile, that is what is booked.
    final = gateway.cancel(result.gateway_payment_id) if result.gateway_payment_id else result
    if final.status == ChargeStatus.REQUIRES_ACTION:
        final = replace(final, status=ChargeStatus.FAILED, failure_message=NOT_VERIFIED)
    return final


def _never_charged(attempt: _Attempt) -> ChargeResult:
    kind = MethodKind.BANK_ACCOUNT if attempt.method == MethodKind.BANK_ACCOUNT else MethodKind.CARD
    return ChargeResult(
        "",
        ChargeStatus.FAILED,
        MethodInfo("", kind, "", ""),
        failure_code="not_charged",
        failure_message=NEVER_CHARGED,
        reference=attempt.public_id,
    )


def _unanswered_attempts(db: Database) -> list[_Attempt]:
    with db.reading() as session:
        rows: Any = session.execute(
            select(
                Payment.public_id,
                Payment.gateway,
                Payment.gateway_payment_id,
                Payment.status,
                Payment.method,
                Payment.created_at,
                GatewayCustomer.customer_id,
                Payment.gateway_account,
            )
            .outerjoin(
                GatewayCustomer,
                (GatewayCustomer.client_id == Payment.client_id)
                & (GatewayCustomer.gateway == Payment.gateway),
            )
            .where(
                Payment.status.in_((PaymentStatus.PENDING, PaymentStatus.PROCESSING)),
                Payment.gateway != "offline",
            )
            .order_by(Payment.id)
        ).all()
    return [
        _Attempt(
            row.public_id,
            row.gateway,
            row.gateway_payment_id or "",
            row.status,
            row.method,
            row.created_at,
            row.customer_id or "",
            row.gateway_account,
        )
        for row in rows
    ]


class Reconciler:
    """Reconciliation for the running portal, at start-up and then every round of its loop.

    It asks the configured gateway (which Settings may switch; ``gateway`` follows the switch) and the
    sandbox, whose record is always at hand: attempts made before a switch are answered all the same.
    Of the instances sharing a database, only the one whose scheduler holds the ``payment_settling`` job
    calls ``run`` (``services.jobs``).
    """

    def __init__(
        self,
        db: Database,
        gateway: PaymentGateway,
        *,
        clock: Clock = utc_now,
        events: Events | None = None,
    ) -> None:
        self.db = db
        self.events = events  # told of each payment booked, for the customer's open pages
        self.gateway = gateway
        self.clock = clock
        self.sandbox = SandboxGateway(records=DatabaseRecords(db), clock=clock)
        self.schedule = AskSchedule()
        self._unreachable = 0

    def run(self) -> Reconciliation:
        """One round, blocking: ask about every unanswered attempt that is due to be asked about."""
        done = reconcile_payments(
            self.db, (self.gateway, self.sandbox), clock=self.clock, schedule=self.schedule
        )
        if done.booked:
            log.info("reconciliation booked the gateway's answer for %d payment(s)", done.booked)
            if self.events is not None:
                for topic in payments_topics(self.db, done.settled):
                    self.events.publish(topic)
        if done.unreachable != self._unreachable and done.unreachable:
            log.warning(
                "%d payment(s) made with a gateway or account not configured now cannot be confirmed; "
                "their invoices stay reserved until it is configured again",
                done.unreachable,
            )
        self._unreachable = done.unreachable
        return done
