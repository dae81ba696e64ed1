"""The scheduler: a due job is claimed by one instance with a lease, armed again after it runs, tried again
after a failure, and taken over by another instance only once its lease has expired; a sticky job stays
with its instance between runs. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ScheduledJob
from services.clock import utc_now
from services.database import Database
from services.scheduler import (
    FIRST_RETRY,
    LEASE,
    Done,
    Job,
    JobKind,
    Scheduler,
    arm,
    job_state,
    leaders,
)
from tests.factories import Clock

EVERY = timedelta(seconds=30)


def nothing(_job: Job) -> None:
    return None


PERIODIC = JobKind("tick", "Tick", nothing, every=EVERY, singleton=True)
ONE_OFF = JobKind("once", "Once", nothing)
STICKY = JobKind("settle", "Settle", nothing, every=EVERY, singleton=True, sticky=True)


@pytest.fixture
def clock():
    return Clock()


def scheduler(db: Database, clock: Clock, *kinds: JobKind, holder: str) -> Scheduler:
    return Scheduler(db, kinds or (PERIODIC,), clock=clock, holder=holder)


def arm_job(db: Database, clock: Clock, kind: str, key: str = "", *, due_in: timedelta = timedelta()) -> None:
    with db.transaction() as session:
        arm(session, kind, key, due_at=clock() + due_in, now=clock())


def row(db: Database, kind: str, key: str = "") -> ScheduledJob:
    with db.reading() as session:
        return session.scalars(
            select(ScheduledJob).where(ScheduledJob.kind == kind, ScheduledJob.key == key)
        ).one()


def test_a_due_job_is_claimed_by_one_instance_and_its_lease_keeps_the_others_out(db, clock):
    first, second = scheduler(db, clock, holder="first"), scheduler(db, clock, holder="second")

    [job] = first.claim_due()  # the singleton is armed at the first round, due at once

    assert (job.kind, job.key, job.attempts) == ("tick", "", 1)
    assert second.claim_due() == []
    assert first.claim_due() == []  # not a second run of its own either (it is running: its lease)
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert second.claim_due() == []
    stored = row(db, "tick")
    assert (stored.lease_holder, stored.lease_expires_at) == ("first", job.started_at + LEASE)


def test_a_crashed_instances_job_is_taken_over_once_its_lease_has_expired(db, clock):
    first, second = scheduler(db, clock, holder="first"), scheduler(db, clock, holder="second")
    [job] = first.claim_due()
    # ... and "first" dies: nothing records the run's end, nothing renews the lease.

    clock.advance(seconds=LEASE.total_seconds())
    [again] = second.claim_due()

    assert again.id == job.id
    assert again.attempts == 2  # the run that never ended counts
    assert row(db, "tick").lease_holder == "second"
    assert first.succeeded(job, None) is False  # the first run's end, were it to come now, is not recorded
    assert row(db, "tick").lease_holder == "second"
    assert second.succeeded(again, None) is True
    assert (row(db, "tick").attempts, row(db, "tick").lease_holder) == (0, "")


def test_a_periodic_job_is_due_again_its_interval_after_it_ran(db, clock):
    instance = scheduler(db, clock, holder="first")
    [job] = instance.claim_due()
    clock.advance(seconds=3)

    assert instance.succeeded(job, None)

    stored = row(db, "tick")
    assert stored.due_at == clock() + EVERY
    assert (stored.lease_holder, stored.lease_expires_at, stored.attempts) == ("", None, 0)
    assert stored.last_succeeded_at == clock()
    assert instance.claim_due() == []
    clock.advance(seconds=EVERY.total_seconds())
    assert len(instance.claim_due()) == 1


def test_a_run_may_ask_to_come_back_sooner_or_to_be_finished(db, clock):
    instance = scheduler(db, clock, PERIODIC, ONE_OFF, holder="first")
    arm_job(db, clock, "once", "a")
    jobs = {job.kind: job for job in instance.claim_due()}

    instance.succeeded(jobs["tick"], Done(next_due=clock()))  # a full batch: more is waiting
    instance.succeeded(jobs["once"], None)

    assert row(db, "tick").due_at == clock()
    assert row(db, "once", "a").due_at is None  # a one-off job is finished after its run
    assert [job.kind for job in instance.claim_due()] == ["tick"]
    arm_job(db, clock, "once", "a", due_in=timedelta(hours=1))  # armed again, it comes back
    assert row(db, "once", "a").due_at == clock() + timedelta(hours=1)


def test_arming_brings_a_job_forward_and_never_puts_it_off(db, clock):
    arm_job(db, clock, "once", "a", due_in=timedelta(hours=2))
    arm_job(db, clock, "once", "a", due_in=timedelta(hours=3))
    assert row(db, "once", "a").due_at == clock() + timedelta(hours=2)
    arm_job(db, clock, "once", "a", due_in=timedelta(hours=1))
    assert row(db, "once", "a").due_at == clock() + timedelta(hours=1)


def test_a_failed_run_is_tried_again_after_a_growing_pause_and_says_why(db, clock):
    hourly = JobKind("report", "Report", nothing, every=timedelta(hours=1), singleton=True)
    instance = scheduler(db, clock, hourly, holder="first")
    [job] = instance.claim_due()

    instance.failed(job, RuntimeError("the printer is on fire"))

    stored = row(db, "report")
    assert stored.due_at == clock() + FIRST_RETRY
    assert (stored.attempts, stored.last_error, stored.lease_holder) == (
        1,
        "RuntimeError: the printer is on fire",
        "",
    )
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    [again] = instance.claim_due()
    assert again.attempts == 2
    instance.failed(again, RuntimeError("still"))
    assert row(db, "report").due_at == clock() + 2 * FIRST_RETRY
    clock.advance(seconds=2 * FIRST_RETRY.total_seconds())
    [third] = instance.claim_due()
    instance.succeeded(third, None)
    assert (row(db, "report").attempts, row(db, "report").last_error) == (0, "")


def test_a_failing_periodic_job_is_tried_again_no_later_than_its_interval(db, clock):
    often = JobKind("settle", "Settle", nothing, every=timedelta(seconds=2), singleton=True)
    instance = scheduler(db, clock, often, holder="first")
    for _ in range(5):
        [job] = instance.claim_due()
        instance.failed(job, ConnectionError("gateway away"))
        assert row(db, "settle").due_at == clock() + timedelta(seconds=2)
        clock.advance(seconds=2)


def test_a_sticky_job_stays_with_its_instance_until_it_stops(db, clock):
    first = scheduler(db, clock, STICKY, holder="first")
    second = scheduler(db, clock, STICKY, holder="second")
    [job] = first.claim_due()
    first.succeeded(job, None)

    for _ in range(3):
        clock.advance(seconds=EVERY.total_seconds())
        assert second.claim_due() == []
        [job] = first.claim_due()
        first.succeeded(job, None)
    assert first.holding == {"Settle": True}

    first.release()  # at shutdown

    clock.advance(seconds=EVERY.total_seconds())
    [taken] = second.claim_due()
    assert taken.attempts == 1
    assert row(db, "settle").lease_holder == "second"


def test_a_sticky_job_whose_instance_died_is_taken_over_after_its_lease(db, clock):
    first = scheduler(db, clock, STICKY, holder="first")
    second = scheduler(db, clock, STICKY, holder="second")
    [job] = first.claim_due()
    first.succeeded(job, None)  # then "first" dies, keeping the lease until after its next run

    clock.advance(seconds=EVERY.total_seconds())
    assert second.claim_due() == []
    clock.advance(seconds=LEASE.total_seconds())
    assert len(second.claim_due()) == 1


def test_jobs_of_kinds_an_instance_does_not_know_are_left_to_others(db, clock):
    arm_job(db, clock, "once", "a")
    assert scheduler(db, clock, PERIODIC, holder="first").claim_due()[0].kind == "tick"
    assert row(db, "once", "a").lease_holder == ""


def test_the_state_of_a_job_is_read_back(db, clock):
    assert job_state(db, "once", "a") is None
    arm_job(db, clock, "once", "a")
    state = job_state(db, "once", "a")
    assert state is not None
    assert (state.due_at, state.attempts, state.last_error) == (clock(), 0, "")


# --- the loop, on real time -----------------------------------------------------------------------------


async def until(condition, timeout: float = 10) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


async def test_the_loop_runs_due_jobs_and_a_long_run_keeps_its_lease(db):
    started, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def long_run(job: Job) -> Done:
        runs.append(job.key)
        started.set()
        release.wait(10)
        return Done(finished=True)

    kind = JobKind("long", "Long", long_run)
    # Renewed every second. Shorter leases (0.3 s, then 1.5 s) lapsed on a busy CI machine, where a renewal or
    # the record of the finished run waits for a database thread, and the other scheduler ran the job again.
    lease = timedelta(seconds=3)
    first = Scheduler(db, [kind], holder="first", lease=lease, poll=0.02)
    second = Scheduler(db, [kind], holder="second", lease=lease, poll=0.02)
    arm_job(db, Clock(utc_now()), "long", "k")
    stop = asyncio.Event()
    loops = [asyncio.create_task(first.run(stop)), asyncio.create_task(second.run(stop))]
    try:
        await until(started.is_set)
        await asyncio.sleep(4)  # longer than a lease: renewed meanwhile, so no one took it over
        assert runs == ["k"]
        release.set()
        await until(lambda: row(db, "long", "k").due_at is None)
    finally:
        release.set()
        stop.set()
        await asyncio.gather(*loops)
        await first.wait_idle()
        await second.wait_idle()
    assert runs == ["k"]
    assert row(db, "long", "k").last_succeeded_at is not None


async def test_a_failing_job_is_logged_with_its_traceback_and_the_loop_goes_on(db, caplog):
    calls: list[int] = []

    def broken(job: Job) -> None:
        calls.append(job.attempts)
        raise ValueError("a bug")

    kind = JobKind("broken", "Broken", broken, every=timedelta(seconds=0.05), singleton=True)
    ok = JobKind("fine", "Fine", nothing, every=timedelta(seconds=0.05), singleton=True)
    instance = Scheduler(db, [kind, ok], holder="first", poll=0.02)
    stop = asyncio.Event()
    with caplog.at_level(logging.ERROR):
        loop = asyncio.create_task(instance.run(stop))
        await until(lambda: len(calls) >= 2 and row(db, "fine").last_succeeded_at is not None)
        stop.set()
        await loop
        await instance.wait_idle()
    assert calls[:2] == [1, 2]
    assert any(
        "Broken: job '' failed" in record.getMessage() and record.exc_info for record in caplog.records
    )
    assert row(db, "broken").last_error == "ValueError: a bug"


async def test_leaders_say_which_sticky_jobs_this_instance_holds(db):
    instance = Scheduler(db, [STICKY], holder="first", poll=0.02)
    stop = asyncio.Event()
    loop = asyncio.create_task(instance.run(stop))
    try:
        await until(lambda: leaders().get("Settle") is True)
    finally:
        stop.set()
        await loop
        await instance.wait_idle()
    instance.release()
    assert instance.holding == {"Settle": False}
