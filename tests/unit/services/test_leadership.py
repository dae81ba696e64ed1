"""One instance leads a job at a time: the lock is kept round after round, released at shutdown or with a
lost connection, and then taken by the next instance that asks; on SQLite every instance leads."""

from __future__ import annotations

import gc

import pytest
from sqlalchemy import text

from services.database import Database
from services.leadership import Leadership, leaders
from tests.conftest import POSTGRES_URL, postgres_test_url

KEY = 0x7465737401  # a key of this test's own: other workers' portals take the real ones

needs_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)


@pytest.fixture
def instances():
    """Two instances' databases: one PostgreSQL database, an engine (a connection pool) each."""
    url = postgres_test_url()
    first, second = Database.from_url(url), Database.from_url(url)
    yield first, second
    first.engine.dispose()
    second.engine.dispose()


@needs_postgres
def test_one_instance_leads_and_keeps_leading_round_after_round(instances):
    first = Leadership(instances[0], KEY, name="Test job")
    second = Leadership(instances[1], KEY, name="Test job")
    try:
        assert first.held()
        assert not second.held()
        assert first.held()  # the same session: still its lock
        assert not second.held()
        assert (first.elected, second.elected) == (True, False)
    finally:
        first.release()
        second.release()


@needs_postgres
def test_a_leader_dropped_without_release_lets_the_next_one_lead(instances):
    first = Leadership(instances[0], KEY, name="Test job")
    assert first.held()
    second = Leadership(instances[1], KEY, name="Test job")
    try:
        assert not second.held()

        del (
            first
        )  # a portal rebuilt, a test's reconciler forgotten: its pooled connection must not keep the lock
        gc.collect()

        assert second.held()
    finally:
        second.release()


@needs_postgres
def test_the_next_instance_takes_over_once_the_leader_releases(instances):
    first = Leadership(instances[0], KEY, name="Test job")
    second = Leadership(instances[1], KEY, name="Test job")
    try:
        assert first.held()
        first.release()

        assert second.held()
        assert not first.held()
        assert leaders()["Test job"] is True  # the newest of that name (second), as /metrics shows it
    finally:
        first.release()
        second.release()


@needs_postgres
def test_a_leader_whose_connection_died_loses_the_lock_to_the_next(instances):
    first = Leadership(instances[0], KEY, name="Test job")
    second = Leadership(instances[1], KEY, name="Test job")
    try:
        assert first.held()
        with instances[1].engine.connect() as connection:  # the server ends the leader's session
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks"
                    " WHERE locktype = 'advisory' AND objid = :id"
                ),
                {"id": KEY & 0xFFFFFFFF},
            )
            connection.commit()

        with pytest.raises(Exception, match=r"terminat|closed|connection"):
            first.held()  # its round fails (the loop logs the outage)
        assert second.held()
        assert not first.held()  # asking again opens a new session, which finds the lock taken
    finally:
        first.release()
        second.release()


def test_on_sqlite_every_instance_leads(tmp_path):
    db = Database.from_url(f"sqlite:///{tmp_path / 'portal.db'}")
    try:
        assert Leadership(db, KEY, name="Test job").held()
        assert Leadership(db, KEY, name="Test job").held()
    finally:
        db.engine.dispose()
