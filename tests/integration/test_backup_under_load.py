"""A backup taken while payments, invoices and credit notes are being written restores a consistent
snapshot: the state after some number of whole transactions, never a part of one.

A writer thread runs a fixed script of service calls (one transaction each) while the backup runs. The
restored database must equal a replay of the script's first k steps into a fresh database, for some k
the backup fell between; then every client holds the accounting invariant, every payment has all its
allocations, and every invoice, receipt and statement PDF and every credit note reads the same as the
replay's, which is the source at the moment of the backup.
"""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

import models
from models import Allocation, CreditNote, Invoice, Payment, Refund
from models.refund import RefundSource
from services.backup import create_backup, restore_backup
from services.balances import client_balances, ledger_balance
from services.business_documents import get_credit_note, invoice_sheet
from services.credit_notes import issue_credit_note
from services.credits import apply_to_invoice
from services.database import Database, make_engine
from services.invoices import create_invoice, send_invoice
from services.money import Money
from services.payments import record_payment
from services.payments_made import get_payment
from services.pdf.invoice import render_invoice_pdf
from services.pdf.receipt import render_receipt_pdf
from services.pdf.statement import render_statement_pdf
from services.principal import Principal
from services.records import DocumentRef
from services.settings import Settings
from services.statement import PeriodPreset, check_statement, resolve_period
from services.totals import LineInput
from tests.conftest import BACKENDS
from tests.factories import NOW, TODAY, fixed_clock, make_client, make_organization, make_portal_user
from tests.unit.services.test_backup import empty_postgres

CLIENTS = 3
BEFORE_BACKUP = 60  # steps written before the backup starts
AFTER_BACKUP = 25  # steps written after it ended, at least


class Business:
    """One business with three clients and a contact each, made the same way in every database."""

    def __init__(self, db: Database) -> None:
        self.organization_id = make_organization(db)
        self.principals = []
        for number in range(CLIENTS):
            client_id = make_client(db, self.organization_id, name=f"Client {number}")
            email = f"contact{number}@client.example"
            user_id = make_portal_user(db, client_id, email)
            self.principals.append(
                Principal(user_id, client_id, self.organization_id, "Contact", email, user_id)
            )


