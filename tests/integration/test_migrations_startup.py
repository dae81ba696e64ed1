"""A migration that fails stops start-up with one line, and the database is left as it was.

The data folders are real ones: the demo data of revision 0005 (tests/upgrade_fixtures), the last
before 0006 rebuilds ``organizations``, with one thing done to it by hand that the upgrade cannot get
past. ``python app.py`` runs in a subprocess, as an operator starts it.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, select, text

from services.database import alembic_config, make_engine, upgrade_to, upgrade_to_head
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.portal_process import run_app
from tests.upgrade_fixtures.loading import fixture_of, load_fixture

BEFORE_0006 = "0005"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def snapshot(engine: Engine) -> dict[str, Any]:
    """Every table with its columns and rows, alembic_version's included: what must not change."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            table.name: (
                [column.name for column in table.columns],
                sorted((tuple(row) for row in connection.execute(select(table))), key=repr),
            )
            for table in metadata.sorted_tables
        }


@pytest.fixture
def sqlite_folder(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A data folder whose database holds revision 0005's demo data."""
    folder = tmp_path / "data"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'portal.db'}")
    upgrade_to(engine, BEFORE_0006)
    load_fixture(engine, fixture_of(BEFORE_0006))
    yield folder, engine
    engine.dispose()


@pytest.fixture
def postgres_database() -> Iterator[tuple[str, Engine]]:
    """A PostgreSQL database of its own holding revision 0005's demo data."""
    if not POSTGRES_URL:
        pytest.skip("PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on")
    url = postgres_test_url("migration_failure")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade_to(engine, BEFORE_0006)
    load_fixture(engine, fixture_of(BEFORE_0006))
    yield url, engine
    engine.dispose()


def assert_one_line(result: subprocess.CompletedProcess[str], start: str, *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(start), line
    for part in parts:
        assert part in line


def test_rows_that_refer_to_nothing_stop_the_upgrade_and_change_nothing(sqlite_folder):
    folder, engine = sqlite_folder
    # A draft deleted in the sqlite3 shell, where foreign keys are off: its lines now refer to nothing.
    with sqlite3.connect(folder / "portal.db") as shell:
        shell.execute("DELETE FROM invoices WHERE status = 'draft'")
    shell.close()
    before = snapshot(engine)

    result = run_app("--data-dir", str(folder))

    assert_one_line(
        result,
        f"Cannot upgrade the database from revision {BEFORE_0006} to revision {HEAD}: ",
        "invoice_lines row",
        "refers to a row of invoices that does not exist",
        "Nothing was changed",
    )
    assert snapshot(engine) == before


def test_a_migration_that_fails_midway_on_sqlite_changes_nothing(sqlite_folder):
    folder, engine = sqlite_folder
    with engine.begin() as connection:  # made by hand, say by a reporting tool, before 0006 made its own
        connection.execute(text("CREATE TABLE tax_rates (id INTEGER PRIMARY KEY, name TEXT)"))
    before = snapshot(engine)

    result = run_app("--data-dir", str(folder))

    # 0006 rebuilt organizations with four new columns before it failed: that is undone too
    assert_one_line(
        result,
        f"Cannot upgrade the database from revision {BEFORE_0006} to revision {HEAD}: ",
        "migration 0006 failed: table tax_rates already exists",
    )
    assert snapshot(engine) == before


def test_a_migration_that_fails_midway_on_postgresql_changes_nothing(postgres_database, tmp_path):
    url, engine = postgres_database
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tax_rates (id INTEGER PRIMARY KEY, name TEXT)"))
    before = snapshot(engine)

    result = run_app("--data-dir", str(tmp_path / "data"), DATABASE_URL=url)

    assert_one_line(
        result,
        f"Cannot upgrade the database from revision {BEFORE_0006} to revision {HEAD}: ",
        'migration 0006 failed: relation "tax_rates" already exists',
    )
    assert snapshot(engine) == before


def test_a_database_newer_than_the_code_stops_start_up_with_one_line(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    engine = make_engine(f"sqlite:///{folder / 'portal.db'}")
    upgrade_to_head(engine)
    with engine.begin() as connection:  # as a later version's migration would leave it
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    before = snapshot(engine)

    result = run_app("--data-dir", str(folder))

    assert_one_line(
        result,
        "The database is at revision 0999, which this version of the portal does not know",
        f"(its newest is {HEAD})",
    )
    assert snapshot(engine) == before
    engine.dispose()
