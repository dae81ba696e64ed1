"""Database, PDF and gateway work each wait only for their own kind (components.offload)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from nicegui import core

from components import offload
from components.offload import gateway_bound, io_bound, pdf_bound


@pytest.fixture(autouse=True)
def fresh_pools():
    yield
    offload.shut_down()  # each test's threads end with it


async def test_a_gateway_holding_every_gateway_thread_does_not_hold_up_the_database_or_a_pdf():
    answer = threading.Event()  # the gateway never answers until the test is over
    calls = offload.GATEWAY_THREADS + 4
    waiting = [asyncio.ensure_future(gateway_bound(answer.wait, 10)) for _ in range(calls)]
    await asyncio.sleep(0.05)
    try:
        assert await asyncio.wait_for(io_bound(lambda: "read"), timeout=2) == "read"
        assert await asyncio.wait_for(pdf_bound(lambda: b"%PDF"), timeout=2) == b"%PDF"
    finally:
        answer.set()
        assert all(await asyncio.gather(*waiting))


async def test_statements_rendering_in_every_pdf_thread_do_not_hold_up_the_database():
    rendered = threading.Event()
    waiting = [asyncio.ensure_future(pdf_bound(rendered.wait, 10)) for _ in range(offload.PDF_THREADS * 3)]
    await asyncio.sleep(0.05)
    try:
        assert await asyncio.wait_for(io_bound(lambda: 42), timeout=2) == 42
    finally:
        rendered.set()
        await asyncio.gather(*waiting)


async def test_each_kind_runs_at_most_its_number_of_threads_at_once():
    running, most = 0, 0
    lock = threading.Lock()
    gate = threading.Event()

    def work() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        gate.wait(10)
        with lock:
            running -= 1

    calls = [asyncio.ensure_future(pdf_bound(work)) for _ in range(offload.PDF_THREADS + 3)]
    await asyncio.sleep(0.1)
    gate.set()
    await asyncio.gather(*calls)
    assert most == offload.PDF_THREADS


async def test_a_service_that_returns_none_gives_none_and_its_errors_pass_through():
    def nothing() -> int | None:
        return None

    assert await io_bound(nothing) is None
    with pytest.raises(ZeroDivisionError):
        await gateway_bound(lambda: 1 / 0)


async def test_while_the_portal_shuts_down_new_work_is_cancelled_not_run(monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(type(core.app), "is_stopping", property(lambda _app: True))
    for offloaded in (io_bound, pdf_bound, gateway_bound):
        with pytest.raises(asyncio.CancelledError):
            await offloaded(ran.append, "work")
    assert ran == []


async def test_the_shutdown_drops_queued_work_and_the_pools_serve_again_afterwards():
    gate = threading.Event()
    ran: list[str] = []
    busy = [asyncio.ensure_future(pdf_bound(gate.wait, 10)) for _ in range(offload.PDF_THREADS)]
    await asyncio.sleep(0.05)
    queued = asyncio.ensure_future(pdf_bound(ran.append, "late"))
    await asyncio.sleep(0.05)
    offload.shut_down()
    gate.set()
    await asyncio.gather(*busy)
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert ran == []
    assert await pdf_bound(lambda: "again") == "again"
