"""Backups of the portal's data: one archive with the database and the files beside it, and its restore.

An archive (``.tar.gz``) holds ``manifest.json`` first, then the database and the data folder's secret
key and storage secret. The database is copied while the portal runs and writes, as of one moment:
SQLite through its online backup API, PostgreSQL through ``pg_dump`` (one snapshot). The manifest
names the archive format, the database's kind and migration revision, when it was made and every
file's size and SHA-256.

A restore goes only into an empty data folder (and, for PostgreSQL, an empty database). It reads and
checks the whole archive before it writes anything, so a refusal changes nothing; the portal's next
start migrates an archive from an older version forward.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import make_url, text
from sqlalchemy.exc import SQLAlchemyError

from services.clock import Clock, utc_now
from services.database import alembic_config, make_engine, normalize_url
from services.secret_key import KEY_FILE
from services.settings import Settings

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "portal.db"
POSTGRES_MEMBER = "portal.pgdump"
STORAGE_SECRET_FILE = "storage_secret"  # noqa: S105 - a file name (services.portal.storage_secret's)
DATA_FOLDER_FILES = (KEY_FILE, STORAGE_SECRET_FILE)
ARCHIVE_PREFIX, ARCHIVE_SUFFIX = "portal-", ".tar.gz"

SQLITE, POSTGRESQL = "sqlite", "postgresql"
# How the manifest says where the secret key is: in the archive, or kept by the operator.
KEY_INCLUDED, KEY_FROM_ENVIRONMENT, KEY_MISSING = "included", "PORTAL_SECRET_KEY", "missing"

_MAX_MANIFEST_BYTES = 64 * 1024
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why in one line."""


class RestoreRefused(BackupError):
    """A restore refused before anything was written: the data folder and database are unchanged."""


@dataclass(frozen=True)
class ArchivedFile:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    format: int
    database: str  # SQLITE or POSTGRESQL
    revision: str  # the database's migration revision
    created_at: datetime
    secret_key: str  # KEY_INCLUDED, KEY_FROM_ENVIRONMENT or KEY_MISSING
    files: tuple[ArchivedFile, ...]

    def file(self, name: str) -> ArchivedFile | None:
        return next((entry for entry in self.files if entry.name == name), None)


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    manifest: Manifest


@dataclass(frozen=True)
class Restored:
    data_dir: Path
    manifest: Manifest
    code_revision: str  # the newest migration this code knows; the next start migrates up to it

    @property
    def migrates(self) -> bool:
        return self.manifest.revision != self.code_revision


@dataclass(frozen=True)
class ArchiveFile:
    """An archive in the backups folder, as Settings > Backups lists them."""

    path: Path
    size: int
    modified_at: datetime


def database_kind(settings: Settings) -> str:
    return SQLITE if settings.resolved_database_url.startswith("sqlite") else POSTGRESQL


def create_backup(settings: Settings, target: Path | None = None, *, clock: Clock = utc_now) -> Backup:
    """Write one archive of the running portal's data to ``target``, by default a new
    ``portal-YYYYmmdd-HHMMSS.tar.gz`` (UTC) in the backups folder.

    The archive appears under its name only when complete (written to a hidden name first), readable
    by its owner alone. Raises ``BackupError`` when the database cannot be read or copied, the tools
    for PostgreSQL are missing or too old, or the file cannot be written; nothing is left behind.
    """
    created_at = clock()
    if target is None:
        directory = settings.resolved_backup_dir
        _make_private_folder(directory)
        target = _new_archive_name(directory, created_at)
    else:
        target = target.resolve()
        if not target.parent.is_dir():
            raise BackupError(f"Cannot write the backup: the folder {target.parent} does not exist")
    if target.exists():
        raise BackupError(f"Cannot write the backup: {target} already exists")
    data_dir = settings.data_dir.resolve()
    kind = database_kind(settings)
    try:
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
            if kind == SQLITE:
                member = Path(work) / SQLITE_MEMBER
                revision = _copy_sqlite(_sqlite_path(settings), member)
            else:
                member = Path(work) / POSTGRES_MEMBER
                revision = _dump_postgres(settings.resolved_database_url, member)
            files = {member.name: member}
            if settings.secret_key:
                secret_key = KEY_FROM_ENVIRONMENT
            elif (data_dir / KEY_FILE).is_file():
                secret_key, files[KEY_FILE] = KEY_INCLUDED, data_dir / KEY_FILE
            else:
                secret_key = KEY_MISSING
            if (data_dir / STORAGE_SECRET_FILE).is_file():
                files[STORAGE_SECRET_FILE] = data_dir / STORAGE_SECRET_FILE
            manifest = Manifest(
                format=FORMAT_VERSION,
                database=kind,
                revision=revision,
                created_at=created_at,
                secret_key=secret_key,
                files=tuple(_describe(name, path) for name, path in files.items()),
            )
            _write_archive(target, manifest, files)
    except OSError as error:
        raise BackupError(f"Cannot write the backup to {target}: {error.strerror or error}") from None
    return Backup(target, target.stat().st_size, manifest)


