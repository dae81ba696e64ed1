"""Scheduled work that runs exactly once, on one instance or several: jobs claimed with a lease.

Every piece of background work is a job, a row of ``scheduled_jobs``: its kind and key, when it is due,
which instance holds its lease and until when, how many runs started since the last that succeeded, and
the last error. Each instance runs a ``Scheduler``. Every second it looks for due jobs (a read, no
lock), claims them in one short transaction (a conditional UPDATE that takes the lease; on PostgreSQL
the candidates are read ``FOR UPDATE SKIP LOCKED``, so instances claim different jobs side by side, and
on SQLite the single writer, ``services.sqlite_writers``, puts claims one after the other), runs each
with no transaction open, and records the outcome in a second short transaction: a periodic job is
armed for its next run, a one-off job is finished, a failed one is tried again after a pause.

- Two instances never run the same job: only the one whose UPDATE still finds the job free gets it.
- A crashed instance's job is taken over once its lease has expired. While a job runs, its instance
  renews the lease every third of it, so a long run keeps the job and only a dead instance loses it.
- Every job is idempotent: a run that did its work but whose outcome was not recorded (the instance
  died just then, or lost its lease) runs again, and must then do nothing twice. Each kind says how:
  the outbox claims each message, reconciliation books each answer under the payment's lock, a reminder
  is a unique row written with its e-mail.
- A sticky kind (payment settling) stays with the instance that ran it last: that instance keeps the
  lease between runs, and another takes the job over only once that lease has expired; so what the
  instance remembers between runs (reconciliation's ask schedule) is the only memory that counts.

Instances compare lease times with their own clocks: keep the machines' clocks in sync (NTP), as any
lease needs; a skew far below the lease (a minute by default) does no harm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from models import ScheduledJob
from services.background import Rounds, note_success
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.database_faults import OutageLog

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # how long a crashed instance's job waits before another takes it over
POLL_SECONDS = 1.0  # how often an instance looks for due jobs
FIRST_RETRY = timedelta(seconds=5)  # a failed run is tried again after this, twice as long each time
LONGEST_RETRY = timedelta(hours=1)
CLAIMS_PER_ROUND = 10
MAX_ERROR_LENGTH = 2000

Offload = Callable[..., Awaitable[Any]]
"""Runs a blocking call off the event loop: ``asyncio.to_thread``, or ``components.offload``'s pools."""


@dataclass(frozen=True)
class Job:
    """One run of a job, as its kind's ``run`` receives it."""

    id: int
    kind: str
    key: str
    due_at: datetime
    started_at: datetime
    attempts: int  # runs started since the last that succeeded, this one included: 1 for a first run
    last_succeeded_at: datetime | None


@dataclass(frozen=True)
class Done:
    """What a run asks for next: to run again at ``next_due`` (None: after the kind's interval), or,
    with ``finished``, never again."""

    next_due: datetime | None = None
    finished: bool = False


@dataclass(frozen=True)
class JobKind:
    """A kind of job: what a run does (blocking, called in a worker thread) and when it runs again.

    ``every`` makes it periodic: after each run that returns no ``next_due`` it is due again that much
    later (and a failed run is tried again no later than that). A kind without it is finished after a
    run, unless the run says when to come back. ``singleton`` kinds have one job (key ``""``), armed when
    the scheduler starts, due at once; others are armed by the services they belong to (``arm``).
    """

    kind: str  # stored in scheduled_jobs.kind: "outbox"
    name: str  # for the log and /metrics: "E-mail sender"
    run: Callable[[Job], Done | None]
    every: timedelta | None = None
    singleton: bool = False
    sticky: bool = False
    offload: Offload | None = None  # asyncio.to_thread when not given


@dataclass(frozen=True)
class JobState:
    """A job as the back office or a test reads it."""

    kind: str
    key: str
    due_at: datetime | None
    lease_holder: str
    lease_expires_at: datetime | None
    attempts: int
    last_error: str
    last_started_at: datetime | None
    last_succeeded_at: datetime | None


