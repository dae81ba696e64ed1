"""Database fixtures: every service test runs on SQLite, and on PostgreSQL when
PORTAL_TEST_DATABASE_URL points at a server (.ci/run sets it)."""

from __future__ import annotations

import gc
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url, text

import models
from services.database import Database, alembic_config, make_engine, normalize_url

POSTGRES_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
        ),
    ),
]

_postgres_engine: Engine | None = None
MIGRATION_HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()  # the newest revision


def postgres_test_url(purpose: str = "") -> str:
    """A PostgreSQL database of this test process's own, created if missing.

    Parallel workers (pytest-xdist) and tests that need a database to themselves (migrations,
    faults) each get one named after ``PORTAL_TEST_DATABASE_URL``'s, so they never meet.
    """
    url = make_url(normalize_url(POSTGRES_URL))
    parts = [url.database or "test", os.environ.get("PYTEST_XDIST_WORKER", ""), purpose]
    name = "_".join(part for part in parts if part)
    maintenance = url.set(database="postgres").render_as_string(hide_password=False)
    server = make_engine(maintenance, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            query = text("SELECT 1 FROM pg_database WHERE datname = :name")
            exists = connection.scalar(query, {"name": name})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def _postgres() -> Engine:
    global _postgres_engine
    if _postgres_engine is None:
        _postgres_engine = make_engine(postgres_test_url())
        with _postgres_engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        models.Base.metadata.create_all(_postgres_engine)
    return _postgres_engine


_sqlite_template: Path | None = None


def _empty_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table and no row, made once per test process.

    Copying it takes a millisecond; creating the tables and their indexes took a third of a second per
    test, which the several hundred tests on SQLite each paid.
    """
    global _sqlite_template
    if _sqlite_template is None:
        path = tmp_path_factory.mktemp("schema") / "empty.db"
        engine = make_engine(f"sqlite:///{path}")
        models.Base.metadata.create_all(engine)
        engine.dispose()  # the last connection closed: everything is in the one file
        _sqlite_template = path
    return _sqlite_template


def _emptying_statement() -> str:
    # DELETE in reverse dependency order empties these small tables in milliseconds (TRUNCATE takes
    # ~0.6 s), sent as one statement: one round trip instead of one per table.
    tables = reversed(models.Base.metadata.sorted_tables)
    return "; ".join(f'DELETE FROM "{table.name}"' for table in tables)  # noqa: S608 - our own table names


def fresh_database(
    backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory | None = None
) -> Database:
    """An empty database with every table: a new SQLite file in ``tmp_path`` (copied from one made once
    in ``tmp_path_factory``, when given), or the test process's PostgreSQL database emptied."""
    if backend == "sqlite":
        path = tmp_path / "test.db"
        if tmp_path_factory is None:
            engine = make_engine(f"sqlite:///{path}")
            models.Base.metadata.create_all(engine)
            return Database(engine)
        shutil.copyfile(_empty_sqlite_file(tmp_path_factory), path)
        return Database(make_engine(f"sqlite:///{path}"))
    engine = _postgres()
    with engine.begin() as connection:
        connection.exec_driver_sql(_emptying_statement())
    return Database(engine)


@pytest.fixture(params=BACKENDS)
def db(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    database = fresh_database(request.param, tmp_path, tmp_path_factory)
    yield database
    if request.param == "sqlite":
        database.engine.dispose()


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """Move what outlived a test out of the collector's sight.

    NiceGUI's User fixture calls ``gc.collect()`` twice per test, and a full collection walks every
    object the session holds: without this it takes more than half the time of a UI test, and more
    with each test. Cyclic garbage is collected before this (the fixture's own collection), so only
    objects still in use are frozen.
    """
    gc.freeze()


# The slowest kinds of test first: pytest-xdist hands out tests in this order, so the last ones left
# for the workers are short and the workers finish together, instead of one finishing a browser
# journey minutes after the other ran out of tests.
_SLOWEST_FIRST = ("tests/e2e/", "tests/integration/", "tests/benchmarks/", "tests/ui/", "tests/api/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid
        return next((index for index, prefix in enumerate(_SLOWEST_FIRST) if path.startswith(prefix)), 99)

    items.sort(key=rank)  # stable: each kind keeps its own order
