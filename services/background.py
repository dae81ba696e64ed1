"""Periodic work in the background (the scheduler's rounds): loops that never die and never flood.

Every loop runs its rounds through ``Rounds.guard``: a round that fails because the database is
unavailable is logged once when the outage begins and once when it ends (``OutageLog``), not with a
traceback every few seconds; any other failure is a bug and is logged with its traceback. Either way
the loop goes on, and picks up again by itself once the database is back.

Each loop's last round that succeeded is kept (``seconds_since_success``) for ``/metrics``: a loop that
is stuck or failing every round shows as a growing lag, which no log line says as plainly.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from services.database_faults import OutageLog

logger = logging.getLogger("portal.background")

# loop name -> time.monotonic() of its last round that succeeded (of its start, until one has)
_last_success: dict[str, float] = {}


def seconds_since_success() -> dict[str, float]:
    """Per loop of this process, the seconds since its last round that succeeded (or since it started)."""
    now = time.monotonic()
    return {name: now - moment for name, moment in list(_last_success.items())}


def note_success(name: str, moment: float) -> None:
    """Record that ``name`` last succeeded at ``moment`` (``time.monotonic()``'s clock): the scheduler
    does for each kind of job, whichever instance ran it (``services.scheduler``)."""
    _last_success[name] = moment


class Rounds:
    """The failures of one loop's rounds, told apart and logged as ``Rounds.guard`` describes."""

    def __init__(self, name: str, *, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.outage = OutageLog(name, meanwhile=f"retrying every {interval:g} s")
        _last_success[name] = time.monotonic()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Run one round; whatever it raises (but a cancellation) is logged and swallowed."""
        try:
            yield
        except Exception as error:
            if not self.outage.failed(error):
                logger.exception("%s failed; trying again in %g s", self.name, self.interval)
        else:
            self.outage.succeeded()
            _last_success[self.name] = time.monotonic()


async def repeat(name: str, step: Callable[[], Awaitable[object]], *, interval: float) -> None:
    """Await ``step()`` every ``interval`` seconds until the task is cancelled (at shutdown)."""
    rounds = Rounds(name, interval=interval)
    while True:
        with rounds.guard():
            await step()
        await asyncio.sleep(interval)
