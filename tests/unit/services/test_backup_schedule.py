"""Scheduled backups: the environment's schedule until the owner saves one, a backup when one is due and
not before, one line for a failure that is tried again within the hour, old archives deleted only after
a new one was written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AuditEvent
from services import backup_schedule
from services.backup import Backup, BackupError, Manifest, list_archives
from services.backup_schedule import (
    back_up_now,
    backups_overview,
    get_schedule,
    run_due_backup,
    save_schedule,
)
from services.clock import Clock as ClockType
from services.database import Database
from services.errors import InvalidDetails
from services.i18n import using_language
from services.settings import Settings, SettingsError, load_settings
from tests.conftest import MIGRATION_HEAD
from tests.factories import NOW, Clock


class FakeArchives:
    """Stands in for ``create_backup``: writes a small archive named after the clock, or fails."""

    def __init__(self) -> None:
        self.failure: Exception | None = None
        self.made: list[Path] = []

    def __call__(self, settings: Settings, target: Path | None = None, *, clock: ClockType) -> Backup:
        if self.failure is not None:
            raise self.failure
        directory = settings.resolved_backup_dir
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"portal-{clock():%Y%m%d-%H%M%S}.tar.gz"
        path.write_bytes(b"archive")
        self.made.append(path)
        manifest = Manifest(1, "sqlite", MIGRATION_HEAD or "", clock(), "included", ())
        return Backup(path, 7, manifest)


@pytest.fixture
def archives(monkeypatch: pytest.MonkeyPatch) -> FakeArchives:
    fake = FakeArchives()
    monkeypatch.setattr(backup_schedule, "create_backup", fake)
    return fake


def settings_for(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", **values)  # type: ignore[arg-type]


def archive_names(settings: Settings) -> list[str]:
    return [archive.path.name for archive in list_archives(settings.resolved_backup_dir)]


def test_the_environment_decides_until_the_owner_saves_a_schedule(db: Database, tmp_path: Path):
    settings = settings_for(tmp_path, backup_every=6, backup_keep=3)

    before = get_schedule(db, settings)
    saved = save_schedule(db, settings, enabled=True, every_hours="12", keep="5", clock=Clock())
    turned_off = save_schedule(db, settings, enabled=False, every_hours="", keep="5", clock=Clock())

    assert (before.every_hours, before.keep, before.saved_in_settings) == (6, 3, False)
    assert (saved.every_hours, saved.keep, saved.saved_in_settings) == (12, 5, True)
    assert get_schedule(db, settings) == turned_off
    assert (turned_off.enabled, turned_off.saved_in_settings) == (False, True)
    with db.reading() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert actions == ["backup.schedule_changed", "backup.schedule_changed"]


@pytest.mark.parametrize(
    ("hours", "keep", "field"),
    [("0", "7", "every_hours"), ("1.5", "7", "every_hours"), ("a day", "7", "every_hours"),
     ("8761", "7", "every_hours"), ("24", "0", "keep"), ("24", "", "keep"), ("24", "1001", "keep")],
)  # fmt: skip
def test_a_schedule_out_of_range_is_refused_by_field(db: Database, tmp_path: Path, hours, keep, field):
    settings = settings_for(tmp_path)

    with pytest.raises(InvalidDetails) as refusal:
        save_schedule(db, settings, enabled=True, every_hours=hours, keep=keep)

    assert set(refusal.value.errors) == {field}
    assert get_schedule(db, settings).saved_in_settings is False


def test_a_refused_schedule_is_explained_in_the_owners_language(db: Database, tmp_path: Path):
    with using_language("de"), pytest.raises(InvalidDetails) as refusal:
        save_schedule(db, settings_for(tmp_path), enabled=True, every_hours="0", keep="0")

    assert refusal.value.errors == {
        "every_hours": "Geben Sie eine ganze Zahl von Stunden von 1 bis 8.760 ein.",
        "keep": "Geben Sie ein, wie viele Sicherungen aufbewahrt werden, von 1 bis 1.000.",
    }


def test_a_backup_is_made_when_due_and_not_before(db: Database, tmp_path: Path, archives: FakeArchives):
    settings = settings_for(tmp_path, backup_every=24)
    clock = Clock()

    first = run_due_backup(db, settings, clock=clock)  # never made: due at once
    clock.advance(hours=23, minutes=59)
    too_soon = run_due_backup(db, settings, clock=clock)
    clock.advance(minutes=1)
    second = run_due_backup(db, settings, clock=clock)

    assert first is not None
    assert second is not None
    assert too_soon is None
    assert archive_names(settings) == ["portal-20260616-120000.tar.gz", "portal-20260615-120000.tar.gz"]
    schedule = get_schedule(db, settings)
    assert (schedule.last_succeeded_at, schedule.last_archive, schedule.last_error) == (
        clock(),
        "portal-20260616-120000.tar.gz",
        "",
    )
    assert schedule.next_due == NOW.replace(day=17)


def test_nothing_is_made_while_the_schedule_is_off(db: Database, tmp_path: Path, archives: FakeArchives):
    settings = settings_for(tmp_path, backup_every=24)
    save_schedule(db, settings, enabled=False, every_hours="24", keep="7")

    assert run_due_backup(db, settings, clock=Clock()) is None
    assert archives.made == []


def test_a_run_claimed_by_another_instance_is_not_made_twice(
    db: Database, tmp_path: Path, archives: FakeArchives
):
    settings = settings_for(tmp_path, backup_every=1)
    clock = Clock()

    made = [run_due_backup(db, settings, clock=clock) for _instance in range(2)]

    assert [backup is not None for backup in made] == [True, False]


def test_a_failure_logs_one_line_and_is_tried_again_within_the_hour(
    db: Database, tmp_path: Path, archives: FakeArchives, caplog: pytest.LogCaptureFixture
):
    settings = settings_for(tmp_path, backup_every=24)
    clock = Clock()
    archives.failure = BackupError("Cannot write the backup to /backups/x.tar.gz: No space left on device")

    with caplog.at_level(logging.WARNING):
        assert run_due_backup(db, settings, clock=clock) is None
    clock.advance(minutes=59)
    not_yet = run_due_backup(db, settings, clock=clock)
    clock.advance(minutes=1)
    archives.failure = None
    retried = run_due_backup(db, settings, clock=clock)

    [record] = caplog.records
    assert record.getMessage() == (
        "Scheduled backup failed, trying again within an hour: "
        "Cannot write the backup to /backups/x.tar.gz: No space left on device"
    )
    assert record.exc_info is None  # one line, no traceback
    assert not_yet is None
    assert retried is not None
    assert get_schedule(db, settings).last_error == ""


def test_old_archives_are_deleted_only_after_a_new_one_was_written(
    db: Database, tmp_path: Path, archives: FakeArchives
):
    settings = settings_for(tmp_path, backup_every=24, backup_keep=2)
    clock = Clock()
    for _day in range(3):
        assert run_due_backup(db, settings, clock=clock) is not None
        clock.advance(days=1)
    kept = archive_names(settings)

    archives.failure = OSError(28, "No space left on device")
    run_due_backup(db, settings, clock=clock)
    after_failure = archive_names(settings)
    failed = get_schedule(db, settings)
    clock.advance(hours=1)
    archives.failure = None
    run_due_backup(db, settings, clock=clock)

    assert kept == ["portal-20260617-120000.tar.gz", "portal-20260616-120000.tar.gz"]
    assert after_failure == kept
    assert failed.last_error == "[Errno 28] No space left on device"
    assert archive_names(settings) == ["portal-20260618-130000.tar.gz", "portal-20260617-120000.tar.gz"]


def test_back_up_now_keeps_the_newest_n_only_while_the_schedule_is_on(
    db: Database, tmp_path: Path, archives: FakeArchives
):
    settings = settings_for(tmp_path, backup_keep=1)
    clock = Clock()

    back_up_now(db, settings, clock=clock)
    clock.advance(seconds=1)
    back_up_now(db, settings, staff_user_id=None, clock=clock)
    both = archive_names(settings)
    save_schedule(db, settings, enabled=True, every_hours="24", keep="1")
    clock.advance(seconds=1)
    newest = back_up_now(db, settings, clock=clock)

    assert len(both) == 2
    assert archive_names(settings) == [newest.path.name]
    with db.reading() as session:
        details = session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.action == "backup.created")
            .order_by(AuditEvent.id)  # PostgreSQL returns rows in no given order without it
        ).all()
    assert [detail["archive"] for detail in details] == [path.name for path in archives.made]


def test_back_up_now_says_why_it_failed(db: Database, tmp_path: Path, archives: FakeArchives):
    archives.failure = BackupError("Cannot back up: pg_dump is not installed")

    with pytest.raises(BackupError, match="pg_dump is not installed"):
        back_up_now(db, settings_for(tmp_path), clock=Clock())


def test_the_overview_lists_the_newest_archives_with_their_size(
    db: Database, tmp_path: Path, archives: FakeArchives
):
    settings = settings_for(tmp_path, backup_dir=tmp_path / "kept")
    clock = Clock()
    for _ in range(22):
        back_up_now(db, settings, clock=clock)
        clock.advance(minutes=1)

    overview = backups_overview(db, settings)

    assert overview.directory == tmp_path / "kept"
    assert (len(overview.archives), overview.archive_count) == (20, 22)
    assert overview.archives[0].name == "portal-20260615-122100.tar.gz"
    assert overview.archives[0].size == len(b"archive")
    assert overview.secret_key_in_archives
    assert overview.database == "sqlite"


def test_a_scheduled_run_writes_a_real_archive(db: Database, tmp_path: Path):
    """Through the real ``create_backup``: a data folder as the portal leaves it."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the archive itself is tested on both databases in test_backup.py")
    from tests.unit.services.test_backup import make_source

    source = make_source(tmp_path, "sqlite")
    settings = source.settings.model_copy(update={"backup_every": 24})

    made = run_due_backup(source.db, settings, clock=Clock())

    assert made is not None
    assert made.path.parent == settings.resolved_backup_dir
    assert made.manifest.revision == MIGRATION_HEAD
    source.db.engine.dispose()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("PORTAL_BACKUP_EVERY", "-1"), ("PORTAL_BACKUP_EVERY", "daily"), ("PORTAL_BACKUP_KEEP", "0")],
)
def test_a_bad_backup_setting_is_named(monkeypatch: pytest.MonkeyPatch, variable: str, value: str):
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError, match=rf"^Invalid setting {variable}: "):
        load_settings()


def test_an_empty_backup_folder_setting_means_the_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PORTAL_BACKUP_DIR", "")

    assert load_settings(data_dir=tmp_path).resolved_backup_dir == tmp_path / "backups"
