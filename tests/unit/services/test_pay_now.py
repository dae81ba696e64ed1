"""Pay Now: choose the invoices and how much of each; available credits and retainer go first, oldest
invoice first, and only the rest is charged. The credits are booked with the charge or not at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from models import Allocation, AuditEvent, Invoice, OutboxEmail, Payment, RefundSource, SandboxCharge
from services import online_payments
from services.balances import client_balances, ledger_balance
from services.credit_actions import apply_available, ask_for_refund, credit_options
from services.credits import refund_available
from services.errors import (
    AmountExceedsBalance,
    CreditNoLongerAvailable,
    InsufficientCredit,
    InvalidAmount,
    NotFound,
    PaymentInDoubt,
    PaymentInProgress,
    human_message,
)
from services.gateways.base import ChargeResult, ChargeStatus, MethodInfo, MethodKind
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.money import Money
from services.online_payments import pay, plan_pay_invoice, settle_with_credits
from services.pay_now import choose, offer_pay_now
from services.payments import record_payment
from services.reconciliation import IN_DOUBT_GRACE, reconcile_payments
from tests.factories import Clock, make_customer, make_sent_invoice
from tests.unit.services.test_credits import credit_note, paid_retainer
from tests.unit.services.test_online_payments import bank, card

CREDIT, RETAINER = RefundSource.CREDIT, RefundSource.RETAINER
NONE: frozenset[RefundSource] = frozenset()


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def books(db, clock):
    """Three open invoices ($200 due first, then $300, then $150), $120 of credit and $250 of retainer."""
    principal = make_customer(db)
    later = make_sent_invoice(db, principal.client_id, 30000, due_in_days=40)
    older = make_sent_invoice(db, principal.client_id, 20000, due_in_days=10)
    last = make_sent_invoice(db, principal.client_id, 15000, due_in_days=60)
    credit_note(db, principal.client_id, 12000)
    paid_retainer(db, principal.client_id, 25000)
    gateway = SandboxGateway(clock=clock, records=DatabaseRecords(db, clock=clock))
    return {"principal": principal, "older": older, "later": later, "last": last, "gateway": gateway}


def everything(offer):
    return {line.invoice_public_id: line.amount for line in offer.plan.lines}


def figures(db, principal):
    """Outstanding, free credits and free retainer; the design's invariant is checked on the way."""
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
        assert balances.net == ledger_balance(session, principal.client_id, "USD")
    return balances.outstanding.minor, balances.free_credits.minor, balances.free_retainer.minor


def balances_due(db, *refs):
    with db.reading() as session:
        return [session.get_one(Invoice, ref.id).balance_due_minor for ref in refs]


def count(db, model, *where):
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def uses(plan):
    return [(use.invoice_public_id, use.source, use.amount.minor) for use in plan.credits]


def test_the_offer_lists_the_open_invoices_oldest_first_and_the_free_credits(db, books, clock):
    offer = offer_pay_now(db, books["principal"], clock=clock)
    assert [(line.number, line.amount.minor) for line in offer.plan.lines] == [
        (books["older"].number, 20000),
        (books["later"].number, 30000),
        (books["last"].number, 15000),
    ]
    assert (offer.credits, offer.retainer) == (usd(12000), usd(25000))


def test_credits_then_retainer_go_on_the_oldest_invoices_first_and_the_rest_is_charged(db, books, clock):
    offer = offer_pay_now(db, books["principal"], clock=clock)
    plan = choose(offer, everything(offer))
    older, later = books["older"].public_id, books["later"].public_id
    assert uses(plan) == [(older, CREDIT, 12000), (older, RETAINER, 8000), (later, RETAINER, 17000)]
    assert (plan.total, plan.charge) == (usd(65000), usd(28000))


def test_unticking_and_lowering_amounts_changes_the_total_and_what_the_credits_cover(db, books, clock):
    offer = offer_pay_now(db, books["principal"], clock=clock)
    plan = choose(offer, {books["last"].public_id: usd(10000)})
    assert [line.number for line in plan.lines] == [books["last"].number]
    assert uses(plan) == [(books["last"].public_id, CREDIT, 10000)]  # $120 of credit, $100 needed
    assert (plan.total, plan.charge) == (usd(10000), usd(0))
    plan = choose(offer, {books["later"].public_id: usd(30000)}, use=frozenset({RETAINER}))
    assert uses(plan) == [(books["later"].public_id, RETAINER, 25000)]
    assert plan.charge == usd(5000)
    plan = choose(offer, everything(offer), use=NONE)
    assert (plan.credits, plan.charge) == ((), usd(65000))
    assert choose(offer, {}).lines == ()


