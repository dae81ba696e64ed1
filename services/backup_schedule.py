"""Scheduled backups and Settings > Backups: when the next archive is due, making it, keeping the newest N.

The owner chooses in Settings; until then ``PORTAL_BACKUP_EVERY`` (hours, 0: off) and
``PORTAL_BACKUP_KEEP`` apply. The archives go to ``PORTAL_BACKUP_DIR`` (``backups`` in the data folder),
which only the environment sets: a page does not choose where the server writes.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from babel.numbers import format_decimal
from sqlalchemy.orm import Session

from models import BackupSchedule
from services.audit import record_event
from services.backup import Backup, create_backup, database_kind, list_archives, prune_archives
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.errors import InvalidDetails
from services.i18n import _, formatting_locale
from services.settings import Settings

logger = logging.getLogger(__name__)

SCHEDULE_ROW = 1
MAX_EVERY_HOURS, MAX_KEEP = 8760, 1000
RETRY_AFTER = timedelta(hours=1)  # a failed scheduled backup is tried again this soon (or at its interval)
LISTED_ARCHIVES = 20
BACKUP_CREATED = "backup.created"
SCHEDULE_CHANGED = "backup.schedule_changed"


@dataclass(frozen=True)
class Schedule:
    every_hours: int  # 0: off
    keep: int
    saved_in_settings: bool  # False: the environment's PORTAL_BACKUP_EVERY and PORTAL_BACKUP_KEEP
    last_started_at: datetime | None
    last_succeeded_at: datetime | None
    last_archive: str
    last_error: str  # "" unless the last scheduled backup failed

    @property
    def enabled(self) -> bool:
        return self.every_hours > 0

    @property
    def next_due(self) -> datetime | None:
        """When the next scheduled backup is made; None when off, or as soon as possible if never made."""
        if not self.enabled or self.last_started_at is None:
            return None
        interval = timedelta(hours=self.every_hours)
        return self.last_started_at + (min(interval, RETRY_AFTER) if self.last_error else interval)


@dataclass(frozen=True)
class ArchiveInfo:
    name: str
    size: int
    modified_at: datetime


@dataclass(frozen=True)
class BackupsOverview:
    """What Settings > Backups shows."""

    schedule: Schedule
    directory: Path
    archives: tuple[ArchiveInfo, ...]  # the newest LISTED_ARCHIVES
    archive_count: int
    database: str  # "sqlite" or "postgresql"
    secret_key_in_archives: bool  # False when PORTAL_SECRET_KEY is set: the operator keeps the key


def get_schedule(db: Database, settings: Settings) -> Schedule:
    with db.reading() as session:
        return _schedule(session.get(BackupSchedule, SCHEDULE_ROW), settings)


def backups_overview(db: Database, settings: Settings) -> BackupsOverview:
    archives = list_archives(settings.resolved_backup_dir)
    return BackupsOverview(
        schedule=get_schedule(db, settings),
        directory=settings.resolved_backup_dir,
        archives=tuple(ArchiveInfo(a.path.name, a.size, a.modified_at) for a in archives[:LISTED_ARCHIVES]),
        archive_count=len(archives),
        database=database_kind(settings),
        secret_key_in_archives=not settings.secret_key,
    )


def save_schedule(
    db: Database,
    settings: Settings,
    *,
    enabled: bool,
    every_hours: str | int,
    keep: str | int,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> Schedule:
    """Turn scheduled backups on (every ``every_hours`` hours, keeping the newest ``keep``) or off.

    Raises ``InvalidDetails`` naming the field for an interval or count that is not a whole number in
    range; a new interval counts from the last backup, so turning the schedule on makes one at once.
    """
    errors: dict[str, str] = {}
    hours = _whole(every_hours, 1, MAX_EVERY_HOURS)
    where = formatting_locale()
    if enabled and hours is None:
        errors["every_hours"] = _("Enter a whole number of hours from 1 to {most}.").format(
            most=format_decimal(MAX_EVERY_HOURS, locale=where)
        )
    kept = _whole(keep, 1, MAX_KEEP)
    if kept is None:
        errors["keep"] = _("Enter how many backups to keep, from 1 to {most}.").format(
            most=format_decimal(MAX_KEEP, locale=where)
        )
    if errors:
        raise InvalidDetails(errors)
    assert kept is not None  # noqa: S101 - for the type checker; checked above
    with db.transaction() as session:
        row = _row(session)
        row.every_hours = (hours or 0) if enabled else 0
        row.keep = kept
        row.updated_at = clock()
        record_event(
            session,
            SCHEDULE_CHANGED,
            at=clock(),
            staff_user_id=staff_user_id,
            details={"every_hours": row.every_hours, "keep": kept},
        )
        return _schedule(row, settings)


def back_up_now(
    db: Database, settings: Settings, *, staff_user_id: int | None = None, clock: Clock = utc_now
) -> Backup:
    """Write an archive into the backups folder at once ("Back up now"); with the schedule on, then
    delete all but its newest N. Raises ``BackupError`` saying why in one line when none could be made.
    """
    made = create_backup(settings, clock=clock)
    schedule = get_schedule(db, settings)
    if schedule.enabled:
        _prune(settings.resolved_backup_dir, schedule.keep)
    with db.transaction() as session:
        record_event(
            session,
            BACKUP_CREATED,
            at=clock(),
            staff_user_id=staff_user_id,
            details={"archive": made.path.name, "size": made.size},
        )
    return made


def run_due_backup(db: Database, settings: Settings, *, clock: Clock = utc_now) -> Backup | None:
    """Make the scheduled backup if one is due, then delete all but the newest N archives; None when
    none was due or it failed.

    Claiming the run moves ``last_started_at`` forward in one transaction, so instances sharing the
    database make one backup between them. A failure is logged in one line, shown in Settings and tried
    again an hour later (or at the next interval, if sooner); older archives are deleted only after a
    new one was written.
    """
    now = clock()
    if not _due(get_schedule(db, settings), now):  # most rounds: a read, no write lock
        return None
    with db.transaction() as session:
        row = _row(session)
        schedule = _schedule(row, settings)
        if not _due(schedule, now):  # claimed by another instance meanwhile
            return None
        row.last_started_at = now
    try:
        made = create_backup(settings, clock=clock)
    except Exception as error:  # any failure: the loop must go on, and Settings must show it
        message = _one_line(error)
        logger.warning("Scheduled backup failed, trying again within an hour: %s", message)
        _record(db, error=message)
        return None
    _prune(settings.resolved_backup_dir, schedule.keep)
    _record(db, archive=made.path.name, at=clock())
    return made


def _due(schedule: Schedule, now: datetime) -> bool:
    due = schedule.next_due
    return schedule.enabled and (due is None or due <= now)


def _prune(directory: Path, keep: int) -> None:
    try:
        prune_archives(directory, keep)
    except OSError as error:
        logger.warning("Could not delete old backups in %s: %s", directory, error.strerror or error)


def _record(db: Database, *, error: str = "", archive: str = "", at: datetime | None = None) -> None:
    with db.transaction() as session:
        row = _row(session)
        row.last_error = error
        if at is not None:
            row.last_succeeded_at, row.last_archive = at, archive


def _row(session: Session) -> BackupSchedule:
    """The schedule's one row, locked for this transaction; made on first use.

    Two instances making it at once would both insert it: the second waits for the first's row instead
    of failing on the primary key (``ON CONFLICT DO NOTHING``, then the locked read).
    """
    row = session.get(BackupSchedule, SCHEDULE_ROW, with_for_update=True)
    if row is None:
        insert_unless_present(
            session, BackupSchedule, ["id"], id=SCHEDULE_ROW, last_archive="", last_error=""
        )
        row = session.get_one(BackupSchedule, SCHEDULE_ROW, with_for_update=True, populate_existing=True)
    return row


def _schedule(row: BackupSchedule | None, settings: Settings) -> Schedule:
    every, keep, saved = settings.backup_every, settings.backup_keep, False
    if row is not None and row.every_hours is not None:  # saved in Settings: it wins over the environment
        every, keep, saved = row.every_hours, row.keep or settings.backup_keep, True
    return Schedule(
        every_hours=every,
        keep=keep,
        saved_in_settings=saved,
        last_started_at=row.last_started_at if row else None,
        last_succeeded_at=row.last_succeeded_at if row else None,
        last_archive=row.last_archive if row else "",
        last_error=row.last_error if row else "",
    )


def _whole(value: str | int, low: int, high: int) -> int | None:
    typed = str(value).strip()
    if not re.fullmatch(r"[0-9]{1,6}", typed) or not low <= int(typed) <= high:
        return None
    return int(typed)


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
