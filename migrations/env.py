"""Alembic environment: runs on the connection the portal hands it, or on DATABASE_URL for the CLI."""

from __future__ import annotations

from alembic import context

import models
from services.database import make_engine
from services.settings import load_settings

config = context.config
target_metadata = models.Base.metadata


def run_migrations(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_migrations(connection)
else:
    engine = make_engine(load_settings().resolved_database_url)
    with engine.begin() as own_connection:
        run_migrations(own_connection)
