"""Four ``python app.py`` started at the same moment on one PostgreSQL database, as a deployment rolls them
out: on an empty database and on one an older version left behind. Every one comes up serving (/readyz
200), the schema is migrated to the newest revision once (one row in alembic_version), and with ``--demo``
the demo business is made once, not once per instance."""

from __future__ import annotations

import re

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, text

from services.database import make_engine, upgrade_to
from tests.conftest import MIGRATION_HEAD, POSTGRES_URL, postgres_test_url
from tests.instances import instances, wait_until_ready
from tests.upgrade_fixtures.loading import fixture_of, load_fixture

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)

INSTANCES = 4
OLDER_REVISION = "0006"  # before sealed secrets, sandbox charges, backups, two-factor: six migrations to run
DEMO_ADDED = "Demo data added."
DEMO_KEPT = "The database already has data; no demo data was added."


def emptied(purpose: str) -> tuple[str, Engine]:
    url = postgres_test_url(purpose)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return url, engine


def settings_for(url: str) -> dict[str, str]:
    return {
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": Fernet.generate_key().decode(),  # instances on one database share it
        # The default bcrypt rounds: the demo's passwords take as long to hash as a user's start, which is
        # the moment the other instances used to find the database still empty and fill it a second time.
    }


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - the test's own table names
        return int(connection.scalar(query) or 0)


def versions(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(text("SELECT version_num FROM alembic_version")))


def announced(logs: list[str], words: str) -> int:
    return sum(len(re.findall(re.escape(words), log)) for log in logs)


def test_instances_started_at_once_on_an_empty_database_migrate_and_fill_the_demo_once(tmp_path):
    url, engine = emptied("start_empty")
    try:
        with instances(INSTANCES, tmp_path, settings=settings_for(url), demo=True) as started:
            wait_until_ready(started)
            logs = [instance.log() for instance in started]

            assert versions(engine) == [MIGRATION_HEAD]
            assert count(engine, "organizations") == 1
            assert count(engine, "staff_users") == 1
            assert count(engine, "portal_users") == 2  # the two demo customers, once each
            assert announced(logs, DEMO_ADDED) == 1, logs
            assert announced(logs, DEMO_KEPT) == INSTANCES - 1, logs
            for log in logs:
                assert "Traceback" not in log, log
    finally:
        engine.dispose()


def test_instances_started_at_once_on_an_older_database_upgrade_it_once(tmp_path):
    url, engine = emptied("start_older")
    fixture = fixture_of(OLDER_REVISION)
    try:
        upgrade_to(engine, OLDER_REVISION)
        load_fixture(engine, fixture)
        invoices = count(engine, "invoices")
        assert invoices == len(fixture.tables["invoices"]) > 0

        with instances(INSTANCES, tmp_path, settings=settings_for(url), demo=True) as started:
            wait_until_ready(started)
            logs = [instance.log() for instance in started]

            assert versions(engine) == [MIGRATION_HEAD]
            assert count(engine, "organizations") == 1
            assert count(engine, "invoices") == invoices  # the older version's rows, and no demo beside them
            assert announced(logs, DEMO_KEPT) == INSTANCES, logs
            for log in logs:
                assert "Traceback" not in log, log
    finally:
        engine.dispose()
