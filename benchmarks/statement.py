"""How fast is the Statement of Accounts for a client with 10,000 transactions in the period?

Builds, in a temporary SQLite file, a client with five years of paid history before the period and, in
the twelve months that end today, 10,000 or more statement lines: invoices and their payments (some by
card, some by transfer, some paying too much), credit notes applied to later invoices, voided invoices
and credit notes, a retainer paid and partly used, refunds of overpayments, and invoices still open.
Rows go in with bulk core inserts, but as the services would have written them; the script checks that
before timing, and that the statement's closing balance is ``ledger_balance`` and the dashboard's net
balance. Then it times ``services.statement.build_statement`` and ``render_statement_pdf``.

    python benchmarks/statement.py [--lines 10000] [--runs 20] [--pdf-runs 5]

Targets: the statement under 200 ms and its PDF under 3 s (medians).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The imports below need the repository root on sys.path, which the lines above ensure.
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import text  # noqa: E402

from benchmarks.dashboard import Client, Rows, at, counting, insert, queries  # noqa: E402
from models.base import new_public_id  # noqa: E402
from services.balances import client_balances, ledger_balance  # noqa: E402
from services.database import Database, make_engine, upgrade_to_head  # noqa: E402
from services.pdf.fonts import preload_fonts  # noqa: E402
from services.pdf.statement import render_statement_pdf  # noqa: E402
from services.principal import Principal  # noqa: E402
from services.statement import Period, PeriodPreset, Statement, build_statement  # noqa: E402

TARGET_STATEMENT_MS = 200.0
TARGET_PDF_S = 3.0
HISTORY_INVOICES = 5_000  # before the period: only the opening balance's SQL sums read them


def build(database: Database, lines: int, today: date) -> tuple[Principal, Period]:
    rows = Rows()
    rng = Random(2026)
    created = datetime(2019, 1, 1, tzinfo=UTC)
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
        is_demo=False,
        address_line1="1 Main Street",
        address_line2="",
        city="Springfield",
        region="",
        postal_code="12345",
        country="US",
        created_at=created,
    )
    client_row = rows.add(
        "clients",
        public_id=new_public_id(),
        organization_id=organization["id"],
        display_name="Big Client",
        company_name="Big Client Ltd",
        email="billing@bigclient.example",
        phone="",
        currency="USD",
        address_line1="2 High Street",
        address_line2="",
        city="Shelbyville",
        region="",
        postal_code="54321",
        country="US",
        created_at=created,
    )
    user = rows.add(
        "portal_users",
        public_id=new_public_id(),
        client_id=client_row["id"],
        name="Pat Customer",
        email="pat@bigclient.example",
        phone="",
        password_hash=None,
        is_active=True,
        invited_at=None,
        password_changed_at=None,
        last_login_at=None,
        created_at=created,
    )
    client = Client(rows, organization["id"], client_row["id"], user["id"])
    start = today - timedelta(days=364)
    history_start = start - timedelta(days=5 * 365)

    for index in range(HISTORY_INVOICES):  # paid in full, long ago
        day = history_start + timedelta(days=index * 5 * 365 // HISTORY_INVOICES)
        invoice = client.invoice(day, rng.randrange(1_000, 200_000))
        client.payment(
            at(day + timedelta(days=10), 14), invoice["total_minor"], [(invoice, invoice["total_minor"])]
        )

    retainer = client.invoice(start, 500_000, kind="retainer")
    retainer_payment = client.payment(at(start, 15), 500_000, [], retainer_for=retainer)
    made = 2  # statement lines so far: none of the history, and the retainer payment
    index = 0
    span = 364
    while made < lines:
        # About 1.9 lines an invoice: spread that many invoices over the period, none after today.
        day = min(start + timedelta(days=index * span * 19 // (lines * 10)), today)
        total = rng.randrange(1_000, 300_000)
        invoice = client.invoice(day, total)
        made += 1
        received = at(min(day + timedelta(days=rng.randrange(0, 20)), today), 14)
        if day >= today - timedelta(days=45):  # the newest are still open
            index += 1
            continue
        if index % 97 == 5:  # sent by mistake and voided a day later
            invoice.update(
                status="void", balance_due_minor=0, voided_at=at(min(day + timedelta(days=1), today), 9)
            )
            made += 1
        elif index % 211 == 7:  # a credit note and its void
            note = client.credit_note(day, rng.randrange(1_000, 20_000))
            client.credit.remove(note)
            note.update(
                status="void", remaining_minor=0, voided_at=at(min(day + timedelta(days=2), today), 11)
            )
            client.payment(received, total, [(invoice, total)])
            made += 3
        elif index % 53 == 0:  # a credit note, used on a later invoice
            client.credit_note(day, rng.randrange(1_000, 50_000))
            client.payment(received, total, [(invoice, total)])
            made += 2
        elif index == 300:  # part of the retainer pays this one
            share = min(total, 100_000)
            client.allocate(invoice, retainer_payment, share, "retainer", received)
            if total > share:
                client.payment(received, total - share, [(invoice, total - share)])
                made += 1
        elif index % 17 == 3 and client.available_credit() > 0:  # credit first, the rest paid
            applied = client.apply_credit(invoice, total, received)
            if total > applied:
                client.payment(received, total - applied, [(invoice, total - applied)])
                made += 1
        elif index % 101 == 9:  # paid too much; the excess refunded a week later
            payment = client.payment(received, total + 5_000, [(invoice, total)])
            refund(rows, client, payment, 5_000, received + timedelta(days=7), today)
            made += 2
        else:
            client.payment(received, total, [(invoice, total)])
            made += 1
        index += 1

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
    principal = Principal(
        user["id"], client.id, organization["id"], user["name"], user["email"], session_id=0
    )
    return principal, Period(PeriodPreset.CUSTOM, start, today)


def refund(
    rows: Rows, client: Client, payment: dict[str, Any], amount: int, when: datetime, today: date
) -> None:
    """Pay back part of a payment's excess, as ``services.credits.refund_available`` would."""
    when = min(when, at(today, 1))
    rows.add(
        "refunds",
        public_id=new_public_id(),
        client_id=client.id,
        payment_id=payment["id"],
        credit_note_id=None,
        refund_request_id=None,
        amount_minor=amount,
        currency=client.currency,
        status="succeeded",
        method="manual",
        gateway_refund_id=None,
        refunded_at=when,
        created_at=when,
    )
    payment["unapplied_minor"] -= amount
    if payment["unapplied_minor"] == 0 and payment in client.credit:
        client.credit.remove(payment)


