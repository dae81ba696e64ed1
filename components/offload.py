"""Blocking work (database, PDF, gateway) off the event loop, each kind in a bounded pool of its own.

NiceGUI's ``run.io_bound`` puts everything in one pool of ``cores + 4`` threads (6 on two cores): a few
statement PDFs (1.6 s each) or a gateway slow to answer held every worker, and Home's queries queued
behind them. Here each kind waits only for its own kind:

- ``io_bound``: database work, nearly all of it, short and frequent.
- ``pdf_bound``: rendering PDFs (fpdf2 is pure Python and holds the GIL, so more threads than cores
  would only make each PDF slower): a queue of statements waits here, not in front of the database.
- ``gateway_bound``: calls to the payment gateway, which may wait on the network for seconds; a whole
  ``pay`` or ``complete_action`` runs here, its database steps included, so a slow gateway holds only
  gateway threads.

``services.database`` sizes PostgreSQL's connection pool for all of them at once (``CONNECTIONS``).

Unlike NiceGUI's, these raise ``asyncio.CancelledError`` when the portal is shutting down instead of
returning ``None``: a background loop then ends at once, and a service that returns ``None`` is never
mistaken for a shutdown. The shutdown cancels the work still queued (``shut_down``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from nicegui import core

from services.i18n import carried

T = TypeVar("T")

DATABASE_THREADS = 8  # enough to keep PostgreSQL busy while others wait on the network; SQLite writes queue
PDF_THREADS = 2  # one per core
GATEWAY_THREADS = 16  # mostly waiting for the gateway's answer


class WorkerPool:
    """A bounded pool of threads for one kind of work, made on first use and again after a shutdown."""

    def __init__(self, name: str, threads: int) -> None:
        self.name, self.threads = name, threads
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if core.app.is_stopping:
            raise asyncio.CancelledError("the portal is shutting down")  # the work is abandoned, not failed
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix=f"portal-{self.name}")
        loop = asyncio.get_running_loop()
        # The reader (language, time zone) of the page or request goes with its work into the thread.
        return await loop.run_in_executor(self._executor, functools.partial(carried(func), *args, **kwargs))

    def shut_down(self) -> None:
        """Cancel the work still queued; what runs already finishes in its thread."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


DATABASE = WorkerPool("database", DATABASE_THREADS)
PDF = WorkerPool("pdf", PDF_THREADS)
GATEWAY = WorkerPool("gateway", GATEWAY_THREADS)
POOLS = (DATABASE, PDF, GATEWAY)
CONNECTIONS = DATABASE_THREADS + PDF_THREADS + GATEWAY_THREADS  # threads that may hold a connection at once


async def io_bound(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Database work (and other short blocking calls: files, e-mail settings)."""
    return await DATABASE.run(func, *args, **kwargs)


async def pdf_bound(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Rendering a PDF, with the queries that gather its data."""
    return await PDF.run(func, *args, **kwargs)


async def gateway_bound(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call to the payment gateway, or a service that makes one (``pay``)."""
    return await GATEWAY.run(func, *args, **kwargs)


def shut_down() -> None:
    """At the portal's shutdown: queued work is cancelled rather than run after the app has stopped."""
    for pool in POOLS:
        pool.shut_down()
