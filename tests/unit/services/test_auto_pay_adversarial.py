"""Auto-pay and recurring profiles attacked: someone else's card, a card removed or replaced, auto-pay turned
off mid-charge, part payments and credits, a gateway that refuses the currency, retry settings no one should
type, runs at once, a crash injected at each step of a charge, and a clock that jumps; profiles from month
ends and leap days, a year of missed runs, a crash in a catch-up, pauses and edits. Whatever happens, an
invoice is made once, charged at most once for what it still owes, and a charge that was made is never lost.
On SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from models import (
    AutoPayAttempt,
    AutoPayConsent,
    Client,
    Invoice,
    InvoiceKind,
    Organization,
    RecurringRun,
    SandboxCharge,
    SavedPaymentMethod,
)
from services import auto_pay, online_payments, recurring_invoices
from services.auto_pay import (
    auto_pay_status,
    charge_due_invoices,
    consent_text,
    save_retry_settings,
    scheduled_charges,
    turn_off_auto_pay,
    turn_on_auto_pay,
)
from services.credit_notes import issue_credit_note
from services.errors import InvalidDetails, InvalidPaymentDetails, NotFound
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.gateways.sandbox_records import DatabaseRecords
from services.invoices import create_invoice, send_invoice
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.quote_answers import accept_quote
from services.quotes import create_quote, send_quote
from services.reconciliation import reconcile_payments
from services.recurring_invoices import (
    AFTER_COUNT,
    ON_DATE,
    end_profile,
    get_profile,
    make_due_invoices,
    pause_profile,
    resume_profile,
    save_profile,
)
from services.saved_methods import remove_saved_method
from services.schedules import DAY as DAY_UNIT
from services.schedules import MONTH, WEEK, YEAR, Schedule
from services.totals import LineInput
from tests.factories import NOW, TODAY, Clock, make_customer, make_sent_invoice
from tests.unit.services.test_auto_pay import (
    BASE_URL,
    DUE,
    at,
    emails_about,
    invoice_state,
    payments,
    run_on,
    saved_card,
    turn_on,
)
from tests.unit.services.test_quotes import client_public_id
from tests.unit.services.test_recurring_invoices import at as recurring_at
from tests.unit.services.test_recurring_invoices import run_on as recurring_run_on
from tests.unit.services.test_recurring_invoices import typed
from tests.unit.services.test_reminders import make_owner

CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123", holder_name="Ann")


@pytest.fixture
def clock():
    return Clock(NOW - timedelta(hours=2))


@pytest.fixture
def gateway(db, clock):
    return SandboxGateway(clock=clock, records=DatabaseRecords(db, clock=clock))


def customer_with_auto_pay(db, gateway, clock, card: str = "4242424242424242", organization_id=None):
    """A customer who saved ``card`` and turned auto-pay on with it an hour before NOW."""
    principal = make_customer(db, organization_id)
    method = saved_card(db, gateway, principal, clock, card)
    clock.now = NOW - timedelta(hours=1)
    turn_on(db, principal, method, clock)
    return principal, method


@pytest.fixture
def books(db, gateway, clock):
    """Auto-pay on with a Visa 4242; an invoice of $250.00 issued at NOW, due on 25 June (DUE)."""
    principal, method = customer_with_auto_pay(db, gateway, clock)
    return principal, method, make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)


def charges(db) -> int:
    """Charges the sandbox made that took money (the first of each customer's saved its card)."""
    with db.reading() as session:
        return sum(
            1
            for answer in session.scalars(select(SandboxCharge.answer))
            if answer.get("status") == "succeeded"
        )


def second_card(db, principal, clock) -> str:
    """Another good Visa the customer saved (as the gateway keeps it); its public id."""
    with db.transaction() as session:
        method = SavedPaymentMethod(
            client_id=principal.client_id,
            gateway="sandbox",
            gateway_method_id="pm_sbx_card_4242_second",
            kind="card",
            brand="Visa",
            last4="4242",
            exp_month=11,
            exp_year=2031,
            created_at=clock(),
        )
        session.add(method)
        session.flush()
        return method.public_id


def attempts(db) -> list[tuple[int, str]]:
    with db.reading() as session:
        return [
            (number, status)
            for number, status in session.execute(
                select(AutoPayAttempt.attempt, AutoPayAttempt.status).order_by(AutoPayAttempt.id)
            )
        ]


def set_time_zone(db, organization_id: int, zone: str) -> None:
    with db.transaction() as session:
        session.get_one(Organization, organization_id).time_zone = zone


# --- whose card ----------------------------------------------------------------------------------------


def test_another_business_customer_card_cannot_be_consented_to(db, gateway, clock):
    principal = make_customer(db)
    stranger = make_customer(db, name="Stranger Co", email="sam@stranger.example")  # another business
    theirs = saved_card(db, gateway, stranger, clock)
    for attempt in (
        lambda: consent_text(db, principal, theirs, "sandbox"),
        lambda: turn_on_auto_pay(
            db, principal, theirs, gateway_name="sandbox", shown_text="", ip_address="", clock=clock
        ),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert auto_pay_status(db, principal.client_id).enabled is False


def test_a_removed_card_or_one_of_another_gateway_cannot_be_consented_to(db, gateway, clock):
    principal = make_customer(db)
    method = saved_card(db, gateway, principal, clock)
    text = consent_text(db, principal, method, "sandbox")
    with pytest.raises(NotFound):
        consent_text(db, principal, method, "stripe")
    remove_saved_method(db, gateway, principal, method, clock=clock)
    with pytest.raises(NotFound):
        turn_on_auto_pay(
            db, principal, method, gateway_name="sandbox", shown_text=text, ip_address="", clock=clock
        )
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(AutoPayConsent)) == 0


def test_removing_the_card_auto_pay_uses_does_not_leave_a_promise_of_charging_it(db, gateway, books, clock):
    principal, method, _invoice = books
    remove_saved_method(db, gateway, principal, method, clock=clock)

    assert scheduled_charges(db, principal.client_id, clock=clock) == []
    assert auto_pay_status(db, principal.client_id).enabled is False


def test_a_removed_card_is_never_charged_and_the_invoice_stays_owed(db, gateway, books, clock):
    principal, method, invoice = books
    remove_saved_method(db, gateway, principal, method, clock=clock)
    before = charges(db)
    for day in (DUE, DUE + timedelta(days=3), DUE + timedelta(days=6), DUE + timedelta(days=9)):
        run_on(db, gateway, principal, clock, day)
    assert charges(db) == before
    assert invoice_state(db, invoice) == ("sent", 25000)
    assert attempts(db) == []  # removing the card turned auto-pay off: nothing tried, nobody e-mailed


# --- the customer changes their mind -----------------------------------------------------------------


def test_auto_pay_turned_off_while_the_gateway_charges_books_that_charge_once_and_no_more(
    db, gateway, books, clock, monkeypatch
):
    principal, _method, invoice = books
    second = make_sent_invoice(db, principal.client_id, 1100, due_in_days=10)
    real_charge = gateway.charge
    turned_off: list[bool] = []

    def charge_while_turning_off(request):
        if not turned_off:
            turn_off_auto_pay(db, principal, ip_address="198.51.100.4", clock=clock)
            turned_off.append(True)
        return real_charge(request)

    monkeypatch.setattr(gateway, "charge", charge_while_turning_off)
    reports = run_on(db, gateway, principal, clock, DUE)

    assert len(reports) == 1  # the charge on its way is booked; the next invoice is not charged
    assert reports[0][2] == "succeeded"
    assert sorted([invoice_state(db, invoice)[0], invoice_state(db, second)[0]]) == ["paid", "sent"]
    assert auto_pay_status(db, principal.client_id).enabled is False
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=1)) == []
    assert len(payments(db, principal)) == 1


