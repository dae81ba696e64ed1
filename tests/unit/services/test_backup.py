"""Backup archives: what they hold, and a restore that goes only into an empty data folder and database,
checks the whole archive first, and refuses with one line, changing nothing, whenever it cannot."""

from __future__ import annotations

import errno
import io
import json
import os
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import func, select, text

import models.sealed
from models import Invoice
from services import portal
from services.backup import (
    KEY_FROM_ENVIRONMENT,
    KEY_INCLUDED,
    MANIFEST,
    BackupError,
    RestoreRefused,
    create_backup,
    format_size,
    list_archives,
    prune_archives,
    read_archive,
    restore_backup,
)
from services.database import Database, alembic_config, make_engine
from services.portal import storage_secret
from services.secret_key import KEY_FILE, load_key
from services.settings import Settings
from tests.conftest import BACKENDS, MIGRATION_HEAD, POSTGRES_URL, postgres_test_url
from tests.factories import NOW, Clock, make_client, make_organization, make_sent_invoice
from tests.upgrade_fixtures.loading import fixture_of, load_fixture

HEAD = MIGRATION_HEAD


@dataclass(frozen=True)
class Source:
    settings: Settings
    db: Database
    invoice_numbers: list[str]


def empty_postgres(purpose: str) -> str:
    url = postgres_test_url(purpose)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    return url


def make_source(tmp_path: Path, backend: str, *, revision: str = "head", **settings: object) -> Source:
    """A data folder as a started portal leaves it: database migrated, a business with invoices, its
    secret key and storage secret."""
    data_dir = tmp_path / "source"
    data_dir.mkdir(mode=0o700)
    url = empty_postgres("backup_source") if backend == "postgresql" else ""
    source_settings = Settings(data_dir=data_dir, database_url=url, **settings)  # type: ignore[arg-type]
    load_key(data_dir)
    storage_secret(data_dir)
    db = Database.from_url(source_settings.resolved_database_url)
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision != "head":  # the rows that revision's own code wrote: today's models may not fit its tables
        fixture = fixture_of(revision)
        load_fixture(db.engine, fixture)
        numbers = [row["number"] for row in fixture.tables["invoices"]]
        return Source(source_settings, db, numbers)
    client_id = make_client(db, make_organization(db))
    numbers = [make_sent_invoice(db, client_id, amount).number for amount in (12_500, 8_000, 40_001)]
    return Source(source_settings, db, numbers)


@pytest.fixture(params=BACKENDS)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Source]:
    made = make_source(tmp_path, request.param)
    yield made
    made.db.engine.dispose()


def target_settings(tmp_path: Path, source: Source, name: str = "restored") -> Settings:
    url = empty_postgres("backup_target") if source.settings.database_url else ""
    return Settings(data_dir=tmp_path / name, database_url=url)


def invoice_totals(settings: Settings) -> list[tuple[str, int, int]]:
    db = Database.from_url(settings.resolved_database_url)
    try:
        with db.reading() as session:
            columns = (Invoice.number, Invoice.total_minor, Invoice.balance_due_minor)
            rows = session.execute(select(*columns).order_by(Invoice.number))
            return [tuple(row) for row in rows]  # type: ignore[misc]
    finally:
        db.engine.dispose()


def test_a_backup_restores_the_database_and_the_data_folders_secrets(source: Source, tmp_path: Path):
    backup = create_backup(source.settings, clock=Clock())
    target = target_settings(tmp_path, source)

    restored = restore_backup(target, backup.path)

    assert invoice_totals(target) == invoice_totals(source.settings)
    assert [number for number, _, _ in invoice_totals(target)] == source.invoice_numbers
    for name in (KEY_FILE, "storage_secret"):
        copy = target.data_dir / name
        assert copy.read_bytes() == (source.settings.data_dir / name).read_bytes()
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.data_dir.stat().st_mode) == 0o700
    assert sorted(path.name for path in target.data_dir.iterdir()) == sorted(
        [KEY_FILE, "storage_secret", *(["portal.db"] if not source.settings.database_url else [])]
    )
    assert restored.manifest == backup.manifest
    assert not restored.migrates


