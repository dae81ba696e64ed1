"""The accounting invariant under random sequences of everything a business and its customer can do.

After every step, for the client:
    outstanding - available credits - available retainer
        = invoices - payments - credit notes + refunds                       (DESIGN.md)
and, recomputed from the raw rows, every stored running balance equals what its history says:
    invoice balance due   = total - allocations (retainer invoice: total - its retainer payments)
    payment unapplied     = amount - allocations - refunds
    credit note remaining = total - allocations - refunds
with nothing negative and no refund request holding more than there is. A refused step changes nothing.
Online payments through the sandbox count only once the gateway says they succeeded: a pending,
processing or failed attempt allocates nothing and is in no figure. Pay Now may use credits and
retainer first: a payment waiting for the gateway holds them (refund requests and holds together never
more than there is), they are applied only with its success, and when they cover everything nothing
is charged at all; a declined charge leaves every figure as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Allocation,
    AllocationKind,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    InvoiceLateFee,
    InvoiceStatus,
    NumberSequence,
    Payment,
    PaymentKind,
    PaymentStatus,
    Refund,
    RefundRequest,
    RefundRequestStatus,
    RefundSource,
    RefundStatus,
    ReminderSettings,
)
from services.balances import HELD_KEYS, client_balances, ledger_balance
from services.credit_notes import issue_credit_note, void_credit_note
from services.credits import (
    apply_to_invoice,
    approve_refund_request,
    decline_refund_request,
    refund_available,
    request_refund,
)
from services.database import Database
from services.errors import DomainError, PaymentInDoubt
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest, ChargeResult
from services.gateways.sandbox import SandboxGateway
from services.invoices import create_invoice, mark_viewed, send_invoice, void_invoice
from services.late_fees import FIXED, PERCENT, LateFee, add_due_late_fees, fee_minor
from services.money import Money
from services.online_payments import pay, plan_pay_all, plan_pay_invoice, settle_with_credits
from services.pay_now import choose, offer_pay_now
from services.payments import allocate_oldest_first, open_invoices, record_payment
from services.principal import Principal
from services.reconciliation import reconcile_payments
from services.statement import PeriodPreset, check_statement, resolve_period
from services.totals import LineInput, document_totals
from tests.factories import (
    NOW,
    TODAY,
    Clock,
    make_client,
    make_organization,
    make_portal_user,
    make_sent_invoice,
)

FAILED = PaymentStatus.FAILED
BASE_URL = "https://portal.example"
PAYABLE = {InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.PARTIALLY_PAID}
ISSUED_INVOICE = PAYABLE | {InvoiceStatus.PAID}
ISSUED_NOTE = {CreditNoteStatus.OPEN, CreditNoteStatus.CLOSED}

line_inputs = st.builds(
    LineInput,
    description=st.just("Work"),
    # 0.333 x a small price rounds to nothing now and then: zero-total documents are met too.
    quantity=st.sampled_from([Decimal(1), Decimal(2), Decimal("0.5"), Decimal("0.333"), Decimal("1.25")]),
    unit_price_minor=st.integers(min_value=1, max_value=40_000),
    discount_percent=st.sampled_from([Decimal(0), Decimal(0), Decimal("2.5"), Decimal(10)]),
    tax_rate_percent=st.sampled_from([Decimal(0), Decimal(0), Decimal(19), Decimal("7.5")]),
)
documents = st.lists(line_inputs, min_size=1, max_size=3)
amounts = st.integers(min_value=1, max_value=60_000)
# How a step sizes its amount: all that can be taken, part of it, more than that, or anything.
modes = st.sampled_from(["all", "all", "part", "part", "more", "any"])
sources = st.sampled_from([RefundSource.CREDIT, RefundSource.RETAINER])
# Which document a step acts on: mostly one that is still open, sometimes any, to meet refusals too.
Pick = tuple[bool, int]
picks = st.tuples(st.sampled_from([True, True, True, False]), st.integers(min_value=0, max_value=1_000))
sends = st.sampled_from([True, True, True, False])
# Which of the available credits and retainer Pay Now uses first.
credit_uses = st.sampled_from(
    [
        frozenset(RefundSource),
        frozenset(RefundSource),
        frozenset({RefundSource.CREDIT}),
        frozenset({RefundSource.RETAINER}),
        frozenset(),
    ]
)
UNANSWERED = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
# How the customer pays online: the sandbox's test card and accounts, each with its outcome.
ONLINE_METHODS: dict[str, CardDetails | BankAccountDetails] = {
    "card": CardDetails("4242424242424242", 12, 2030, "123", "Ann"),
    "declined": CardDetails("4000000000000002", 12, 2030, "123", "Ann"),
    "mistyped": CardDetails("4242424242424241", 12, 2030, "123", "Ann"),
    "debit": BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True),
    "bounce": BankAccountDetails("Ann", "DE62370400440532013001", "ann@client.example", True),
}


def sized(mode: str, fitting: int, other: int) -> int:
    """An amount for ``mode`` given the largest amount that fits and a random one."""
    if mode == "all" and fitting > 0:
        return fitting
    if mode == "part" and fitting > 1:
        return 1 + other % (fitting - 1)
    if mode == "more":
        return max(fitting, 0) + 1 + other % 5_000
    return other


@dataclass(frozen=True)
class Books:
    """Every row of one client's accounts (and its organization's number sequences), as stored.

    Plain rows, not ORM objects: the invariant reads them after every step, and that must be quick.
    """

    invoices: Sequence[Any]
    payments: Sequence[Any]
    notes: Sequence[Any]
    allocations: Sequence[Any]
    refunds: Sequence[Any]
    requests: Sequence[Any]
    sequences: Sequence[Any]

    @classmethod
    def load(cls, session: Session, client_id: int, organization_id: int) -> Books:
        def rows(model: Any, *where: Any) -> Sequence[Any]:
            table = model.__table__
            query = select(*table.columns).where(*(where or (table.c.client_id == client_id,)))
            return session.execute(query.order_by(*table.primary_key.columns)).all()

        return cls(
            invoices=rows(Invoice),
            payments=rows(Payment),
            notes=rows(CreditNote),
            allocations=rows(
                Allocation,
                Allocation.invoice_id.in_(select(Invoice.id).where(Invoice.client_id == client_id)),
            ),
            refunds=rows(Refund),
            requests=rows(RefundRequest),
            sequences=rows(NumberSequence, NumberSequence.organization_id == organization_id),
        )

    def fingerprint(self) -> tuple[Any, ...]:
        """What a refused request must leave exactly as it was (a failed online attempt stays on record)."""
        return (
            [(i.id, i.status, i.balance_due_minor, i.voided_at) for i in self.invoices],
            [
                (p.id, p.status, p.unapplied_minor, p.receipt_number)
                for p in self.payments
                if p.status != FAILED
            ],
            [(n.id, n.status, n.remaining_minor) for n in self.notes],
            [(a.id, a.amount_minor) for a in self.allocations],
            [(r.id, r.amount_minor) for r in self.refunds],
            [(r.id, r.status) for r in self.requests],
            [(s.kind, s.next_value) for s in self.sequences],
        )

    # What the books say, summed from the rows alone; the services' figures are checked against these.

    def outstanding(self) -> int:
        return sum(
            i.balance_due_minor
            for i in self.invoices
            if i.kind == InvoiceKind.INVOICE and i.status in PAYABLE
        )

    def available(self, source: RefundSource) -> int:
        if source == RefundSource.RETAINER:
            return sum(p.unapplied_minor for p in self.payments if p.kind == PaymentKind.RETAINER)
        return sum(p.unapplied_minor for p in self.payments if p.kind == PaymentKind.INVOICE) + sum(
            n.remaining_minor for n in self.notes if n.status == CreditNoteStatus.OPEN
        )

    def reserved(self, source: RefundSource) -> int:
        return sum(
            r.amount_minor
            for r in self.requests
            if r.status == RefundRequestStatus.OPEN and r.source == source
        )

    def held(self, source: RefundSource) -> int:
        """What payments waiting for the gateway will apply of ``source`` if they succeed."""
        return sum(
            int(line.get(HELD_KEYS[source], 0))
            for p in self.payments
            if p.status in UNANSWERED
            for line in p.planned_allocations
        )

    def ledger(self) -> int:
        return (
            sum(
                i.total_minor
                for i in self.invoices
                if i.kind == InvoiceKind.INVOICE and i.status in ISSUED_INVOICE
            )
            - sum(p.amount_minor for p in self.payments if p.status == PaymentStatus.SUCCEEDED)
            - sum(n.total_minor for n in self.notes if n.status in ISSUED_NOTE)
            + sum(r.amount_minor for r in self.refunds)
        )

    def balance_due(self, invoice_id: int) -> int:
        return int(next(i.balance_due_minor for i in self.invoices if i.id == invoice_id))

    def still_open(self, kind: str) -> list[int]:
        """The ids of the documents of ``kind`` that a step can still act on."""
        if kind in ("invoice", "retainer"):
            return [i.id for i in self.invoices if i.kind == kind and i.status in PAYABLE]
        if kind == "credit_note":
            return [n.id for n in self.notes if n.status == CreditNoteStatus.OPEN]
        return [r.id for r in self.requests if r.status == RefundRequestStatus.OPEN]


class LedgerMachine(RuleBasedStateMachine):
    """One client's history, built step by step through the services. ``db`` is set by the test."""

    db: Database

    def __init__(self) -> None:
        super().__init__()
        self.client_id = 0
        self.organization_id = 0
        self.currency = "USD"
        self.made: dict[str, list[int]] = {"invoice": [], "retainer": [], "credit_note": [], "request": []}
        # Totals as computed here from the lines (invoice and credit note ids are numbered apart).
        self.invoice_totals: dict[int, int] = {}
        self.credit_note_totals: dict[int, int] = {}
        self.expected_ledger = 0  # invoices - payments - credit notes + refunds, as the steps say
        self.ticks = 0
        # The books as the invariant last saw them. Hypothesis checks it after every step, so this is
        # the state each step starts from: steps choose their documents and amounts from it, and a
        # refused step is compared with it.
        self.seen = Books((), (), (), (), (), (), ())
        self.gateway = SandboxGateway(clock=self.current_time)
        self.principal: Principal | None = None

    # --- helpers ---------------------------------------------------------------------------------

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    def now(self) -> datetime:
        """Each step happens a little later, so "oldest first" has something to order by."""
        self.ticks += 1
        return NOW + timedelta(minutes=self.ticks)

    def current_time(self) -> datetime:
        return NOW + timedelta(minutes=self.ticks)

    def books(self) -> Books:
        with self.db.reading() as session:
            return Books.load(session, self.client_id, self.organization_id)

    def pick(self, kind: str, pick: Pick) -> int:
        live, index = pick
        ids = (self.seen.still_open(kind) if live else []) or self.made[kind]
        return ids[index % len(ids)]

    def attempt(self, action: Callable[[], Any]) -> bool:
        """Run a service call; a domain refusal is fine but must leave every row as it was."""
        try:
            action()
        except DomainError as error:
            event(f"refused: {type(error).__name__}")
            refusal = error
        else:
            return True
        assert self.books().fingerprint() == self.seen.fingerprint(), f"{refusal!r} but the books changed"
        return False

    def unreserved(self, source: RefundSource) -> int:
        return self.seen.available(source) - self.seen.reserved(source) - self.seen.held(source)

    def with_money(self, source: RefundSource, mode: str) -> RefundSource:
        """``source``, or the other one if only that has money free (unless the step wants a refusal)."""
        other = RefundSource.RETAINER if source == RefundSource.CREDIT else RefundSource.CREDIT
        if mode in ("all", "part") and self.unreserved(source) <= 0 < self.unreserved(other):
            return other
        return source

    # --- steps ---------------------------------------------------------------------------------
    # Few rules, each with a choice of what exactly to do: Hypothesis picks rules evenly, so this way
    # the steps that interact (pay, apply, reserve, void) meet each other often within one example.

    @initialize(currency=st.sampled_from(["USD", "USD", "JPY", "KWD"]))
    def open_account(self, currency: str) -> None:
        self.currency = currency
        self.organization_id = make_organization(self.db)
        self.client_id = make_client(self.db, self.organization_id, currency=currency)
        email = f"ann{self.client_id}@client.example"
        user = make_portal_user(self.db, self.client_id, email)
        self.principal = Principal(user, self.client_id, self.organization_id, "Ann", email, 1)

    @rule(
        what=st.sampled_from(["invoice", "invoice", "retainer", "credit_note"]),
        lines=documents,
        days=st.integers(min_value=0, max_value=60),
        send=sends,
    )
    def issue(self, what: str, lines: list[LineInput], days: int, send: bool) -> None:
        """The business issues an invoice (due in ``days``), a retainer invoice or a credit note."""
        total = document_totals(lines, self.currency).total.minor
        if what == "credit_note":
            ref = issue_credit_note(
                self.db,
                client_id=self.client_id,
                lines=lines,
                issue_date=TODAY - timedelta(days=days),
                clock=self.now,
            )
            self.made["credit_note"].append(ref.id)
            self.credit_note_totals[ref.id] = total
            self.expected_ledger -= total
            return
        issued = TODAY + timedelta(days=self.ticks)
        ref = create_invoice(
            self.db,
            client_id=self.client_id,
            lines=lines,
            issue_date=issued,
            due_date=issued + timedelta(days=days),
            kind=InvoiceKind.INVOICE if what == "invoice" else InvoiceKind.RETAINER,
            clock=self.now,
        )
        self.made[what].append(ref.id)
        self.invoice_totals[ref.id] = total
        if send:
            send_invoice(self.db, ref.id, clock=self.now)
            if what == "invoice":
                self.expected_ledger += total

    @precondition(lambda self: self.made["invoice"])
    @rule(pick=picks)
    def customer_views_invoice(self, pick: Pick) -> None:
        mark_viewed(self.db, self.pick("invoice", pick), clock=self.now)

    @rule(
        how=st.sampled_from(["pay_now", "pay_now", "one_invoice", "retainer"]),
        pick=picks,
        mode=modes,
        other=amounts,
        extra=st.sampled_from([0, 0, 1, 2_500]),
    )
    def customer_pays(self, how: str, pick: Pick, mode: str, other: int, extra: int) -> None:
        """Pay Now for (part of) everything owed, pay one invoice (with ``extra`` over), or a retainer."""
        kind, plan = PaymentKind.INVOICE, {}
        retainer_id: int | None = None
        if how == "pay_now":
            with self.db.reading() as session:
                owed = open_invoices(session, self.client_id)
            amount = sized(mode, sum(invoice.balance_minor for invoice in owed), other)
            plan = allocate_oldest_first(owed, amount)
        elif how == "one_invoice" and self.made["invoice"]:
            invoice_id = self.pick("invoice", pick)
            share = sized(mode, self.seen.balance_due(invoice_id), other)
            amount, plan = share + extra, {invoice_id: share}
        elif how == "retainer" and self.made["retainer"]:
            kind, retainer_id = PaymentKind.RETAINER, self.pick("retainer", pick)
            amount = sized(mode, self.seen.balance_due(retainer_id), other)
        else:
            amount = other  # nothing to pay yet: money on account, all of it credit
        paid = self.attempt(
            lambda: record_payment(
                self.db,
                client_id=self.client_id,
                amount=self.money(amount),
                method="card",
                received_at=self.now(),
                allocations=plan,
                kind=kind,
                retainer_invoice_id=retainer_id,
                clock=self.now,
            )
        )
        assert paid or how != "pay_now", "paying the open invoices oldest first is always possible"
        if paid:
            self.expected_ledger -= amount

    @rule(
        how=st.sampled_from(["pay_now", "pay_now", "one_invoice", "retainer"]),
        pick=picks,
        mode=modes,
        other=amounts,
        method=st.sampled_from(["card", "card", "declined", "mistyped", "debit", "debit", "bounce"]),
    )
    def customer_pays_online(self, how: str, pick: Pick, mode: str, other: int, method: str) -> None:
        """Pay Now or one invoice or retainer, through the sandbox; debits settle when time passes."""
        assert self.principal is not None
        principal, details = self.principal, ONLINE_METHODS[method]
        if isinstance(details, CardDetails):
            request = ChargeRequest("", 0, "", "", card=details)
        else:
            request = ChargeRequest("", 0, "", "", bank_account=details)

        def charge() -> str:
            if how == "pay_now":
                plan = plan_pay_all(self.db, principal, clock=self.current_time)
            else:
                kind = "invoice" if how == "one_invoice" else "retainer"
                if not self.made[kind]:
                    return "nothing"
                document = self.pick(kind, pick)
                amount = sized(mode, self.seen.balance_due(document), other)
                with self.db.reading() as session:
                    public_id = session.get_one(Invoice, document).public_id
                plan = plan_pay_invoice(
                    self.db, principal, public_id, self.money(amount), clock=self.current_time
                )
            if not plan.lines:
                return "nothing"
            outcome = pay(self.db, self.gateway, principal, plan, request, clock=self.current_time)
            if outcome.status == PaymentStatus.SUCCEEDED:
                self.expected_ledger -= plan.total.minor
            return outcome.status

        event(f"online {method}")
        self.attempt(charge)

    @precondition(lambda self: self.seen.still_open("invoice"))
    @rule(
        ticks=st.integers(min_value=1, max_value=63),
        mode=modes,
        other=amounts,
        use=credit_uses,
        method=st.sampled_from(["card", "card", "declined", "mistyped", "debit", "bounce", "lost"]),
    )
    def customer_pays_now_with_credits(
        self, ticks: int, mode: str, other: int, use: frozenset[RefundSource], method: str
    ) -> None:
        """Pay Now with a choice: some invoices ticked (bits of ``ticks``), their amounts sized by
        ``mode``, the credits and retainer in ``use`` applied first, oldest invoice first; the card or
        account pays the rest (its answer lost on the way, for "lost"), or nothing is charged at all."""
        assert self.principal is not None
        principal, details = self.principal, ONLINE_METHODS["card" if method == "lost" else method]
        if isinstance(details, CardDetails):
            request = ChargeRequest("", 0, "", "", card=details)
        else:
            request = ChargeRequest("", 0, "", "", bank_account=details)

        def checkout() -> None:
            offer = offer_pay_now(self.db, principal, clock=self.current_time)
            ticked = [
                line for index, line in enumerate(offer.plan.lines) if ticks >> (index % 6) & 1
            ] or offer.plan.lines
            amounts = {
                line.invoice_public_id: self.money(sized(mode, line.amount.minor, other + index))
                for index, line in enumerate(ticked)
            }
            plan = choose(offer, amounts, use=use)
            if not plan.lines:
                return
            if plan.charge.minor == 0:
                event("pay now: credits alone")
                settle_with_credits(self.db, principal, plan, clock=self.current_time)
                return
            event(f"pay now: credits {bool(plan.credits)}, {method}")
            if method == "lost":
                outcome = self._charge_losing_the_answer(plan, request)
                if outcome is None:
                    return
            else:
                outcome = pay(self.db, self.gateway, principal, plan, request, clock=self.current_time)
            if outcome.status == PaymentStatus.SUCCEEDED:
                self.expected_ledger -= plan.charge.minor
            elif outcome.status == PaymentStatus.FAILED:  # declined: the credits are as they were
                assert self.books().fingerprint() == self.seen.fingerprint(), "a declined charge used credits"

        self.attempt(checkout)

    def _charge_losing_the_answer(self, plan: Any, request: ChargeRequest) -> Any:
        """The gateway charges, but its answer never arrives: the payment is in doubt, holding its
        invoices and credits, until reconciliation finds the charge (``time_passes``)."""
        assert self.principal is not None
        gateway, charge = self.gateway, self.gateway.charge

        def lost(request: ChargeRequest) -> ChargeResult:
            charge(request)
            raise ConnectionResetError("connection reset by peer")

        gateway.charge = lost  # type: ignore[method-assign]
        try:
            return pay(self.db, gateway, self.principal, plan, request, clock=self.current_time)
        except PaymentInDoubt:
            return None
        finally:
            del gateway.charge

    @rule()
    def time_passes(self) -> None:
        """A minute later: the sandbox's debits have settled or bounced, the payments in doubt are found,
        and the portal books them."""
        self.now()
        with self.db.reading() as session:
            waiting = dict(
                session.execute(
                    select(Payment.id, Payment.amount_minor).where(
                        Payment.client_id == self.client_id, Payment.status.in_(UNANSWERED)
                    )
                ).all()
            )
        reconcile_payments(self.db, [self.gateway], clock=self.current_time)
        with self.db.reading() as session:
            settled = session.scalars(
                select(Payment.id).where(
                    Payment.id.in_(list(waiting)), Payment.status == PaymentStatus.SUCCEEDED
                )
            ).all()
        self.expected_ledger -= sum(waiting[payment_id] for payment_id in settled)

    @rule(days=st.integers(min_value=0, max_value=400))
    def customer_reads_statement(self, days: int) -> None:
        """A statement for a period ending now adds up, and closes at the ledger and the dashboard."""
        assert self.principal is not None
        today = self.current_time().date()
        period = resolve_period(
            PeriodPreset.CUSTOM, today=today, start=today - timedelta(days=days), end=today
        )
        check = check_statement(self.db, self.principal, period, today=today)
        assert check.problems == (), check.problems
        assert check.statement.closing == Money(self.expected_ledger, self.currency)

    @rule(
        how=st.sampled_from(["apply", "apply", "request_refund", "refund"]),
        pick=picks,
        source=sources,
        mode=modes,
        other=amounts,
    )
    def use_credit(self, how: str, pick: Pick, source: RefundSource, mode: str, other: int) -> None:
        """The customer applies credit or retainer to an invoice or asks for it back; or the business
        refunds some without being asked."""
        source = self.with_money(source, mode)
        free = self.unreserved(source)
        if how == "apply" and self.made["invoice"]:
            invoice_id = self.pick("invoice", pick)
            amount = sized(mode, min(self.seen.balance_due(invoice_id), free), other)
            self.attempt(
                lambda: apply_to_invoice(
                    self.db,
                    client_id=self.client_id,
                    invoice_id=invoice_id,
                    amount=self.money(amount),
                    source=source,
                    clock=self.now,
                )
            )
        elif how == "refund":
            amount = sized(mode, free, other)
            if self.attempt(
                lambda: refund_available(
                    self.db,
                    client_id=self.client_id,
                    source=source,
                    amount=self.money(amount),
                    clock=self.now,
                )
            ):
                self.expected_ledger += amount
        else:
            amount = sized(mode, free, other)
            self.attempt(lambda: self._request_refund(source, amount))

    def _request_refund(self, source: RefundSource, amount: int) -> None:
        ref = request_refund(
            self.db,
            client_id=self.client_id,
            portal_user_id=None,
            source=source,
            amount=self.money(amount),
            clock=self.now,
        )
        self.made["request"].append(ref.id)

    @precondition(lambda self: self.made["request"])
    @rule(pick=picks, approve=st.booleans())
    def business_decides_refund_request(self, pick: Pick, approve: bool) -> None:
        request_id = self.pick("request", pick)
        amount = next(r.amount_minor for r in self.seen.requests if r.id == request_id)
        if approve:
            if self.attempt(
                lambda: approve_refund_request(self.db, request_id, staff_user_id=None, clock=self.now)
            ):
                self.expected_ledger += amount
        else:
            self.attempt(
                lambda: decline_refund_request(self.db, request_id, staff_user_id=None, clock=self.now)
            )

    @precondition(lambda self: self.made["invoice"] or self.made["retainer"] or self.made["credit_note"])
    @rule(what=st.sampled_from(["invoice", "invoice", "retainer", "credit_note"]), pick=picks)
    def business_voids(self, what: str, pick: Pick) -> None:
        if not self.made[what]:
            what = next(kind for kind in ("invoice", "retainer", "credit_note") if self.made[kind])
        document_id = self.pick(what, pick)
        if what == "credit_note":
            if self.attempt(lambda: void_credit_note(self.db, document_id, clock=self.now)):
                self.expected_ledger += self.credit_note_totals[document_id]
        elif self.attempt(lambda: void_invoice(self.db, document_id, clock=self.now)) and what == "invoice":
            self.expected_ledger -= self.invoice_totals[document_id]

    @precondition(lambda self: self.made["invoice"])
    @rule(
        kind=st.sampled_from([FIXED, PERCENT]),
        value=st.sampled_from([Decimal("0.5"), Decimal("2.5"), Decimal(15), Decimal("1.333")]),
        monthly=st.booleans(),
        days=st.integers(min_value=1, max_value=120),
    )
    def late_fees_are_added(self, kind: str, value: Decimal, monthly: bool, days: int) -> None:
        """The daily job, ``days`` ahead, bills each overdue invoice's late fee as an invoice of its own."""
        with self.db.transaction() as session:
            settings = session.scalars(
                select(ReminderSettings).where(ReminderSettings.organization_id == self.organization_id)
            ).one_or_none()
            if settings is None:
                settings = ReminderSettings(
                    organization_id=self.organization_id, enabled=True, rule_days="0", updated_at=NOW
                )
                session.add(settings)
            settings.late_fee_kind, settings.late_fee_value, settings.late_fee_monthly = kind, value, monthly
            settings.late_fee_since = TODAY
        with self.db.reading() as session:
            known = set(session.scalars(select(InvoiceLateFee.id)))
        today = TODAY + timedelta(days=self.ticks + days)
        add_due_late_fees(
            self.db,
            self.organization_id,
            first=TODAY,
            today=today,
            base_url=BASE_URL,
            now=self.now(),
        )
        with self.db.reading() as session:
            added = session.execute(
                select(
                    InvoiceLateFee.id,
                    InvoiceLateFee.invoice_id,
                    Invoice.id,
                    Invoice.total_minor,
                    Invoice.status,
                )
                .join(Invoice, Invoice.id == InvoiceLateFee.fee_invoice_id)
                .where(Invoice.client_id == self.client_id)
            ).all()
        fee = LateFee(kind, value, monthly)
        for fee_id, overdue_id, fee_invoice_id, total, status in added:
            if fee_id in known:
                continue
            event(f"late fee: {kind}")
            assert total == fee_minor(fee, self.seen.balance_due(overdue_id), self.currency)
            assert status == InvoiceStatus.SENT
            self.made["invoice"].append(fee_invoice_id)
            self.invoice_totals[fee_invoice_id] = total
            self.expected_ledger += total

    # --- what must hold after every step ---------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        if not self.client_id:
            return
        with self.db.reading() as session:
            books = Books.load(session, self.client_id, self.organization_id)
            self.seen = books
            check_running_balances(books)
            check_client_balances(books, session, self.client_id, self.currency, self.expected_ledger)


