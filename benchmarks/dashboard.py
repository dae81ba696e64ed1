"""How fast is Home for a client with a long history, and does its query count stay flat?

Builds, in a temporary SQLite file, a client with 100,000 invoices (most paid through allocations, some
open, some partly paid, with credit notes, excess payments applied later, retainers and an open refund
request) and a second client with 10 invoices. Rows go in with bulk core inserts, but as the services
would have written them; the script checks that before timing. Then it times
``services.dashboard.get_dashboard`` and counts the SQL statements it sends.

    python benchmarks/dashboard.py [--invoices 100000] [--runs 50]

Target: median under 50 ms and at most 6 queries, the same for both clients.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The imports below need the repository root on sys.path, which the lines above ensure.
from sqlalchemy import Engine, event, text  # noqa: E402

import models  # noqa: E402
from models.base import new_public_id  # noqa: E402
from services.balances import client_balances, ledger_balance  # noqa: E402
from services.dashboard import get_dashboard  # noqa: E402
from services.database import Database, make_engine, upgrade_to_head  # noqa: E402
from services.principal import Principal  # noqa: E402

START = date(2016, 1, 4)
CREATED = datetime(2016, 1, 1, tzinfo=UTC)
TARGET_MEDIAN_MS = 50.0
TARGET_QUERIES = 6
CHUNK = 5_000
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@dataclass
class Rows:
    """Rows of every table, with ids assigned here so they can refer to each other before insertion."""

    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, **values: Any) -> dict[str, Any]:
        rows = self.tables.setdefault(table, [])
        row = {"id": len(rows) + 1, **values}
        rows.append(row)
        return row

    def number(self, kind: str, prefix: str) -> str:
        value = self.numbers.get(kind, 0) + 1
        self.numbers[kind] = value
        return f"{prefix}{value:05d}"


@dataclass
class Client:
    """One client's documents as the services would have produced them, built in date order."""

    rows: Rows
    organization_id: int
    id: int
    user_id: int
    currency: str = "USD"
    credit: list[dict[str, Any]] = field(default_factory=list)  # payments and notes with credit left

    def invoice(self, day: date, total: int, *, kind: str = "invoice") -> dict[str, Any]:
        row = self.rows.add(
            "invoices",
            public_id=new_public_id(),
            organization_id=self.organization_id,
            client_id=self.id,
            kind=kind,
            number=self.rows.number(kind, "INV-" if kind == "invoice" else "RET-"),
            status="sent",
            issue_date=day,
            due_date=day + timedelta(days=30),
            currency=self.currency,
            subtotal_minor=total,
            discount_minor=0,
            tax_minor=0,
            total_minor=total,
            balance_due_minor=total,
            notes="",
            terms="",
            sent_at=at(day, 9),
            viewed_at=None,
            voided_at=None,
            created_at=at(day, 8),
        )
        self.rows.add("invoice_lines", invoice_id=row["id"], **line(total))
        return row

    def credit_note(self, day: date, total: int) -> dict[str, Any]:
        note = self.rows.add(
            "credit_notes",
            public_id=new_public_id(),
            organization_id=self.organization_id,
            client_id=self.id,
            number=self.rows.number("credit_note", "CN-"),
            status="open",
            issue_date=day,
            reason="Goodwill",
            currency=self.currency,
            subtotal_minor=total,
            discount_minor=0,
            tax_minor=0,
            total_minor=total,
            remaining_minor=total,
            issued_at=at(day),
            voided_at=None,
            created_at=at(day),
        )
        self.rows.add("credit_note_lines", credit_note_id=note["id"], **line(total))
        self.credit.append(note)
        return note

    def payment(
        self,
        received: datetime,
        amount: int,
        plan: list[tuple[dict[str, Any], int]],
        *,
        retainer_for: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A settled payment: allocated as planned, the rest kept as credit (or retainer)."""
        payment = self.rows.add(
            "payments",
            public_id=new_public_id(),
            organization_id=self.organization_id,
            client_id=self.id,
            portal_user_id=self.user_id,
            kind="retainer" if retainer_for else "invoice",
            retainer_invoice_id=retainer_for["id"] if retainer_for else None,
            receipt_number=self.rows.number("receipt", "RCPT-"),
            status="succeeded",
            amount_minor=amount,
            currency=self.currency,
            unapplied_minor=amount,
            method="card",
            gateway="offline",
            gateway_payment_id=None,
            saved_method_id=None,
            method_brand="Visa",
            method_last4="4242",
            reference="",
            planned_allocations=[
                {"invoice_id": invoice["id"], "amount_minor": share} for invoice, share in plan
            ],
            failure_message="",
            is_sandbox=False,
            received_at=received,
            created_at=received,
        )
        if retainer_for:
            pay_down(retainer_for, amount)
            return payment
        for invoice, share in plan:
            self.allocate(invoice, payment, share, "payment", received)
        if payment["unapplied_minor"] > 0:
            self.credit.append(payment)
        return payment

    def allocate(
        self, invoice: dict[str, Any], source: dict[str, Any], share: int, kind: str, when: datetime
    ) -> None:
        is_payment = "receipt_number" in source
        self.rows.add(
            "allocations",
            invoice_id=invoice["id"],
            payment_id=source["id"] if is_payment else None,
            credit_note_id=None if is_payment else source["id"],
            kind=kind,
            amount_minor=share,
            created_at=when,
        )
        pay_down(invoice, share)
        if is_payment:
            source["unapplied_minor"] -= share
        else:
            source["remaining_minor"] -= share
            if source["remaining_minor"] == 0:
                source["status"] = "closed"

    def apply_credit(self, invoice: dict[str, Any], wanted: int, when: datetime) -> int:
        """Apply available credit to ``invoice``, oldest first; returns how much was applied."""
        applied = 0
        for source in list(self.credit):
            share = min(credit_left(source), wanted - applied)
            if share > 0:
                self.allocate(invoice, source, share, "credit", when)
                applied += share
            if credit_left(source) == 0:
                self.credit.remove(source)
            if applied == wanted:
                break
        return applied

    def available_credit(self) -> int:
        return sum(credit_left(source) for source in self.credit)


def credit_left(source: dict[str, Any]) -> int:
    """What is left of a credit note or of a payment's excess."""
    return int(source["remaining_minor"] if "remaining_minor" in source else source["unapplied_minor"])


def line(total: int) -> dict[str, Any]:
    return {
        "position": 1,
        "description": "Professional services",
        "quantity": Decimal(1),
        "unit_price_minor": total,
        "discount_percent": Decimal(0),
        "tax_name": "",
        "tax_rate_percent": Decimal(0),
        "amount_minor": total,
        "discount_minor": 0,
        "tax_minor": 0,
    }


def pay_down(invoice: dict[str, Any], amount: int) -> None:
    invoice["balance_due_minor"] -= amount
    assert invoice["balance_due_minor"] >= 0, invoice["number"]
    invoice["status"] = "paid" if invoice["balance_due_minor"] == 0 else "partially_paid"


def build_history(client: Client, invoices: int, rng: Random, *, open_count: int, partial_count: int) -> None:
    """Ten years of invoices; the newest still open or partly paid, all others paid."""
    span_days = 3_650
    retainer = client.invoice(START, 250_000, kind="retainer")
    retainer_payment = client.payment(at(START, 15), 250_000, [], retainer_for=retainer)
    for index in range(invoices):
        day = START + timedelta(days=index * span_days // max(invoices, 1))
        invoice = client.invoice(day, rng.randrange(1_000, 500_000))
        total = invoice["total_minor"]
        received = at(day + timedelta(days=rng.randrange(0, 40)), 14)
        if index >= invoices - open_count:
            if rng.random() < 0.5:
                invoice["status"], invoice["viewed_at"] = "viewed", at(day, 18)
            continue
        if index >= invoices - open_count - partial_count:
            part = total // 3
            client.payment(received, part, [(invoice, part)])
            continue
        if index % 5_000 == 2_500:  # a credit note now and then, used up by later invoices
            client.credit_note(day, rng.randrange(10_000, 100_000))
        if index == invoices // 2:  # part of the retainer pays an invoice
            share = min(total, 100_000)
            client.allocate(invoice, retainer_payment, share, "retainer", received)
            total -= share
        # credit is applied now and then, but not in the last year: some of it is still available
        if index % 101 == 0 and index < invoices * 9 // 10 and client.available_credit() > 0:
            total -= client.apply_credit(invoice, total, received)
        if total == 0:
            continue
        extra = rng.randrange(100, 20_000) if index % 997 == 0 else 0  # paid too much: credit
        client.payment(received, total + extra, [(invoice, total)])


def build(database: Database, invoices: int) -> tuple[Principal, Principal]:
    rows = Rows()
    rng = Random(2026)
    organization = rows.add(
        "organizations",
        public_id=new_public_id(),
        name="Benchmark Studio",
        email="hello@bench.example",
        phone="+1 555 0100",
        website="https://bench.example",
        logo=None,
        logo_mime="",
        default_currency="USD",
        locale="en_US",
        payment_terms_days=30,
        address_line1="1 Main Street",
        address_line2="",
        city="Springfield",
        region="",
        postal_code="12345",
        country="US",
        created_at=CREATED,
    )
    principals = []
    for name, count, open_count, partial_count in (
        ("Big Client", invoices, 60, 40),
        ("Small Client", 10, 3, 1),
    ):
        slug = name.lower().replace(" ", "")
        client_row = rows.add(
            "clients",
            public_id=new_public_id(),
            organization_id=organization["id"],
            display_name=name,
            company_name=f"{name} Ltd",
            email=f"billing@{slug}.example",
            phone="",
            currency="USD",
            address_line1="2 High Street",
            address_line2="",
            city="Shelbyville",
            region="",
            postal_code="54321",
            country="US",
            created_at=CREATED,
        )
        user = rows.add(
            "portal_users",
            public_id=new_public_id(),
            client_id=client_row["id"],
            name="Pat Customer",
            email=f"pat@{slug}.example",
            phone="",
            password_hash=None,
            is_active=True,
            invited_at=None,
            password_changed_at=None,
            last_login_at=None,
            created_at=CREATED,
        )
        client = Client(rows, organization["id"], client_row["id"], user["id"])
        build_history(client, count, rng, open_count=open_count, partial_count=partial_count)
        if client.available_credit() > 0:
            rows.add(
                "refund_requests",
                public_id=new_public_id(),
                client_id=client.id,
                portal_user_id=user["id"],
                source="credit",
                amount_minor=min(client.available_credit(), 5_000),
                currency="USD",
                reason="Please pay back the overpayment",
                status="open",
                decided_by_id=None,
                decision_note="",
                decided_at=None,
                created_at=at(START + timedelta(days=3_650)),
            )
        principals.append(
            Principal(user["id"], client.id, organization["id"], user["name"], user["email"], session_id=0)
        )
    prefixes = {"invoice": "INV-", "retainer": "RET-", "receipt": "RCPT-", "credit_note": "CN-"}
    for kind, last in rows.numbers.items():
        rows.add(
            "number_sequences",
            organization_id=organization["id"],
            kind=kind,
            prefix=prefixes[kind],
            next_value=last + 1,
            width=5,
        )
    insert(database.engine, rows)
    return principals[0], principals[1]


def insert(engine: Engine, rows: Rows) -> None:
    with engine.begin() as connection:
        for table in models.Base.metadata.sorted_tables:
            values = rows.tables.get(table.name, [])
            for start in range(0, len(values), CHUNK):
                connection.execute(table.insert(), values[start : start + CHUNK])


def check_consistency(database: Database, principals: tuple[Principal, ...]) -> None:
    """The data must be what the services would have left: running balances match their history."""
    mismatches = {
        "invoices": """
            SELECT count(*) FROM invoices i
            LEFT JOIN (SELECT invoice_id, sum(amount_minor) AS applied FROM allocations GROUP BY invoice_id) a
                ON a.invoice_id = i.id
            LEFT JOIN (SELECT retainer_invoice_id, sum(amount_minor) AS paid FROM payments
                       WHERE kind = 'retainer' GROUP BY retainer_invoice_id) r ON r.retainer_invoice_id = i.id
            WHERE i.balance_due_minor <> i.total_minor - coalesce(a.applied, 0) - coalesce(r.paid, 0)
               OR i.balance_due_minor < 0
               OR (i.status = 'paid') <> (i.balance_due_minor = 0)""",
        "payments": """
            SELECT count(*) FROM payments p
            LEFT JOIN (SELECT payment_id, sum(amount_minor) AS applied FROM allocations GROUP BY payment_id) a
                ON a.payment_id = p.id
            WHERE p.unapplied_minor <> p.amount_minor - coalesce(a.applied, 0) OR p.unapplied_minor < 0""",
        "credit notes": """
            SELECT count(*) FROM credit_notes n
            LEFT JOIN (SELECT credit_note_id, sum(amount_minor) AS applied FROM allocations
                       GROUP BY credit_note_id) a ON a.credit_note_id = n.id
            WHERE n.remaining_minor <> n.total_minor - coalesce(a.applied, 0) OR n.remaining_minor < 0""",
    }
    with database.reading() as session:
        for what, query in mismatches.items():
            wrong = session.scalar(text(query))
            if wrong:
                raise SystemExit(f"benchmark data is inconsistent: {wrong} {what} do not match their history")
        for principal in principals:
            balances = client_balances(session, principal.client_id, "USD")
            ledger = ledger_balance(session, principal.client_id, "USD")
            if balances.net != ledger:
                raise SystemExit(f"client {principal.client_id}: balances {balances.net} but ledger {ledger}")


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries(statements: list[str]) -> int:
    """Statements that read data; SQLite's explicit BEGIN is transaction control, not a query."""
    return sum(
        1 for statement in statements if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL)
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100_000, help="invoices of the big client")
    parser.add_argument("--runs", type=int, default=50, help="timed get_dashboard calls")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        database = Database(make_engine(f"sqlite:///{Path(folder) / 'bench.db'}"))
        upgrade_to_head(database.engine)
        started = time.perf_counter()
        big, small = build(database, arguments.invoices)
        check_consistency(database, (big, small))
        with database.reading() as session:
            counts = {
                table: session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed table names
                for table in ("invoices", "payments", "allocations", "credit_notes")
            }
        print(
            f"built in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{count} {table}" for table, count in counts.items())
        )

        for _ in range(3):  # warm up connections and SQLAlchemy's statement cache
            get_dashboard(database, big)
        timings = []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            dashboard = get_dashboard(database, big)
            timings.append((time.perf_counter() - started) * 1000)
        with counting(database.engine) as big_statements:
            get_dashboard(database, big)
        with counting(database.engine) as small_statements:
            get_dashboard(database, small)
        database.engine.dispose()

    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20, method="inclusive")[18]
    big_queries, small_queries = queries(big_statements), queries(small_statements)
    balances = dashboard.balances
    print(
        f"big client: outstanding {balances.outstanding}, credits {balances.available_credits} "
        f"({balances.reserved_credits} reserved), retainer {balances.available_retainer}"
    )
    print(
        f"dashboard: {arguments.invoices} invoices, median {median:.1f} ms, p95 {p95:.1f} ms, "
        f"{big_queries} queries (10-invoice client: {small_queries} queries); "
        f"{len(big_statements)} statements with BEGIN"
    )
    met = median < TARGET_MEDIAN_MS and max(big_queries, small_queries) <= TARGET_QUERIES
    target = f"median < {TARGET_MEDIAN_MS:.0f} ms, <= {TARGET_QUERIES} queries"
    print(f"target ({target}): {'met' if met else 'MISSED'}")
    if not met or big_queries != small_queries:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