def test_a_new_card_after_a_decline_is_charged_on_the_retry_day(db, gateway, clock):
    """The failure e-mail says it will be tried again; the customer puts a good card on auto-pay: the retry
    must use it, even though the invoice was issued before this (second) consent."""
    principal, _declining = customer_with_auto_pay(db, gateway, clock, "4000000000000002")
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "failed")]
    good = second_card(db, principal, clock)
    clock.now = at(DUE, 12)
    turn_on(db, principal, good, clock)

    assert [(c.invoice_number, c.on) for c in scheduled_charges(db, principal.client_id, clock=clock)] == [
        (invoice.number, DUE + timedelta(days=3))
    ]
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=3)) == [
        (invoice.number, 2, "succeeded")
    ]
    assert invoice_state(db, invoice) == ("paid", 0)


def test_auto_pay_turned_off_and_on_again_charges_only_the_invoices_issued_since(db, gateway, clock):
    principal, method = customer_with_auto_pay(db, gateway, clock)
    clock.now = NOW + timedelta(hours=1)
    before_off = make_sent_invoice(db, principal.client_id, 1000, due_in_days=10)  # issued at NOW
    turn_off_auto_pay(db, principal, clock=clock)
    clock.now = NOW + timedelta(days=1)
    turn_on(db, principal, method, clock)
    after_on = make_sent_invoice(db, principal.client_id, 2000, due_in_days=10, issue_date=TODAY)
    with db.transaction() as session:  # issued after the new consent
        session.get_one(Invoice, after_on.id).sent_at = NOW + timedelta(days=1, hours=1)

    assert run_on(db, gateway, principal, clock, DUE) == [(after_on.number, 1, "succeeded")]
    assert invoice_state(db, before_off) == ("sent", 1000)


# --- what is charged ----------------------------------------------------------------------------------


