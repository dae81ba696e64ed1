"""Every row of every table, to show that a refused request changed nothing."""

from __future__ import annotations

from typing import Any

import models
from services.database import Database


def snapshot(db: Database, *, without: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each table (but those named in ``without``), in primary key order."""
    with db.reading() as session:
        return {
            table.name: [tuple(row) for row in session.execute(table.select().order_by(*table.primary_key))]
            for table in models.Base.metadata.sorted_tables
            if table.name not in without
        }


def stored_values(db: Database) -> list[tuple[str, str, Any]]:
    """``(table, column, value)`` for every value stored anywhere."""
    with db.reading() as session:
        return [
            (table.name, column, value)
            for table in models.Base.metadata.sorted_tables
            for row in session.execute(table.select()).mappings()
            for column, value in row.items()
        ]