def test_the_archive_is_private_and_its_manifest_comes_first(source: Source):
    backup = create_backup(source.settings, clock=Clock())

    assert backup.path == source.settings.data_dir.resolve() / "backups" / "portal-20260615-120000.tar.gz"
    assert stat.S_IMODE(backup.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup.path.parent.stat().st_mode) == 0o700
    assert backup.size == backup.path.stat().st_size
    with tarfile.open(backup.path) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile(MANIFEST))  # type: ignore[arg-type]
    database = "portal.pgdump" if source.settings.database_url else "portal.db"
    assert names == [MANIFEST, database, KEY_FILE, "storage_secret"]
    assert manifest["format"] == 1
    assert manifest["revision"] == HEAD
    assert manifest["database"] == ("postgresql" if source.settings.database_url else "sqlite")
    assert manifest["created_at"] == NOW.isoformat()
    assert manifest["secret_key"] == KEY_INCLUDED
    assert set(manifest["files"]) == {database, KEY_FILE, "storage_secret"}
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
    assert read_archive(backup.path) == backup.manifest


def test_a_second_backup_within_the_same_second_gets_its_own_name(tmp_path: Path):
    source = make_source(tmp_path, "sqlite", backup_dir=tmp_path / "elsewhere")
    clock = Clock()

    first = create_backup(source.settings, clock=clock)
    second = create_backup(source.settings, clock=clock)

    assert first.path.parent == tmp_path / "elsewhere"
    assert (first.path.name, second.path.name) == (
        "portal-20260615-120000.tar.gz",
        "portal-20260615-120000-2.tar.gz",
    )


def test_with_portal_secret_key_set_the_key_stays_out_of_the_archive(tmp_path: Path):
    from cryptography.fernet import Fernet

    source = make_source(tmp_path, "sqlite", secret_key=Fernet.generate_key().decode())

    backup = create_backup(source.settings)

    assert backup.manifest.secret_key == KEY_FROM_ENVIRONMENT
    with tarfile.open(backup.path) as tar:
        assert KEY_FILE not in tar.getnames()


def test_a_backup_that_cannot_be_written_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    source = make_source(tmp_path, "sqlite")
    folder = source.settings.resolved_backup_dir

    def disk_full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(BackupError, match=r"^Cannot write the backup to .*: No space left on device$"):
        create_backup(source.settings)

    assert list(folder.iterdir()) == []  # no archive, no hidden partial file, no working folder


def test_a_missing_database_is_named(tmp_path: Path):
    with pytest.raises(BackupError, match=r"^Cannot back up: there is no database at .*portal\.db$"):
        create_backup(Settings(data_dir=tmp_path / "nothing-here"), tmp_path / "backup.tar.gz")


def test_an_archive_from_an_older_version_is_migrated_forward_by_the_next_start(tmp_path: Path):
    source = make_source(tmp_path, "sqlite", revision="0009")
    backup = create_backup(source.settings)
    target = Settings(data_dir=tmp_path / "restored")

    restored = restore_backup(target, backup.path)

    assert (restored.manifest.revision, restored.code_revision, restored.migrates) == ("0009", HEAD, True)
    before = (models.sealed._fernet, portal._current)
    try:
        started = portal.start(target)  # what `python app.py` does first
        with started.db.reading() as session:
            assert session.scalar(text("SELECT version_num FROM alembic_version")) == HEAD
            assert session.scalar(select(func.count()).select_from(Invoice)) == len(source.invoice_numbers)
        started.db.close()
    finally:
        models.sealed._fernet, portal._current = before


# Refusals: one line, and nothing changed


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    source = make_source(tmp_path, "sqlite")
    path = create_backup(source.settings, tmp_path / "backup.tar.gz").path
    source.db.engine.dispose()
    return path


