"""The customer's Home: account and business details and balances, in a fixed handful of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from models import Client, InvoiceKind, Organization, PaymentKind, PortalUser, RefundSource
from services.credit_notes import issue_credit_note
from services.credits import request_refund
from services.dashboard import get_dashboard
from services.database import Database
from services.errors import NotFound
from services.invoices import create_invoice, send_invoice
from services.money import Money
from services.payments import record_payment
from services.principal import Principal
from services.totals import LineInput
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization, make_sent_invoice

MAX_QUERIES = 6


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@contextmanager
def counting_statements(db: Database) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def sign_in_as(db: Database, client_id: int, email: str) -> Principal:
    with db.transaction() as session:
        client = session.get(Client, client_id)
        assert client is not None
        user = PortalUser(
            client_id=client_id, name="Ann Smith", email=email, phone="+1 555 0199", created_at=NOW
        )
        session.add(user)
        session.flush()
        return Principal(user.id, client_id, client.organization_id, user.name, user.email, session_id=1)


@pytest.fixture
def organization_id(db: Database) -> int:
    organization_id = make_organization(db, "Acme Studio")
    with db.transaction() as session:
        organization = session.get(Organization, organization_id)
        assert organization is not None
        organization.locale = "de_DE"
    return organization_id


def client_with_history(db: Database, organization_id: int, invoices: int, name: str) -> int:
    """A client with ``invoices`` invoices, most paid, one partly, excess payments and credits."""
    client_id = make_client(db, organization_id, name=name)
    refs = [
        make_sent_invoice(db, client_id, 1000, issue_date=TODAY - timedelta(days=invoices - n))
        for n in range(invoices)
    ]
    for ref in refs[:-2]:
        record_payment(
            db,
            client_id=client_id,
            amount=usd(1000),
            method="card",
            received_at=NOW,
            allocations={ref.id: 1000},
            clock=fixed_clock,
        )
    record_payment(
        db,
        client_id=client_id,
        amount=usd(1500),
        method="cash",
        received_at=NOW + timedelta(hours=1),
        allocations={refs[-2].id: 400},
        clock=fixed_clock,
    )
    issue_credit_note(
        db,
        client_id=client_id,
        lines=[LineInput("Goodwill", Decimal(1), 700)],
        issue_date=TODAY,
        clock=fixed_clock,
    )
    retainer = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Advance", Decimal(1), 5000)],
        issue_date=TODAY,
        due_date=TODAY,
        kind=InvoiceKind.RETAINER,
    )
    send_invoice(db, retainer.id)
    record_payment(
        db,
        client_id=client_id,
        amount=usd(5000),
        method="card",
        received_at=NOW,
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=retainer.id,
    )
    request_refund(db, client_id=client_id, portal_user_id=None, source=RefundSource.CREDIT, amount=usd(300))
    return client_id


def test_dashboard_shows_account_business_and_balances(db: Database, organization_id: int) -> None:
    client_id = client_with_history(db, organization_id, 3, "Bright Ideas")
    principal = sign_in_as(db, client_id, "ann@bright.example")
    dashboard = get_dashboard(db, principal)

    account = dashboard.account
    assert (account.contact_name, account.contact_email, account.contact_phone) == (
        "Ann Smith",
        "ann@bright.example",
        "+1 555 0199",
    )
    assert (account.client_name, account.company_name, account.email, account.currency) == (
        "Bright Ideas",
        "Bright Ideas",
        "billing@brightideas.example",
        "USD",
    )

    business = dashboard.business
    assert (business.name, business.email, business.phone, business.website) == (
        "Acme Studio",
        "hello@acme.example",
        "+1 555 0100",
        "https://acme.example",
    )
    assert (business.address.line1, business.address.city, business.address.postal_code) == (
        "1 Main Street",
        "Springfield",
        "12345",
    )
    assert (business.locale, business.is_demo) == ("de_DE", False)

    balances = dashboard.balances
    # one invoice unpaid (10.00), one paid 4.00 of 10.00; 11.00 of a 15.00 payment left over
    assert balances.outstanding == usd(1000 + 600)
    assert balances.available_credits == usd(1100 + 700)
    assert balances.reserved_credits == usd(300)
    assert balances.available_retainer == usd(5000)
    assert balances.last_payment is not None
    assert (balances.last_payment.amount, balances.last_payment.received_at) == (
        usd(1500),
        NOW + timedelta(hours=1),
    )


def test_new_client_dashboard_has_zero_balances_and_no_last_payment(
    db: Database, organization_id: int
) -> None:
    client_id = make_client(db, organization_id, currency="EUR", name="Neu GmbH")
    balances = get_dashboard(db, sign_in_as(db, client_id, "neu@neu.example")).balances
    assert (balances.outstanding, balances.available_credits, balances.available_retainer) == (
        Money(0, "EUR"),
        Money(0, "EUR"),
        Money(0, "EUR"),
    )
    assert balances.last_payment is None


def test_dashboard_of_another_client_is_not_found(db: Database, organization_id: int) -> None:
    mine = make_client(db, organization_id, name="Mine")
    theirs = make_client(db, organization_id, name="Theirs")
    principal = sign_in_as(db, mine, "me@mine.example")
    forged = Principal(
        principal.portal_user_id,
        theirs,
        organization_id,
        principal.name,
        principal.email,
        principal.session_id,
    )
    with pytest.raises(NotFound):
        get_dashboard(db, forged)


def test_dashboard_queries_do_not_grow_with_the_clients_history(db: Database, organization_id: int) -> None:
    small = sign_in_as(db, client_with_history(db, organization_id, 3, "Small"), "a@small.example")
    large = sign_in_as(db, client_with_history(db, organization_id, 60, "Large"), "b@large.example")
    with counting_statements(db) as small_statements:
        small_dashboard = get_dashboard(db, small)
    with counting_statements(db) as large_statements:
        large_dashboard = get_dashboard(db, large)
    assert len(large_statements) == len(small_statements) <= MAX_QUERIES
    assert small_dashboard.balances.outstanding == large_dashboard.balances.outstanding == usd(1600)
