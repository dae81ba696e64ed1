"""Settings > Backups: "Back up now" writes an archive and lists it, the schedule is saved with a message
per wrong field, and a failed scheduled backup is shown until one succeeds."""

from __future__ import annotations

import pytest
from nicegui.testing import User

from models import BackupSchedule
from services import portal
from services.backup import BackupError, list_archives, read_archive
from services.backup_schedule import get_schedule
from tests.conftest import MIGRATION_HEAD
from tests.ui.admin.conftest import set_value, until

PAGE = "/admin/settings/backups"


async def test_back_up_now_writes_an_archive_and_lists_it(owner: User) -> None:
    settings = portal.current().settings
    await owner.open(PAGE)
    await owner.should_see("No backups yet.")
    await owner.should_see(str(settings.resolved_backup_dir))

    owner.find(marker="backup-now").click()

    await owner.should_see("Backup written: portal-", retries=100)
    [archive] = list_archives(settings.resolved_backup_dir)
    assert read_archive(archive.path).revision == MIGRATION_HEAD
    await owner.should_see(archive.path.name)
    await owner.should_not_see("No backups yet.")


async def test_the_schedule_is_saved_and_says_when_the_next_backup_comes(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see(
        "Not saved here yet: the portal follows PORTAL_BACKUP_EVERY and PORTAL_BACKUP_KEEP (off)."
    )

    set_value(owner, "backup-enabled", True)
    set_value(owner, "backup-every", "12")
    set_value(owner, "backup-keep", "3")
    owner.find(marker="backup-schedule-save").click()

    await owner.should_see("Scheduled backups are saved.")
    await owner.should_see("Next backup: within a minute")
    schedule = get_schedule(portal.current().db, portal.current().settings)
    assert (schedule.every_hours, schedule.keep, schedule.saved_in_settings) == (12, 3, True)


async def test_a_wrong_interval_is_marked_and_nothing_is_saved(owner: User) -> None:
    await owner.open(PAGE)
    set_value(owner, "backup-enabled", True)
    set_value(owner, "backup-every", "0")
    owner.find(marker="backup-schedule-save").click()

    await owner.should_see("Nothing was saved: 1 field needs correcting.")
    every = owner.find(marker="backup-every").elements.pop()
    await until(lambda: bool(every.props.get("error")))
    assert every.props["error-message"] == "Enter a whole number of hours from 1 to 8,760."
    assert not get_schedule(portal.current().db, portal.current().settings).saved_in_settings


async def test_a_failed_scheduled_backup_is_shown(owner: User) -> None:
    with portal.current().db.transaction() as session:
        session.merge(
            BackupSchedule(
                id=1,
                every_hours=24,
                keep=7,
                last_started_at=portal.current().clock(),
                last_archive="",
                last_error="Cannot write the backup: No space left on device",
            )
        )

    await owner.open(PAGE)

    await owner.should_see(
        "The last scheduled backup failed: Cannot write the backup: No space left on device. It is tried "
        "again within an hour; Back up now shows at once whether it works."
    )


async def test_a_failed_back_up_now_says_why(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise BackupError("Cannot write the backup to /srv/backups: No space left on device")

    monkeypatch.setattr("pages.admin.settings_backups.back_up_now", full_disk)
    await owner.open(PAGE)

    owner.find(marker="backup-now").click()

    await owner.should_see(
        "The backup could not be made: Cannot write the backup to /srv/backups: No space left on device",
        retries=100,
    )
    assert list_archives(portal.current().settings.resolved_backup_dir) == []
