"""Late fees: the daily reminders job bills an overdue invoice's fee (fixed, or a percentage of its balance
rounded half-up to the cent; once, or each month) as a separate numbered invoice, issued and e-mailed with
it; never for a paid, void, draft or in-flight invoice, an excluded client or a fee's own invoice, and at
most once per invoice and period however many runs there are."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Client, Invoice, InvoiceLateFee, InvoiceLine, InvoiceStatus, OutboxEmail, ReminderSettings
from services.balances import client_balances, ledger_balance
from services.errors import InvalidDetails, OwnerOnly
from services.gateways.base import BankAccountDetails, CardDetails, ChargeRequest
from services.gateways.sandbox import SandboxGateway
from services.invoices import create_invoice, void_invoice
from services.late_fees import FIXED, NONE, PERCENT, LateFee, fee_minor, get_late_fee, save_late_fee
from services.money import Money
from services.online_payments import pay, plan_pay_invoice
from services.reminders import RuleInput, send_due_reminders, set_client_reminders
from services.totals import LineInput
from tests.factories import NOW, make_customer, make_sent_invoice
from tests.unit.services.test_reminders import BASE_URL, DUE, at, books, clock, make_owner, run_on, turn_on

__all__ = ["books", "clock"]  # the fixtures, shared with the reminders' tests

OVERDUE = DUE + timedelta(days=1)  # 26 June: the first day the $100.00 invoice is overdue


def fees(db) -> list[tuple[str, str, int, int, str, date]]:
    """(overdue invoice, fee's invoice, period, fee's total, fee's status, added on) of each fee."""
    with db.reading() as session:
        rows = session.execute(
            select(InvoiceLateFee.invoice_id, InvoiceLateFee.fee_invoice_id, InvoiceLateFee.period)
            .add_columns(InvoiceLateFee.added_on)
            .order_by(InvoiceLateFee.id)
        ).all()
        found = []
        for invoice_id, fee_invoice_id, period, added_on in rows:
            overdue = session.get_one(Invoice, invoice_id)
            fee = session.get_one(Invoice, fee_invoice_id)
            found.append((overdue.number, fee.number, period, fee.total_minor, str(fee.status), added_on))
        return found


def set_fee(db, owner, clock, kind=FIXED, value="15", monthly=False) -> LateFee:
    return save_late_fee(db, owner, kind=kind, value=value, monthly=monthly, clock=clock)


def test_a_fixed_fee_once_is_a_separate_issued_invoice_e_mailed_to_the_client(db, books, clock):
    principal, invoice, owner = books
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, FIXED, "15.50")

    assert run_on(db, principal.organization_id, clock, DUE) == 0
    assert fees(db) == []
    run_on(db, principal.organization_id, clock, OVERDUE)

    assert fees(db) == [(invoice.number, "INV-00002", 0, 1550, str(InvoiceStatus.SENT), OVERDUE)]
    with db.reading() as session:
        fee_invoice = session.scalars(select(Invoice).where(Invoice.number == "INV-00002")).one()
        assert fee_invoice.balance_due_minor == 1550
        line = session.scalars(
            select(InvoiceLine.description).where(InvoiceLine.invoice_id == fee_invoice.id)
        )
        assert line.one() == f"Late fee: invoice {invoice.number}, due Jun 25, 2026"
        email = session.scalars(select(OutboxEmail).order_by(OutboxEmail.id.desc())).first()
        assert email is not None
        assert email.subject.startswith("Invoice INV-00002 from ")
        assert "$15.50" in email.subject
    # The overdue invoice is unchanged; the client owes both, and the books agree (the invariant).
    with db.reading() as session:
        balances = client_balances(session, principal.client_id, "USD")
        assert balances.outstanding == Money(10000 + 1550, "USD")
        assert ledger_balance(session, principal.client_id, "USD") == Money(10000 + 1550, "USD")
        assert session.get_one(Invoice, invoice.id).balance_due_minor == 10000

    for day in (OVERDUE, OVERDUE + timedelta(days=1), date(2026, 7, 26), date(2026, 9, 1)):
        run_on(db, principal.organization_id, clock, day)
    assert len(fees(db)) == 1  # once is once