def check_consistency(database: Database, principal: Principal, statement: Statement) -> None:
    """The rows are what the services would have left, and the statement closes at the ledger."""
    mismatches = {
        "invoices": """
            SELECT count(*) FROM invoices i
            LEFT JOIN (SELECT invoice_id, sum(amount_minor) AS applied FROM allocations GROUP BY invoice_id) a
                ON a.invoice_id = i.id
            LEFT JOIN (SELECT retainer_invoice_id, sum(amount_minor) AS paid FROM payments
                       WHERE kind = 'retainer' GROUP BY retainer_invoice_id) r ON r.retainer_invoice_id = i.id
            WHERE (i.status <> 'void'
                   AND i.balance_due_minor <> i.total_minor - coalesce(a.applied, 0) - coalesce(r.paid, 0))
               OR (i.status = 'void' AND (i.balance_due_minor <> 0 OR a.applied IS NOT NULL))
               OR i.balance_due_minor < 0""",
        "payments": """
            SELECT count(*) FROM payments p
            LEFT JOIN (SELECT payment_id, sum(amount_minor) AS applied FROM allocations GROUP BY payment_id) a
                ON a.payment_id = p.id
            LEFT JOIN (SELECT payment_id, sum(amount_minor) AS refunded FROM refunds GROUP BY payment_id) f
                ON f.payment_id = p.id
            WHERE p.unapplied_minor <> p.amount_minor - coalesce(a.applied, 0) - coalesce(f.refunded, 0)
               OR p.unapplied_minor < 0""",
        "credit notes": """
            SELECT count(*) FROM credit_notes n
            LEFT JOIN (SELECT credit_note_id, sum(amount_minor) AS applied FROM allocations
                       GROUP BY credit_note_id) a ON a.credit_note_id = n.id
            WHERE (n.status <> 'void' AND n.remaining_minor <> n.total_minor - coalesce(a.applied, 0))
               OR (n.status = 'void' AND (n.remaining_minor <> 0 OR a.applied IS NOT NULL))
               OR n.remaining_minor < 0""",
    }
    with database.reading() as session:
        for what, query in mismatches.items():
            wrong = session.scalar(text(query))
            if wrong:
                raise SystemExit(f"benchmark data is inconsistent: {wrong} {what} do not match their history")
        ledger = ledger_balance(session, principal.client_id, "USD")
        net = client_balances(session, principal.client_id, "USD").net
    if not statement.closing == ledger == net:
        raise SystemExit(f"closing {statement.closing}, ledger {ledger}, dashboard net {net}")
    running = statement.opening.minor + sum(line.amount.minor for line in statement.lines)
    if running != statement.closing.minor:
        raise SystemExit(f"the lines add up to {running}, the closing balance is {statement.closing.minor}")