class Script:
    """The writer's steps: each one service call, one transaction, the same on every database."""

    def __init__(self, db: Database, business: Business) -> None:
        self.db, self.business = db, business
        self.invoices: dict[int, tuple[DocumentRef, int]] = {}

    def step(self, number: int) -> None:
        client_id = self.business.principals[(number // 5) % CLIENTS].client_id
        kind = number % 5
        if kind == 0:  # a new invoice, as a draft
            total = 1_000 + 7 * number
            ref = create_invoice(
                self.db,
                client_id=client_id,
                lines=[LineInput(f"Work {number}", Decimal(1), total)],
                issue_date=TODAY,
                due_date=TODAY + timedelta(days=30),
                clock=fixed_clock,
            )
            self.invoices[client_id] = (ref, total)
        elif kind == 1:
            send_invoice(self.db, self.invoices[client_id][0].id, clock=fixed_clock)
        elif kind == 2:  # half of it paid, and 50 more kept as credit
            ref, total = self.invoices[client_id]
            record_payment(
                self.db,
                client_id=client_id,
                amount=Money(total // 2 + 50, "USD"),
                method="bank_transfer",
                received_at=NOW,
                allocations={ref.id: total // 2},
                clock=fixed_clock,
            )
        elif kind == 3:
            issue_credit_note(
                self.db,
                client_id=client_id,
                lines=[LineInput("Goodwill", Decimal(1), 120)],
                issue_date=TODAY,
                clock=fixed_clock,
            )
        else:  # some of the credit applied to the invoice
            apply_to_invoice(
                self.db,
                client_id=client_id,
                invoice_id=self.invoices[client_id][0].id,
                amount=Money(100, "USD"),
                source=RefundSource.CREDIT,
                clock=fixed_clock,
            )


class Writer(threading.Thread):
    """Runs the script until told to stop; ``steps`` counts the committed ones."""

    def __init__(self, script: Script) -> None:
        super().__init__(daemon=True)
        self.script = script
        self.steps = 0
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.script.step(self.steps)
                self.steps += 1
        except BaseException as error:  # handed to the test, which fails with it
            self.error = error

    def wait_for(self, steps: int) -> None:
        deadline = time.monotonic() + 60
        while self.steps < steps:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, f"the writer made {self.steps} of {steps} steps"
            time.sleep(0.005)


def fingerprint(db: Database) -> tuple[tuple[int, ...], ...]:
    """Counts and sums that every step of the script changes."""
    with db.reading() as session:

        def row(*columns: Any) -> tuple[int, ...]:
            return tuple(int(value or 0) for value in session.execute(select(*columns)).one())

        return (
            row(func.count(Invoice.id), func.count(Invoice.sent_at), func.sum(Invoice.balance_due_minor)),
            row(func.count(Payment.id), func.sum(Payment.unapplied_minor)),
            row(func.count(CreditNote.id), func.sum(CreditNote.remaining_minor)),
            row(func.count(Allocation.id), func.sum(Allocation.amount_minor)),
        )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def documents(db: Database, business: Business) -> dict[str, object]:
    """Every document as its reader sees it: PDF text, or the credit note's figures."""
    shown: dict[str, object] = {}
    with db.reading() as session:
        invoices = session.execute(select(Invoice.number, Invoice.public_id)).all()
        notes = session.execute(select(CreditNote.number, CreditNote.public_id)).all()
        payments = session.execute(select(Payment.receipt_number, Payment.public_id, Payment.client_id)).all()
    for number, public_id in invoices:
        sheet = invoice_sheet(db, business.organization_id, public_id, today=TODAY)
        shown[f"invoice {number}"] = pdf_text(render_invoice_pdf(sheet.document))
    for number, public_id in notes:
        note = get_credit_note(db, business.organization_id, public_id)
        lines = [(line.description, line.amount_minor, line.tax_minor) for line in note.lines]
        shown[f"credit note {number}"] = (note.status, note.total_minor, note.remaining_minor, lines)
    by_client = {principal.client_id: principal for principal in business.principals}
    for receipt_number, public_id, client_id in payments:
        payment = get_payment(db, by_client[client_id], public_id)
        shown[f"receipt {receipt_number}"] = pdf_text(render_receipt_pdf(payment))
    period = resolve_period(PeriodPreset.THIS_YEAR, today=TODAY)
    for principal in business.principals:
        check = check_statement(db, principal, period, today=TODAY)
        assert check.problems == (), check.problems  # statement, ledger and dashboard agree
        shown[f"statement {principal.email}"] = pdf_text(render_statement_pdf(check.statement))
    return shown


def assert_consistent(db: Database, business: Business) -> None:
    """The invariant for every client, and every payment's allocations and refunds all there."""
    with db.reading() as session:
        for principal in business.principals:
            balances = client_balances(session, principal.client_id, "USD")
            assert balances.net == ledger_balance(session, principal.client_id, "USD")
        for payment in session.scalars(select(Payment)):
            allocated = session.scalar(
                select(func.coalesce(func.sum(Allocation.amount_minor), 0)).where(
                    Allocation.payment_id == payment.id
                )
            )
            refunded = session.scalar(
                select(func.coalesce(func.sum(Refund.amount_minor), 0)).where(Refund.payment_id == payment.id)
            )
            settled = payment.amount_minor - payment.unapplied_minor
            assert settled == int(allocated or 0) + int(refunded or 0), payment.receipt_number


def migrated(url: str) -> Database:
    db = Database.from_url(url)
    db.migrate()
    return db


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backup_under_write_load_restores_the_state_of_one_moment(backend: str, tmp_path: Path):
    postgres = backend == "postgresql"
    source = Settings(
        data_dir=tmp_path / "source", database_url=empty_postgres("backup_load") if postgres else ""
    )
    source.data_dir.mkdir()
    db = migrated(source.resolved_database_url)
    business = Business(db)
    writer = Writer(Script(db, business))

    writer.start()
    try:
        writer.wait_for(BEFORE_BACKUP)
        backup = create_backup(source)
        writer.wait_for(writer.steps + AFTER_BACKUP)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None, writer.error
    target = Settings(
        data_dir=tmp_path / "restored", database_url=empty_postgres("backup_load_target") if postgres else ""
    )
    restore_backup(target, backup.path)
    restored = Database.from_url(target.resolved_database_url)

    # The restored database is the replay after k whole steps, for one k during the backup.
    replay = Database(make_engine(f"sqlite:///{tmp_path / 'replay.db'}"))
    models.Base.metadata.create_all(replay.engine)
    replay_business = Business(replay)
    script, steps, wanted = Script(replay, replay_business), 0, fingerprint(restored)
    while fingerprint(replay) != wanted:
        assert steps < writer.steps, "the restored database is no state the writer ever left"
        script.step(steps)
        steps += 1
    assert BEFORE_BACKUP <= steps < writer.steps - AFTER_BACKUP + 1

    assert_consistent(restored, business)
    shown = documents(restored, business)
    assert shown == documents(replay, replay_business)
    assert sum(name.startswith("receipt") for name in shown) >= BEFORE_BACKUP // 5
    for database in (db, restored, replay):
        database.engine.dispose()