def test_an_amount_above_the_balance_or_not_above_zero_is_refused(db, books, clock):
    offer = offer_pay_now(db, books["principal"], clock=clock)
    older = books["older"].public_id
    with pytest.raises(AmountExceedsBalance) as refused:
        choose(offer, {older: usd(20001)})
    assert (
        human_message(refused.value)
        == f"$200.01 is more than the $200.00 due on invoice {books['older'].number}."
    )
    with pytest.raises(InvalidAmount):
        choose(offer, {older: usd(0)})
    with pytest.raises(NotFound):
        choose(offer, {"someone-elses": usd(100)})


def test_a_part_being_paid_already_cannot_be_chosen_again(db, books, clock):
    principal = books["principal"]
    part = plan_pay_invoice(db, principal, books["older"].public_id, usd(5000), clock=clock)
    pay(db, books["gateway"], principal, part, bank(), clock=clock)  # processing
    offer = offer_pay_now(db, principal, clock=clock)
    assert offer.line(books["older"].public_id).amount == usd(15000)
    with pytest.raises(PaymentInProgress):
        choose(offer, {books["older"].public_id: usd(15001)})


def test_credits_and_a_card_pay_everything_in_one_booking(db, books, clock):
    principal = books["principal"]
    offer = offer_pay_now(db, principal, clock=clock)
    outcome = pay(db, books["gateway"], principal, choose(offer, everything(offer)), card(), clock=clock)
    assert (outcome.status, outcome.amount) == ("succeeded", usd(28000))
    assert [(use.invoice_number, use.source, use.amount.minor) for use in outcome.credits] == [
        (books["older"].number, CREDIT, 12000),
        (books["older"].number, RETAINER, 8000),
        (books["later"].number, RETAINER, 17000),
    ]
    assert figures(db, principal) == (0, 0, 0)
    assert balances_due(db, books["older"], books["later"], books["last"]) == [0, 0, 0]
    with db.reading() as session:
        charged = session.scalars(select(Payment).where(Payment.gateway == "sandbox")).one()
        assert (charged.amount_minor, charged.unapplied_minor) == (28000, 0)
        kinds = session.execute(
            select(Allocation.kind, func.sum(Allocation.amount_minor)).group_by(Allocation.kind)
        ).all()
        assert dict(kinds) == {"credit": 12000, "retainer": 25000, "payment": 28000}


def test_the_receipt_the_notice_and_the_audit_trail_say_which_credits_were_used(db, books, clock):
    principal = books["principal"]
    offer = offer_pay_now(db, principal, clock=clock)
    chosen = {books["older"].public_id: usd(20000), books["later"].public_id: usd(30000)}
    pay(db, books["gateway"], principal, choose(offer, chosen), card(), clock=clock)
    with db.reading() as session:
        receipt = session.scalars(select(OutboxEmail).where(OutboxEmail.subject.like("Receipt%"))).one()
        notice = session.scalars(
            select(OutboxEmail).where(OutboxEmail.subject.like("Payment received%"))
        ).one()
        events = session.execute(
            select(AuditEvent.action, AuditEvent.details).where(AuditEvent.action.like("%.applied"))
        ).all()
    older, later = books["older"].number, books["later"].number
    assert "Amount: $130.00" in receipt.body_text
    assert f"Credits used: $120.00\n  {older}: $120.00" in receipt.body_text
    assert f"Retainer payments used: $250.00\n  {older}: $80.00\n  {later}: $170.00" in receipt.body_text
    assert f"  {later}: $130.00 (still due: $0.00)" in receipt.body_text
    assert "Credits used: $120.00" in notice.body_text
    assert "Retainer payments used: $250.00" in notice.body_text
    assert [(action, details["amount_minor"]) for action, details in events] == [
        ("credit.applied", 12000),
        ("retainer.applied", 8000),
        ("retainer.applied", 17000),
    ]
    assert all(details["at_checkout"] and details["payment"] for _action, details in events)


