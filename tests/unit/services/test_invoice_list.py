"""The invoice list filters, searches, sorts and pages in SQL, and shows only the client's issued invoices."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from models import InvoiceKind
from services.invoice_list import InvoiceFilter, InvoiceListQuery, list_invoices
from services.invoices import create_invoice, send_invoice, void_invoice
from services.money import Money
from services.payments import record_payment
from services.principal import Principal
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization, make_sent_invoice


@pytest.fixture
def books(db):
    """One client with invoices in every state, a second client, and a draft."""
    organization = make_organization(db)
    client = make_client(db, organization)
    other = make_client(db, organization, name="Other Co")
    refs = {}
    for days, amount in ((90, 10000), (60, 20000), (45, 30000), (20, 40000), (5, 50000)):
        refs[days] = make_sent_invoice(db, client, amount, issue_date=TODAY - timedelta(days=days))
    record_payment(db, client_id=client, amount=Money(10000, "USD"), method="cash", received_at=NOW,
                   allocations={refs[90].id: 10000}, clock=fixed_clock)  # fmt: skip
    record_payment(db, client_id=client, amount=Money(5000, "USD"), method="cash", received_at=NOW,
                   allocations={refs[60].id: 5000}, clock=fixed_clock)  # fmt: skip
    void_invoice(db, refs[45].id, clock=fixed_clock)
    retainer = create_invoice(
        db, client_id=client, kind=InvoiceKind.RETAINER, lines=[LineInput("Advance", Decimal(1), 70000)],
        issue_date=TODAY, due_date=TODAY + timedelta(days=10), clock=fixed_clock,
    )  # fmt: skip
    send_invoice(db, retainer.id, clock=fixed_clock)
    create_invoice(db, client_id=client, lines=[LineInput("Draft", Decimal(1), 1)], issue_date=TODAY,
                   due_date=TODAY, clock=fixed_clock)  # fmt: skip
    make_sent_invoice(db, other, 99900)
    principal = Principal(1, client, organization, "Ann", "ann@client.example", 1)
    return principal, refs


def numbers(db, principal, **query):
    page = list_invoices(db, principal, InvoiceListQuery(**query), today=TODAY)
    return [row.number for row in page.rows], page


def test_all_lists_issued_invoices_and_retainers_newest_first_without_drafts_or_other_clients(db, books):
    principal, _refs = books
    shown, page = numbers(db, principal)
    assert shown == ["RET-00001", "INV-00005", "INV-00004", "INV-00003", "INV-00002", "INV-00001"]
    assert page.total_count == 6


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (InvoiceFilter.UNPAID, ["INV-00005", "INV-00004", "INV-00002"]),
        (InvoiceFilter.OVERDUE, ["INV-00002"]),  # issued 60 days ago, due 30 days after
        (InvoiceFilter.PARTIALLY_PAID, ["INV-00002"]),
        (InvoiceFilter.PAID, ["INV-00001"]),
        (InvoiceFilter.VOID, ["INV-00003"]),
        (InvoiceFilter.RETAINER, ["RET-00001"]),
    ],
)
def test_each_filter_shows_its_invoices(db, books, kind, expected):
    principal, _refs = books
    assert numbers(db, principal, filter=kind)[0] == expected


def test_overdue_is_derived_from_the_due_date(db, books):
    principal, _refs = books
    _shown, page = numbers(db, principal, filter=InvoiceFilter.UNPAID)
    labels = {row.number: row.status_label for row in page.rows}
    assert labels == {"INV-00005": "Sent", "INV-00004": "Sent", "INV-00002": "Overdue"}


def test_search_finds_by_part_of_the_number_and_treats_wildcards_literally(db, books):
    principal, _refs = books
    assert numbers(db, principal, search="inv-00004")[0] == ["INV-00004"]
    assert numbers(db, principal, search="%")[0] == []
    assert numbers(db, principal, search="_")[0] == []


def test_sorting_by_balance_both_ways(db, books):
    principal, _refs = books
    ascending, _ = numbers(db, principal, sort="balance", descending=False, filter=InvoiceFilter.UNPAID)
    descending, _ = numbers(db, principal, sort="balance", descending=True, filter=InvoiceFilter.UNPAID)
    assert ascending == ["INV-00002", "INV-00004", "INV-00005"]  # 150.00, 400.00, 500.00
    assert descending == list(reversed(ascending))


def test_paging_returns_each_row_once(db, books):
    principal, _refs = books
    pages = [numbers(db, principal, page=n, page_size=4)[0] for n in (1, 2, 3)]
    assert pages[0] == ["RET-00001", "INV-00005", "INV-00004", "INV-00003"]
    assert pages[1] == ["INV-00002", "INV-00001"]
    assert pages[2] == []


def test_unknown_sort_and_out_of_range_paging_fall_back_safely(db, books):
    principal, _refs = books
    _shown, page = numbers(db, principal, sort="password_hash; drop table", page=-3, page_size=10_000)
    assert page.query.sort == "issue_date"
    assert page.query.page == 1
    assert page.query.page_size == 100


def test_a_page_is_three_queries_at_most_whatever_the_filter(db, books):
    principal, _refs = books
    statements = []

    def count(_connection, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        numbers(db, principal, filter=InvoiceFilter.OVERDUE, search="inv", sort="total")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # The count, the page and, as the page has unpaid invoices, the payments still on their way.
    assert len(statements) == 3
