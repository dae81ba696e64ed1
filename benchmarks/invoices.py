"""How fast are the Invoices list and the invoice PDF for a client with 100,000 invoices?

Builds the same history as benchmarks/dashboard.py, then times the first page of the list, a filtered
page and a sorted page (each a count and a page query in SQL), and the invoice PDF.

    python benchmarks/invoices.py [--invoices 100000] [--runs 30]

Targets: each list page under 100 ms (median); a one-page PDF under 30 ms; a 500-line PDF under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pypdf import PdfReader  # noqa: E402

from benchmarks.dashboard import build  # noqa: E402
from benchmarks.invoice_pdf import invoice, timings_ms  # noqa: E402
from services.database import Database, make_engine, upgrade_to_head  # noqa: E402
from services.invoice_list import InvoiceFilter, InvoiceListQuery, list_invoices  # noqa: E402
from services.pdf.fonts import preload_fonts  # noqa: E402
from services.pdf.invoice import render_invoice_pdf  # noqa: E402

LIST_TARGET_MS = 100.0
ONE_PAGE_TARGET_MS = 30.0
LONG_TARGET_MS = 1000.0


def median_ms(call: Callable[[], object], runs: int) -> float:
    call()  # warm up
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    met = True
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as folder:
        database = Database(make_engine(f"sqlite:///{Path(folder) / 'bench.db'}"))
        upgrade_to_head(database.engine)
        big, _small = build(database, arguments.invoices)
        today = datetime.now(UTC).date()
        pages = {
            "first page": InvoiceListQuery(),
            "filtered (Unpaid)": InvoiceListQuery(filter=InvoiceFilter.UNPAID),
            "filtered (Paid), page 40": InvoiceListQuery(filter=InvoiceFilter.PAID, page=40),
            "sorted by balance due": InvoiceListQuery(sort="balance", descending=True),
            "searched by number": InvoiceListQuery(search="0042"),
        }
        results = []
        for name, query in pages.items():
            page = list_invoices(database, big, query, today=today)
            elapsed = median_ms(partial(list_invoices, database, big, query, today=today), arguments.runs)
            met = met and elapsed < LIST_TARGET_MS
            results.append(
                f"  {name}: median {elapsed:.1f} ms ({page.total_count} matching, {len(page.rows)} shown)"
            )
        database.engine.dispose()
    print(f"invoice list, {arguments.invoices} invoices of one client (target < {LIST_TARGET_MS:.0f} ms):")
    print("\n".join(results))

    preload_fonts()
    one_page = invoice(5)
    long = replace(invoice(500), number="INV-00500")
    long_pages = len(PdfReader(BytesIO(render_invoice_pdf(long))).pages)
    one_page_ms = statistics.median(timings_ms(one_page, 50))
    long_ms = statistics.median(timings_ms(long, 5))
    met = met and one_page_ms < ONE_PAGE_TARGET_MS and long_ms < LONG_TARGET_MS
    print(
        f"invoice PDF: 1 page median {one_page_ms:.1f} ms (target < {ONE_PAGE_TARGET_MS:.0f}); "
        f"500 lines median {long_ms:.0f} ms, {long_pages} pages (target < {LONG_TARGET_MS:.0f})"
    )
    print(f"targets: {'met' if met else 'MISSED'}")
    if not met:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