def test_a_declined_card_leaves_the_credits_as_they_were(db, books, clock):
    principal = books["principal"]
    before = figures(db, principal)
    offer = offer_pay_now(db, principal, clock=clock)
    outcome = pay(
        db,
        books["gateway"],
        principal,
        choose(offer, everything(offer)),
        card("4000000000000002"),
        clock=clock,
    )
    assert outcome.status == "failed"
    assert outcome.credits == ()
    assert figures(db, principal) == before == (65000, 12000, 25000)
    assert count(db, Allocation) == 0
    again = offer_pay_now(db, principal, clock=clock)  # nothing held any more
    assert (again.credits, again.retainer) == (usd(12000), usd(25000))


def test_credits_that_cover_everything_settle_it_with_no_gateway(db, books, clock):
    principal = books["principal"]
    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["older"].public_id: usd(20000), books["last"].public_id: usd(10000)})
    assert plan.charge == usd(0)
    with pytest.raises(InvalidAmount):  # nothing to charge: the gateway is not the way
        pay(db, books["gateway"], principal, plan, card(), clock=clock)
    settled = settle_with_credits(db, principal, plan, clock=clock)
    assert settled.total == usd(30000)
    assert [(line.number, line.amount_minor, line.left_minor) for line in settled.invoices] == [
        (books["older"].number, 20000, 0),
        (books["last"].number, 10000, 5000),
    ]
    assert [(use.invoice_number, use.source, use.amount.minor) for use in settled.credits] == [
        (books["older"].number, CREDIT, 12000),
        (books["older"].number, RETAINER, 8000),
        (books["last"].number, RETAINER, 10000),
    ]
    assert figures(db, principal) == (35000, 0, 7000)
    assert (count(db, Payment, Payment.gateway == "sandbox"), count(db, SandboxCharge)) == (0, 0)
    with db.reading() as session:
        mails = {mail.to_addresses: mail for mail in session.scalars(select(OutboxEmail))}
        applied = session.scalar(select(func.count()).where(AuditEvent.action.like("%.applied")))
    assert applied == 3
    customer = mails[principal.email]
    assert customer.subject == "$300.00 of your invoices paid with your credits at Acme Studio"
    assert "Nothing was charged." in customer.body_text
    assert f"  {books['last'].number}: $100.00 (still due: $50.00)" in customer.body_text
    assert "Credits used: $120.00" in customer.body_text
    assert "Retainer payments used: $180.00" in customer.body_text
    business = mails["hello@acme.example"]
    assert business.subject == "Credits used: $300.00 by Client Ltd"
    assert "Client Ltd paid $300.00 of their invoices with available credits" in business.body_text


def test_credits_used_meanwhile_are_refused_with_a_clear_message_and_nothing_is_charged(db, books, clock):
    principal = books["principal"]
    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["older"].public_id: usd(20000), books["later"].public_id: usd(30000)})
    # Another tab applies part of the credit to the third invoice after this page was drawn.
    apply_available(db, principal, books["last"].public_id, usd(5000), CREDIT, clock=clock)
    with pytest.raises(CreditNoLongerAvailable) as refused:
        pay(db, books["gateway"], principal, plan, card(), clock=clock)
    assert human_message(refused.value) == (
        "Only $70.00 of your credits can be used now, not the $120.00 this payment was to use, so nothing "
        "was charged. Please check the amounts and pay again."
    )
    assert (count(db, Payment, Payment.gateway == "sandbox"), count(db, SandboxCharge)) == (0, 0)
    small = choose(offer, {books["older"].public_id: usd(10000)})
    refund_available(db, client_id=principal.client_id, source=CREDIT, amount=usd(7000), clock=clock)
    with pytest.raises(CreditNoLongerAvailable):
        settle_with_credits(db, principal, small, clock=clock)
    assert figures(db, principal) == (60000, 0, 25000)  # only what the other tab applied


