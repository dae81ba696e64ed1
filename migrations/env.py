"""Alembic environment: runs on the connection the portal hands it, or on DATABASE_URL for the CLI.

Either way the migrations run in one transaction from ``services.database.migration_transaction``:
all of them or none, and on SQLite with foreign keys off while batch migrations copy tables.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection

import models
from services.database import make_engine, migration_transaction
from services.settings import load_settings

config = context.config
target_metadata = models.Base.metadata


def run_migrations(connection: Connection, applied: list[str]) -> None:
    def record(
        ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
    ) -> None:
        # so that a failure names the migration that failed (services.database.upgrade_to)
        applied.extend(step.up_revision_ids)

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        on_version_apply=record,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
applied = config.attributes.get("applied", [])
if connection is not None:
    run_migrations(connection, applied)
else:
    engine = make_engine(load_settings().resolved_database_url)
    with migration_transaction(engine) as own_connection:
        run_migrations(own_connection, applied)