def check_running_balances(books: Books) -> None:
    """Each stored balance equals its document's history; nothing is negative or misapplied."""
    invoices = {invoice.id: invoice for invoice in books.invoices}
    payments = {payment.id: payment for payment in books.payments}
    for payment in books.payments:
        if payment.status != PaymentStatus.SUCCEEDED:  # not (yet) money: nothing hangs on it
            assert (payment.unapplied_minor, payment.receipt_number) == (0, None), payment.status
            assert payment.gateway == "sandbox"
    succeeded = {payment.id for payment in books.payments if payment.status == PaymentStatus.SUCCEEDED}
    assert all(a.payment_id in succeeded for a in books.allocations if a.payment_id is not None)
    assert all(
        refund.amount_minor > 0 and refund.status == RefundStatus.SUCCEEDED for refund in books.refunds
    )

    def allocated(column: str, document_id: int) -> int:
        return sum(a.amount_minor for a in books.allocations if getattr(a, column) == document_id)

    def refunded(column: str, document_id: int) -> int:
        return sum(r.amount_minor for r in books.refunds if getattr(r, column) == document_id)

    for allocation in books.allocations:
        assert allocation.amount_minor > 0
        assert invoices[allocation.invoice_id].kind == InvoiceKind.INVOICE, "only invoices take allocations"
        if allocation.payment_id is None:
            assert allocation.kind == AllocationKind.CREDIT
        elif payments[allocation.payment_id].kind == PaymentKind.INVOICE:
            assert allocation.kind in (AllocationKind.PAYMENT, AllocationKind.CREDIT)
        else:
            assert allocation.kind == AllocationKind.RETAINER

    for invoice in books.invoices:
        assert invoice.balance_due_minor >= 0, invoice.number
        if invoice.kind == InvoiceKind.INVOICE:
            applied = allocated("invoice_id", invoice.id)
        else:  # a retainer invoice is paid by its retainer payments, without allocations
            applied = sum(
                p.amount_minor
                for p in books.payments
                if p.retainer_invoice_id == invoice.id and p.status == PaymentStatus.SUCCEEDED
            )
        if invoice.status == InvoiceStatus.DRAFT:
            assert (applied, invoice.balance_due_minor) == (0, invoice.total_minor), invoice.number
        elif invoice.status == InvoiceStatus.VOID:
            assert (applied, invoice.balance_due_minor) == (0, 0), invoice.number
        else:
            assert invoice.balance_due_minor == invoice.total_minor - applied, invoice.number
            if invoice.total_minor == 0:  # nothing to pay, so it is never paid: it stays as sent
                expected = {InvoiceStatus.SENT, InvoiceStatus.VIEWED}
            elif invoice.balance_due_minor == 0:
                expected = {InvoiceStatus.PAID}
            elif invoice.balance_due_minor < invoice.total_minor:
                expected = {InvoiceStatus.PARTIALLY_PAID}
            else:
                expected = {InvoiceStatus.SENT, InvoiceStatus.VIEWED}
            assert invoice.status in expected, (invoice.number, invoice.status, invoice.balance_due_minor)

    for payment in books.payments:
        if payment.id not in succeeded:
            continue
        left = payment.amount_minor - allocated("payment_id", payment.id) - refunded("payment_id", payment.id)
        assert payment.unapplied_minor == left >= 0, payment.receipt_number

    for note in books.notes:
        used = allocated("credit_note_id", note.id) + refunded("credit_note_id", note.id)
        if note.status == CreditNoteStatus.VOID:
            assert (used, note.remaining_minor) == (0, 0), note.number
            continue
        assert note.remaining_minor == note.total_minor - used >= 0, note.number
        assert (note.status == CreditNoteStatus.CLOSED) == (note.remaining_minor == 0 < note.total_minor)

    for request in books.requests:
        paid_out = sum(r.amount_minor for r in books.refunds if r.refund_request_id == request.id)
        assert paid_out == (request.amount_minor if request.status == RefundRequestStatus.APPROVED else 0)