def test_a_payment_in_doubt_holds_its_credits_until_the_gateway_answers(db, books, clock, monkeypatch):
    principal, gateway = books["principal"], books["gateway"]
    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["older"].public_id: usd(20000), books["later"].public_id: usd(30000)})

    def lost(*args, **kwargs):  # the gateway charged the card; the database failed as it was booked
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    with monkeypatch.context() as patched:
        patched.setattr(online_payments, "prepare_receipt", lost)
        with pytest.raises(PaymentInDoubt) as doubt:
            pay(db, gateway, principal, plan, card(), clock=clock)
    assert doubt.value.amount == usd(13000)  # what was charged, not what the credits pay
    # Held: no other use of them, no second checkout with them, no refund of them.
    assert figures(db, principal) == (65000, 0, 0)
    assert credit_options(db, principal, clock=clock).available_credits == usd(0)
    with pytest.raises(InsufficientCredit):
        apply_available(db, principal, books["last"].public_id, usd(100), CREDIT, clock=clock)
    with pytest.raises(InsufficientCredit):
        ask_for_refund(db, principal, RETAINER, usd(100), "", clock=clock)
    again = offer_pay_now(db, principal, clock=clock)
    assert [line.number for line in again.plan.lines] == [books["last"].number]
    assert (again.credits, again.retainer) == (usd(0), usd(0))

    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert figures(db, principal) == (15000, 0, 0)
    assert balances_due(db, books["older"], books["later"]) == [0, 0]
    assert reconcile_payments(db, [gateway], clock=clock).booked == 0
    with db.reading() as session:  # applied once
        assert session.scalar(select(func.sum(Allocation.amount_minor))) == 50000


def test_an_attempt_that_never_reached_the_gateway_frees_its_credits_once_it_is_closed(
    db, books, clock, monkeypatch
):
    principal, gateway = books["principal"], books["gateway"]
    offer = offer_pay_now(db, principal, clock=clock)

    def crashed(request):
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(gateway, "charge", crashed)
    with pytest.raises(PaymentInDoubt):
        pay(db, gateway, principal, choose(offer, everything(offer)), card(), clock=clock)
    monkeypatch.undo()
    assert figures(db, principal) == (65000, 0, 0)
    clock.advance(seconds=IN_DOUBT_GRACE.total_seconds() + 1)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert figures(db, principal) == (65000, 12000, 25000)
    assert count(db, Allocation) == 0


def test_a_bank_debit_applies_its_credits_when_it_settles_and_frees_them_when_it_bounces(db, books, clock):
    principal, gateway = books["principal"], books["gateway"]
    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["later"].public_id: usd(30000)}, use=frozenset({CREDIT}))
    assert (
        pay(db, gateway, principal, plan, bank("DE62370400440532013001"), clock=clock).status == "processing"
    )
    assert figures(db, principal) == (65000, 0, 25000)
    clock.advance(seconds=6)
    reconcile_payments(db, [gateway], clock=clock)  # bounced
    assert figures(db, principal) == (65000, 12000, 25000)

    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["older"].public_id: usd(20000), books["later"].public_id: usd(30000)})
    assert pay(db, gateway, principal, plan, bank(), clock=clock).status == "processing"
    assert figures(db, principal) == (65000, 0, 0)
    clock.advance(seconds=6)
    reconcile_payments(db, [gateway], clock=clock)  # settled
    assert figures(db, principal) == (15000, 0, 0)
    assert balances_due(db, books["older"], books["later"]) == [0, 0]


def test_an_invoice_paid_another_way_meanwhile_keeps_the_credits_and_the_charge_becomes_credit(
    db, books, clock, monkeypatch
):
    principal, gateway = books["principal"], books["gateway"]
    offer = offer_pay_now(db, principal, clock=clock)
    plan = choose(offer, {books["older"].public_id: usd(20000)}, use=frozenset({CREDIT}))
    monkeypatch.setattr(gateway, "charge", lambda request: (_ for _ in ()).throw(ConnectionResetError()))
    with pytest.raises(PaymentInDoubt):
        pay(db, gateway, principal, plan, card(), clock=clock)
    monkeypatch.undo()
    # The business records a cheque for the whole invoice while the card payment is being confirmed.
    record_payment(
        db,
        client_id=principal.client_id,
        amount=usd(20000),
        method="cheque",
        received_at=clock() + timedelta(minutes=1),
        allocations={books["older"].id: 20000},
        clock=clock,
    )
    with db.reading() as session:
        attempt = session.scalars(select(Payment).where(Payment.gateway == "sandbox")).one()
    answer = ChargeResult("sbx_1", ChargeStatus.SUCCEEDED, MethodInfo("", MethodKind.CARD, "Visa", "4242"))
    online_payments.book_result(db, attempt.public_id, answer, gateway_name="sandbox", clock=clock)
    # The credit was not used; the charge of $80 is kept as credit too: nothing lost, nothing twice.
    assert figures(db, principal) == (45000, 12000 + 8000, 25000)