def test_an_invoice_partly_paid_before_its_due_date_is_charged_only_its_balance(db, gateway, books, clock):
    principal, _method, invoice = books
    clock.now = at(DUE - timedelta(days=2))
    pay(
        db,
        gateway,
        principal,
        plan_pay_invoice(db, principal, invoice.public_id, Money(10001, "USD")),
        ChargeRequest("", 0, "USD", "", card=CARD),
        clock=clock,
    )
    assert invoice_state(db, invoice) == ("partially_paid", 14999)

    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "succeeded")]
    assert payments(db, principal) == [("succeeded", 10001), ("succeeded", 14999)]
    assert invoice_state(db, invoice) == ("paid", 0)


def test_available_credits_are_used_before_the_card_is_charged(db, gateway, books, clock):
    principal, _method, invoice = books
    issue_credit_note(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Goodwill", Decimal(1), 10000)],
        issue_date=TODAY,
        clock=lambda: NOW,
    )
    run_on(db, gateway, principal, clock, DUE)

    assert invoice_state(db, invoice) == ("paid", 0)
    assert payments(db, principal) == [("succeeded", 15000)]


def test_an_invoice_the_customer_is_paying_by_bank_debit_is_not_charged_meanwhile(db, gateway, books, clock):
    principal, _method, invoice = books
    clock.now = at(DUE - timedelta(days=1))
    account = BankAccountDetails(
        holder_name="Ann", iban="DE89370400440532013000", mandate_accepted=True, email="ann@client.example"
    )
    pay(
        db,
        gateway,
        principal,
        plan_pay_invoice(db, principal, invoice.public_id),
        ChargeRequest("", 0, "USD", "", bank_account=account),
        clock=clock,
    )
    assert payments(db, principal) == [("processing", 25000)]

    assert run_on(db, gateway, principal, clock, DUE) == []
    assert payments(db, principal) == [("processing", 25000)]  # no second debit of the same invoice


def test_a_currency_the_gateway_refuses_fails_without_a_charge_and_is_retried_then_stops(
    db, gateway, books, clock, monkeypatch
):
    principal, _method, invoice = books

    def refuse(request):
        raise InvalidPaymentDetails("method", f"Payments in {request.currency} are not accepted.")

    monkeypatch.setattr(gateway, "charge", refuse)
    before = charges(db)
    for day in range(0, 12):
        run_on(db, gateway, principal, clock, DUE + timedelta(days=day))

    assert attempts(db) == [(1, "failed"), (2, "failed"), (3, "failed")]
    assert charges(db) == before
    assert invoice_state(db, invoice) == ("sent", 25000)
    assert len(emails_about(db, "Automatic payment of invoice")) == 3


def test_a_retainer_invoice_is_left_to_the_customer(db, gateway, clock):
    """Auto-pay charges invoices; a retainer invoice (a quote's deposit) is an advance the customer pays."""
    principal, _method = customer_with_auto_pay(db, gateway, clock)
    ref = create_invoice(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Deposit", Decimal(1), 5000)],
        issue_date=TODAY,
        due_date=DUE,
        kind=InvoiceKind.RETAINER,
        clock=lambda: NOW,
    )
    send_invoice(db, ref.id, clock=lambda: NOW)
    assert run_on(db, gateway, principal, clock, DUE) == []


# --- the business's retry settings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "retries", "fields"),
    [
        ("0", "2", {"retry_days"}),
        ("-1", "-1", {"retry_days", "retries"}),
        ("31", "6", {"retry_days", "retries"}),
        ("9" * 40, "9" * 40, {"retry_days", "retries"}),
        ("1.5", "2.0", {"retry_days", "retries"}),
        ("1e1", "", {"retry_days", "retries"}),
        ("", " ", {"retry_days", "retries"}),
        ("³", "²", {"retry_days", "retries"}),  # digits to a person, not whole numbers to int()
    ],
)
def test_retry_settings_out_of_range_or_not_whole_are_refused(db, days, retries, fields):
    principal = make_customer(db)
    owner = make_owner(db, principal.organization_id)
    with pytest.raises(InvalidDetails) as refused:
        save_retry_settings(db, owner, retry_days=days, retries=retries, clock=lambda: NOW)
    assert set(refused.value.errors) == fields
    assert auto_pay.get_retry_settings(db, principal.organization_id) == auto_pay.RetrySettings(3, 2)


def test_no_retries_means_one_charge_and_the_customer_is_told_it_will_not_be_tried_again(db, gateway, clock):
    principal, _method = customer_with_auto_pay(db, gateway, clock, "4000000000000002")
    save_retry_settings(
        db, make_owner(db, principal.organization_id), retry_days="30", retries="0", clock=clock
    )
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    for day in range(0, 40, 5):
        run_on(db, gateway, principal, clock, DUE + timedelta(days=day))
    assert attempts(db) == [(1, "failed")]
    [mail] = emails_about(db, "Automatic payment of invoice")
    assert "We will not try again automatically." in mail.body_text
    assert invoice_state(db, invoice) == ("sent", 25000)


# --- at once ------------------------------------------------------------------------------------------