def arm(session: Session, kind: str, key: str = "", *, due_at: datetime, now: datetime) -> None:
    """Make sure the job ``kind``/``key`` runs at ``due_at`` or sooner, in the caller's transaction.

    A job not there yet is added; one due later, or finished, is brought forward to ``due_at``; one due
    sooner is left as it is. Two transactions arming the same job at once do not fail.
    """
    if insert_unless_present(
        session,
        ScheduledJob,
        ["kind", "key"],
        kind=kind,
        key=key,
        due_at=due_at,
        lease_holder="",
        attempts=0,
        last_error="",
        created_at=now,
    ):
        return
    session.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.kind == kind,
            ScheduledJob.key == key,
            or_(ScheduledJob.due_at.is_(None), ScheduledJob.due_at > due_at),
        )
        .values(due_at=due_at)
    )


def job_state(db: Database, kind: str, key: str = "") -> JobState | None:
    """The job ``kind``/``key`` as it is now; None when it was never armed."""
    with db.reading() as session:
        row = session.scalars(
            select(ScheduledJob).where(ScheduledJob.kind == kind, ScheduledJob.key == key)
        ).one_or_none()
        if row is None:
            return None
        return JobState(
            row.kind,
            row.key,
            row.due_at,
            row.lease_holder,
            row.lease_expires_at,
            row.attempts,
            row.last_error,
            row.last_started_at,
            row.last_succeeded_at,
        )


def new_holder() -> str:
    """A name for one scheduler, unique among the instances: host, process and a random part."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th run in a row failed (1-based)."""
    return min(FIRST_RETRY * 2 ** min(max(attempts, 1) - 1, 32), LONGEST_RETRY)


_running: weakref.WeakSet[Scheduler] = weakref.WeakSet()


def leaders() -> dict[str, bool]:
    """Per sticky kind of this process's schedulers, whether one of them held its lease when last seen."""
    held: dict[str, bool] = {}
    for scheduler in list(_running):
        for name, holding in scheduler.holding.items():
            held[name] = held.get(name, False) or holding
    return held