def check_pdf(content: bytes, statement: Statement) -> int:
    reader = PdfReader(BytesIO(content))
    last = reader.pages[-1].extract_text()
    if f"Closing balance {statement.closing}" not in last:
        raise SystemExit("the PDF does not end with the closing balance")
    return len(reader.pages)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=10_000, help="statement lines in the period, at least")
    parser.add_argument("--runs", type=int, default=20, help="timed build_statement calls")
    parser.add_argument("--pdf-runs", type=int, default=5, help="timed render_statement_pdf calls")
    arguments = parser.parse_args()
    today = datetime.now(UTC).date()

    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        database = Database(make_engine(f"sqlite:///{Path(folder) / 'bench.db'}"))
        upgrade_to_head(database.engine)
        started = time.perf_counter()
        principal, period = build(database, arguments.lines, today)
        statement = build_statement(database, principal, period, today=today)
        check_consistency(database, principal, statement)
        with database.reading() as session:
            counts = {
                table: session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed table names
                for table in ("invoices", "payments", "allocations", "credit_notes", "refunds")
            }
        print(
            f"built in {time.perf_counter() - started:.1f} s: "
            + ", ".join(f"{count} {table}" for table, count in counts.items())
        )
        kinds: dict[str, int] = {}
        for line in statement.lines:
            kinds[line.kind] = kinds.get(line.kind, 0) + 1
        print(
            f"statement {period.start} to {period.end}: {len(statement.lines)} lines ("
            + ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
            + f"), opening {statement.opening}, closing {statement.closing} = ledger"
        )

        for _ in range(3):  # warm up connections and SQLAlchemy's statement cache
            build_statement(database, principal, period, today=today)
        timings = []
        for _ in range(arguments.runs):
            started = time.perf_counter()
            build_statement(database, principal, period, today=today)
            timings.append((time.perf_counter() - started) * 1000)
        with counting(database.engine) as statements:
            build_statement(database, principal, period, today=today)
        database.engine.dispose()

    preload_fonts()
    content = render_statement_pdf(statement)
    pages = check_pdf(content, statement)
    pdf_timings = []
    for _ in range(arguments.pdf_runs):
        started = time.perf_counter()
        render_statement_pdf(statement)
        pdf_timings.append(time.perf_counter() - started)

    median = statistics.median(timings)
    pdf_median = statistics.median(pdf_timings)
    print(
        f"build_statement: median {median:.1f} ms, fastest {min(timings):.1f} ms, "
        f"{queries(statements)} queries"
    )
    print(
        f"render_statement_pdf: median {pdf_median:.2f} s, fastest {min(pdf_timings):.2f} s, "
        f"{pages} pages, {len(content) / 1024:.0f} kB"
    )
    met = median < TARGET_STATEMENT_MS and pdf_median < TARGET_PDF_S
    target = f"statement < {TARGET_STATEMENT_MS:.0f} ms, PDF < {TARGET_PDF_S:.0f} s"
    print(f"target ({target}): {'met' if met else 'MISSED'}")
    if not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