def check_client_balances(
    books: Books, session: Session, client_id: int, currency: str, expected_ledger: int
) -> None:
    """The dashboard's figures and the ledger, recomputed from the rows; and the design's invariant."""
    credit, retainer = RefundSource.CREDIT, RefundSource.RETAINER
    for source in (credit, retainer):
        held = books.reserved(source) + books.held(source)
        assert held <= books.available(source), f"requests and payments hold more {source} than there is"

    balances = client_balances(session, client_id, currency)
    assert (
        balances.outstanding.minor,
        balances.available_credits.minor,
        balances.available_retainer.minor,
        balances.reserved_credits.minor,
        balances.reserved_retainer.minor,
        balances.held_credits.minor,
        balances.held_retainer.minor,
    ) == (
        books.outstanding(),
        books.available(credit),
        books.available(retainer),
        books.reserved(credit),
        books.reserved(retainer),
        books.held(credit),
        books.held(retainer),
    )

    ledger = ledger_balance(session, client_id, currency)
    assert ledger == Money(books.ledger(), currency) == Money(expected_ledger, currency)
    assert balances.net == ledger


def test_balances_always_agree_with_the_ledger(db: Database) -> None:
    class Machine(LedgerMachine):
        pass

    Machine.db = db  # one database per backend; each example opens a new client in it
    # The same statements run on both; PostgreSQL (twice as slow a step) checks its dialect and locks
    # with fewer examples, SQLite explores the sequences.
    examples = 25 if db.engine.dialect.name == "sqlite" else 10
    run_state_machine_as_test(
        Machine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    invoices=st.lists(st.integers(min_value=1, max_value=80_000), min_size=1, max_size=3),
    credit=st.sampled_from([0, 0, 1, 2_500, 12_000, 60_000]),
    retainer=st.sampled_from([0, 0, 1, 7_000, 70_000]),
    ticks=st.integers(min_value=1, max_value=7),
    parts=st.lists(st.integers(min_value=1, max_value=100), min_size=3, max_size=3),
    use=credit_uses,
    method=st.sampled_from(["card", "declined", "debit", "bounce", "lost"]),
)
def test_pay_now_books_its_credits_with_its_charge_or_not_at_all(
    db: Database,
    invoices: list[int],
    credit: int,
    retainer: int,
    ticks: int,
    parts: list[int],
    use: frozenset[RefundSource],
    method: str,
) -> None:
    """Some of the open invoices, for part or all of each, credits then retainer first: what they
    cover is applied exactly when the charge for the rest succeeds (at once, when the debit settles,
    or when a lost answer is found), never when it is declined or bounces, and without a charge at
    all when they cover everything; the invariant holds at every step."""
    clock = Clock()
    gateway = SandboxGateway(clock=clock)
    organization_id = make_organization(db)
    client_id = make_client(db, organization_id)
    email = f"ann{client_id}@client.example"
    principal = Principal(make_portal_user(db, client_id, email), client_id, organization_id, "Ann", email, 1)
    for index, amount in enumerate(invoices):  # due one after the other: the oldest is paid first
        make_sent_invoice(db, client_id, amount, due_in_days=10 * (index + 1))
    if credit:
        issue_credit_note(
            db, client_id=client_id, lines=[LineInput("Goodwill", Decimal(1), credit)], issue_date=TODAY
        )
    if retainer:
        advance = create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Advance", Decimal(1), retainer)],
            issue_date=TODAY,
            due_date=TODAY,
            kind=InvoiceKind.RETAINER,
        )
        send_invoice(db, advance.id)
        record_payment(
            db,
            client_id=client_id,
            amount=Money(retainer, "USD"),
            method="card",
            received_at=NOW,
            kind=PaymentKind.RETAINER,
            retainer_invoice_id=advance.id,
        )
    ledger = sum(invoices) - credit - retainer

    def check(expected: tuple[int, int, int]) -> None:
        """The books agree with themselves and the ledger; outstanding, free credits, free retainer."""
        with db.reading() as session:
            books = Books.load(session, client_id, organization_id)
            check_running_balances(books)
            check_client_balances(books, session, client_id, "USD", ledger)
            balances = client_balances(session, client_id, "USD")
        assert (
            balances.outstanding.minor,
            balances.free_credits.minor,
            balances.free_retainer.minor,
        ) == expected

    offer = offer_pay_now(db, principal, clock=clock)
    amounts = {
        line.invoice_public_id: Money(max(1, line.amount.minor * parts[index] // 100), "USD")
        for index, line in enumerate(offer.plan.lines)
        if ticks >> index & 1
    } or {offer.plan.lines[0].invoice_public_id: offer.plan.lines[0].amount}
    plan = choose(offer, amounts, use=use)
    total = sum(amount.minor for amount in amounts.values())
    from_credit = min(credit if RefundSource.CREDIT in use else 0, total)
    from_retainer = min(retainer if RefundSource.RETAINER in use else 0, total - from_credit)
    assert (
        plan.total.minor,
        plan.used(RefundSource.CREDIT).minor,
        plan.used(RefundSource.RETAINER).minor,
    ) == (
        total,
        from_credit,
        from_retainer,
    )
    assert plan.charge.minor == total - from_credit - from_retainer
    before = (sum(invoices), credit, retainer)
    paid = (sum(invoices) - total, credit - from_credit, retainer - from_retainer)
    held = (sum(invoices), credit - from_credit, retainer - from_retainer)
    check(before)

    if plan.charge.minor == 0:
        event("pay now property: credits alone")
        settle_with_credits(db, principal, plan, clock=clock)
        check(paid)
        with db.reading() as session:
            online = select(func.count()).where(Payment.client_id == client_id, Payment.gateway == "sandbox")
            assert session.scalar(online) == 0
        return
    event(f"pay now property: {method}")
    details = ONLINE_METHODS["card" if method == "lost" else method]
    if isinstance(details, CardDetails):
        request = ChargeRequest("", 0, "", "", card=details)
    else:
        request = ChargeRequest("", 0, "", "", bank_account=details)
    if method == "lost":
        charge = gateway.charge

        def lost(request: ChargeRequest) -> ChargeResult:
            charge(request)
            raise ConnectionResetError("connection reset by peer")

        gateway.charge = lost  # type: ignore[method-assign]
        try:
            with pytest.raises(PaymentInDoubt):
                pay(db, gateway, principal, plan, request, clock=clock)
        finally:
            del gateway.charge
    else:
        outcome = pay(db, gateway, principal, plan, request, clock=clock)
        assert outcome.amount == plan.charge
    if method == "declined":
        check(before)
        return
    if method == "card":
        ledger -= plan.charge.minor
        check(paid)
        return
    check(held)  # a debit processing, or an answer lost: its credits are held, nothing is applied yet
    clock.advance(seconds=6)
    reconcile_payments(db, [gateway], clock=clock)
    if method == "bounce":
        check(before)
    else:
        ledger -= plan.charge.minor
        check(paid)