class Scheduler:
    """One instance's scheduler: claims due jobs of ``kinds``, runs them, records how each run ended.

    ``run`` loops until ``stop`` (at shutdown; ``release`` then gives the sticky jobs' leases back, so
    another instance takes them over at once instead of after the lease).
    """

    def __init__(
        self,
        db: Database,
        kinds: Iterable[JobKind],
        *,
        clock: Clock = utc_now,
        holder: str | None = None,
        lease: timedelta = LEASE,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.db = db
        self.kinds = {kind.kind: kind for kind in kinds}
        self.clock = clock
        self.holder = holder or new_holder()
        self.lease = lease
        self.poll = poll
        # per sticky kind's name: whether this scheduler held its lease when it last looked (for /metrics)
        self.holding: dict[str, bool] = {kind.name: False for kind in self.kinds.values() if kind.sticky}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._claimed: set[int] = set()  # claimed and not yet ended: never claimed again meanwhile
        self._outages = {
            kind.kind: OutageLog(kind.name, meanwhile="trying again soon") for kind in self.kinds.values()
        }
        self._armed = False
        self._stop = asyncio.Event()
        self._lost: set[int] = set()

    # --- the loop ---------------------------------------------------------------------------------------

    def stop(self) -> None:
        """Ask ``run`` to return; safe to call before, during or after it."""
        self._stop.set()

    async def run(self, stop_event: asyncio.Event | None = None) -> None:
        """Claim and run due jobs every ``poll`` seconds until stopped (``stop`` or ``stop_event``).

        A database outage is logged once when it begins and once when it ends (``Rounds``); the loop goes
        on and picks up again by itself. Runs still going when it stops finish in their threads; their
        jobs' leases lapse, and another instance takes them over then.
        """
        if stop_event is not None:
            if self._stop.is_set():
                stop_event.set()
            self._stop = stop_event
        _running.add(self)
        rounds = Rounds("Scheduler", interval=self.poll)
        try:
            while not self._stop.is_set():
                with rounds.guard():
                    for job in await asyncio.to_thread(self.claim_due):
                        self._running[job.id] = asyncio.create_task(self._run(job), name=f"job {job.kind}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=self.poll)
        finally:
            _running.discard(self)

    async def wait_idle(self) -> None:
        """Wait for the runs this scheduler started to end (tests, and an orderly shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    # --- claiming ---------------------------------------------------------------------------------------

    def claim_due(self) -> list[Job]:
        """Claim the due jobs this instance can take now, each with a lease; blocking.

        A first read (no lock) finds the candidates, so that a round with nothing due writes nothing.
        """
        if not self._armed:
            self._arm_singletons()
        now = self.clock()
        with self.db.reading() as session:
            rows = session.execute(
                select(
                    ScheduledJob.id,
                    ScheduledJob.kind,
                    ScheduledJob.due_at,
                    ScheduledJob.lease_holder,
                    ScheduledJob.lease_expires_at,
                    ScheduledJob.last_succeeded_at,
                    ScheduledJob.created_at,
                ).where(ScheduledJob.kind.in_(self.kinds))
            ).all()
        self._note(rows, now)
        candidates = [
            row.id
            for row in rows
            if row.id not in self._claimed
            and row.due_at is not None
            and row.due_at <= now
            and (
                row.lease_holder in ("", self.holder)
                or row.lease_expires_at is None
                or row.lease_expires_at <= now
            )
        ]
        if not candidates:
            return []
        claimable = and_(ScheduledJob.due_at.is_not(None), ScheduledJob.due_at <= now, self._free(now))
        claimed = []
        with self.db.transaction() as session:
            ids = session.scalars(
                select(ScheduledJob.id)
                .where(ScheduledJob.id.in_(candidates[:CLAIMS_PER_ROUND]), claimable)
                .order_by(ScheduledJob.due_at, ScheduledJob.id)
                .with_for_update(skip_locked=True)  # another instance's claim in progress is passed over
            ).all()
            for job_id in ids:
                # Only the instance whose UPDATE still finds the job free gets it: the WHERE clause is
                # checked again under the row lock (PostgreSQL) or the write lock (SQLite).
                taken = session.connection().execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.id == job_id, claimable)
                    .values(
                        lease_holder=self.holder,
                        lease_expires_at=now + self.lease,
                        attempts=ScheduledJob.attempts + 1,
                        last_started_at=now,
                    )
                )
                if taken.rowcount == 1:
                    row = session.get_one(ScheduledJob, job_id, populate_existing=True)
                    assert row.due_at is not None  # noqa: S101 - for the type checker; claimed as due
                    claimed.append(
                        Job(row.id, row.kind, row.key, row.due_at, now, row.attempts, row.last_succeeded_at)
                    )
        self._claimed.update(job.id for job in claimed)
        for job in claimed:
            if job.attempts > 1:
                logger.info("%s: taking up job %r again (run %d)", self._name(job), job.key, job.attempts)
        return claimed

    def _free(self, now: datetime) -> Any:
        return or_(
            ScheduledJob.lease_holder.in_(("", self.holder)),
            ScheduledJob.lease_expires_at.is_(None),
            ScheduledJob.lease_expires_at <= now,
        )

    def _arm_singletons(self) -> None:
        now = self.clock()
        with self.db.transaction() as session:
            for kind in self.kinds.values():
                if kind.singleton:
                    arm(session, kind.kind, due_at=now, now=now)  # at start-up: at once
        self._armed = True

    def _note(self, rows: Iterable[Any], now: datetime) -> None:
        """What the jobs' rows say, for /metrics: each kind's last success anywhere, sticky leases held."""
        latest: dict[str, datetime] = {}
        holding = dict.fromkeys(self.holding, False)
        for row in rows:
            kind = self.kinds[row.kind]
            moment = row.last_succeeded_at or row.created_at
            latest[kind.name] = max(latest.get(kind.name, moment), moment)
            if kind.sticky and row.lease_holder == self.holder:
                holding[kind.name] = row.lease_expires_at is None or row.lease_expires_at > now
        for name, moment in latest.items():
            note_success(name, time.monotonic() - max(0.0, (now - moment).total_seconds()))
        self.holding = holding

    # --- running ----------------------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        kind = self.kinds[job.kind]
        offload = kind.offload or asyncio.to_thread
        heartbeat = asyncio.create_task(self._keep_lease(job))
        try:
            try:
                done = await offload(kind.run, job)
            except asyncio.CancelledError:
                raise  # a shutdown: the lease lapses and another instance takes the job over
            except Exception as error:
                if not self._outages[job.kind].failed(error):
                    logger.exception("%s: job %r failed", kind.name, job.key)
                await self._record(self.failed, job, error)
            else:
                self._outages[job.kind].succeeded()
                await self._record(self.succeeded, job, done)
        finally:
            heartbeat.cancel()
            self._running.pop(job.id, None)
            self._claimed.discard(job.id)
            self._lost.discard(job.id)

    async def _record(self, record: Callable[..., bool], job: Job, outcome: Any) -> None:
        """Record how the run ended; when that fails too (the database went away), the lease lapses and
        the job runs again once it has: it is idempotent."""
        try:
            await asyncio.to_thread(record, job, outcome)
        except Exception as error:
            if not self._outages[job.kind].failed(error):
                logger.exception("%s: the end of job %r could not be recorded", self._name(job), job.key)

    async def _keep_lease(self, job: Job) -> None:
        interval = max(self.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                kept = await asyncio.to_thread(self.renew, job)
            except Exception as error:  # an outage: try again; the run itself goes on meanwhile
                self._outages[job.kind].failed(error)
                continue
            if not kept:
                return

    def renew(self, job: Job) -> bool:
        """Extend the lease of a running job; False (and a warning) once another instance has it."""
        now = self.clock()
        with self.db.transaction() as session:
            kept = (
                session.connection()
                .execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.id == job.id, ScheduledJob.lease_holder == self.holder)
                    .values(lease_expires_at=now + self.lease)
                )
                .rowcount
            )
        if not kept and job.id not in self._lost:
            self._lost.add(job.id)
            logger.warning(
                "%s: job %r was taken over by another instance while it ran", self._name(job), job.key
            )
        return bool(kept)

    def succeeded(self, job: Job, done: Done | None) -> bool:
        """Record a run that succeeded and arm the job's next run; False when the lease was lost."""
        kind = self.kinds[job.kind]
        done = done or Done()
        now = self.clock()
        self._claimed.discard(job.id)
        with self.db.transaction() as session:
            row = self._held(session, job)
            if row is None:
                return False
            due = done.next_due
            if due is None and not done.finished and kind.every is not None:
                due = now + kind.every
            if done.finished:
                due = None
            if due is not None and row.due_at is not None and row.due_at != job.due_at:
                due = min(due, row.due_at)  # armed again for sooner while it ran
            row.due_at = due
            row.attempts = 0
            row.last_error = ""
            row.last_succeeded_at = now
            self._let_go(row, kind, now)
        return True

    def failed(self, job: Job, error: BaseException) -> bool:
        """Record a failed run; it is tried again after ``retry_delay`` (at most the kind's interval)."""
        kind = self.kinds[job.kind]
        now = self.clock()
        self._claimed.discard(job.id)
        with self.db.transaction() as session:
            row = self._held(session, job)
            if row is None:
                return False
            pause = retry_delay(row.attempts)
            if kind.every is not None:
                pause = min(pause, kind.every)
            row.due_at = now + pause
            row.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            self._let_go(row, kind, now)
        return True

    def _held(self, session: Session, job: Job) -> ScheduledJob | None:
        row = session.get(ScheduledJob, job.id, with_for_update=True, populate_existing=True)
        if row is None or row.lease_holder != self.holder:
            logger.warning(
                "%s: job %r ran after its lease was lost; its end is not recorded", self._name(job), job.key
            )
            return None
        return row

    def _let_go(self, row: ScheduledJob, kind: JobKind, now: datetime) -> None:
        if kind.sticky and row.due_at is not None:
            # kept until a lease after its next run is due: only a stopped instance loses it
            row.lease_expires_at = max(row.due_at, now) + self.lease
            self.holding[kind.name] = True
        else:
            row.lease_holder = ""
            row.lease_expires_at = None

    def release(self) -> None:
        """Give back the leases this scheduler keeps between runs (sticky jobs not running now); blocking.

        At shutdown: another instance takes those jobs over at its next round instead of after the lease.
        Never raises: with the database away, the leases lapse by themselves.
        """
        try:
            with self.db.transaction() as session:
                session.execute(
                    update(ScheduledJob)
                    .where(
                        ScheduledJob.lease_holder == self.holder,
                        ScheduledJob.id.not_in(list(self._claimed) or [0]),
                    )
                    .values(lease_holder="", lease_expires_at=None)
                )
        except Exception as error:
            logger.warning("Scheduler: could not hand its jobs on (%s); their leases lapse instead", error)
        self.holding = dict.fromkeys(self.holding, False)

    def _name(self, job: Job) -> str:
        return self.kinds[job.kind].name