def refused(settings: Settings, archive: Path, message: str) -> None:
    """The restore refuses with ``message`` (a regular expression) in one line, and writes nothing."""
    before = snapshot(settings.data_dir)
    with pytest.raises(RestoreRefused, match=message) as refusal:
        restore_backup(settings, archive)
    assert "\n" not in str(refusal.value)
    assert snapshot(settings.data_dir) == before


def snapshot(folder: Path) -> dict[str, bytes] | None:
    if not folder.exists():
        return None
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_data_folder_that_is_not_empty_is_refused(tmp_path: Path, archive: Path):
    folder = tmp_path / "in-use"
    folder.mkdir()
    (folder / "portal.db").write_bytes(b"the database in use")

    refused(
        Settings(data_dir=folder),
        archive,
        r"^Cannot restore: the data folder .*in-use is not empty \(portal\.db\); restore into a new folder$",
    )


def test_a_write_ahead_log_left_beside_a_database_outside_the_folder_is_refused(
    tmp_path: Path, archive: Path
):
    elsewhere = tmp_path / "databases"
    elsewhere.mkdir()
    (elsewhere / "portal.db-wal").write_bytes(b"pages of the database that was here before")
    settings = Settings.model_validate(
        {"data_dir": tmp_path / "fresh", "DATABASE_URL": f"sqlite:///{elsewhere / 'portal.db'}"}
    )

    refused(settings, archive, r"^Cannot restore: the database file .*portal\.db-wal already exists$")
    assert not (elsewhere / "portal.db").exists()


def test_the_backups_folder_alone_does_not_make_the_data_folder_in_use(tmp_path: Path, archive: Path):
    folder = tmp_path / "fresh"
    (folder / "backups").mkdir(parents=True)
    kept = (folder / "backups" / archive.name).write_bytes(archive.read_bytes())

    restore_backup(Settings(data_dir=folder), folder / "backups" / archive.name)

    assert (folder / "portal.db").is_file()
    assert kept


@pytest.mark.parametrize("cut", [1, 10, 2_000, "half"])
def test_a_truncated_archive_is_refused(tmp_path: Path, archive: Path, cut: int | str):
    data = archive.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2] if cut == "half" else data[: -int(cut)])

    refused(
        Settings(data_dir=tmp_path / "restored"),
        truncated,
        r"^Cannot restore: truncated\.tar\.gz is damaged or incomplete \(",
    )


