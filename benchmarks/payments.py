"""How long does the portal itself take over online payments, the gateway's own time aside?

One payer: in a temporary SQLite file, a client owes 20 invoices; each run pays all of them with Pay
Now through the sandbox gateway: plan, store the attempt, charge, book the receipt, allocate over the
20 invoices (oldest due first) and queue the receipt and the business's notice in the outbox. Each run
gets a fresh set of 20 invoices, so every run does the full work. The script checks the outcome before
timing. Target: median under 30 ms.

Many payers at once (``--payers``, 50 by default): as many customers, each owing a few invoices, have
the Pay page open (its plan made when the page was drawn, in the database pool) and press Pay Now at
the same moment; each payment is paid in the portal's gateway pool (``components.offload``), as the
Pay page does. Its time runs from the click to the outcome, waiting in that pool included. Then every
invoice must have been charged exactly once: one receipt and one sandbox charge per customer, each
invoice paid in full and by no more. On SQLite, and on PostgreSQL when ``--postgres URL`` (or
``PORTAL_BENCH_POSTGRES_URL``) names a server: a database of its own is made there and dropped after.
The process is first made what the portal's is once started (``app.py``): the catalogues compiled,
and Python's collector settled (``settle_collector``). Target: 95th percentile under 500 ms.

    python benchmarks/payments.py [--runs 200] [--invoices 20] [--payers 50] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The imports below need the repository root on sys.path, which the lines above ensure.
from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import settle_collector  # noqa: E402
from components.offload import gateway_bound, io_bound, shut_down  # noqa: E402
from models import Allocation, Invoice, OutboxEmail, Payment, PaymentStatus, SandboxCharge  # noqa: E402
from services.database import Database  # noqa: E402
from services.gateways.base import CardDetails, ChargeRequest  # noqa: E402
from services.gateways.sandbox import SandboxGateway  # noqa: E402
from services.gateways.sandbox_records import DatabaseRecords  # noqa: E402
from services.i18n.catalogues import preload_catalogues  # noqa: E402
from services.invoices import create_invoice, send_invoice  # noqa: E402
from services.online_payments import pay, plan_pay_all  # noqa: E402
from services.principal import Principal  # noqa: E402
from services.totals import LineInput  # noqa: E402
from tests.factories import TODAY, make_client, make_organization, make_portal_user  # noqa: E402

TARGET_MEDIAN_MS = 30.0
TARGET_CONCURRENT_P95_MS = 500.0
INVOICES_PER_PAYER = 3
CARD = CardDetails("4242424242424242", 12, 2040, "123", "Bench Mark")


def owe(db: Database, client_id: int, count: int, run: int) -> None:
    """``count`` sent invoices with different due dates, for one run."""
    for index in range(count):
        ref = create_invoice(
            db,
            client_id=client_id,
            lines=[LineInput("Consulting", Decimal(index % 3 + 1), 12_345 + run + index)],
            issue_date=TODAY,
            due_date=TODAY + timedelta(days=index % 28),
        )
        send_invoice(db, ref.id)


def one_payer(runs: int, invoices: int) -> list[float]:
    """Milliseconds of each of ``runs`` Pay Now payments over ``invoices`` invoices, one after another."""
    with tempfile.TemporaryDirectory() as folder:
        db = Database.from_url(f"sqlite:///{Path(folder) / 'bench.db'}")
        db.migrate()
        organization = make_organization(db)
        client = make_client(db, organization)
        user = make_portal_user(db, client, "bench@client.example")
        principal = Principal(user, client, organization, "Bench", "bench@client.example", 1)
        gateway = SandboxGateway(records=DatabaseRecords(db))  # as the portal runs it: its record kept
        timings = []
        for run in range(runs):
            owe(db, client, invoices, run)
            started = time.perf_counter()
            plan = plan_pay_all(db, principal)
            outcome = pay(db, gateway, principal, plan, ChargeRequest("", 0, "", "", card=CARD))
            timings.append((time.perf_counter() - started) * 1000)
            assert outcome.status == "succeeded", outcome
            assert len(plan.lines) == invoices
        with db.reading() as session:
            unpaid = session.scalar(
                select(func.count()).select_from(Invoice).where(Invoice.balance_due_minor > 0)
            )
            payments = session.scalar(select(func.count()).select_from(Payment))
            emails = session.scalar(select(func.count()).select_from(OutboxEmail))
        assert (unpaid, payments, emails) == (0, runs, 2 * runs), (unpaid, payments, emails)
        db.engine.dispose()
    return timings


@dataclass(frozen=True)
class ConcurrentFigures:
    database: str  # "SQLite" or "PostgreSQL"
    payers: int
    p50_ms: float
    p95_ms: float
    failed: int  # payments that did not succeed
    charged_once: bool  # every invoice charged exactly once, every customer once


def percentile(timings: list[float], share: float) -> float:
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def concurrent_payers(url: str, payers: int, *, invoices: int = INVOICES_PER_PAYER) -> ConcurrentFigures:
    """``payers`` customers press Pay Now at once on the database at ``url`` (migrated here)."""
    preload_catalogues()  # as the portal does when it starts (app.py), and its collector as settled then
    settle_collector()
    db = Database.from_url(url)
    try:
        db.migrate()
        organization = make_organization(db)
        principals = []
        for index in range(payers):
            client = make_client(db, organization, name=f"Payer {index}")
            email = f"payer{index}@client.example"
            user = make_portal_user(db, client, email)
            principals.append(Principal(user, client, organization, f"Payer {index}", email, 1))
            owe(db, client, invoices, index)
        gateway = SandboxGateway(records=DatabaseRecords(db))
        timings, outcomes = asyncio.run(_pay_at_once(db, gateway, principals))
        charged_once = _charged_once(db, payers, invoices)
    finally:
        shut_down()
        db.engine.dispose()
    return ConcurrentFigures(
        "PostgreSQL" if url.startswith("postgresql") else "SQLite",
        payers,
        statistics.median(timings),
        percentile(timings, 0.95),
        sum(1 for outcome in outcomes if outcome != "succeeded"),
        charged_once,
    )


async def _pay_at_once(
    db: Database, gateway: SandboxGateway, principals: list[Principal]
) -> tuple[list[float], list[str]]:
    start = asyncio.Event()
    drawn = asyncio.Semaphore(0)

    async def payer(principal: Principal) -> tuple[float, str]:
        plan = await io_bound(plan_pay_all, db, principal)  # the Pay page, drawn before the click
        drawn.release()
        await start.wait()
        started = time.perf_counter()
        try:  # as the Pay page's Pay Now: the payment in the gateway pool
            request = ChargeRequest("", 0, "", "", card=CARD)
            outcome = await gateway_bound(pay, db, gateway, principal, plan, request)
            status = outcome.status
        except Exception as error:
            status = f"{type(error).__name__}: {error}"
        return (time.perf_counter() - started) * 1000, status

    tasks = [asyncio.create_task(payer(principal)) for principal in principals]
    for _ in principals:  # every Pay page drawn, every payer waiting for the same moment
        await drawn.acquire()
    start.set()
    results = await asyncio.gather(*tasks)
    for _, status in results:
        if status != "succeeded":
            print(f"  a payment did not succeed: {status}")
    return [timing for timing, _ in results], [status for _, status in results]


def _charged_once(db: Database, payers: int, invoices: int) -> bool:
    with db.reading() as session:
        receipts = session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.SUCCEEDED)
        )
        per_client = session.execute(
            select(func.count()).select_from(Payment).group_by(Payment.client_id).having(func.count() > 1)
        ).all()
        charges = session.scalar(select(func.count()).select_from(SandboxCharge))
        unpaid = session.scalar(
            select(func.count()).select_from(Invoice).where(Invoice.balance_due_minor != 0)
        )
        allocated = dict(
            session.execute(
                select(Allocation.invoice_id, func.sum(Allocation.amount_minor)).group_by(
                    Allocation.invoice_id
                )
            ).all()
        )
        totals = dict(session.execute(select(Invoice.id, Invoice.total_minor)).all())
    return (
        receipts == payers
        and not per_client
        and charges == payers
        and unpaid == 0
        and allocated == totals
        and len(totals) == payers * invoices
    )


def postgres_database(server_url: str) -> tuple[str, str]:
    """A new, empty database on the server at ``server_url``: its URL and name."""
    name = f"bench_payments_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False), name


def drop_postgres_database(server_url: str, name: str) -> None:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def concurrent_on_postgres(server_url: str, payers: int) -> ConcurrentFigures:
    url, name = postgres_database(server_url)
    try:
        return concurrent_payers(url, payers)
    finally:
        drop_postgres_database(server_url, name)


def concurrent_on_sqlite(payers: int) -> ConcurrentFigures:
    with tempfile.TemporaryDirectory() as folder:
        return concurrent_payers(f"sqlite:///{Path(folder) / 'bench.db'}", payers)


def print_concurrent(figures: ConcurrentFigures) -> None:
    verdict = "met" if figures.p95_ms < TARGET_CONCURRENT_P95_MS and figures.charged_once else "MISSED"
    print(f"{figures.payers} customers paying at once, sandbox card, {figures.database}")
    print(
        f"  median {figures.p50_ms:.0f} ms, 95th percentile {figures.p95_ms:.0f} ms, failed {figures.failed}"
    )
    print(f"  each invoice charged once: {'yes' if figures.charged_once else 'NO'}")
    print(f"  target: 95th percentile under {TARGET_CONCURRENT_P95_MS:.0f} ms, no double charge -> {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument("--payers", type=int, default=50, help="customers paying at once (0: skip)")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("PORTAL_BENCH_POSTGRES_URL", ""),
        help="a PostgreSQL server's URL for the payers at once (default: $PORTAL_BENCH_POSTGRES_URL)",
    )
    args = parser.parse_args()
    if args.runs:
        timings = one_payer(args.runs, args.invoices)
        median = statistics.median(timings)
        p90 = percentile(timings, 0.9)
        print(f"Pay Now over {args.invoices} invoices, sandbox card, SQLite, {args.runs} runs")
        print(f"  median {median:.1f} ms, 90th percentile {p90:.1f} ms, fastest {min(timings):.1f} ms")
        verdict = "met" if median < TARGET_MEDIAN_MS else "MISSED"
        print(f"  target: median under {TARGET_MEDIAN_MS:.0f} ms -> {verdict}")
    if args.payers:
        print_concurrent(concurrent_on_sqlite(args.payers))
        if args.postgres:
            print_concurrent(concurrent_on_postgres(args.postgres, args.payers))
        else:
            print("PostgreSQL: skipped (give --postgres URL or set PORTAL_BENCH_POSTGRES_URL)")


if __name__ == "__main__":
    main()
