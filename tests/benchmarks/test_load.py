"""benchmarks/load.py's pieces run, with tiny numbers (nothing here is timed against a target)."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from benchmarks import live_pages, load, payments


def test_payers_at_once_are_each_charged_once_on_sqlite() -> None:
    thresholds = gc.get_threshold()  # the benchmark settles the collector as the portal does at start
    try:
        figures = payments.concurrent_on_sqlite(3)
    finally:
        gc.set_threshold(*thresholds)
    assert figures.charged_once
    assert figures.failed == 0


def test_credit_options_and_in_flight_are_timed_for_a_client_with_a_history() -> None:
    options_ms, in_flight_ms = load.queries(300)
    assert options_ms > 0
    assert in_flight_ms > 0


def test_a_portal_holds_connected_pages_and_answers_a_burst(tmp_path: Path) -> None:
    port = live_pages.free_port()
    process = live_pages.start_portal(load.ROOT, tmp_path / "data", port, tmp_path / "portal.log")
    url = f"http://127.0.0.1:{port}"
    try:
        burst = asyncio.run(load.burst(url, 3))
        held = asyncio.run(live_pages.measure(url, process.pid, pages=3, idle=0.2))
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert burst.errors == 0
    assert held.connected == held.pages == 3
