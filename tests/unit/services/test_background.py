"""Background loops during a database outage: one line when it begins, one when it ends, no tracebacks.

The outages are real: SQLite's write lock held by another connection (``tests.faults.sqlite_lock``),
and PostgreSQL taken away at the network edge (``tests.faults.TcpGate``).
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
import psycopg.errors
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from services.background import Rounds, repeat
from services.database import Database
from services.database_faults import is_outage, outage_reason
from services.mailer import BackgroundSender, SmtpConfig
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.faults import TcpGate, sqlite_lock

SMTP = SmtpConfig(host="127.0.0.1", port=1, security="none", from_address="billing@business.example")


@pytest.fixture
def sqlite_db(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'portal.db'}", busy_timeout=0.05)
    db.migrate()
    yield db
    db.engine.dispose()


def write(db: Database) -> None:
    with db.transaction() as session:
        session.execute(text("UPDATE outbox_emails SET attempts = attempts"))


def outage_lines(caplog, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{name}: database")]


async def until(condition, timeout: float = 5) -> None:
    async def wait() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), timeout)


def test_a_locked_database_is_an_outage_and_a_missing_table_is_not(sqlite_db):
    with sqlite_lock(sqlite_db.engine.url.database), pytest.raises(OperationalError) as locked:
        write(sqlite_db)
    assert is_outage(locked.value)
    assert outage_reason(locked.value) == "database is locked"
    with pytest.raises(OperationalError) as bug, sqlite_db.transaction() as session:
        session.execute(text("SELECT * FROM no_such_table"))
    assert not is_outage(bug.value)


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (psycopg.OperationalError("connection failed: Connection refused"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
        (psycopg.errors.DeadlockDetected("deadlock detected"), False),
        (psycopg.errors.ProgramLimitExceeded("index row size exceeds maximum"), False),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
    ],
)
def test_only_postgresqls_errors_of_availability_are_outages(error, outage):
    """A deadlock or a limit a query ran into is the portal's own bug to report, not "try again later"."""
    assert is_outage(error) is outage


def test_a_loop_logs_one_line_when_an_outage_begins_and_one_when_it_ends(sqlite_db, caplog):
    rounds = Rounds("Test loop", interval=2)
    with sqlite_lock(sqlite_db.engine.url.database):
        for _ in range(5):
            with rounds.guard():
                write(sqlite_db)
    with rounds.guard():
        write(sqlite_db)
    with rounds.guard():
        write(sqlite_db)

    assert outage_lines(caplog, "Test loop") == [
        "Test loop: database unavailable: database is locked; retrying every 2 s",
        "Test loop: database available again after 0 s",
    ]
    assert not any(record.exc_info for record in caplog.records)


def test_any_other_failure_of_a_round_is_logged_with_its_traceback_every_time(caplog):
    rounds = Rounds("Test loop", interval=2)
    for _ in range(2):
        with rounds.guard():
            raise ValueError("a bug")
    failures = [record for record in caplog.records if record.exc_info]
    assert len(failures) == 2
    assert failures[0].getMessage() == "Test loop failed; trying again in 2 s"


async def test_repeat_goes_on_through_an_outage_and_stops_when_cancelled(sqlite_db, caplog):
    done = asyncio.Event()
    rounds = 0

    async def step() -> None:
        nonlocal rounds
        rounds += 1
        if rounds == 6:
            done.set()
        await asyncio.to_thread(write, sqlite_db)

    with sqlite_lock(sqlite_db.engine.url.database):
        loop = asyncio.create_task(repeat("Settling", step, interval=0.01))
        await asyncio.wait_for(done.wait(), timeout=10)
    await until(lambda: len(outage_lines(caplog, "Settling")) >= 2)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert [line.split(":")[1] for line in outage_lines(caplog, "Settling")] == [
        " database unavailable",
        " database available again after 0 s",
    ]


async def test_the_email_sender_logs_an_outage_once_and_delivers_after_it(sqlite_db, caplog):
    sender = BackgroundSender(sqlite_db, lambda: SMTP, interval=0.01)
    with sqlite_lock(sqlite_db.engine.url.database):
        task = asyncio.create_task(sender.run())
        await asyncio.sleep(0.5)
    await until(lambda: len(outage_lines(caplog, "E-mail sender")) >= 2)
    sender.stop()
    await task
    lines = outage_lines(caplog, "E-mail sender")
    assert lines[0] == "E-mail sender: database unavailable: database is locked; retrying every 0.01 s"
    assert lines[1].startswith("E-mail sender: database available again after")
    assert len(lines) == 2
    assert not any(record.exc_info for record in caplog.records)


@pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)
def test_a_postgresql_server_that_goes_away_is_an_outage_that_ends_when_it_is_back(caplog):
    gate, url = TcpGate.for_url(postgres_test_url("background"))
    db = Database.from_url(url)
    rounds = Rounds("Test loop", interval=2)

    def read() -> None:
        with db.reading() as session:
            session.execute(text("SELECT 1"))

    try:
        read()  # a pooled connection, which the outage resets
        gate.close()
        for _ in range(3):
            with rounds.guard():
                read()
        gate.open()
        with rounds.guard():
            read()
    finally:
        gate.stop()
        db.engine.dispose()
    lines = outage_lines(caplog, "Test loop")
    assert len(lines) == 2
    assert lines[0].startswith("Test loop: database unavailable: ")
    assert lines[0].endswith("; retrying every 2 s")
    assert lines[1] == "Test loop: database available again after 0 s"
    assert not any(record.exc_info for record in caplog.records)


@pytest.fixture(autouse=True)
def _warnings(caplog):
    caplog.set_level(logging.WARNING)