def rewrite(archive: Path, target: Path, *, manifest: dict | None = None, extra: dict | None = None):
    """A copy of ``archive`` with its manifest changed and ``extra`` entries added, compressed anew."""
    with tarfile.open(archive) as tar:
        members = {member.name: tar.extractfile(member).read() for member in tar}  # type: ignore[union-attr]
    original = json.loads(members[MANIFEST])
    members[MANIFEST] = json.dumps({**original, **(manifest or {})}).encode()
    members.update(extra or {})
    with tarfile.open(target, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return target


def test_a_file_that_does_not_match_its_checksum_is_refused(tmp_path: Path, archive: Path):
    with tarfile.open(archive) as tar:
        files = json.load(tar.extractfile(MANIFEST))["files"]  # type: ignore[arg-type]
    files["secret_key"]["sha256"] = "0" * 64
    damaged = rewrite(archive, tmp_path / "damaged.tar.gz", manifest={"files": files})

    refused(
        Settings(data_dir=tmp_path / "restored"),
        damaged,
        r"^Cannot restore: damaged\.tar\.gz is damaged \(secret_key does not match its checksum\)$",
    )


def test_a_flipped_byte_is_refused(tmp_path: Path, archive: Path):
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "flipped.tar.gz"
    damaged.write_bytes(bytes(data))

    refused(Settings(data_dir=tmp_path / "new"), damaged, r"^Cannot restore: flipped\.tar\.gz is damaged")


def test_an_archive_from_a_newer_version_is_refused(tmp_path: Path, archive: Path):
    newer = rewrite(archive, tmp_path / "newer.tar.gz", manifest={"revision": "0042"})

    refused(
        Settings(data_dir=tmp_path / "restored"),
        newer,
        rf"^Cannot restore: the archive comes from a newer version of the portal \(database revision 0042, "
        rf"this version knows up to {HEAD}\); update the portal first$",
    )


def test_an_archive_in_a_newer_format_is_refused(tmp_path: Path, archive: Path):
    newer = rewrite(archive, tmp_path / "newer.tar.gz", manifest={"format": 2})

    refused(Settings(data_dir=tmp_path / "restored"), newer, r"was made by a newer version of the portal")


def test_an_archive_of_another_kind_of_database_is_refused(tmp_path: Path, archive: Path):
    # No server is asked: the kind is checked before anything else is touched.
    settings = Settings(data_dir=tmp_path / "restored", database_url="postgresql://nobody@127.0.0.1:9/none")

    refused(
        settings,
        archive,
        r"^Cannot restore: backup\.tar\.gz holds a SQLite database and this portal uses PostgreSQL "
        r"\(DATABASE_URL is set\)$",
    )


def test_an_archive_with_an_unexpected_entry_is_refused(tmp_path: Path, archive: Path):
    sneaky = rewrite(archive, tmp_path / "sneaky.tar.gz", extra={"../outside": b"x"})

    refused(Settings(data_dir=tmp_path / "restored"), sneaky, r"holds an unexpected entry '\.\./outside'$")
    assert not (tmp_path / "outside").exists()


def test_a_file_that_is_no_archive_is_refused(tmp_path: Path):
    plain = tmp_path / "notes.tar.gz"
    plain.write_bytes(b"not an archive at all")
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("README")
        tar.addfile(info, io.BytesIO(b""))

    target = Settings(data_dir=tmp_path / "restored")
    refused(target, plain, r"is damaged or incomplete \(Not a gzipped file")
    refused(target, other, r"is not a backup of this portal \(no manifest\)$")
    refused(target, tmp_path / "missing.tar.gz", r"there is no file")


@pytest.mark.skipif(not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server")
def test_a_postgresql_database_that_is_not_empty_is_refused(tmp_path: Path):
    source = make_source(tmp_path, "postgresql")
    backup = create_backup(source.settings)
    target = target_settings(tmp_path, source)
    engine = make_engine(target.resolved_database_url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE someone_elses (id integer)"))

    refused(target, backup.path, r"^Cannot restore: the PostgreSQL database \S+ is not empty \(1 tables\)")

    with engine.connect() as connection:
        tables = connection.scalars(
            text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        )
        assert list(tables) == ["someone_elses"]
    engine.dispose()
    source.db.engine.dispose()


# The backups folder


def test_pruning_keeps_the_newest_archives_and_nothing_else(tmp_path: Path):
    for age, name in enumerate(["portal-c.tar.gz", "portal-b.tar.gz", "portal-a.tar.gz"]):
        path = tmp_path / name
        path.write_bytes(b"x" * (age + 1))
        os.utime(path, (1_000_000 - age * 10, 1_000_000 - age * 10))
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".portal-d.tar.gz.partial").write_text("being written")

    assert [archive.path.name for archive in list_archives(tmp_path)] == [
        "portal-c.tar.gz",
        "portal-b.tar.gz",
        "portal-a.tar.gz",
    ]
    deleted = prune_archives(tmp_path, 2)

    assert [path.name for path in deleted] == ["portal-a.tar.gz"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        ".portal-d.tar.gz.partial",
        "notes.txt",
        "portal-b.tar.gz",
        "portal-c.tar.gz",
    ]


@pytest.mark.parametrize(
    ("size", "shown"),
    [(0, "0 bytes"), (999, "999 bytes"), (17_515, "17.5 kB"), (999_960, "1.0 MB"), (3_400_000_000, "3.4 GB")],
)
def test_sizes_read_as_file_managers_show_them(size: int, shown: str):
    assert format_size(size) == shown
