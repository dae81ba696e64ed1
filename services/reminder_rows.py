"""The business's one reminder_settings row, which reminders and late fees both read and change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ReminderSettings
from services.database import insert_unless_present


def settings_row(session: Session, organization_id: int, *, lock: bool = False) -> ReminderSettings | None:
    """The business's row (locked for this transaction with ``lock``), None before its first save."""
    query = select(ReminderSettings).where(ReminderSettings.organization_id == organization_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def settings_row_to_change(session: Session, organization_id: int, now: datetime) -> ReminderSettings:
    """The business's row, locked, made first (reminders off, no rules) when it has none yet; two saves
    at once make one row (the second waits on the first's insert)."""
    row = settings_row(session, organization_id, lock=True)
    if row is None:
        insert_unless_present(
            session,
            ReminderSettings,
            ["organization_id"],
            organization_id=organization_id,
            enabled=False,
            rule_days="",
            updated_at=now,
        )
        row = settings_row(session, organization_id, lock=True)
        assert row is not None  # noqa: S101 - for the type checker; inserted above
    return row
