"""Pay Now's choices: which open invoices, how much of each, and the credits and retainer used first.

``offer_pay_now`` reads what the Pay page starts with: every open invoice for what can be paid of it
now (what payments on their way cover is left out), oldest due date first, and the credits and
retainer free to use. ``choose`` turns the customer's choice (invoices unticked, amounts lowered,
credits or retainer not used) into a ``PaymentPlan``: credits first, then retainer, each on the oldest
invoice first; the card or account is charged for the rest (``online_payments.pay``), or, when
nothing is left, ``online_payments.settle_with_credits`` settles the invoices with no gateway at all.

``choose`` reads no database, so the page runs it as the customer types; ``pay`` and
``settle_with_credits`` check the plan again against the books, under the client's lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from models import RefundSource
from services.balances import client_balances
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import AmountExceedsBalance, InvalidAmount, NotFound, PaymentInProgress, WrongCurrency
from services.money import Money
from services.online_payments import CreditUse, PaymentPlan, PlannedLine, plan_pay_all
from services.principal import Principal

SOURCES = (RefundSource.CREDIT, RefundSource.RETAINER)  # the order they are used in


@dataclass(frozen=True)
class PayNowOffer:
    plan: PaymentPlan  # every open invoice for what can be paid of it now; no credits used
    credits: Money  # free to use: not applied, reserved for a refund, nor held by a payment on its way
    retainer: Money

    def available(self, source: RefundSource) -> Money:
        return self.credits if source == RefundSource.CREDIT else self.retainer

    def line(self, invoice_public_id: str) -> PlannedLine:
        for line in self.plan.lines:
            if line.invoice_public_id == invoice_public_id:
                return line
        raise NotFound("invoice", invoice_public_id)


def offer_pay_now(db: Database, principal: Principal, *, clock: Clock = utc_now) -> PayNowOffer:
    """What Pay Now offers: the open invoices and the credits and retainer free to use on them."""
    plan = plan_pay_all(db, principal, clock=clock)
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, plan.total.currency)
    return PayNowOffer(plan, balances.free_credits, balances.free_retainer)


def check_amount(offer: PayNowOffer, invoice_public_id: str, amount: Money) -> None:
    """Refuse what ``choose`` refuses of one invoice's amount, as the customer types it."""
    line = offer.line(invoice_public_id)  # NotFound for an invoice the offer does not hold
    if amount.currency != line.balance_due.currency:
        raise WrongCurrency(line.balance_due.currency, amount.currency)
    if amount.minor <= 0:
        raise InvalidAmount(amount, "must be more than zero")
    if amount.minor > line.balance_due.minor:
        raise AmountExceedsBalance(line.number, line.balance_due, amount)
    if amount.minor > line.amount.minor:
        raise PaymentInProgress(line.balance_due - line.amount, line.number)


def choose(
    offer: PayNowOffer,
    amounts: Mapping[str, Money],
    *,
    use: frozenset[RefundSource] = frozenset(SOURCES),
) -> PaymentPlan:
    """The plan for the invoices in ``amounts`` (invoice public id -> what to pay of it; an invoice not
    in it is unticked), in the offer's order, the sources in ``use`` applied first.

    Refuses an amount that is not more than zero (``InvalidAmount``), more than the invoice's balance
    (``AmountExceedsBalance``), or more than a payment on its way leaves of it (``PaymentInProgress``).
    No invoice chosen is a plan of nothing, which neither ``pay`` nor ``settle_with_credits`` takes.
    """
    currency = offer.plan.total.currency
    for public_id, amount in amounts.items():
        check_amount(offer, public_id, amount)
    lines = [
        replace(line, amount=amounts[line.invoice_public_id])
        for line in offer.plan.lines
        if line.invoice_public_id in amounts
    ]
    left = {line.invoice_public_id: line.amount.minor for line in lines}
    credits: list[CreditUse] = []
    for source in SOURCES:
        pool = offer.available(source).minor if source in use else 0
        for line in lines:
            share = min(pool, left[line.invoice_public_id])
            if share > 0:
                credits.append(CreditUse(line.invoice_public_id, source, Money(share, currency)))
                left[line.invoice_public_id] -= share
                pool -= share
    total = Money(sum(line.amount.minor for line in lines), currency)
    return PaymentPlan(offer.plan.kind, tuple(lines), total, offer.plan.on_its_way, tuple(credits))