def test_four_runs_at_once_on_a_declining_card_fail_once_and_email_once(db, gateway, clock):
    principal, _method = customer_with_auto_pay(db, gateway, clock, "4000000000000002")
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    clock.now = at(DUE)
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            charge_due_invoices(db, gateway, principal.organization_id, base_url=BASE_URL, clock=clock)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert attempts(db) == [(1, "failed")]
    assert len(emails_about(db, "Automatic payment of invoice")) == 1
    assert invoice_state(db, invoice) == ("sent", 25000)


def test_a_customer_paying_by_hand_while_auto_pay_charges_pays_the_invoice_once(db, gateway, books, clock):
    principal, _method, invoice = books
    clock.now = at(DUE)
    start = threading.Barrier(2)
    refused: list[BaseException] = []

    def by_hand() -> None:
        start.wait()
        try:
            pay(
                db,
                gateway,
                principal,
                plan_pay_invoice(db, principal, invoice.public_id),
                ChargeRequest("", 0, "USD", "", card=CARD),
                clock=clock,
            )
        except BaseException as error:  # refused: the auto-charge is on its way or done
            refused.append(error)

    def automatically() -> None:
        start.wait()
        charge_due_invoices(db, gateway, principal.organization_id, base_url=BASE_URL, clock=clock)

    threads = [threading.Thread(target=by_hand), threading.Thread(target=automatically)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert invoice_state(db, invoice) == ("paid", 0)
    assert [status for status, _amount in payments(db, principal)].count("succeeded") == 1
    assert sum(amount for status, amount in payments(db, principal) if status == "succeeded") == 25000


# --- a crash at each step ----------------------------------------------------------------------------


def lost_connection(*args, **kwargs):
    raise OperationalError("UPDATE", {}, Exception("server closed the connection unexpectedly"))


def test_a_gateway_call_that_breaks_before_charging_is_resolved_and_charged_later(
    db, gateway, books, clock, monkeypatch
):
    principal, _method, invoice = books
    before = charges(db)
    with monkeypatch.context() as patched:
        patched.setattr(
            gateway, "charge", lambda request: (_ for _ in ()).throw(ConnectionResetError("reset"))
        )
        assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "waiting")]
    assert run_on(db, gateway, principal, clock, DUE, hour=10) == []  # in doubt: nothing charged again
    assert charges(db) == before

    clock.now = at(DUE, 11)
    reconcile_payments(db, [gateway], clock=clock)
    run_on(db, gateway, principal, clock, DUE, hour=12)
    for day in range(1, 8):
        run_on(db, gateway, principal, clock, DUE + timedelta(days=day))

    assert invoice_state(db, invoice) == ("paid", 0)
    assert charges(db) == before + 1
    assert [status for status, _amount in payments(db, principal)].count("succeeded") == 1


def test_an_answer_lost_after_the_gateway_charged_is_booked_once(db, gateway, books, clock, monkeypatch):
    principal, _method, invoice = books
    real_charge = gateway.charge

    def charged_then_lost(request):
        real_charge(request)
        raise ConnectionResetError("the answer never arrived")

    before = charges(db)
    with monkeypatch.context() as patched:
        patched.setattr(gateway, "charge", charged_then_lost)
        assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "waiting")]
    for hour in (10, 11):
        assert run_on(db, gateway, principal, clock, DUE, hour=hour) == []
    clock.now = at(DUE, 12)
    assert reconcile_payments(db, [gateway], clock=clock).booked == 1
    assert run_on(db, gateway, principal, clock, DUE, hour=13) == [(invoice.number, 1, "succeeded")]
    for day in range(1, 8):
        assert run_on(db, gateway, principal, clock, DUE + timedelta(days=day)) == []

    assert invoice_state(db, invoice) == ("paid", 0)
    assert charges(db) == before + 1
    assert payments(db, principal) == [("succeeded", 25000)]
    assert emails_about(db, "Automatic payment") == []


@pytest.mark.parametrize("step", ["_finish", "_link_payment"])
def test_a_crash_recording_the_outcome_neither_charges_again_nor_loses_the_charge(
    db, gateway, books, clock, monkeypatch, step
):
    principal, _method, invoice = books
    before = charges(db)
    with monkeypatch.context() as patched:
        patched.setattr(auto_pay, step, lost_connection)
        if step == "_link_payment":  # reached when the answer is in doubt
            patched.setattr(online_payments, "prepare_receipt", lost_connection)
        with pytest.raises(OperationalError):
            run_on(db, gateway, principal, clock, DUE)
    assert attempts(db) == [(1, "started")]

    clock.now = at(DUE, 12)
    reconcile_payments(db, [gateway], clock=clock)
    reports = run_on(db, gateway, principal, clock, DUE, hour=13)
    for day in range(1, 8):
        reports += run_on(db, gateway, principal, clock, DUE + timedelta(days=day))

    assert reports == [(invoice.number, 1, "succeeded")]
    assert invoice_state(db, invoice) == ("paid", 0)
    assert charges(db) == before + 1
    assert payments(db, principal) == [("succeeded", 25000)]


