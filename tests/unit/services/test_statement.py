"""The Statement of Accounts: periods, opening, running and closing balances, summary, ageing and chart,
on hand-computed histories; and its closing balance is the dashboard's net balance for a period
ending today."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, select

from models import Client, InvoiceKind, Payment, PaymentKind, PaymentStatus, PortalUser, RefundSource
from services.balances import client_balances, ledger_balance
from services.credit_notes import issue_credit_note, void_credit_note
from services.credits import refund_available
from services.database import Database
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL, seed_demo
from services.errors import NotFound
from services.invoices import create_invoice, send_invoice, void_invoice
from services.money import Money
from services.payments import record_payment
from services.principal import Principal
from services.records import DocumentRef
from services.statement import (
    DEFAULT_PRESET,
    InvalidPeriod,
    LineKind,
    Period,
    PeriodPreset,
    Statement,
    build_statement,
    check_statement,
    period_from_query,
    resolve_period,
)
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_customer, make_sent_invoice

MARCH_TO_MAY = Period(PeriodPreset.CUSTOM, date(2026, 3, 1), date(2026, 5, 31))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def at(day: date, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def custom(start: date, end: date) -> Period:
    return resolve_period(PeriodPreset.CUSTOM, today=TODAY, start=start, end=end)


def invoice(db: Database, client_id: int, minor: int, issued: date, *, due_in_days: int = 30) -> DocumentRef:
    return make_sent_invoice(db, client_id, minor, issue_date=issued, due_in_days=due_in_days)


def pay(
    db: Database, client_id: int, minor: int, received: datetime, allocations: dict[int, int] | None = None
) -> None:
    record_payment(
        db,
        client_id=client_id,
        amount=usd(minor),
        method="bank_transfer",
        received_at=received,
        allocations=allocations,
        clock=fixed_clock,
    )


def credit_note(db: Database, client_id: int, minor: int, issued: date, reason: str = "") -> DocumentRef:
    return issue_credit_note(
        db,
        client_id=client_id,
        lines=[LineInput("Goodwill", Decimal(1), minor)],
        issue_date=issued,
        reason=reason,
        clock=fixed_clock,
    )


def retainer_paid(db: Database, client_id: int, minor: int, issued: date, received: datetime) -> None:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Advance", Decimal(1), minor)],
        issue_date=issued,
        due_date=issued,
        kind=InvoiceKind.RETAINER,
        clock=fixed_clock,
    )
    send_invoice(db, ref.id, clock=fixed_clock)
    record_payment(
        db,
        client_id=client_id,
        amount=usd(minor),
        method="card",
        brand="Visa",
        last4="4242",
        received_at=received,
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=ref.id,
        clock=fixed_clock,
    )


def rows(statement: Statement) -> list[tuple[date, LineKind, int, int]]:
    return [(line.day, line.kind, line.amount.minor, line.balance.minor) for line in statement.lines]


@pytest.fixture
def customer(db: Database) -> Principal:
    return make_customer(db)


@pytest.fixture
def spring(db: Database, customer: Principal) -> dict[str, DocumentRef]:
    """A hand-computed history around March to May 2026, with items on the period's first and last
    instants, a void, a refund, a retainer payment, and things just before and just after it.

        before:  invoice A +100.00 (Feb 10), payment -30.00 (Feb 28 23:59:59), credit note -5.00 (Jan 5)
                 opening balance = 10000 - 3000 - 500 = 6500
        Mar  1   invoice B               +200.00  ->  265.00
        Mar  1   payment (00:00:00)       -50.00  ->  215.00   (invoices before payments on a day)
        Apr 10   invoice C                +40.00  ->  255.00
        Apr 12   invoice C voided         -40.00  ->  215.00
        Apr 20   refund of credit note     +3.00  ->  218.00
        May 31   credit note              -10.00  ->  208.00
        May 31   retainer payment (23:59:59) -80.00 -> 128.00   (credit notes before payments)
        after:   payment -20.00 (Jun 1 00:00), invoice D +70.00 (Jun 2)
    """
    client = customer.client_id
    refs = {"A": invoice(db, client, 10_000, date(2026, 2, 10))}
    refs["CN1"] = credit_note(db, client, 500, date(2026, 1, 5))
    pay(db, client, 3_000, at(date(2026, 2, 28), 23, 59, 59), {refs["A"].id: 3_000})
    refs["B"] = invoice(db, client, 20_000, date(2026, 3, 1))
    pay(db, client, 5_000, at(date(2026, 3, 1), 0), {refs["A"].id: 5_000})
    refs["C"] = invoice(db, client, 4_000, date(2026, 4, 10))
    void_invoice(db, refs["C"].id, clock=lambda: at(date(2026, 4, 12), 10))
    refund_available(
        db, client_id=client, source=RefundSource.CREDIT, amount=usd(300), refunded_at=at(date(2026, 4, 20))
    )
    refs["CN2"] = credit_note(db, client, 1_000, date(2026, 5, 31), reason="Late delivery\nsecond line")
    retainer_paid(db, client, 8_000, date(2026, 5, 20), at(date(2026, 5, 31), 23, 59, 59))
    pay(db, client, 2_000, at(date(2026, 6, 1), 0))
    refs["D"] = invoice(db, client, 7_000, date(2026, 6, 2))
    return refs


# --- hand-computed statements -----------------------------------------------------------------------


def test_opening_running_and_closing_balances_of_a_hand_computed_period(db, customer, spring):
    statement = build_statement(db, customer, MARCH_TO_MAY, today=TODAY)

    assert statement.opening == usd(6_500)
    assert rows(statement) == [
        (date(2026, 3, 1), LineKind.INVOICE, 20_000, 26_500),
        (date(2026, 3, 1), LineKind.PAYMENT, -5_000, 21_500),
        (date(2026, 4, 10), LineKind.INVOICE, 4_000, 25_500),
        (date(2026, 4, 12), LineKind.INVOICE_VOID, -4_000, 21_500),
        (date(2026, 4, 20), LineKind.REFUND, 300, 21_800),
        (date(2026, 5, 31), LineKind.CREDIT_NOTE, -1_000, 20_800),
        (date(2026, 5, 31), LineKind.RETAINER_PAYMENT, -8_000, 12_800),
    ]
    assert statement.closing == usd(12_800)


def test_each_line_names_its_document_and_what_happened(db, customer, spring):
    statement = build_statement(db, customer, MARCH_TO_MAY, today=TODAY)
    described = [(line.reference, line.text()) for line in statement.lines]
    receipts = [reference for reference, _ in described if reference.startswith("RCPT-")]
    assert described == [
        (spring["B"].number, "Invoice, due Mar 31, 2026"),
        (receipts[0], "Payment · Bank transfer"),
        (spring["C"].number, "Invoice, due May 10, 2026"),
        (spring["C"].number, "Invoice voided"),
        (spring["CN1"].number, "Refund of credit note"),
        (spring["CN2"].number, "Credit note · Late delivery"),
        (receipts[1], "Retainer payment · Visa •••• 4242"),
    ]
    assert len(set(receipts)) == 2


def test_each_line_links_to_the_document_its_reference_names(db, customer, spring):
    statement = build_statement(db, customer, MARCH_TO_MAY, today=TODAY)
    with db.reading() as session:
        receipts = {payment.receipt_number: payment.public_id for payment in session.scalars(select(Payment))}
    documents = [
        (line.document_kind, line.document_id if line.document_kind != "payment" else line.reference)
        for line in statement.lines
    ]
    assert documents == [
        ("invoice", spring["B"].public_id),
        ("payment", statement.lines[1].reference),
        ("invoice", spring["C"].public_id),
        ("invoice", spring["C"].public_id),  # its void
        ("credit_note", spring["CN1"].public_id),  # the refund of its credit
        ("credit_note", spring["CN2"].public_id),
        ("payment", statement.lines[6].reference),
    ]
    for line in (statement.lines[1], statement.lines[6]):
        assert line.document_id == receipts[line.reference]


def test_the_closing_balance_is_the_outstanding_invoices_less_the_credits_still_to_use(db, customer, spring):
    to_date = build_statement(db, customer, custom(date(2026, 1, 1), TODAY), today=TODAY)
    with db.reading() as session:
        balances = client_balances(session, customer.client_id, "USD")
    # Open: A's $20.00 left, B's $200.00 and D's $70.00. To use: the credit notes' $12.00 left, the
    # $20.00 paid on no invoice and the $80.00 retainer payment.
    assert to_date.outstanding == balances.outstanding == usd(29_000)
    assert to_date.credits_counted == balances.available_credits + balances.available_retainer == usd(11_200)
    assert to_date.closing == to_date.outstanding - to_date.credits_counted == usd(17_800)
    # A period that ended before today closed on another day than today's open invoices: no such sum.
    assert build_statement(db, customer, MARCH_TO_MAY, today=TODAY).credits_counted is None


def test_the_summary_adds_the_period_up(db, customer, spring):
    summary = build_statement(db, customer, MARCH_TO_MAY, today=TODAY).summary
    assert summary.opening == usd(6_500)
    assert summary.invoiced == usd(20_000)  # B and C, less C's void
    assert summary.received == usd(13_000)  # the payment and the retainer payment
    assert summary.credited == usd(1_000)
    assert summary.refunded == usd(300)
    assert summary.balance_due == usd(12_800) == usd(6_500 + 20_000 - 13_000 - 1_000 + 300)


def test_the_chart_has_the_opening_and_the_balance_after_each_day_with_lines(db, customer, spring):
    chart = build_statement(db, customer, MARCH_TO_MAY, today=TODAY).chart
    assert [(point.day, point.balance.minor) for point in chart] == [
        (date(2026, 3, 1), 6_500),
        (date(2026, 3, 1), 21_500),
        (date(2026, 4, 10), 25_500),
        (date(2026, 4, 12), 21_500),
        (date(2026, 4, 20), 21_800),
        (date(2026, 5, 31), 12_800),
    ]


def test_the_chart_runs_on_to_the_end_of_a_quiet_period(db, customer, spring):
    chart = build_statement(db, customer, custom(date(2026, 4, 15), date(2026, 4, 30)), today=TODAY).chart
    assert [(point.day, point.balance.minor) for point in chart] == [
        (date(2026, 4, 15), 21_500),
        (date(2026, 4, 20), 21_800),
        (date(2026, 4, 30), 21_800),
    ]


def test_a_period_of_one_day_holds_that_days_first_and_last_moments(db, customer, spring):
    first = build_statement(db, customer, custom(date(2026, 3, 1), date(2026, 3, 1)), today=TODAY)
    assert (first.opening.minor, [line.amount.minor for line in first.lines]) == (6_500, [20_000, -5_000])
    last = build_statement(db, customer, custom(date(2026, 5, 31), date(2026, 5, 31)), today=TODAY)
    assert (last.opening.minor, [line.amount.minor for line in last.lines]) == (21_800, [-1_000, -8_000])
    assert last.closing == usd(12_800)


def test_the_next_period_opens_at_the_closing_balance_and_ends_at_the_ledger_today(db, customer, spring):
    june = build_statement(db, customer, custom(date(2026, 6, 1), TODAY), today=TODAY)
    assert june.opening == usd(12_800)
    assert rows(june) == [
        (date(2026, 6, 1), LineKind.PAYMENT, -2_000, 10_800),
        (date(2026, 6, 2), LineKind.INVOICE, 7_000, 17_800),
    ]
    with db.reading() as session:
        assert june.closing == ledger_balance(session, customer.client_id, "USD") == usd(17_800)
        assert june.closing == client_balances(session, customer.client_id, "USD").net


def test_a_voided_invoice_shows_its_issue_and_its_void_and_nets_to_nothing(db, customer):
    ref = invoice(db, customer.client_id, 12_345, date(2026, 4, 1))
    void_invoice(db, ref.id, clock=lambda: at(date(2026, 4, 1), 18))
    statement = build_statement(db, customer, custom(date(2026, 4, 1), TODAY), today=TODAY)
    assert rows(statement) == [
        (date(2026, 4, 1), LineKind.INVOICE, 12_345, 12_345),
        (date(2026, 4, 1), LineKind.INVOICE_VOID, -12_345, 0),
    ]
    assert statement.summary.invoiced == usd(0)
    assert statement.outstanding == usd(0)


def test_an_invoice_voided_after_the_period_is_owed_at_its_end(db, customer):
    ref = invoice(db, customer.client_id, 12_345, date(2026, 4, 1))
    void_invoice(db, ref.id, clock=lambda: at(date(2026, 5, 3), 9))
    april = build_statement(db, customer, custom(date(2026, 4, 1), date(2026, 4, 30)), today=TODAY)
    assert (rows(april), april.closing) == (
        [(date(2026, 4, 1), LineKind.INVOICE, 12_345, 12_345)],
        usd(12_345),
    )
    may = build_statement(db, customer, custom(date(2026, 5, 1), date(2026, 5, 31)), today=TODAY)
    assert may.opening == usd(12_345)
    assert rows(may) == [(date(2026, 5, 3), LineKind.INVOICE_VOID, -12_345, 0)]
    assert may.summary.invoiced == usd(-12_345)


def test_a_voided_credit_note_shows_its_issue_and_its_void(db, customer):
    ref = credit_note(db, customer.client_id, 2_500, date(2026, 5, 2))
    void_credit_note(db, ref.id, clock=lambda: at(date(2026, 5, 9)))
    statement = build_statement(db, customer, custom(date(2026, 5, 1), date(2026, 5, 31)), today=TODAY)
    assert rows(statement) == [
        (date(2026, 5, 2), LineKind.CREDIT_NOTE, -2_500, -2_500),
        (date(2026, 5, 9), LineKind.CREDIT_NOTE_VOID, 2_500, 0),
    ]
    assert statement.summary.credited == usd(0)
    before_void = build_statement(db, customer, custom(date(2026, 5, 1), date(2026, 5, 8)), today=TODAY)
    assert before_void.closing == usd(-2_500)


def test_lines_of_one_day_go_invoices_credit_notes_payments_refunds_voids(db, customer):
    client, day = customer.client_id, date(2026, 5, 5)
    pay(db, client, 1_000, at(day, 8))  # recorded first, listed third
    doomed = invoice(db, client, 400, day)
    void_invoice(db, doomed.id, clock=lambda: at(day, 9))
    refund_available(
        db, client_id=client, source=RefundSource.CREDIT, amount=usd(100), refunded_at=at(day, 9)
    )
    credit_note(db, client, 200, day)
    invoice(db, client, 300, day)
    statement = build_statement(db, customer, custom(day, day), today=TODAY)
    assert [(line.kind, line.amount.minor) for line in statement.lines] == [
        (LineKind.INVOICE, 400),
        (LineKind.INVOICE, 300),
        (LineKind.CREDIT_NOTE, -200),
        (LineKind.PAYMENT, -1_000),
        (LineKind.REFUND, 100),
        (LineKind.INVOICE_VOID, -400),
    ]
    assert statement.lines[-1].balance == usd(400 + 300 - 200 - 1_000 + 100 - 400)
    assert statement.lines[-2].description == "Refund of overpayment"


def test_an_invoice_dated_ahead_counts_from_the_day_it_was_sent(db, customer):
    ahead = make_sent_invoice(db, customer.client_id, 5_000, issue_date=TODAY + timedelta(days=20))
    statement = build_statement(db, customer, resolve_period("this_month", today=TODAY), today=TODAY)
    assert [(line.day, line.reference) for line in statement.lines] == [(NOW.date(), ahead.number)]
    with db.reading() as session:
        assert statement.closing == ledger_balance(session, customer.client_id, "USD") == usd(5_000)


def test_drafts_retainer_invoices_and_unsettled_payments_are_not_on_the_statement(db, customer):
    client = customer.client_id
    create_invoice(
        db,
        client_id=client,
        lines=[LineInput("Draft", Decimal(1), 9_999)],
        issue_date=TODAY,
        due_date=TODAY,
        clock=fixed_clock,
    )
    retainer = create_invoice(
        db,
        client_id=client,
        lines=[LineInput("Advance", Decimal(1), 5_000)],
        issue_date=TODAY,
        due_date=TODAY,
        kind=InvoiceKind.RETAINER,
        clock=fixed_clock,
    )
    send_invoice(db, retainer.id, clock=fixed_clock)
    with db.transaction() as session:
        for status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING, PaymentStatus.FAILED):
            session.add(
                Payment(
                    organization_id=customer.organization_id,
                    client_id=client,
                    status=status,
                    amount_minor=700,
                    currency="USD",
                    method="card",
                    gateway="sandbox",
                    received_at=NOW if status == PaymentStatus.FAILED else None,
                    created_at=NOW,
                )
            )
    statement = build_statement(db, customer, resolve_period("this_year", today=TODAY), today=TODAY)
    assert statement.lines == ()
    assert statement.closing == usd(0)


def test_only_the_signed_in_clients_records_are_on_it(db, customer):
    other = make_customer(db, customer.organization_id, name="Other Co", email="olga@other.example")
    invoice(db, other.client_id, 50_000, TODAY)
    pay(db, other.client_id, 1_000, NOW)
    mine = invoice(db, customer.client_id, 2_000, TODAY)
    statement = build_statement(db, customer, resolve_period("this_year", today=TODAY), today=TODAY)
    assert [line.reference for line in statement.lines] == [mine.number]
    assert statement.client.name == "Client Ltd"
    stranger = Principal(
        customer.portal_user_id, other.client_id, customer.organization_id + 1, "x", "x@example", 0
    )
    with pytest.raises(NotFound):
        build_statement(db, stranger, resolve_period("this_year", today=TODAY), today=TODAY)


def test_ageing_groups_open_balances_by_days_past_due_today(db, customer):
    client = customer.client_id

    def due_days_ago(days: int, minor: int) -> DocumentRef:
        return invoice(db, client, minor, TODAY - timedelta(days=300), due_in_days=300 - days)

    due_days_ago(-5, 1)  # not yet due: current
    due_days_ago(0, 2)  # due today: current
    due_days_ago(1, 10)
    due_days_ago(30, 20)
    due_days_ago(31, 100)
    partly = due_days_ago(60, 200)
    pay(db, client, 50, NOW, {partly.id: 50})  # its balance, 150, is what counts
    due_days_ago(61, 1_000)
    due_days_ago(90, 2_000)
    due_days_ago(91, 10_000)
    paid = due_days_ago(200, 99_999)
    pay(db, client, 99_999, NOW, {paid.id: 99_999})
    voided = due_days_ago(200, 88_888)
    void_invoice(db, voided.id, clock=fixed_clock)

    # The period does not matter: the ageing is of what is outstanding today.
    statement = build_statement(db, customer, resolve_period("last_year", today=TODAY), today=TODAY)
    assert [(bucket.label, bucket.amount.minor, bucket.invoices) for bucket in statement.ageing] == [
        ("Current", 3, 2),
        ("1-30 days", 30, 2),
        ("31-60 days", 250, 2),
        ("61-90 days", 3_000, 2),
        ("Over 90 days", 10_000, 1),
    ]
    with db.reading() as session:
        assert statement.outstanding == client_balances(session, client, "USD").outstanding


def test_the_statement_has_the_parties_for_its_heading(db, customer):
    statement = build_statement(db, customer, resolve_period("this_year", today=TODAY), today=TODAY)
    assert statement.business.name == "Acme Studio"
    assert statement.business.address_lines == ("1 Main Street", "12345 Springfield", "United States")
    assert statement.client.company == "Client Ltd"
    assert (statement.currency, statement.locale, statement.today) == ("USD", "en_US", TODAY)


@contextmanager
def counting_queries(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_five_queries_whatever_the_history(db, customer, spring):
    with counting_queries(db) as queries:
        build_statement(db, customer, MARCH_TO_MAY, today=TODAY)
    assert len(queries) == 5
    for day in range(1, 28):
        invoice(db, customer.client_id, 100 + day, date(2025, 2, day))
    with counting_queries(db) as queries:
        build_statement(db, customer, MARCH_TO_MAY, today=TODAY)
    assert len(queries) == 5


# --- the dashboard identity -------------------------------------------------------------------------


def demo_principal(db: Database, email: str) -> Principal:
    with db.reading() as session:
        user, client = session.execute(
            select(PortalUser, Client)
            .join(Client, Client.id == PortalUser.client_id)
            .where(PortalUser.email == email)
        ).one()
        return Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)


@pytest.mark.parametrize("email", [CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL])
def test_the_demos_statements_close_at_the_dashboards_net_balance(db, email):
    seed_demo(db, clock=fixed_clock, password_rounds=4)
    principal = demo_principal(db, email)
    for preset in (p for p in PeriodPreset if p != PeriodPreset.CUSTOM):
        check = check_statement(db, principal, resolve_period(preset, today=TODAY), today=TODAY)
        assert check.problems == (), preset
    check = check_statement(db, principal, resolve_period("this_year", today=TODAY), today=TODAY)
    assert check.statement.closing == check.ledger == check.dashboard_net
    assert check.statement.lines  # a year of history: there is something to check
    whole = check_statement(db, principal, custom(date(2020, 1, 1), TODAY), today=TODAY)
    assert whole.statement.opening == Money.zero(whole.statement.currency)
    assert whole.statement.closing == whole.ledger


def test_check_statement_reports_a_statement_that_disagrees_with_the_ledger(db, customer):
    invoice(db, customer.client_id, 1_000, TODAY)
    ended_yesterday = custom(TODAY - timedelta(days=30), TODAY - timedelta(days=1))
    assert check_statement(db, customer, ended_yesterday, today=TODAY).problems == ()
    # Checked as if the period ended today: the ledger holds an invoice dated after the period.
    check = check_statement(db, customer, ended_yesterday, today=TODAY - timedelta(days=1))
    assert check.problems == ("closing 0, ledger 1000, dashboard net 1000",)


# --- periods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "today", "start", "end"),
    [
        ("this_month", date(2026, 11, 28), date(2026, 11, 1), date(2026, 11, 28)),
        ("last_month", date(2026, 11, 28), date(2026, 10, 1), date(2026, 10, 31)),
        ("last_month", date(2026, 1, 15), date(2025, 12, 1), date(2025, 12, 31)),
        ("last_month", date(2024, 3, 31), date(2024, 2, 1), date(2024, 2, 29)),
        ("this_quarter", date(2026, 11, 28), date(2026, 10, 1), date(2026, 11, 28)),
        ("this_quarter", date(2026, 3, 31), date(2026, 1, 1), date(2026, 3, 31)),
        ("this_quarter", date(2026, 4, 1), date(2026, 4, 1), date(2026, 4, 1)),
        ("this_year", date(2026, 11, 28), date(2026, 1, 1), date(2026, 11, 28)),
        ("last_year", date(2026, 1, 1), date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_presets_resolve_against_today(preset, today, start, end):
    period = resolve_period(preset, today=today)
    assert (period.preset, period.start, period.end) == (PeriodPreset(preset), start, end)


def test_the_default_period_is_this_year_to_date():
    assert DEFAULT_PRESET == PeriodPreset.THIS_YEAR
    period = period_from_query({}, today=date(2026, 11, 28))
    assert (period.start, period.end, period.label) == (date(2026, 1, 1), date(2026, 11, 28), "This Year")
    assert period_from_query({"period": "fortnight"}, today=date(2026, 11, 28)) == period


def test_a_period_round_trips_through_the_url():
    today = date(2026, 11, 28)
    for period in (
        resolve_period("last_month", today=today),
        resolve_period("custom", today=today, start=date(2026, 1, 1), end=date(2026, 3, 31)),
    ):
        assert period_from_query(period.query(), today=today) == period
    assert resolve_period("custom", today=today, start=date(2026, 1, 1), end=date(2026, 3, 31)).query() == {
        "period": "custom",
        "start": "2026-01-01",
        "end": "2026-03-31",
    }
    assert resolve_period("this_year", today=today).dates() == "Jan 1, 2026 – Nov 28, 2026"


def test_a_custom_range_in_the_future_is_allowed_and_ten_years_is_the_most():
    today = date(2026, 11, 28)
    future = period_from_query({"period": "custom", "start": "2030-01-01", "end": "2030-12-31"}, today=today)
    assert (future.start, future.end) == (date(2030, 1, 1), date(2030, 12, 31))
    ten_years = {"period": "custom", "start": "2016-01-01", "end": "2025-12-31"}
    assert period_from_query(ten_years, today=today).end == date(2025, 12, 31)
    leap = resolve_period("custom", today=today, start=date(2016, 2, 29), end=date(2026, 2, 27))
    assert leap.start == date(2016, 2, 29)


@pytest.mark.parametrize(
    ("params", "problem", "message"),
    [
        ({"period": "custom"}, "missing", "Choose both a start date and an end date."),
        ({"period": "custom", "start": "2026-01-01"}, "missing", "Choose both a start date and an end date."),
        (
            {"period": "custom", "start": "2026-02-30", "end": "2026-03-01"},
            "not_a_date",
            "The start date '2026-02-30' is not a date.",
        ),
        (
            {"period": "custom", "start": "2026-05-01", "end": "2026-03-01"},
            "end_before_start",
            "The end date is before the start date.",
        ),
        (
            {"period": "custom", "start": "2016-01-01", "end": "2026-01-01"},
            "too_long",
            "A statement covers at most 10 years; choose a shorter period.",
        ),
        (
            {"period": "custom", "start": "0001-01-01", "end": "0001-12-31"},
            "out_of_range",
            "Choose dates between 1900 and 2999.",
        ),
    ],
)
def test_a_custom_range_that_cannot_be_covered_is_refused_with_its_reason(params, problem, message):
    with pytest.raises(InvalidPeriod) as refused:
        period_from_query(params, today=date(2026, 11, 28))
    assert (refused.value.problem, refused.value.message) == (problem, message)
