"""Auto-pay: the customer's consent is kept as shown; each invoice issued after it is charged on its due
date through Pay Now's path (receipt e-mailed); a declined charge e-mails the customer a pay link and is
retried on the business's schedule, then stops; an answer in doubt is settled once; nothing is charged
for an invoice paid or voided meanwhile, after auto-pay was turned off, or twice, however many runs or
schedulers there are. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from models import (
    AutoPayAttempt,
    AutoPayConsent,
    Invoice,
    OutboxEmail,
    Payment,
    SandboxCharge,
    SavedPaymentMethod,
    ScheduledJob,
)
from services import online_payments
from services.auto_pay import (
    AUTO_PAY_JOB,
    AutoPayStatus,
    RetrySettings,
    auto_pay_status,
    charge_due_invoices,
    consent_text,
    get_retry_settings,
    save_retry_settings,
    scheduled_charges,
    turn_off_auto_pay,
    turn_on_auto_pay,
)
from services.credit_notes import issue_credit_note
from services.errors import InvalidDetails, NotFound, OwnerOnly
from services.gateways.base import CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.invoices import create_invoice, send_invoice, void_invoice
from services.jobs import auto_pay_job
from services.online_payments import pay, plan_pay_invoice
from services.outbox import links_for_delivery
from services.pay_links import open_pay_link
from services.principal import Principal
from services.reconciliation import reconcile_payments
from services.records import DocumentRef
from services.scheduler import Scheduler, job_state
from services.totals import LineInput
from tests.factories import NOW, Clock, make_customer, make_sent_invoice
from tests.unit.services.test_reminders import make_owner

BASE_URL = "https://portal.acme.example"
DUE = date(2026, 6, 25)  # the invoice's: sent on 15 June (NOW), due ten days later
PAY_LINK = re.compile(r"https://portal\.acme\.example/pay-link\?token=([A-Za-z0-9_-]+)")


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(NOW - timedelta(hours=2))


@pytest.fixture
def gateway(db, clock):
    return SandboxGateway(clock=clock, records=DatabaseRecords(db, clock=clock))


def saved_card(db, gateway, principal: Principal, clock, number: str = "4242424242424242") -> str:
    """A card the customer saved (a 4242 card saved by paying with it; others written as the gateway
    would keep them); its public id."""
    if number == "4242424242424242":
        invoice = make_sent_invoice(db, principal.client_id, 1000)
        card = CardDetails(number=number, exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")
        plan = plan_pay_invoice(db, principal, invoice.public_id)
        pay(
            db,
            gateway,
            principal,
            plan,
            ChargeRequest("", 0, "USD", "", card=card, save_method=True),
            clock=clock,
        )
        with db.reading() as session:
            return session.scalars(
                select(SavedPaymentMethod.public_id).where(
                    SavedPaymentMethod.client_id == principal.client_id
                )
            ).one()
    with db.transaction() as session:
        method = SavedPaymentMethod(
            client_id=principal.client_id,
            gateway="sandbox",
            gateway_method_id=f"pm_sbx_card_{number[-4:]}_x",
            kind="card",
            brand="Visa",
            last4=number[-4:],
            exp_month=12,
            exp_year=2030,
            created_at=clock(),
        )
        session.add(method)
        session.flush()
        return method.public_id


def turn_on(db, principal, method: str, clock) -> AutoPayStatus:
    text = consent_text(db, principal, method, "sandbox")
    return turn_on_auto_pay(
        db, principal, method, gateway_name="sandbox", shown_text=text, ip_address="203.0.113.9", clock=clock
    )


@pytest.fixture
def books(db, gateway, clock):
    """A customer with auto-pay on with a saved Visa 4242 (consent an hour before NOW), and an invoice of
    $250.00 issued at NOW, due on 25 June."""
    principal = make_customer(db)
    method = saved_card(db, gateway, principal, clock)
    clock.now = NOW - timedelta(hours=1)
    turn_on(db, principal, method, clock)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    return principal, invoice


def run_on(db, gateway, principal, clock, day: date, hour: int = 9) -> list[tuple[str, int, str]]:
    clock.now = at(day, hour)
    reports, _next = charge_due_invoices(
        db, gateway, principal.organization_id, base_url=BASE_URL, clock=clock
    )
    return [(report.invoice_number, report.attempt, report.status) for report in reports]


def invoice_state(db, invoice) -> tuple[str, int]:
    with db.reading() as session:
        return tuple(
            session.execute(
                select(Invoice.status, Invoice.balance_due_minor).where(Invoice.id == invoice.id)
            ).one()
        )


def payments(db, principal) -> list[tuple[str, int]]:
    with db.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(Payment.status, Payment.amount_minor)
                .where(Payment.client_id == principal.client_id)
                .order_by(Payment.id)
            )
        ][1:]  # the first paid for the card to be saved


def emails_about(db, text: str) -> list[OutboxEmail]:
    with db.reading() as session:
        return [
            email
            for email in session.scalars(select(OutboxEmail).order_by(OutboxEmail.id))
            if text in email.subject
        ]


def count(db, model) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- the consent ------------------------------------------------------------------------------------------


def test_the_consent_is_kept_as_shown_with_who_when_and_where(db, books):
    principal, _invoice = books

    status = auto_pay_status(db, principal.client_id)

    assert status.enabled
    assert status.method_text == "Visa ending 4242"
    assert status.consented_at == NOW - timedelta(hours=1)
    with db.reading() as session:
        consent = session.scalars(select(AutoPayConsent)).one()
    assert consent.consent_text.startswith(
        "I authorise Acme Studio to charge my Visa ending 4242 automatically"
    )
    assert (consent.ip_address, consent.portal_user_id, consent.revoked_at) == (
        "203.0.113.9",
        principal.portal_user_id,
        None,
    )


def test_words_the_customer_did_not_read_or_anothers_card_are_refused(db, gateway, clock):
    principal = make_customer(db)
    other = make_customer(db, principal.organization_id, name="Other Ltd", email="bo@other.example")
    mine = saved_card(db, gateway, principal, clock)
    theirs = saved_card(db, gateway, other, clock, "4000000000000002")

    with pytest.raises(InvalidDetails) as refused:
        turn_on_auto_pay(
            db, principal, mine, gateway_name="sandbox", shown_text="I agree", ip_address="", clock=clock
        )
    assert set(refused.value.errors) == {"consent"}
    with pytest.raises(NotFound):
        consent_text(db, principal, theirs, "sandbox")
    with pytest.raises(NotFound):
        turn_on_auto_pay(
            db, principal, theirs, gateway_name="sandbox", shown_text="", ip_address="", clock=clock
        )
    assert count(db, AutoPayConsent) == 0


def test_turned_off_nothing_is_charged_and_the_consent_stays_on_record(db, gateway, books, clock):
    principal, invoice = books
    clock.now = at(DUE - timedelta(days=1))
    turn_off_auto_pay(db, principal, clock=clock)

    assert run_on(db, gateway, principal, clock, DUE) == []
    assert auto_pay_status(db, principal.client_id) == AutoPayStatus(False)
    assert invoice_state(db, invoice) == ("sent", 25000)
    with db.reading() as session:
        assert session.scalars(select(AutoPayConsent.revoked_at)).one() == at(DUE - timedelta(days=1))


# --- charging -------------------------------------------------------------------------------------------


def test_an_invoice_is_charged_on_its_due_date_once_and_the_receipt_is_emailed(db, gateway, books, clock):
    principal, invoice = books
    [charge] = scheduled_charges(db, principal.client_id, clock=clock)
    assert (charge.invoice_number, charge.on, charge.method_text) == (invoice.number, DUE, "Visa ending 4242")

    assert run_on(db, gateway, principal, clock, DUE - timedelta(days=1)) == []
    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "succeeded")]
    assert run_on(db, gateway, principal, clock, DUE, hour=15) == []

    assert invoice_state(db, invoice) == ("paid", 0)
    assert payments(db, principal) == [("succeeded", 25000)]
    [receipt] = emails_about(db, "RCPT-00002")
    assert "ann@client.example" in receipt.to_addresses
    assert scheduled_charges(db, principal.client_id, clock=clock) == []


def test_an_invoice_issued_before_the_consent_is_not_charged(db, gateway, clock):
    principal = make_customer(db)
    method = saved_card(db, gateway, principal, clock)
    earlier = make_sent_invoice(db, principal.client_id, 5000, due_in_days=10)
    clock.now = NOW + timedelta(hours=1)
    turn_on(db, principal, method, clock)

    assert run_on(db, gateway, principal, clock, DUE) == []
    assert invoice_state(db, earlier) == ("sent", 5000)


def test_an_invoice_issued_already_due_is_charged_that_day_not_at_the_next_daily_run(
    db, gateway, books, clock
):
    principal, invoice = books
    other = make_customer(db, principal.organization_id, email="other@client.example")  # no auto-pay
    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "succeeded")]
    with db.transaction() as session:  # the day's run is over: the next one is tomorrow at eight
        session.execute(
            update(ScheduledJob)
            .where(ScheduledJob.kind == AUTO_PAY_JOB)
            .values(due_at=at(DUE + timedelta(days=1), 8))
        )

    def issue_at(client_id: int, hour: int, due: date) -> DocumentRef:
        clock.now = at(DUE, hour)
        ref = create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Rush job", Decimal(1), 4200)],
            issue_date=DUE,
            due_date=due,
            clock=clock,
        )
        send_invoice(db, ref.id, clock=clock)
        return ref

    def next_run() -> datetime | None:
        state = job_state(db, AUTO_PAY_JOB, str(principal.organization_id))
        return state.due_at if state is not None else None

    issue_at(principal.client_id, 14, DUE + timedelta(days=7))  # due next week: the daily run will do
    issue_at(other.client_id, 14, DUE)  # due at once, but its client is not on auto-pay
    assert next_run() == at(DUE + timedelta(days=1), 8)

    rush = issue_at(principal.client_id, 15, DUE)  # due on receipt
    assert next_run() == at(DUE, 15)
    assert run_on(db, gateway, principal, clock, DUE, 15) == [(rush.number, 1, "succeeded")]
    assert invoice_state(db, rush) == ("paid", 0)


def test_a_missed_due_date_is_charged_once_at_the_next_run(db, gateway, books, clock):
    principal, invoice = books

    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=4)) == [
        (invoice.number, 1, "succeeded")
    ]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=5)) == []
    assert payments(db, principal) == [("succeeded", 25000)]


def test_a_declined_charge_emails_a_pay_link_and_is_retried_on_schedule_then_stops(db, gateway, clock):
    principal = make_customer(db)
    method = saved_card(db, gateway, principal, clock, "4000000000000002")
    clock.now = NOW - timedelta(hours=1)
    turn_on(db, principal, method, clock)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)

    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "failed")]
    [first] = emails_about(db, "Automatic payment of invoice")
    assert first.subject == f"Automatic payment of invoice {invoice.number} failed"
    assert "did not go through: Your card was declined." in first.body_text
    assert "We will try again on Jun 28, 2026." in first.body_text
    [token] = PAY_LINK.findall(links_for_delivery(first.body_text, clock()))  # sealed until it is sent
    assert (
        open_pay_link(db, token, ip_address="203.0.113.9", clock=clock).invoice_public_id == invoice.public_id
    )
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=2)) == []
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=3)) == [(invoice.number, 2, "failed")]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=6)) == [(invoice.number, 3, "failed")]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=30)) == []

    last = emails_about(db, "Automatic payment of invoice")[-1]
    assert "We will not try again automatically." in last.body_text
    with db.reading() as session:
        assert (
            session.scalars(select(Payment.status).where(Payment.client_id == principal.client_id)).all()
            == ["failed"] * 3
        )
    assert invoice_state(db, invoice) == ("sent", 25000)


def test_the_business_sets_how_often_and_how_long_a_failed_charge_is_retried(db, gateway, clock):
    principal = make_customer(db)
    owner = make_owner(db, principal.organization_id)
    assert get_retry_settings(db, principal.organization_id) == RetrySettings(3, 2)
    with pytest.raises(InvalidDetails) as refused:
        save_retry_settings(db, owner, retry_days="0", retries="six", clock=clock)
    assert set(refused.value.errors) == {"retry_days", "retries"}
    with pytest.raises(OwnerOnly):
        save_retry_settings(
            db, make_owner(db, principal.organization_id, "staff"), retry_days="1", retries="1"
        )
    save_retry_settings(db, owner, retry_days="1", retries="1", clock=clock)
    method = saved_card(db, gateway, principal, clock, "4000000000009995")
    clock.now = NOW - timedelta(hours=1)
    turn_on(db, principal, method, clock)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)

    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "failed")]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=1)) == [(invoice.number, 2, "failed")]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=2)) == []
    assert "insufficient funds" in emails_about(db, "Automatic payment")[0].body_text


def test_an_answer_in_doubt_is_settled_once_by_reconciliation(db, gateway, books, clock, monkeypatch):
    principal, invoice = books

    def lost(*args, **kwargs):
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    with monkeypatch.context() as patched:
        patched.setattr(online_payments, "prepare_receipt", lost)
        assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "waiting")]
    assert run_on(db, gateway, principal, clock, DUE, hour=10) == []  # no second charge while in doubt
    assert payments(db, principal) == [("pending", 25000)]

    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert run_on(db, gateway, principal, clock, DUE, hour=11) == [(invoice.number, 1, "succeeded")]
    assert run_on(db, gateway, principal, clock, DUE, hour=12) == []

    assert invoice_state(db, invoice) == ("paid", 0)
    assert count(db, SandboxCharge) == 2  # the card's saving payment and this one: charged once
    assert len(emails_about(db, "RCPT-00002")) == 1
    assert emails_about(db, "Automatic payment") == []


def test_an_invoice_paid_or_voided_meanwhile_is_never_charged(db, gateway, books, clock):
    principal, paid = books
    voided = make_sent_invoice(db, principal.client_id, 7000, due_in_days=10)
    clock.now = at(DUE - timedelta(days=1))
    card = CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")
    pay(
        db,
        gateway,
        principal,
        plan_pay_invoice(db, principal, paid.public_id),
        ChargeRequest("", 0, "USD", "", card=card),
        clock=clock,
    )
    void_invoice(db, voided.id, clock=clock)

    assert run_on(db, gateway, principal, clock, DUE) == []
    assert payments(db, principal) == [("succeeded", 25000)]  # the customer's own
    assert count(db, AutoPayAttempt) == 0


def test_removing_the_card_turns_auto_pay_off_and_a_new_consent_covers_only_what_comes_after(
    db, gateway, books, clock
):
    principal, invoice = books
    with db.transaction() as session:
        session.execute(update(SavedPaymentMethod).values(removed_at=at(DUE - timedelta(days=1))))

    assert auto_pay_status(db, principal.client_id) == AutoPayStatus(False)
    assert scheduled_charges(db, principal.client_id, clock=clock) == []
    assert run_on(db, gateway, principal, clock, DUE) == []
    assert emails_about(db, "Automatic payment") == []
    other = saved_card(db, gateway, principal, clock, "5555555555554444")
    clock.now = at(DUE + timedelta(days=1))
    turn_on(db, principal, other, clock)
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=2)) == []  # issued while it was off
    assert invoice_state(db, invoice) == ("sent", 25000)


def test_available_credits_are_used_first_and_cover_an_invoice_without_a_charge(db, gateway, books, clock):
    principal, invoice = books
    issue_credit_note(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Goodwill", Decimal(1), 30000)],
        issue_date=NOW.date(),
    )

    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "succeeded")]
    assert invoice_state(db, invoice) == ("paid", 0)
    assert payments(db, principal) == []  # no card charge at all
    assert run_on(db, gateway, principal, clock, DUE, hour=15) == []


@pytest.mark.parametrize(("outcome", "settled"), [("ok", "succeeded"), ("fail", "failed")])
def test_a_bank_debit_is_awaited_while_it_processes_and_settled_once(db, gateway, clock, outcome, settled):
    principal = make_customer(db)
    with db.transaction() as session:
        account = SavedPaymentMethod(
            client_id=principal.client_id,
            gateway="sandbox",
            gateway_method_id=f"pm_sbx_bank_{outcome}_3000_x",
            kind="bank_account",
            brand="SEPA Direct Debit",
            last4="3000",
            created_at=clock(),
        )
        session.add(account)
        session.flush()
        method = account.public_id
    clock.now = NOW - timedelta(hours=1)
    turn_on(db, principal, method, clock)
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)

    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "waiting")]
    assert run_on(db, gateway, principal, clock, DUE, hour=10) == []  # still processing: no second debit
    with db.reading() as session:
        assert session.scalars(
            select(Payment.status).where(Payment.client_id == principal.client_id)
        ).all() == ["processing"]
    clock.now = at(DUE, 11)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert run_on(db, gateway, principal, clock, DUE, hour=11) == [(invoice.number, 1, settled)]
    assert run_on(db, gateway, principal, clock, DUE, hour=12) == []

    assert invoice_state(db, invoice) == (("paid", 0) if outcome == "ok" else ("sent", 25000))
    failures = emails_about(db, "Automatic payment of invoice")
    assert len(failures) == (0 if outcome == "ok" else 1)
    if failures:
        assert "We will try again on Jun 28, 2026." in failures[0].body_text
    told = [email.id for email in emails_about(db, "failed")]
    assert told == [email.id for email in failures]  # auto-pay's e-mail alone, not the Pay page's as well


def test_two_runs_at_the_same_moment_charge_once(db, gateway, books, clock):
    principal, _invoice = books
    for amount in (1100, 1200):
        make_sent_invoice(db, principal.client_id, amount, due_in_days=10)
    clock.now = at(DUE)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            charge_due_invoices(db, gateway, principal.organization_id, base_url=BASE_URL, clock=clock)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(payments(db, principal)) == [("succeeded", 1100), ("succeeded", 1200), ("succeeded", 25000)]
    assert count(db, SandboxCharge) == 4
    assert count(db, AutoPayAttempt) == 3


async def test_two_schedulers_charge_the_days_invoices_once(db, gateway, books, clock):
    principal, invoice = books
    clock.now = at(DUE)
    kind = auto_pay_job(db, gateway, base_url=BASE_URL, clock=clock)
    schedulers = [Scheduler(db, [kind], clock=clock, holder=name, poll=0.02) for name in ("first", "second")]
    stop = asyncio.Event()
    loops = [asyncio.create_task(scheduler.run(stop)) for scheduler in schedulers]
    try:
        for _ in range(500):
            state = job_state(db, AUTO_PAY_JOB, str(principal.organization_id))
            if (
                state is not None
                and state.last_succeeded_at is not None
                and state.last_succeeded_at >= at(DUE)
            ):
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*loops)
        for scheduler in schedulers:
            await scheduler.wait_idle()

    assert payments(db, principal) == [("succeeded", 25000)]
    assert invoice_state(db, invoice) == ("paid", 0)
    state = job_state(db, AUTO_PAY_JOB, str(principal.organization_id))
    assert state is not None
    assert state.due_at == datetime(2026, 6, 26, 8, 0, tzinfo=UTC)  # tomorrow at eight (UTC's business)
    assert (state.attempts, state.last_error) == (0, "")