def test_a_crash_between_the_claim_and_the_charge_charges_on_a_later_run(
    db, gateway, books, clock, monkeypatch
):
    principal, _method, invoice = books
    before = charges(db)
    with monkeypatch.context() as patched:
        patched.setattr(auto_pay, "offer_pay_now", lost_connection)
        with pytest.raises(OperationalError):
            run_on(db, gateway, principal, clock, DUE)
    assert attempts(db) == [(1, "started")]
    assert run_on(db, gateway, principal, clock, DUE, hour=9) == []  # may still be on its way: wait

    for hour in (10, 11):
        run_on(db, gateway, principal, clock, DUE, hour=hour)
    run_on(db, gateway, principal, clock, DUE + timedelta(days=1))

    assert [status for _number, status in attempts(db)] == ["skipped", "succeeded"]
    assert invoice_state(db, invoice) == ("paid", 0)
    assert charges(db) == before + 1
    assert emails_about(db, "Automatic payment") == []  # nothing failed that the customer must hear of


# --- the clock ---------------------------------------------------------------------------------------


def test_a_clock_moved_back_after_a_charge_charges_nothing_again(db, gateway, books, clock):
    principal, _method, invoice = books
    assert run_on(db, gateway, principal, clock, DUE, hour=9) == [(invoice.number, 1, "succeeded")]
    for day in (DUE - timedelta(days=3), DUE - timedelta(days=1), DUE, DUE + timedelta(days=1)):
        assert run_on(db, gateway, principal, clock, day, hour=23) == []
    assert payments(db, principal) == [("succeeded", 25000)]


def test_a_clock_moved_back_after_a_decline_does_not_retry_early(db, gateway, clock):
    principal, _method = customer_with_auto_pay(db, gateway, clock, "4000000000000002")
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "failed")]
    for day in (DUE - timedelta(days=5), DUE, DUE + timedelta(days=2)):
        assert run_on(db, gateway, principal, clock, day) == []
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=3)) == [(invoice.number, 2, "failed")]


@pytest.mark.parametrize(
    ("zone", "first_moment"),
    [
        ("Pacific/Kiritimati", datetime(2026, 6, 24, 10, 0, tzinfo=UTC)),  # 00:00 on 25 June there
        ("America/Los_Angeles", datetime(2026, 6, 25, 7, 0, tzinfo=UTC)),  # 00:00 on 25 June there
    ],
)
def test_the_due_date_begins_where_the_business_is(db, gateway, books, clock, zone, first_moment):
    principal, _method, invoice = books
    set_time_zone(db, principal.organization_id, zone)
    for moment in (first_moment - timedelta(minutes=1), first_moment):
        clock.now = moment
        reports, _next = charge_due_invoices(
            db, gateway, principal.organization_id, base_url=BASE_URL, clock=clock
        )
        if moment < first_moment:
            assert reports == []
    assert [(r.invoice_number, r.status) for r in reports] == [(invoice.number, "succeeded")]
    assert invoice_state(db, invoice) == ("paid", 0)
    assert date(2026, 6, 25) == DUE


# --- recurring profiles ------------------------------------------------------------------------------


@pytest.fixture
def staff(db, clock):
    """A business's owner and a client of it, on 20 January 2027 (before the profiles start)."""
    principal = make_customer(db)
    with db.reading() as session:
        client = session.scalars(select(Client.public_id).where(Client.id == principal.client_id)).one()
    clock.now = recurring_at(date(2027, 1, 20))
    return principal.organization_id, client, make_owner(db, principal.organization_id)


def made_on(db, organization_id: int, clock, day: date, hour: int = 7) -> list[date]:
    return [run_date for run_date, _number in recurring_run_on(db, organization_id, clock, day, hour)]


def invoice_numbers(db) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Invoice.number).order_by(Invoice.id)))


@pytest.mark.parametrize(
    ("start", "unit", "expected"),
    [
        (
            date(2027, 1, 31),
            MONTH,
            [(2027, 1, 31), (2027, 2, 28), (2027, 3, 31), (2027, 4, 30), (2027, 5, 31)],
        ),
        (
            date(2028, 2, 29),
            MONTH,
            [(2028, 2, 29), (2028, 3, 29), (2028, 4, 29), (2028, 5, 29), (2028, 6, 29)],
        ),
        (
            date(2028, 2, 29),
            YEAR,
            [(2028, 2, 29), (2029, 2, 28), (2030, 2, 28), (2031, 2, 28), (2032, 2, 29)],
        ),
    ],
)
def test_month_ends_and_leap_days_come_back_without_drift(start, unit, expected):
    schedule = Schedule(unit, 1, start)
    assert [day for _k, day in itertools.islice(schedule.occurrences(), 5)] == [date(*d) for d in expected]