@pytest.mark.parametrize(
    ("balance", "percent", "fee"),
    [
        (12345, "2.5", 309),  # 308.625 cents: half-up to $3.09
        (10000, "1.5", 150),
        (999, "1.25", 12),  # 12.4875 cents
        (10050, "0.5", 50),  # 50.25 cents
        (10100, "0.5", 51),  # 50.5 cents: half-up
    ],
)
def test_a_percentage_of_the_overdue_balance_is_rounded_half_up_to_the_cent(db, clock, balance, percent, fee):
    principal = make_customer(db)
    make_sent_invoice(db, principal.client_id, balance, due_in_days=10)
    owner = make_owner(db, principal.organization_id)
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, PERCENT, percent)

    run_on(db, principal.organization_id, clock, OVERDUE)

    assert [total for *_, total, _status, _day in fees(db)] == [fee]


def test_fixed_fees_follow_the_currencys_minor_unit():
    assert fee_minor(LateFee(FIXED, Decimal("12.5"), False), 1, "USD") == 1250
    assert fee_minor(LateFee(FIXED, Decimal("500.5"), False), 1, "JPY") == 501
    assert fee_minor(LateFee(FIXED, Decimal("1.2345"), False), 1, "KWD") == 1235
    assert fee_minor(LateFee(PERCENT, Decimal("10"), False), 12345, "JPY") == 1235
    assert fee_minor(LateFee(NONE, Decimal(0), False), 12345, "USD") == 0


def test_a_partly_paid_invoice_is_charged_on_what_is_left(db, books, clock):
    principal, invoice, owner = books
    gateway = SandboxGateway(clock=clock)
    card = ChargeRequest("", 0, "USD", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))
    plan = plan_pay_invoice(db, principal, invoice.public_id, Money(2550, "USD"))
    assert pay(db, gateway, principal, plan, card, clock=clock).status == "succeeded"
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, PERCENT, "10")

    run_on(db, principal.organization_id, clock, OVERDUE)

    assert [total for *_, total, _status, _day in fees(db)] == [745]  # 10% of $74.50


def test_a_monthly_fee_comes_each_month_and_after_an_outage_only_the_latest(db, books, clock):
    principal, _, owner = books
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, FIXED, "10", monthly=True)

    for day in (OVERDUE, date(2026, 7, 25), date(2026, 7, 26), date(2026, 7, 27)):
        run_on(db, principal.organization_id, clock, day)
    assert [(period, total, added) for _n, _f, period, total, _s, added in fees(db)] == [
        (0, 1000, OVERDUE),
        (1, 1000, date(2026, 7, 26)),
    ]

    # No run from 28 July to 30 September: 26 August and 26 September were missed; one fee, September's.
    run_on(db, principal.organization_id, clock, date(2026, 9, 30))
    assert [(period, added) for _n, _f, period, _t, _s, added in fees(db)][2:] == [(3, date(2026, 9, 30))]
    assert len(fees(db)) == 3


def test_a_fee_turned_on_later_charges_nothing_for_the_days_before(db, books, clock):
    principal, _, owner = books
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    run_on(db, principal.organization_id, clock, OVERDUE)
    clock.now = at(date(2026, 7, 10))
    set_fee(db, owner, clock, FIXED, "20")  # once: its day, 26 June, came before
    run_on(db, principal.organization_id, clock, date(2026, 7, 10))
    run_on(db, principal.organization_id, clock, date(2026, 7, 26))
    assert fees(db) == []

    set_fee(db, owner, clock, FIXED, "20", monthly=True)
    run_on(db, principal.organization_id, clock, date(2026, 8, 26))
    assert [period for _n, _f, period, *_ in fees(db)] == [2]


def test_no_fee_for_a_paid_void_draft_or_in_flight_invoice_nor_on_a_fees_own_invoice(db, books, clock):
    principal, open_invoice, owner = books
    paid = make_sent_invoice(db, principal.client_id, 2000, due_in_days=10)
    void = make_sent_invoice(db, principal.client_id, 3000, due_in_days=10)
    void_invoice(db, void.id, clock=clock)
    create_invoice(
        db,
        client_id=principal.client_id,
        lines=[LineInput("Draft work", Decimal(1), 4000)],
        issue_date=NOW.date(),
        due_date=DUE,
        clock=clock,
    )
    in_flight = make_sent_invoice(db, principal.client_id, 5000, due_in_days=10)
    gateway = SandboxGateway(clock=clock, settle_delay=timedelta(days=30))
    card = ChargeRequest("", 0, "USD", "", card=CardDetails("4242424242424242", 12, 2030, "123", "Ann"))
    assert (
        pay(db, gateway, principal, plan_pay_invoice(db, principal, paid.public_id), card, clock=clock).status
        == "succeeded"
    )
    debit = ChargeRequest(
        "",
        0,
        "USD",
        "",
        bank_account=BankAccountDetails("Ann", "DE89370400440532013000", "ann@client.example", True),
    )
    outcome = pay(
        db, gateway, principal, plan_pay_invoice(db, principal, in_flight.public_id), debit, clock=clock
    )
    assert outcome.status == "processing"
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, FIXED, "5", monthly=True)

    run_on(db, principal.organization_id, clock, OVERDUE)
    assert [number for number, *_ in fees(db)] == [open_invoice.number]

    # A month on, the fee's own invoice is overdue too: only the first invoice is charged again.
    run_on(db, principal.organization_id, clock, date(2026, 9, 1))
    assert [number for number, *_ in fees(db)] == [open_invoice.number, open_invoice.number]