def restore_backup(settings: Settings, archive: Path) -> Restored:
    """Bring an archive back into the empty data folder (and empty database) ``settings`` name.

    Raises ``RestoreRefused``, before writing anything, when the archive is damaged or incomplete,
    comes from a newer version of the portal or another kind of database, or the data folder or
    database is not empty; ``BackupError`` when the restore fails on the way (what it wrote is then
    removed again).
    """
    archive = archive.resolve()
    if not archive.is_file():
        raise RestoreRefused(f"Cannot restore: there is no file {archive}")
    manifest = read_archive(archive)
    head = _code_revision(manifest)
    kind = database_kind(settings)
    if manifest.database != kind:
        raise RestoreRefused(
            f"Cannot restore: {archive.name} holds a {_KIND_NAMES[manifest.database]} database and this "
            f"portal uses {_KIND_NAMES[kind]} ({_database_setting(kind)})"
        )
    data_dir = settings.data_dir.resolve()
    _check_empty_folder(data_dir, settings.resolved_backup_dir)
    if kind == SQLITE:
        database = _sqlite_path(settings)
        # A write-ahead log left beside it would be replayed into the restored database on first open.
        for existing in (
            database,
            database.with_name(f"{database.name}-wal"),
            database.with_name(f"{database.name}-shm"),
        ):
            if existing.exists():
                raise RestoreRefused(f"Cannot restore: the database file {existing} already exists")
        if database.parent != data_dir and not database.parent.is_dir():
            raise RestoreRefused(f"Cannot restore: the folder {database.parent} does not exist")
        destinations = {SQLITE_MEMBER: database}
        pg_restore = ""
    else:
        _check_empty_postgres(settings.resolved_database_url)
        pg_restore = _pg_tool("pg_restore")
        destinations = {}
    destinations |= {name: data_dir / name for name in DATA_FOLDER_FILES}
    _write_restore(archive, manifest, data_dir, destinations, settings.resolved_database_url, pg_restore)
    return Restored(data_dir, manifest, head)


def read_archive(archive: Path) -> Manifest:
    """The archive's manifest, once every file in it was read and matched its size and checksum.

    Raises ``RestoreRefused`` for anything else: not an archive of ours, truncated, damaged.
    """
    with _reading(archive) as tar:
        members = iter(tar)
        manifest = _read_manifest(archive, tar, next(members, None))
        found: dict[str, ArchivedFile] = {}
        for member in members:
            _expect_member(archive, manifest, member, found)
            found[member.name] = _hash_stream(member.name, _contents(archive, tar, member), None)
    _check_found(archive, manifest, found)
    return manifest


def list_archives(directory: Path) -> list[ArchiveFile]:
    """The archives in ``directory`` (those named like the ones ``create_backup`` names), newest first."""
    if not directory.is_dir():
        return []
    archives = []
    for path in directory.glob(f"{ARCHIVE_PREFIX}*{ARCHIVE_SUFFIX}"):
        with suppress(FileNotFoundError):  # pruned by another instance meanwhile
            status = path.stat()
            if path.is_file():
                archives.append(
                    ArchiveFile(path, status.st_size, datetime.fromtimestamp(status.st_mtime, tz=UTC))
                )
    return sorted(archives, key=lambda archive: (archive.modified_at, archive.path.name), reverse=True)