def test_a_profile_from_29_february_catches_up_each_month_once(db, staff, clock):
    organization_id, client, owner = staff
    clock.now = recurring_at(date(2028, 2, 1))
    save_profile(db, owner, typed(client, start_date=date(2028, 2, 29), send=False), clock=clock)
    assert made_on(db, organization_id, clock, date(2028, 6, 28)) == [
        date(2028, 2, 29),
        date(2028, 3, 29),
        date(2028, 4, 29),
        date(2028, 5, 29),
    ]
    assert made_on(db, organization_id, clock, date(2028, 6, 28), hour=20) == []
    assert made_on(db, organization_id, clock, date(2028, 6, 29)) == [date(2028, 6, 29)]


def test_a_year_missed_is_caught_up_once_per_day_due_and_no_more(db, staff, clock):
    organization_id, client, owner = staff
    save_profile(db, owner, typed(client, unit=WEEK, start_date=date(2027, 2, 1), send=False), clock=clock)
    counted = save_profile(
        db,
        owner,
        typed(client, unit=WEEK, start_date=date(2027, 2, 1), send=False, ending=AFTER_COUNT, count="5"),
        clock=clock,
    )
    dated = save_profile(
        db,
        owner,
        typed(client, unit=DAY_UNIT, start_date=date(2027, 2, 1), send=False, ending=ON_DATE,
              end_date=date(2027, 2, 3)),
        clock=clock,
    )  # fmt: skip

    made = made_on(db, organization_id, clock, date(2028, 2, 1))

    weekly = [date(2027, 2, 1) + timedelta(weeks=k) for k in range(53)]  # 1 Feb 2027 .. 31 Jan 2028
    assert sorted(made) == sorted(weekly + weekly[:5] + [date(2027, 2, d) for d in (1, 2, 3)])
    assert len(invoice_numbers(db)) == len(set(invoice_numbers(db))) == 53 + 5 + 3
    assert made_on(db, organization_id, clock, date(2028, 2, 1), hour=23) == []
    for public_id in (counted.public_id, dated.public_id):
        assert get_profile(db, organization_id, public_id).status == "ended"


def test_a_crash_in_the_middle_of_a_catch_up_makes_each_invoice_once_and_numbers_none_twice(
    db, staff, clock, monkeypatch
):
    organization_id, client, owner = staff
    save_profile(db, owner, typed(client), clock=clock)
    real_email = recurring_invoices.queue_invoice_sent_email
    sent: list[str] = []

    def crash_on_the_third(session, invoice, **kwargs):
        if len(sent) == 2:
            raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))
        sent.append(invoice.number)
        return real_email(session, invoice, **kwargs)

    with monkeypatch.context() as patched:
        patched.setattr(recurring_invoices, "queue_invoice_sent_email", crash_on_the_third)
        with pytest.raises(OperationalError):
            made_on(db, organization_id, clock, date(2027, 5, 1))
    assert invoice_numbers(db) == ["INV-00001", "INV-00002"]

    assert made_on(db, organization_id, clock, date(2027, 5, 1), hour=9) == [
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert invoice_numbers(db) == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]


def test_pausing_and_resuming_on_a_day_whose_invoice_was_made_does_not_make_it_again(db, staff, clock):
    organization_id, client, owner = staff
    profile = save_profile(db, owner, typed(client), clock=clock)
    assert made_on(db, organization_id, clock, date(2027, 1, 31)) == [date(2027, 1, 31)]
    clock.now = recurring_at(date(2027, 1, 31), 10)
    pause_profile(db, owner, profile.public_id, clock=clock)
    clock.now = recurring_at(date(2027, 1, 31), 11)
    assert resume_profile(db, owner, profile.public_id, clock=clock).next_run == date(2027, 2, 28)
    assert made_on(db, organization_id, clock, date(2027, 1, 31), hour=12) == []
    assert invoice_numbers(db) == ["INV-00001"]


def test_a_profile_paused_while_behind_and_resumed_makes_no_past_invoices(db, staff, clock):
    organization_id, client, owner = staff
    profile = save_profile(db, owner, typed(client, send=False), clock=clock)
    clock.now = recurring_at(date(2027, 3, 15))  # the job has not run since January
    pause_profile(db, owner, profile.public_id, clock=clock)
    assert made_on(db, organization_id, clock, date(2027, 4, 10)) == []
    clock.now = recurring_at(date(2027, 6, 15))
    assert resume_profile(db, owner, profile.public_id, clock=clock).next_run == date(2027, 6, 30)
    assert made_on(db, organization_id, clock, date(2027, 6, 29)) == []
    assert made_on(db, organization_id, clock, date(2027, 6, 30)) == [date(2027, 6, 30)]


