"""An upgrade from any earlier revision keeps every sign-in, balance and document.

``tests/upgrade_fixtures`` holds, per revision, the demo data the portal's code at that revision made
(``make_fixtures.py`` says how). For each, on SQLite and on PostgreSQL, a database migrated to that
revision gets the fixture's rows, the portal's own migration brings it to the newest revision, and then
today's services must find every row as it was, sign the demo logins in, give every client the balances
its old rows add up to, and render every invoice, credit note and receipt with its number and total.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from pypdf import PdfReader
from sqlalchemy import Engine, select, text

import models
from models import CreditNoteStatus, InvoiceKind, InvoiceStatus, PaymentKind, PaymentStatus, RefundStatus
from services.auth import sign_in
from services.balances import client_balances, ledger_balance
from services.business_documents import invoice_sheet
from services.database import Database, alembic_config, make_engine, upgrade_to
from services.demo import (
    CUSTOMER_EMAIL,
    CUSTOMER_PASSWORD,
    OTHER_CUSTOMER_EMAIL,
    OWNER_EMAIL,
    OWNER_PASSWORD,
)
from services.invoices import PAYABLE_STATUSES
from services.money import format_money
from services.payments_made import get_payment
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf
from services.pdf.statement import render_statement_pdf
from services.principal import Principal
from services.staff_auth import sign_in_staff
from services.statement import LineKind, PeriodPreset, build_statement, resolve_period
from tests.conftest import BACKENDS, postgres_test_url
from tests.upgrade_fixtures.loading import fixture_of, load_fixture
from tests.upgrade_fixtures.make_fixtures import Fixture, fixture_paths

REVISIONS = [path.stem for path in fixture_paths()]
ADDRESS = "192.0.2.10"


def test_there_is_a_fixture_for_every_earlier_revision():
    """The newest may lack one (it is today's code); when the next migration comes, it must not."""
    revisions = sorted(
        script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()
    )
    missing = sorted(set(revisions[:-1]) - set(REVISIONS))
    assert missing == [], "make them with: python tests/upgrade_fixtures/make_fixtures.py"
    assert set(REVISIONS) <= set(revisions)


@pytest.mark.parametrize("revision", REVISIONS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_an_upgrade_keeps_every_sign_in_balance_and_document(backend, revision, tmp_path, tmp_path_factory):
    fixture = fixture_of(revision)
    with database_at(backend, revision, tmp_path, tmp_path_factory) as engine:
        load_fixture(engine, fixture)
        db = Database(engine)

        db.migrate()  # as start-up does

        assert rows_changed(engine, fixture) == []
        principals = sign_in_everyone(db, fixture)
        assert set(principals) == {client["id"] for client in fixture.tables["clients"]}
        for client in fixture.tables["clients"]:
            check_balances(db, client, figures_from_rows(fixture, client["id"]))
        check_invoices(db, fixture)
        check_receipts(db, fixture, principals)
        check_statements(db, fixture, principals)


# --- the database at the fixture's revision, with its rows ---------------------------------------------


_sqlite_schemas: dict[str, Path] = {}


@contextmanager
def database_at(
    backend: str, revision: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An empty database whose schema is at ``revision``."""
    if backend == "sqlite":
        if revision not in _sqlite_schemas:  # migrated once per revision; each test copies the file
            path = tmp_path_factory.mktemp("schema") / f"{revision}.db"
            engine = make_engine(f"sqlite:///{path}")
            upgrade_to(engine, revision)
            engine.dispose()  # closing the last connection checkpoints the WAL into the file
            _sqlite_schemas[revision] = path
        shutil.copy(_sqlite_schemas[revision], tmp_path / "portal.db")
        engine = make_engine(f"sqlite:///{tmp_path / 'portal.db'}")
    else:
        engine = make_engine(postgres_test_url("upgrade"))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade_to(engine, revision)
    try:
        yield engine
    finally:
        engine.dispose()


def rows_changed(engine: Engine, fixture: Fixture) -> list[str]:
    """Every fixture row read back through today's models: what is missing or has another value."""
    changed = []
    with engine.connect() as connection:
        for name, rows in fixture.tables.items():
            table = models.Base.metadata.tables.get(name)
            if table is None:
                changed.append(f"table {name} is gone")
                continue
            key = [column.name for column in table.primary_key.columns]
            found = {
                tuple(row[column] for column in key): row
                for row in connection.execute(select(table)).mappings()
            }
            for old in rows:
                identity = tuple(old[column] for column in key)
                new = found.get(identity)
                if new is None:
                    changed.append(f"{name} {identity} is missing")
                    continue
                changed.extend(
                    f"{name} {identity} {column}: {value!r} became {new[column]!r}"
                    for column, value in old.items()
                    if column in table.columns and new[column] != value
                )
    return changed


# --- what must have survived -------------------------------------------------------------------------


def sign_in_everyone(db: Database, fixture: Fixture) -> dict[int, Principal]:
    """The demo's staff and customer logins; the customers' principals by client id."""
    staff = sign_in_staff(db, email=OWNER_EMAIL, password=OWNER_PASSWORD, ip_address=ADDRESS).principal
    assert staff.is_owner
    assert staff.organization_id == fixture.tables["organizations"][0]["id"]
    principals = {}
    for email in (CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL):
        principal = sign_in(db, email=email, password=CUSTOMER_PASSWORD, ip_address=ADDRESS).principal
        principals[principal.client_id] = principal
    return principals


@dataclass(frozen=True)
class Figures:
    """A client's balances summed from the fixture's rows, by DESIGN.md's definitions."""

    outstanding: int
    credits: int
    retainer: int
    ledger: int  # invoices - payments - credit notes + refunds


def figures_from_rows(fixture: Fixture, client_id: int) -> Figures:
    def rows(table: str) -> list[dict[str, Any]]:
        return [row for row in fixture.tables[table] if row["client_id"] == client_id]

    invoices = [row for row in rows("invoices") if row["kind"] == InvoiceKind.INVOICE]
    payments = [row for row in rows("payments") if row["status"] == PaymentStatus.SUCCEEDED]
    notes = rows("credit_notes")

    def unapplied(kind: PaymentKind) -> int:
        return sum(row["unapplied_minor"] for row in payments if row["kind"] == kind)

    return Figures(
        outstanding=sum(row["balance_due_minor"] for row in invoices if row["status"] in PAYABLE_STATUSES),
        credits=unapplied(PaymentKind.INVOICE)
        + sum(row["remaining_minor"] for row in notes if row["status"] == CreditNoteStatus.OPEN),
        retainer=unapplied(PaymentKind.RETAINER),
        ledger=sum(
            row["total_minor"] for row in invoices if row["status"] in (*PAYABLE_STATUSES, InvoiceStatus.PAID)
        )
        - sum(row["amount_minor"] for row in payments)
        - sum(
            row["total_minor"]
            for row in notes
            if row["status"] in (CreditNoteStatus.OPEN, CreditNoteStatus.CLOSED)
        )
        + sum(row["amount_minor"] for row in rows("refunds") if row["status"] != RefundStatus.FAILED),
    )


def check_balances(db: Database, client: dict[str, Any], expected: Figures) -> None:
    with db.reading() as session:
        balances = client_balances(session, client["id"], client["currency"])
        ledger = ledger_balance(session, client["id"], client["currency"])
    shown = (balances.outstanding.minor, balances.available_credits.minor, balances.available_retainer.minor)
    assert shown == (expected.outstanding, expected.credits, expected.retainer), client["display_name"]
    assert ledger.minor == expected.ledger
    assert balances.net == ledger  # the invariant: outstanding - credits - retainer = the ledger


def check_invoices(db: Database, fixture: Fixture) -> None:
    """Every invoice, drafts and voided ones too, as the back office shows and prints it."""
    today = last_day(fixture)
    for row in fixture.tables["invoices"]:
        document = invoice_sheet(db, row["organization_id"], row["public_id"], today=today).document
        assert (document.number, document.total.minor, document.balance_due.minor, document.status) == (
            row["number"],
            row["total_minor"],
            row["balance_due_minor"],
            row["status"],
        )
        assert_in_pdf(
            render_invoice_pdf(document), row["number"], format_money(document.total, document.locale)
        )


def check_receipts(db: Database, fixture: Fixture, principals: dict[int, Principal]) -> None:
    """Every payment with a receipt, as its customer downloads it."""
    for row in fixture.tables["payments"]:
        if row["receipt_number"] is None:
            continue
        payment = get_payment(db, principals[row["client_id"]], row["public_id"])
        assert (payment.receipt_number, payment.amount.minor) == (row["receipt_number"], row["amount_minor"])
        assert_in_pdf(
            render_receipt_pdf(payment), row["receipt_number"], format_money(payment.amount, payment.locale)
        )


def check_statements(db: Database, fixture: Fixture, principals: dict[int, Principal]) -> None:
    """Each client's statement over its whole history: every credit note on it, and the closing
    balance the rows add up to. (Credit notes have no PDF of their own; the statement prints them.)"""
    end = last_day(fixture)
    period = resolve_period(PeriodPreset.CUSTOM, today=end, start=end - timedelta(days=3 * 365), end=end)
    for client_id, principal in principals.items():
        statement = build_statement(db, principal, period, today=end)
        assert (statement.opening.minor, statement.closing.minor) == (
            0,
            figures_from_rows(fixture, client_id).ledger,
        )
        printed = {
            line.reference: -line.amount_minor
            for line in statement.lines
            if line.kind == LineKind.CREDIT_NOTE
        }
        notes = [row for row in fixture.tables["credit_notes"] if row["client_id"] == client_id]
        assert printed == {
            row["number"]: row["total_minor"] for row in notes if row["status"] != CreditNoteStatus.DRAFT
        }
        assert_in_pdf(render_statement_pdf(statement), *printed)


def last_day(fixture: Fixture) -> Any:
    """A day after everything the demo made (a draft is dated the day of seeding, its due date later)."""
    return fixture.seeded_at.date() + timedelta(days=60)


def assert_in_pdf(content: bytes, *texts: str) -> None:
    printed = "\n".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages)
    for expected in texts:
        assert expected in printed