def prune_archives(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` archives in ``directory``; returns the deleted ones."""
    deleted = []
    for archive in list_archives(directory)[max(keep, 1) :]:
        with suppress(FileNotFoundError):
            archive.path.unlink()
            deleted.append(archive.path)
    return deleted


# Backing up


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.resolved_database_url).database
    if not database or database == ":memory:":
        raise BackupError("Cannot back up an in-memory SQLite database")
    return Path(database).resolve()


def _copy_sqlite(database: Path, copy_path: Path) -> str:
    """Copy the database as of one moment into ``copy_path``; returns its migration revision."""
    if not database.is_file():
        raise BackupError(f"Cannot back up: there is no database at {database}")
    try:
        # mode=rw: a missing file is an error rather than a new empty database
        source = sqlite3.connect(f"{database.as_uri()}?mode=rw", uri=True, timeout=30)
        try:
            copy = sqlite3.connect(copy_path)
            try:
                # One step holds one read transaction over the whole copy: the copy is the database at
                # one moment, while the portal's writers go on (WAL readers do not block them).
                source.backup(copy, pages=-1)
                copy.execute("PRAGMA journal_mode=DELETE")  # the copy is one file, without a WAL
                (check,) = copy.execute("PRAGMA quick_check").fetchone()
                if check != "ok":
                    raise BackupError(f"Cannot back up: the database {database} is damaged ({check})")
                revision = _revision_of(copy.execute, str(database))
            finally:
                copy.close()
        finally:
            source.close()
    except sqlite3.Error as error:
        raise BackupError(f"Cannot back up the database {database}: {error}") from None
    return revision


def _revision_of(query: Callable[[str], Any], where: str) -> str:
    try:
        row = query("SELECT version_num FROM alembic_version").fetchone()
    except (sqlite3.Error, SQLAlchemyError):
        row = None
    if not row:
        raise BackupError(f"Cannot back up: the database {where} has no tables yet (start the portal once)")
    return str(row[0])


def _dump_postgres(url: str, dump_path: Path) -> str:
    """``pg_dump`` the database into ``dump_path`` (one snapshot); returns its migration revision."""
    name = make_url(url).database
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            server = int(connection.scalar(text("SHOW server_version_num")) or 0)
            revision = _revision_of(lambda sql: connection.execute(text(sql)), str(name))
    except SQLAlchemyError as error:
        raise BackupError(
            f"Cannot back up: cannot read the PostgreSQL database {name}: {_first(error)}"
        ) from None
    finally:
        engine.dispose()
    pg_dump = _pg_tool("pg_dump")
    version = _tool_major(pg_dump)
    if version < server // 10000:
        raise BackupError(
            f"Cannot back up: pg_dump {version} cannot dump a PostgreSQL {server // 10000} server; "
            f"install the client tools of version {server // 10000} or newer"
        )
    libpq_url, environment = _libpq(url)
    command = [
        pg_dump,
        "--format=custom",
        "--compress=0",  # the archive compresses it
        "--no-owner",
        "--no-privileges",
        f"--file={dump_path}",
        f"--dbname={libpq_url}",
    ]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603 - our arguments, no shell
    if result.returncode != 0:
        raise BackupError(f"Cannot back up: pg_dump failed: {_first(result.stderr)}")
    return revision


def _describe(name: str, path: Path) -> ArchivedFile:
    with path.open("rb") as source:
        return _hash_stream(name, source, None)


def _write_archive(target: Path, manifest: Manifest, files: dict[str, Path]) -> None:
    """Write under a hidden name readable by its owner alone, then rename: a half-written archive
    never has an archive's name, and a crash leaves no file that a restore could mistake for one."""
    descriptor, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    partial = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                body = json.dumps(_manifest_json(manifest), indent=2).encode()
                tar.addfile(_member(MANIFEST, len(body), manifest.created_at), _BytesReader(body))
                for entry in manifest.files:
                    with files[entry.name].open("rb") as source:
                        tar.addfile(_member(entry.name, entry.size, manifest.created_at), source)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync_folder(target.parent)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size < 0 else self.position + size
        chunk = self.data[self.position : end]
        self.position += len(chunk)
        return chunk


def _member(name: str, size: int, created_at: datetime) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(created_at.timestamp())
    return info


def _manifest_json(manifest: Manifest) -> dict[str, Any]:
    return {
        "format": manifest.format,
        "database": manifest.database,
        "revision": manifest.revision,
        "created_at": manifest.created_at.isoformat(),
        "secret_key": manifest.secret_key,
        "files": {entry.name: {"size": entry.size, "sha256": entry.sha256} for entry in manifest.files},
    }


def _new_archive_name(directory: Path, created_at: datetime) -> Path:
    stem = f"{ARCHIVE_PREFIX}{created_at.astimezone(UTC):%Y%m%d-%H%M%S}"
    target, number = directory / f"{stem}{ARCHIVE_SUFFIX}", 1
    while target.exists():  # two backups within one second
        number += 1
        target = directory / f"{stem}-{number}{ARCHIVE_SUFFIX}"
    return target


def _make_private_folder(directory: Path) -> None:
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise BackupError(f"Cannot make the backups folder {directory}: {error.strerror}") from None


def _sync_folder(directory: Path) -> None:
    """Make a rename durable: the folder's entry is written out, not only the file."""
    with suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# Restoring


_KIND_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}


def _database_setting(kind: str) -> str:
    return "DATABASE_URL is set" if kind == POSTGRESQL else "DATABASE_URL is not set"


@contextmanager
def _reading(archive: Path) -> Iterator[tarfile.TarFile]:
    """The archive read front to back; any sign of damage or truncation is a refusal.

    gzip rather than tarfile decompresses it, and it is read to its very end, where gzip checks the
    length and CRC of everything: tarfile alone takes an archive cut short after its last file.
    """
    try:
        with archive.open("rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as stream:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                yield tar
            while stream.read(_CHUNK):
                pass
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeError) as error:
        raise RestoreRefused(
            f"Cannot restore: {archive.name} is damaged or incomplete ({_first(error)})"
        ) from None


def _read_manifest(archive: Path, tar: tarfile.TarFile, first: tarfile.TarInfo | None) -> Manifest:
    if first is None or first.name != MANIFEST or not first.isfile() or first.size > _MAX_MANIFEST_BYTES:
        raise RestoreRefused(f"Cannot restore: {archive.name} is not a backup of this portal (no manifest)")
    try:
        raw = json.loads(_contents(archive, tar, first).read())
        manifest = Manifest(
            format=int(raw["format"]),
            database=str(raw["database"]),
            revision=str(raw["revision"]),
            created_at=datetime.fromisoformat(raw["created_at"]),
            secret_key=str(raw["secret_key"]),
            files=tuple(
                ArchivedFile(str(name), int(entry["size"]), str(entry["sha256"]))
                for name, entry in raw["files"].items()
            ),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        raise RestoreRefused(f"Cannot restore: the manifest of {archive.name} is damaged") from None
    if manifest.format > FORMAT_VERSION:
        raise RestoreRefused(
            f"Cannot restore: {archive.name} was made by a newer version of the portal (archive format "
            f"{manifest.format}); update the portal first"
        )
    expected = SQLITE_MEMBER if manifest.database == SQLITE else POSTGRES_MEMBER
    names = {entry.name for entry in manifest.files}
    if manifest.database not in _KIND_NAMES or expected not in names or not names <= _ALLOWED_MEMBERS:
        raise RestoreRefused(f"Cannot restore: the manifest of {archive.name} is damaged")
    return manifest


_ALLOWED_MEMBERS = frozenset({SQLITE_MEMBER, POSTGRES_MEMBER, *DATA_FOLDER_FILES})


def _expect_member(
    archive: Path, manifest: Manifest, member: tarfile.TarInfo, found: dict[str, ArchivedFile]
) -> None:
    # Only the regular files the manifest names are read, and never by a path of the archive's choosing.
    if manifest.file(member.name) is None or not member.isfile() or member.name in found:
        raise RestoreRefused(f"Cannot restore: {archive.name} holds an unexpected entry {member.name!r}")


def _check_found(archive: Path, manifest: Manifest, found: dict[str, ArchivedFile]) -> None:
    for entry in manifest.files:
        if entry.name not in found:
            raise RestoreRefused(f"Cannot restore: {archive.name} is incomplete ({entry.name} is missing)")
        if found[entry.name] != entry:
            raise RestoreRefused(
                f"Cannot restore: {archive.name} is damaged ({entry.name} does not match its checksum)"
            )


def _contents(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    source = tar.extractfile(member)
    if source is None:  # not a regular file
        raise RestoreRefused(f"Cannot restore: {archive.name} holds an unexpected entry {member.name!r}")
    return source


def _hash_stream(name: str, source: IO[bytes], copy_to: IO[bytes] | None) -> ArchivedFile:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return ArchivedFile(name, size, digest.hexdigest())


def _code_revision(manifest: Manifest) -> str:
    """This code's newest migration; an archive whose revision this code does not know is refused."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_current_head() or ""
    try:
        known = scripts.get_revision(manifest.revision) is not None
    except CommandError:
        known = False
    if not known:
        raise RestoreRefused(
            f"Cannot restore: the archive comes from a newer version of the portal (database revision "
            f"{manifest.revision}, this version knows up to {head}); update the portal first"
        )
    return head


def _check_empty_folder(data_dir: Path, backup_dir: Path) -> None:
    if not data_dir.exists():
        return
    if not data_dir.is_dir():
        raise RestoreRefused(f"Cannot restore: {data_dir} is not a folder")
    # The backups folder may live inside the data folder (its default): the archive may come from it.
    entries = sorted(entry.name for entry in data_dir.iterdir() if entry.resolve() != backup_dir)
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise RestoreRefused(
            f"Cannot restore: the data folder {data_dir} is not empty ({shown}); restore into a new folder"
        )


def _check_empty_postgres(url: str) -> None:
    name = make_url(url).database
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tables = connection.scalar(
                text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
    except SQLAlchemyError as error:
        raise RestoreRefused(
            f"Cannot restore: cannot reach the PostgreSQL database {name}: {_first(error)}"
        ) from None
    finally:
        engine.dispose()
    if tables:
        raise RestoreRefused(
            f"Cannot restore: the PostgreSQL database {name} is not empty ({tables} tables); "
            "restore into a new, empty database"
        )


def _write_restore(
    archive: Path,
    manifest: Manifest,
    data_dir: Path,
    destinations: dict[str, Path],
    url: str,
    pg_restore: str,
) -> None:
    """Unpack every file beside its destination under a hidden name, check it again, then rename them
    all into place (and load a PostgreSQL dump); on any failure, remove what was written."""
    made_folder = not data_dir.exists()
    placed: list[Path] = []
    try:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=data_dir, prefix=".restore-") as work:
            unpacked = _unpack(archive, manifest, Path(work), destinations)
            for name, destination in destinations.items():
                if name in unpacked:
                    os.replace(unpacked[name], destination)
                    placed.append(destination)
            if manifest.database == POSTGRESQL:
                _load_postgres(url, unpacked[POSTGRES_MEMBER], pg_restore)
        _sync_folder(data_dir)
    except BaseException as error:
        for path in placed:
            path.unlink(missing_ok=True)
        if made_folder:
            with suppress(OSError):
                data_dir.rmdir()
        if isinstance(error, OSError):
            raise BackupError(f"Cannot restore into {data_dir}: {error.strerror or error}") from None
        raise


def _unpack(archive: Path, manifest: Manifest, work: Path, destinations: dict[str, Path]) -> dict[str, Path]:
    """Every file under a hidden name (mode 0600) in ``work``, or beside its destination when that is
    elsewhere (an SQLite ``DATABASE_URL`` outside the data folder): a rename cannot cross disks."""
    unpacked: dict[str, Path] = {}
    found: dict[str, ArchivedFile] = {}
    try:
        with _reading(archive) as tar:
            members = iter(tar)
            _read_manifest(archive, tar, next(members, None))
            for member in members:
                _expect_member(archive, manifest, member, found)
                destination = destinations.get(member.name)
                beside = destination is not None and destination.parent != work.parent
                folder = destination.parent if destination is not None and beside else work
                descriptor, name = tempfile.mkstemp(dir=folder, prefix=".restore-")
                unpacked[member.name] = Path(name)
                with os.fdopen(descriptor, "wb") as copy:
                    source = _contents(archive, tar, member)
                    found[member.name] = _hash_stream(member.name, source, copy)
                    copy.flush()
                    os.fsync(copy.fileno())
        _check_found(archive, manifest, found)  # in case the archive changed since it was first read
    except BaseException:
        for path in unpacked.values():
            path.unlink(missing_ok=True)
        raise
    return unpacked


def _load_postgres(url: str, dump: Path, pg_restore: str) -> None:
    libpq_url, environment = _libpq(url)
    command = [
        pg_restore,
        "--no-owner",
        "--no-privileges",
        "--single-transaction",  # all or nothing: a failed restore leaves the database empty
        "--exit-on-error",
        f"--dbname={libpq_url}",
        str(dump),
    ]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # noqa: S603 - our arguments, no shell
    if result.returncode != 0:
        raise BackupError(f"Cannot restore: pg_restore failed: {_first(result.stderr)}")


# PostgreSQL's tools


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install PostgreSQL's client tools (Debian: apt-get install "
            "postgresql-client) of the server's version or newer"
        )
    return found


def _tool_major(tool: str) -> int:
    result = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False)  # noqa: S603 - a found tool
    match = re.search(r"(\d+)(?:\.\d+)?", result.stdout)
    return int(match.group(1)) if match else 0


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A URL for PostgreSQL's own tools, with the password in their environment rather than on a
    command line that any user of the machine can read."""
    parsed = make_url(normalize_url(url)).set(drivername="postgresql")
    environment = dict(os.environ)
    if parsed.password:
        environment["PGPASSWORD"] = str(parsed.password)
        parsed = parsed.set(password=None)
    return parsed.render_as_string(hide_password=False), environment


def _first(error: object) -> str:
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def format_size(size: int) -> str:
    """A file's size for people, in powers of 1000 as file managers show them: 532 bytes, 17.5 kB."""
    if size < 1000:
        return f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            break
    return f"{value:.1f} {unit}"