def test_an_edit_to_an_earlier_start_or_a_smaller_count_makes_no_past_invoices(db, staff, clock):
    organization_id, client, owner = staff
    profile = save_profile(db, owner, typed(client, unit=WEEK, start_date=date(2027, 1, 21)), clock=clock)
    assert len(made_on(db, organization_id, clock, date(2027, 2, 4))) == 3  # 21 and 28 January, 4 February
    clock.now = recurring_at(date(2027, 2, 5))
    earlier = save_profile(
        db,
        owner,
        typed(client, unit=WEEK, start_date=date(2026, 6, 3)),
        public_id=profile.public_id,
        clock=clock,
    )
    assert earlier.next_run == date(2027, 2, 10)  # a Wednesday, as 3 June 2026 was
    assert made_on(db, organization_id, clock, date(2027, 2, 9)) == []
    fewer = save_profile(
        db,
        owner,
        typed(client, unit=WEEK, start_date=date(2027, 1, 21), ending=AFTER_COUNT, count="2"),
        public_id=profile.public_id,
        clock=clock,
    )
    assert (fewer.status, fewer.next_run) == ("ended", None)
    assert made_on(db, organization_id, clock, date(2027, 3, 1)) == []
    assert len(invoice_numbers(db)) == 3


def test_a_clock_moved_back_makes_no_invoice_twice(db, staff, clock):
    organization_id, client, owner = staff
    save_profile(db, owner, typed(client), clock=clock)
    assert made_on(db, organization_id, clock, date(2027, 3, 31)) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    for day in (date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)):
        assert made_on(db, organization_id, clock, day, hour=22) == []
    assert len(invoice_numbers(db)) == 3


def test_another_business_neither_changes_a_profile_nor_bills_its_own_client_on_it(db, staff, clock):
    organization_id, client, owner = staff
    profile = save_profile(db, owner, typed(client), clock=clock)
    stranger = make_customer(db, name="Stranger Co", email="sam@stranger.example")
    stranger_owner = make_owner(db, stranger.organization_id, "staff")  # any staff member may edit
    for change in (pause_profile, resume_profile, end_profile):
        with pytest.raises(NotFound):
            change(db, stranger_owner, profile.public_id, clock=clock)
    with pytest.raises(NotFound):
        save_profile(db, stranger_owner, typed(client), public_id=profile.public_id, clock=clock)
    with pytest.raises(InvalidDetails) as refused:  # its own profile for our client
        save_profile(db, stranger_owner, typed(client), clock=clock)
    assert "client" in refused.value.errors
    assert get_profile(db, organization_id, profile.public_id).status == "active"


def test_three_runs_catching_up_at_once_make_each_invoice_once(db, staff, clock):
    organization_id, client, owner = staff
    save_profile(db, owner, typed(client), clock=clock)
    clock.now = recurring_at(date(2027, 5, 1))
    start = threading.Barrier(3)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            make_due_invoices(db, organization_id, base_url=BASE_URL, clock=clock)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert invoice_numbers(db) == ["INV-00001", "INV-00002", "INV-00003", "INV-00004"]
    with db.reading() as session:
        assert sorted(session.scalars(select(RecurringRun.run_date))) == [
            date(2027, 1, 31),
            date(2027, 2, 28),
            date(2027, 3, 31),
            date(2027, 4, 30),
        ]


# --- credits, and a quote's deposit ---------------------------------------------------------------------


def test_credits_spread_over_invoices_due_the_same_day_and_the_card_pays_only_the_rest(
    db, gateway, books, clock
):
    principal, _method, first = books  # $250.00
    second = make_sent_invoice(db, principal.client_id, 10000, due_in_days=10)
    issue_credit_note(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Goodwill", Decimal(1), 30000)],
        issue_date=TODAY,
        clock=lambda: NOW,
    )
    before = charges(db)

    reports = run_on(db, gateway, principal, clock, DUE)

    assert sorted(status for _number, _attempt, status in reports) == ["succeeded", "succeeded"]
    assert invoice_state(db, first) == ("paid", 0)
    assert invoice_state(db, second) == ("paid", 0)
    assert payments(db, principal) == [("succeeded", 5000)]  # $350.00 owed, $300.00 of credit used first
    assert charges(db) == before + 1
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=1)) == []


def test_a_quotes_paid_deposit_is_used_before_the_final_invoice_is_charged(db, gateway, clock):
    principal, _method = customer_with_auto_pay(db, gateway, clock)
    quote = create_quote(
        db,
        principal.organization_id,
        client_public_id=client_public_id(db, principal),
        issue_date=TODAY,
        valid_until=TODAY + timedelta(days=7),
        deposit_percent=Decimal(30),
        lines=[LineInput("Website", Decimal(1), 100000)],
        clock=lambda: NOW,
    )
    send_quote(db, principal.organization_id, quote, base_url=BASE_URL, clock=lambda: NOW)
    deposit = accept_quote(
        db, principal, quote, signature="Ann Smith", ip_address="", base_url=BASE_URL, clock=lambda: NOW
    )
    clock.now = NOW + timedelta(hours=1)
    pay(
        db,
        gateway,
        principal,
        plan_pay_invoice(db, principal, deposit.invoice_public_id),
        ChargeRequest("", 0, "USD", "", card=CARD),
        clock=clock,
    )
    final = make_sent_invoice(db, principal.client_id, 100000, due_in_days=10)  # the whole job, invoiced

    assert run_on(db, gateway, principal, clock, DUE) == [(final.number, 1, "succeeded")]
    assert payments(db, principal) == [("succeeded", 30000), ("succeeded", 70000)]
    assert invoice_state(db, final) == ("paid", 0)


