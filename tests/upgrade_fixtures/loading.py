"""Put a fixture's rows into a database whose schema is at the fixture's revision."""

from __future__ import annotations

import functools

from sqlalchemy import Engine, MetaData, text

from tests.upgrade_fixtures.make_fixtures import Fixture, fixture_paths, read_fixture


@functools.cache
def fixture_of(revision: str) -> Fixture:
    return read_fixture(next(path for path in fixture_paths() if path.stem == revision))


def load_fixture(engine: Engine, fixture: Fixture) -> None:
    """The fixture's rows, ids and all, into the tables as that revision's migrations made them."""
    metadata = MetaData()
    metadata.reflect(engine)
    tables = [table for table in metadata.sorted_tables if table.name != "alembic_version"]
    # The schema at that revision is the one its own code wrote these rows into.
    assert {table.name for table in tables} == set(fixture.tables)
    with engine.begin() as connection:
        for table in tables:
            rows = fixture.tables[table.name]
            if not rows:
                continue
            assert set(rows[0]) == set(table.columns.keys()), table.name
            connection.execute(table.insert(), rows)
            if engine.dialect.name == "postgresql" and "id" in table.columns:
                # as if the rows had been inserted one by one: the next id follows the last
                highest = max(row["id"] for row in rows)
                query = text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :id)")
                connection.execute(query, {"table": table.name, "id": highest})
