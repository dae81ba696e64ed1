"""Scheduled backups: what the owner chose in Settings > Backups and what the scheduler last did.

One row for the whole portal. ``every_hours`` and ``keep`` stay None until the owner saves them, and
``PORTAL_BACKUP_EVERY`` and ``PORTAL_BACKUP_KEEP`` apply until then. ``last_started_at`` is also the
claim: an instance starts a backup only by moving it forward, so instances sharing a database do not
each make one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class BackupSchedule(Base):
    __tablename__ = "backup_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    every_hours: Mapped[int | None] = mapped_column(Integer, default=None)  # 0: off
    keep: Mapped[int | None] = mapped_column(Integer, default=None)
    last_started_at: Mapped[datetime | None] = mapped_column(default=None)
    last_succeeded_at: Mapped[datetime | None] = mapped_column(default=None)
    last_archive: Mapped[str] = mapped_column(String(255), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")  # "" when the last scheduled run succeeded
    updated_at: Mapped[datetime | None] = mapped_column(default=None)
