"""Pooled connections: PostgreSQL's are checked only after resting and kept for every worker thread,
SQLite's writers take turns; writes of one statement each commit at once on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, select, text
from sqlalchemy.exc import OperationalError

import services.database as database_module
from components.offload import CONNECTIONS
from models import Organization, SandboxCharge
from services.database import Database, insert_unless_present
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.factories import make_organization

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set (.ci/run sets it)"
)


@pytest.fixture
def postgres() -> Iterator[Database]:
    db = Database.from_url(postgres_test_url("connections"))
    yield db
    db.engine.dispose()


def backend_pid(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))


def count_pings(db: Database, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    ping = db.engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return pings


@needs_postgres
def test_a_connection_the_server_dropped_while_it_rested_is_replaced_unseen(postgres, monkeypatch):
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.05)
    pid = backend_pid(postgres)  # the pool now holds this one connection
    other = Database.from_url(postgres.engine.url.render_as_string(hide_password=False))
    with other.transaction() as session:  # another client ends that connection's server process
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.engine.dispose()
    time.sleep(0.1)
    assert backend_pid(postgres) != pid  # no error: the dead connection was found and replaced


@needs_postgres
def test_a_connection_back_in_use_at_once_is_not_checked_again(postgres, monkeypatch):
    pings = count_pings(postgres, monkeypatch)
    for _ in range(5):
        backend_pid(postgres)
    assert pings == []  # a payment's eight transactions cost no extra round trip
    monkeypatch.setattr(database_module, "PING_AFTER_IDLE", 0.05)
    time.sleep(0.1)
    backend_pid(postgres)
    assert pings == [1]


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    db = Database.from_url(f"sqlite:///{tmp_path / 'turns.db'}", busy_timeout=2.0)
    db.migrate()
    yield db
    db.engine.dispose()


def organization_names(db: Database) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(Organization.name).order_by(Organization.id)))


def add_organization(db: Database, name: str) -> None:
    make_organization(db, name=name)


def test_a_sqlite_writer_starts_the_moment_the_one_before_commits(sqlite):
    order: list[str] = []
    first_writing, first_may_commit = threading.Event(), threading.Event()

    def first() -> None:
        with sqlite.transaction() as session:
            session.execute(select(1))
            order.append("first began")
            first_writing.set()
            first_may_commit.wait(5)
            order.append("first commits")

    def second() -> None:
        first_writing.wait(5)
        with sqlite.transaction():
            order.append("second began")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_writing.wait(5)
    time.sleep(0.3)  # the second writer is waiting all this time
    assert order == ["first began"]
    first_may_commit.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first began", "first commits", "second began"]


def test_a_writer_that_failed_or_rolled_back_gives_up_its_turn(sqlite):
    def fails() -> None:
        with sqlite.transaction() as session:
            session.execute(select(1))
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails()
    add_organization(sqlite, "After a rollback")
    with pytest.raises(OperationalError), sqlite.transaction() as session:
        session.execute(text("INSERT INTO no_such_table VALUES (1)"))
    add_organization(sqlite, "After a failed statement")
    assert organization_names(sqlite)[-2:] == ["After a rollback", "After a failed statement"]


def test_a_writer_waits_no_longer_than_the_busy_timeout(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'timeout.db'}", busy_timeout=0.2)
    db.migrate()
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with db.transaction() as session:
            session.execute(select(1))
            holding.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="database is locked"):
            add_organization(db, "Too late")
        assert time.monotonic() - started < 2
    finally:
        release.set()
        holder.join(5)
    add_organization(db, "In time")  # the turn came back when the holder finished
    assert organization_names(db)[-1] == "In time"
    db.engine.dispose()


def sandbox_charge(key: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "gateway_payment_id": f"ch_{key}",
        "answer": {"status": "succeeded"},
        "created_at": datetime(2026, 12, 6, tzinfo=UTC),
    }


def kept_charges(db: Database) -> list[str]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(SandboxCharge.idempotency_key).order_by(
                    SandboxCharge.created_at, SandboxCharge.idempotency_key
                )
            )
        )


@needs_postgres
def test_on_postgresql_each_statement_is_committed_as_it_runs(postgres):
    postgres.migrate()
    with postgres.transaction() as session:
        session.execute(delete(SandboxCharge))
    other = Database.from_url(postgres.engine.url.render_as_string(hide_password=False))

    def keep(key: str, *, then_fail: bool = False) -> bool:
        with postgres.each_statement_committed() as connection:
            kept = insert_unless_present(
                connection, SandboxCharge, ["idempotency_key"], **sandbox_charge(key)
            )
            assert kept_charges(other)[-1:] == [key]  # another connection sees it before the block ends
            if then_fail:
                raise ZeroDivisionError
            return kept

    try:
        assert keep("a")
        assert not keep("a")  # there already: nothing inserted
        with pytest.raises(ZeroDivisionError):
            keep("b", then_fail=True)
        assert kept_charges(other) == ["a", "b"]  # what failed after the statement did not undo it
    finally:
        other.engine.dispose()


def test_on_sqlite_statements_committed_each_are_a_write_in_turn(sqlite):
    order: list[str] = []
    inside, may_end = threading.Event(), threading.Event()

    def keep() -> None:
        with sqlite.each_statement_committed() as connection:
            insert_unless_present(connection, SandboxCharge, ["idempotency_key"], **sandbox_charge("a"))
            inside.set()
            may_end.wait(5)
            order.append("kept")

    def write() -> None:
        inside.wait(5)
        add_organization(sqlite, "Next writer")
        order.append("next writer")

    threads = [threading.Thread(target=keep), threading.Thread(target=write)]
    for thread in threads:
        thread.start()
    inside.wait(5)
    time.sleep(0.3)  # the other writer waits for its turn all this time
    assert order == []
    may_end.set()
    for thread in threads:
        thread.join(5)
    assert order == ["kept", "next writer"]
    assert kept_charges(sqlite) == ["a"]


@needs_postgres
def test_a_burst_on_every_worker_thread_at_once_opens_no_connection_the_second_time(postgres):
    opened: list[int] = []
    event.listen(postgres.engine, "connect", lambda *_: opened.append(1))
    threads = CONNECTIONS  # components.offload's worker threads, all in a transaction at once
    everyone_in = threading.Barrier(threads)

    def one_transaction() -> None:
        with postgres.transaction() as session:
            session.execute(select(1))
            everyone_in.wait(10)

    def burst() -> None:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(one_transaction) for _ in range(threads)]:
                future.result()

    burst()
    first = len(opened)
    burst()
    assert first == threads
    assert len(opened) == first  # each kept: none closed when given back, none opened again