def test_an_invoice_the_customer_pays_by_hand_while_auto_pay_plans_is_not_reported_as_failed(
    db, gateway, books, clock, monkeypatch
):
    """The customer presses Pay Now on the due date just as auto-pay reads what to charge: their payment
    wins, and they must not be e-mailed that the automatic payment of their paid invoice failed."""
    principal, _method, invoice = books
    clock.now = at(DUE)
    real_plan = auto_pay._plan

    def customer_pays_meanwhile(*args, **kwargs):
        plan = real_plan(*args, **kwargs)
        pay(
            db,
            gateway,
            principal,
            plan_pay_invoice(db, principal, invoice.public_id),
            ChargeRequest("", 0, "USD", "", card=CARD),
            clock=clock,
        )
        return plan

    monkeypatch.setattr(auto_pay, "_plan", customer_pays_meanwhile)
    run_on(db, gateway, principal, clock, DUE)

    assert invoice_state(db, invoice) == ("paid", 0)
    assert [status for status, _amount in payments(db, principal)] == ["succeeded"]
    assert emails_about(db, "Automatic payment") == []
    assert [status for _number, status in attempts(db)] == ["skipped"]


def test_the_declined_card_removed_after_a_new_one_is_on_auto_pay_leaves_the_retry_to_the_new_card(
    db, gateway, clock
):
    principal, declining = customer_with_auto_pay(db, gateway, clock, "4000000000000002")
    invoice = make_sent_invoice(db, principal.client_id, 25000, due_in_days=10)
    assert run_on(db, gateway, principal, clock, DUE) == [(invoice.number, 1, "failed")]
    good = second_card(db, principal, clock)
    clock.now = at(DUE, 12)
    turn_on(db, principal, good, clock)
    clock.now = at(DUE, 13)
    remove_saved_method(db, gateway, principal, declining, clock=clock)

    assert auto_pay_status(db, principal.client_id).method_public_id == good
    assert run_on(db, gateway, principal, clock, DUE + timedelta(days=3)) == [
        (invoice.number, 2, "succeeded")
    ]
    assert invoice_state(db, invoice) == ("paid", 0)


def test_tabs_turning_auto_pay_on_at_once_leave_one_consent_in_force(db, gateway, clock):
    principal = make_customer(db)
    cards = [saved_card(db, gateway, principal, clock), second_card(db, principal, clock)]
    texts = {card: consent_text(db, principal, card, "sandbox") for card in cards}
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def turn_on_now(card: str) -> None:
        start.wait()
        try:
            turn_on_auto_pay(
                db,
                principal,
                card,
                gateway_name="sandbox",
                shown_text=texts[card],
                ip_address="",
                clock=clock,
            )
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=turn_on_now, args=(cards[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    with db.reading() as session:
        consents = session.scalars(select(AutoPayConsent).order_by(AutoPayConsent.id)).all()
        assert len(consents) == 4
        assert [consent.revoked_at is None for consent in consents] == [False, False, False, True]
    assert auto_pay_status(db, principal.client_id).enabled


def test_the_invoice_of_a_quote_accepted_after_the_consent_is_charged_on_its_due_date_once(
    db, gateway, clock
):
    principal, _method = customer_with_auto_pay(db, gateway, clock)
    quote = create_quote(
        db,
        principal.organization_id,
        client_public_id=client_public_id(db, principal),
        issue_date=TODAY,
        valid_until=TODAY + timedelta(days=7),
        deposit_percent=Decimal(0),
        lines=[LineInput("Website", Decimal(1), 120000, tax_rate_percent=Decimal(19), tax_name="VAT")],
        clock=lambda: NOW,
    )
    send_quote(db, principal.organization_id, quote, base_url=BASE_URL, clock=lambda: NOW)
    accepted = accept_quote(
        db, principal, quote, signature="Ann Smith", ip_address="", base_url=BASE_URL, clock=lambda: NOW
    )
    [charge] = scheduled_charges(db, principal.client_id, clock=clock)
    assert charge.invoice_number == accepted.invoice_number

    assert run_on(db, gateway, principal, clock, charge.on - timedelta(days=1)) == []
    assert run_on(db, gateway, principal, clock, charge.on) == [(accepted.invoice_number, 1, "succeeded")]
    assert run_on(db, gateway, principal, clock, charge.on + timedelta(days=1)) == []
    assert payments(db, principal) == [("succeeded", 142800)]
