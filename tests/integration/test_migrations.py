"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

import models
from services.database import make_engine, upgrade_to_head
from tests.conftest import POSTGRES_URL, postgres_test_url


def postgres_engine() -> Iterator[Engine]:
    # Its own database, so the shared test database (built with create_all by conftest) is left alone.
    engine = make_engine(postgres_test_url("migrations"))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set"),
        ),
    ]
)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database without a single table."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
    else:
        yield from postgres_engine()


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, models.Base.metadata))


def test_migrating_an_empty_database_gives_the_models_schema(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    assert schema_differences(empty_engine) == []
    tables = set(inspect(empty_engine).get_table_names())
    assert set(models.Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_migrating_twice_changes_nothing(empty_engine: Engine) -> None:
    upgrade_to_head(empty_engine)
    with empty_engine.connect() as connection:
        version = connection.scalar(text("SELECT version_num FROM alembic_version"))
    upgrade_to_head(empty_engine)
    with empty_engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == version
    assert schema_differences(empty_engine) == []


def test_an_empty_database_differs_from_the_models(empty_engine: Engine) -> None:
    """The comparison above can fail: without migrations every table is reported missing."""
    differences = schema_differences(empty_engine)
    added = {diff[1].name for diff in differences if isinstance(diff, tuple) and diff[0] == "add_table"}
    assert added == set(models.Base.metadata.tables)
