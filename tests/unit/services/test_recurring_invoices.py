"""Recurring invoices: a profile makes each invoice on its day in the business's time zone, numbered like
the others and sent like them (or kept as a draft); missed days are caught up once each after an
outage; a paused profile makes nothing for its paused days; however many runs or schedulers, each
invoice is made once. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from models import Client, Invoice, InvoiceStatus, Organization, OutboxEmail, RecurringProfile, RecurringRun
from services.errors import InvalidDetails, InvalidStatusChange, NotFound
from services.jobs import recurring_job
from services.recurring_invoices import (
    AFTER_COUNT,
    NEVER,
    ON_DATE,
    RECURRING_JOB,
    ProfileInput,
    end_profile,
    frequency_text,
    get_profile,
    list_profiles,
    make_due_invoices,
    pause_profile,
    resume_profile,
    save_profile,
)
from services.scheduler import Scheduler, job_state
from services.schedules import MONTH, WEEK
from services.staff_auth import StaffPrincipal
from services.totals import LineInput
from tests.factories import Clock, make_customer
from tests.unit.services.test_reminders import make_owner

BASE_URL = "https://portal.acme.example"
START = date(2027, 1, 31)
LINES = (
    LineInput("Hosting", Decimal(1), 10000, tax_rate_percent=Decimal(10), tax_name="GST"),
    LineInput("Support hours", Decimal("2.5"), 3333, discount_percent=Decimal(10)),
)


def at(day: date, hour: int = 7) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(at(date(2027, 1, 20)))


@pytest.fixture
def books(db):
    principal = make_customer(db)
    with db.reading() as session:
        client_public_id = session.scalars(
            select(Client.public_id).where(Client.id == principal.client_id)
        ).one()
    return principal, client_public_id, make_owner(db, principal.organization_id)


def typed(client: str, **changes) -> ProfileInput:
    profile = ProfileInput(
        client_public_id=client,
        unit=MONTH,
        every="1",
        start_date=START,
        ending=NEVER,
        end_date=None,
        count="",
        due_days="14",
        send=True,
        lines=LINES,
    )
    return replace(profile, **changes)


def run_on(db, organization_id: int, clock: Clock, day: date, hour: int = 7) -> list[tuple[date, str]]:
    clock.now = at(day, hour)
    made, _next = make_due_invoices(db, organization_id, base_url=BASE_URL, clock=clock)
    return [(one.run_date, one.invoice_number) for one in made]


def invoices(db) -> list[tuple[str, str, date, date, int]]:
    with db.reading() as session:
        return [
            tuple(row)
            for row in session.execute(
                select(
                    Invoice.number, Invoice.status, Invoice.issue_date, Invoice.due_date, Invoice.total_minor
                ).order_by(Invoice.id)
            )
        ]


def emails(db) -> list[OutboxEmail]:
    with db.reading() as session:
        return list(session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_each_invoice_is_made_on_its_day_with_the_profiles_lines_and_sent(db, books, clock):
    principal, client, owner = books
    profile = save_profile(db, owner, typed(client), clock=clock)

    assert profile.next_run == START
    assert (
        profile.total.minor == 10000 + 1000 + 8333 - 833
    )  # 110.00 with tax; 2.5 x 33.33 = 83.33 (half-up), less 8.33
    assert run_on(db, principal.organization_id, clock, date(2027, 1, 30)) == []
    assert run_on(db, principal.organization_id, clock, START) == [(START, "INV-00001")]
    assert run_on(db, principal.organization_id, clock, START, hour=20) == []  # the same day again: nothing

    assert invoices(db) == [("INV-00001", InvoiceStatus.SENT, START, START + timedelta(days=14), 18500)]
    [email] = emails(db)
    assert "INV-00001" in email.subject
    assert email.to_addresses == "ann@client.example,billing@clientltd.example"
    assert get_profile(db, principal.organization_id, profile.public_id).next_run == date(2027, 2, 28)
    assert run_on(db, principal.organization_id, clock, date(2027, 2, 28)) == [
        (date(2027, 2, 28), "INV-00002")
    ]
    assert get_profile(db, principal.organization_id, profile.public_id).next_run == date(2027, 3, 31)


def test_missed_days_are_caught_up_once_each_after_an_outage(db, books, clock):
    principal, client, owner = books
    save_profile(db, owner, typed(client), clock=clock)

    made = run_on(db, principal.organization_id, clock, date(2027, 4, 2))  # nothing ran since January

    assert made == [
        (date(2027, 1, 31), "INV-00001"),
        (date(2027, 2, 28), "INV-00002"),
        (date(2027, 3, 31), "INV-00003"),
    ]
    assert [issued for _n, _s, issued, _d, _t in invoices(db)] == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
    ]
    assert run_on(db, principal.organization_id, clock, date(2027, 4, 2), hour=9) == []
    with db.reading() as session:
        assert len(session.scalars(select(RecurringRun.id)).all()) == 3


def test_a_run_that_died_after_its_invoice_is_not_made_again(db, books, clock):
    principal, client, owner = books
    profile = save_profile(db, owner, typed(client), clock=clock)
    run_on(db, principal.organization_id, clock, START)
    with db.transaction() as session:  # as if the profile's step forward had been lost
        session.execute(update(RecurringProfile).values(next_run=START))

    assert run_on(db, principal.organization_id, clock, START, hour=9) == []
    assert len(invoices(db)) == 1
    assert get_profile(db, principal.organization_id, profile.public_id).next_run == START


def test_a_draft_profile_keeps_its_invoices_as_drafts_and_emails_nobody(db, books, clock):
    principal, client, owner = books
    save_profile(db, owner, typed(client, send=False), clock=clock)

    run_on(db, principal.organization_id, clock, START)

    assert [status for _n, status, *_ in invoices(db)] == [InvoiceStatus.DRAFT]
    assert emails(db) == []


def test_a_profile_ends_after_its_count_or_on_its_end_date(db, books, clock):
    principal, client, owner = books
    counted = save_profile(db, owner, typed(client, unit=WEEK, ending=AFTER_COUNT, count="2"), clock=clock)
    dated = save_profile(
        db,
        owner,
        typed(client, ending=ON_DATE, end_date=date(2027, 2, 27), start_date=date(2027, 1, 28)),
        clock=clock,
    )

    made = run_on(db, principal.organization_id, clock, date(2027, 3, 31))

    assert len(made) == 2 + 1
    for public_id in (counted.public_id, dated.public_id):
        profile = get_profile(db, principal.organization_id, public_id)
        assert (profile.status, profile.next_run) == ("ended", None)
    assert run_on(db, principal.organization_id, clock, date(2027, 5, 1)) == []


def test_a_paused_profile_makes_nothing_and_resumes_from_today(db, books, clock):
    principal, client, owner = books
    profile = save_profile(db, owner, typed(client, unit=WEEK, start_date=date(2027, 1, 21)), clock=clock)
    run_on(db, principal.organization_id, clock, date(2027, 1, 21))
    pause_profile(db, owner, profile.public_id, clock=clock)

    assert run_on(db, principal.organization_id, clock, date(2027, 2, 11)) == []
    clock.now = at(date(2027, 2, 12))
    resumed = resume_profile(db, owner, profile.public_id, clock=clock)

    assert resumed.next_run == date(2027, 2, 18)  # none for the three weeks it was paused
    assert run_on(db, principal.organization_id, clock, date(2027, 2, 18)) == [
        (date(2027, 2, 18), "INV-00002")
    ]
    ended = end_profile(db, owner, profile.public_id, clock=clock)
    assert (ended.status, ended.next_run) == ("ended", None)
    with pytest.raises(InvalidStatusChange):
        resume_profile(db, owner, profile.public_id, clock=clock)


def test_the_business_time_zone_decides_which_day_it_is(db, books, clock):
    principal, client, owner = books
    with db.transaction() as session:
        session.execute(update(Organization).values(time_zone="Pacific/Auckland"))
    save_profile(db, owner, typed(client), clock=clock)

    # 30 January, 11:00 UTC, is already 31 January, 0:00 in Auckland.
    clock.now = datetime(2027, 1, 30, 11, 0, tzinfo=UTC)
    made, next_due = make_due_invoices(db, principal.organization_id, base_url=BASE_URL, clock=clock)

    assert [one.run_date for one in made] == [START]
    assert next_due == datetime(2027, 2, 27, 17, 0, tzinfo=UTC)  # 28 February, 6:00 in Auckland


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"client_public_id": ""}, {"client"}),
        ({"client_public_id": "someone-elses"}, {"client"}),
        ({"every": "0"}, {"every"}),
        ({"every": "1.5", "due_days": "-1"}, {"every", "due_days"}),
        ({"unit": "fortnight"}, {"every"}),
        ({"start_date": date(2027, 1, 19)}, {"start_date"}),
        ({"ending": ON_DATE, "end_date": date(2027, 1, 30)}, {"end_date"}),
        ({"ending": AFTER_COUNT, "count": "0"}, {"count"}),
        ({"lines": ()}, {"lines"}),
        ({"lines": (LineInput("", Decimal(1), 100),)}, {"line 1"}),
    ],
)
def test_a_wrong_profile_is_refused_per_field_and_nothing_is_saved(db, books, clock, changes, fields):
    principal, client, owner = books
    with pytest.raises(InvalidDetails) as refused:
        save_profile(db, owner, typed(client, **changes), clock=clock)
    assert set(refused.value.errors) == fields
    assert list_profiles(db, principal.organization_id) == []


def test_an_edit_changes_the_next_invoices_only_and_another_business_sees_nothing(db, books, clock):
    principal, client, owner = books
    profile = save_profile(db, owner, typed(client), clock=clock)
    run_on(db, principal.organization_id, clock, START)
    clock.now = at(date(2027, 2, 1))
    changed = save_profile(
        db,
        owner,
        typed(client, lines=(LineInput("Hosting", Decimal(1), 20000),)),
        public_id=profile.public_id,
        clock=clock,
    )

    assert changed.next_run == date(2027, 2, 28)
    assert run_on(db, principal.organization_id, clock, date(2027, 2, 28)) == [
        (date(2027, 2, 28), "INV-00002")
    ]
    assert [total for *_r, total in invoices(db)] == [18500, 20000]
    [row] = list_profiles(db, principal.organization_id)
    assert (row.client_name, row.total.minor, frequency_text(row.unit, row.every)) == (
        "Client Ltd",
        20000,
        "Every month",
    )
    other = make_customer(db, name="Other Ltd", email="o@other.example")
    stranger = StaffPrincipal(owner.staff_user_id, other.organization_id, "x", "x@x.example", "owner", 0)
    with pytest.raises(NotFound):
        get_profile(db, other.organization_id, profile.public_id)
    with pytest.raises(NotFound):
        pause_profile(db, stranger, profile.public_id, clock=clock)


def test_two_runs_at_the_same_moment_make_each_invoice_once(db, books, clock):
    principal, client, owner = books
    for _ in range(3):
        save_profile(db, owner, typed(client, unit=WEEK), clock=clock)
    clock.now = at(date(2027, 2, 14))
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            make_due_invoices(db, principal.organization_id, base_url=BASE_URL, clock=clock)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert len(invoices(db)) == 3 * 3  # 31 January, 7 and 14 February, for each profile
    assert len(emails(db)) == 9
    assert sorted(number for number, *_ in invoices(db)) == [f"INV-{n:05d}" for n in range(1, 10)]


async def test_two_schedulers_make_the_days_invoices_once(db, books, clock):
    principal, client, owner = books
    save_profile(db, owner, typed(client), clock=clock)
    clock.now = at(START)
    kind = recurring_job(db, base_url=BASE_URL, clock=clock)
    schedulers = [Scheduler(db, [kind], clock=clock, holder=name, poll=0.02) for name in ("first", "second")]
    stop = asyncio.Event()
    loops = [asyncio.create_task(scheduler.run(stop)) for scheduler in schedulers]
    try:
        for _ in range(500):
            state = job_state(db, RECURRING_JOB, str(principal.organization_id))
            if state is not None and state.last_succeeded_at is not None:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*loops)
        for scheduler in schedulers:
            await scheduler.wait_idle()

    assert [number for number, *_ in invoices(db)] == ["INV-00001"]
    state = job_state(db, RECURRING_JOB, str(principal.organization_id))
    assert state is not None
    assert state.due_at == datetime(2027, 2, 28, 6, 0, tzinfo=UTC)  # the next invoice's day, at six
    assert (state.attempts, state.last_error) == (0, "")