def test_an_excluded_client_is_charged_no_fee(db, books, clock):
    principal, _, owner = books
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock)
    set_client_reminders(db, owner, _client_public_id(db, principal.client_id), False, clock=clock)

    run_on(db, principal.organization_id, clock, OVERDUE)

    assert fees(db) == []


def _client_public_id(db, client_id: int) -> str:
    with db.reading() as session:
        return session.get_one(Client, client_id).public_id


def test_no_fee_while_reminders_are_off(db, books, clock):
    principal, _, owner = books
    set_fee(db, owner, clock)

    clock.now = at(OVERDUE)
    send_due_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock)

    assert fees(db) == []


def test_two_runs_at_the_same_moment_add_each_fee_once(db, books, clock):
    principal, _, owner = books
    for number in range(4):
        make_sent_invoice(db, principal.client_id, 1000 + number, due_in_days=10)
    turn_on(db, owner, clock, [RuleInput("after", "7")])
    set_fee(db, owner, clock, PERCENT, "10")
    clock.now = at(OVERDUE)
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            send_due_reminders(db, principal.organization_id, base_url=BASE_URL, clock=clock)
        except BaseException as error:  # (reported below, not lost in the thread)
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(total for *_, total, _s, _d in fees(db)) == [100, 100, 100, 100, 1000]
    with db.reading() as session:
        numbers = session.scalars(select(Invoice.number).order_by(Invoice.id)).all()
        emails = session.scalars(select(OutboxEmail.subject)).all()
    assert len(set(numbers)) == len(numbers) == 10  # five invoices, five fees, no number twice
    assert (
        sum("from" in subject and "due" in subject and "Invoice INV-" in subject for subject in emails) == 5
    )


def test_the_fee_is_off_until_set_and_only_the_owner_sets_it(db, books, clock):
    principal, _, owner = books
    assert get_late_fee(db, principal.organization_id) == LateFee(NONE, Decimal(0), False)
    bookkeeper = make_owner(db, principal.organization_id, role="staff")
    with pytest.raises(OwnerOnly):
        set_fee(db, bookkeeper, clock)

    assert set_fee(db, owner, clock, PERCENT, "2,5", monthly=True) == LateFee(PERCENT, Decimal("2.5"), True)
    assert get_late_fee(db, principal.organization_id) == LateFee(PERCENT, Decimal("2.5"), True)
    set_fee(db, owner, clock, NONE, "")
    assert get_late_fee(db, principal.organization_id).enabled is False


@pytest.mark.parametrize(
    ("kind", "value", "errors"),
    [
        ("weekly", "5", {"late_fee_kind": "Choose no late fee, a fixed amount or a percentage."}),
        (FIXED, "", {"late_fee_value": "Enter an amount more than 0 and at most 100000."}),
        (FIXED, "0", {"late_fee_value": "Enter an amount more than 0 and at most 100000."}),
        (FIXED, "-5", {"late_fee_value": "Enter an amount more than 0 and at most 100000."}),
        (FIXED, "ten", {"late_fee_value": "Enter an amount more than 0 and at most 100000."}),
        (FIXED, "1.2345", {"late_fee_value": "Enter an amount more than 0 and at most 100000."}),
        (PERCENT, "51", {"late_fee_value": "Enter a percentage more than 0 and at most 50."}),
        (PERCENT, "NaN", {"late_fee_value": "Enter a percentage more than 0 and at most 50."}),
    ],
)
def test_a_wrong_fee_is_refused_with_a_message_and_nothing_is_saved(db, books, clock, kind, value, errors):
    principal, _, owner = books
    set_fee(db, owner, clock, FIXED, "15")
    with pytest.raises(InvalidDetails) as raised:
        set_fee(db, owner, clock, kind, value)
    assert raised.value.errors == errors
    assert get_late_fee(db, principal.organization_id) == LateFee(FIXED, Decimal(15), False)
    with db.reading() as session:
        assert session.scalars(select(ReminderSettings.late_fee_kind)).one() == FIXED
