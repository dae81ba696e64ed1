"""Engine, sessions and schema migrations. Services open their transactions through ``Database``."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from services.settings import StartupError
from services.sqlite_writers import WriterTurns

WRITE_OPTION = "portal_writes"
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
SQLITE_BUSY_TIMEOUT = 10.0  # seconds a SQLite write waits for another writer (PORTAL_SQLITE_BUSY_TIMEOUT)
# Instances sharing a PostgreSQL database migrate one after the other: the later finds nothing to do.
MIGRATION_LOCK = 0x706F7274616C  # "portal"
MAX_REASON_LENGTH = 200
PING_AFTER_IDLE = 1.0  # seconds a pooled PostgreSQL connection may rest before it is checked
# Connections kept open, and opened beyond them at busy moments. components.offload runs blocking work in
# 26 threads (8 database, 2 PDF, 16 gateway), and the background loops and the sign-in check take a few
# more: 30 in all, so no worker waits for a connection; PostgreSQL's default max_connections of 100
# leaves room for three instances. Every thread's connection is kept: with fewer kept, a burst of
# payments closed a connection at each turn the pool was full and opened a new one the next moment
# (a new server process, and its prepared statements lost), six times in fifty payments.
POOL_SIZE = 26
MAX_OVERFLOW = 4


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT, **kwargs: Any) -> Engine:
    """An engine for ``url``; on SQLite a write waits up to ``busy_timeout`` seconds for another's lock."""
    url = normalize_url(url)
    if "poolclass" not in kwargs and not _in_memory(url):
        kwargs = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW} | kwargs
    if not url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        _ping_when_idle(engine)
    else:
        connect_args = {"check_same_thread": False, "timeout": busy_timeout}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine, busy_timeout)
    event.listen(engine, "before_cursor_execute", _without_nul, retval=True)
    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection that has rested a while before handing it out again.

    After a restart or a network cut the pool still holds connections to the old server, and their
    first query would fail. ``pool_pre_ping`` checks on every checkout, a round trip per transaction
    (eight in a payment); a connection back in use within ``PING_AFTER_IDLE`` seconds was just
    working, so only the rested ones are checked. A failed check makes the pool open a new connection.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["rested_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_since = record.info.get("rested_since")
        if rested_since is None or time.monotonic() - rested_since < PING_AFTER_IDLE:
            return
        try:
            if engine.dialect.do_ping(dbapi_connection):
                return
        except Exception as error:
            raise DisconnectionError(f"a pooled connection stopped answering: {error}") from error
        raise DisconnectionError("a pooled connection stopped answering")


def _in_memory(url: str) -> bool:
    """SQLite in memory keeps one connection per thread (SQLAlchemy's pool for it takes no size)."""
    if not url.startswith("sqlite"):
        return False
    return url.rstrip("/") in ("sqlite:", "sqlite:/") or ":memory:" in url or "mode=memory" in url


def _without_nul(
    _connection: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _executemany: bool
) -> tuple[str, Any]:
    """Text with a NUL character, from any field a person fills in, is stored with U+FFFD instead.

    PostgreSQL cannot hold a NUL in text at all (every such query fails), and SQLite would keep a value
    that no other program reads whole; one place for every query keeps both alike and none failing.
    """
    return statement, _replace_nul(parameters)


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, dict):
        return {key: _replace_nul(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_replace_nul(item) for item in value)
    return value


def _configure_sqlite(engine: Engine, busy_timeout: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and breaks savepoints; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(busy_timeout * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    turns = WriterTurns(engine, busy_timeout)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock first, so it waits its turn instead of failing later.
        if not connection.get_execution_options().get(WRITE_OPTION, False):
            connection.exec_driver_sql("BEGIN")
            return
        turns.take(connection.info)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            turns.end(connection.info)
            raise


def insert_unless_present(
    session: Session | Connection, model: type[Any], keys: list[str], **values: Any
) -> bool:
    """Insert a row unless one with the same ``keys`` exists (``ON CONFLICT DO NOTHING``): True if
    inserted. Two transactions inserting the same row at once do not fail: the second waits for the
    first and inserts nothing."""
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    insert = _insert_unless_present(dialect.name, model.__table__, tuple(keys))
    return session.execute(insert, values).first() is not None


@functools.cache
def _insert_unless_present(dialect_name: str, table: Table, keys: tuple[str, ...]) -> Insert:
    """The statement, made once (a payment inserts twice: making it cost as much as running it); the
    values come as parameters, and name the columns written."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # RETURNING tells whether a row went in: psycopg reports no row count for ON CONFLICT (-1).
    return dialect.insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c[keys[0]])


class Database:
    """A session factory; each ``transaction()`` commits on success and rolls back on error."""

    def __init__(self, engine: Engine, session_factory: sessionmaker[Session] | None = None) -> None:
        self.engine = engine
        self.session_factory = session_factory or sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str, *, busy_timeout: float = SQLITE_BUSY_TIMEOUT) -> Database:
        return cls(make_engine(url, busy_timeout=busy_timeout))

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A transaction that may write: committed when the block ends, rolled back on an error."""
        with self.session_factory() as session, session.begin():
            session.connection(execution_options={WRITE_OPTION: True})
            yield session

    @contextmanager
    def each_statement_committed(self) -> Iterator[Connection]:
        """A connection whose every statement commits on its own, for writes that are one statement
        each (an insert that may find its row there already, then a read of that row).

        On PostgreSQL it runs without BEGIN and COMMIT (autocommit): one round trip to the server
        instead of three, and a thread that waits for Python's interpreter lock at each. On SQLite, where
        the write lock is taken at the start, it is a write transaction like ``transaction()``.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                yield connection
        else:
            with self.engine.connect().execution_options(**{WRITE_OPTION: True}) as connection:
                with connection.begin():
                    yield connection

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: one consistent snapshot, never waits for writers."""
        with self.session_factory() as session, session.begin():
            yield session

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        upgrade_to_head(self.engine)

    def close(self) -> None:
        """Write SQLite's log back into the database file and close every pooled connection.

        SQLite keeps committed writes in its write-ahead log (``portal.db-wal``) until a checkpoint,
        and a process that ends without closing its connections leaves them there: ``portal.db``
        alone would then lack them, even every table of a new database. The portal calls this when
        it stops, so that a stopped portal's database file is complete. Used again later, the
        database opens new connections.
        """
        if self.engine.dialect.name == "sqlite":
            connection = self.engine.raw_connection()
            try:
                cursor = connection.cursor()  # no BEGIN: a checkpoint cannot run inside a transaction
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
            finally:
                connection.close()
        self.engine.dispose()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


class MigrationFailed(StartupError):
    """A migration failed; its transaction was rolled back, so the database is as it was before."""

    def __init__(self, current: str | None, target: str, reason: str) -> None:
        self.current, self.target, self.reason = current, target, reason
        start = f"revision {current}" if current else "an empty database"
        super().__init__(
            f"Cannot upgrade the database from {start} to revision {target}: {reason}. Nothing was "
            "changed, so the version of the portal that ran on it before still does."
        )


class UnknownRevision(StartupError):
    """The database was migrated by a newer version of the portal than this one."""

    def __init__(self, current: str, newest: str) -> None:
        self.current, self.newest = current, newest
        super().__init__(
            f"The database is at revision {current}, which this version of the portal does not know "
            f"(its newest is {newest}): run the version that upgraded it, or restore a backup made "
            "before that."
        )


class BrokenForeignKeys(Exception):
    """Rows that refer to rows that do not exist, found by SQLite's foreign key check."""

    def __init__(self, violations: list[tuple[str, int, str]]) -> None:
        self.violations = violations
        table, row_id, parent = violations[0]
        more = f" (and {len(violations) - 1} more such rows)" if len(violations) > 1 else ""
        super().__init__(f"{table} row {row_id} refers to a row of {parent} that does not exist{more}")


def upgrade_to_head(engine: Engine) -> None:
    """Bring the schema to the newest migration; see ``upgrade_to``."""
    upgrade_to(engine, "head")


def upgrade_to(engine: Engine, revision: str) -> None:
    """Run the migrations up to ``revision`` in one transaction: all of them, or none.

    Raises ``MigrationFailed`` if one fails and ``UnknownRevision`` for a database newer than this
    code, both with the one line an operator sees. A database that cannot be reached at all raises
    what connecting raised: that is no migration's fault.
    """
    config = alembic_config()
    scripts = ScriptDirectory.from_config(config)
    target = scripts.get_revision(revision).revision
    applied: list[str] = []  # filled by migrations/env.py as each migration completes
    config.attributes["applied"] = applied
    current: str | None = None
    read = False
    try:
        with migration_transaction(engine) as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            read = True
            if current is not None and not _known(scripts, current):
                raise UnknownRevision(current, scripts.get_current_head() or "")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except StartupError:
        raise
    except Exception as error:  # whatever failed, the transaction was rolled back
        if not read:
            raise
        raise MigrationFailed(current, target, _failure(scripts, current, target, applied, error)) from error


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrations, committed only if every one of them succeeds.

    SQLite alters a table by copying it, dropping the old one and renaming the copy ("batch" mode),
    which foreign keys refuse while other rows refer to the table; and the pragma that turns them off
    is ignored inside a transaction. So here they are off before the transaction begins, checked with
    ``PRAGMA foreign_key_check`` before it commits if a migration ran (raising ``BrokenForeignKeys``,
    which rolls it back), and on again before the connection goes back to the pool.
    """
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            _set_foreign_keys(connection, on=False)
        try:
            # The write lock first, so that a second instance waits for this upgrade instead of racing it.
            with connection.execution_options(**{WRITE_OPTION: True}).begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                revision = MigrationContext.configure(connection).get_current_revision()
                yield connection
                # Only a migration can have broken a reference while they were off; the check reads
                # every table, which a start-up with nothing to migrate need not wait for.
                if sqlite and MigrationContext.configure(connection).get_current_revision() != revision:
                    violations = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if violations:
                        raise BrokenForeignKeys([(row[0], row[1], row[2]) for row in violations])
        finally:
            if sqlite:
                _set_foreign_keys(connection, on=True)


def _set_foreign_keys(connection: Connection, *, on: bool) -> None:
    # On the driver's connection, outside any transaction: through SQLAlchemy, the statement would
    # begin one first (see _on_begin), and SQLite ignores this pragma inside a transaction.
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    return any(script.revision == revision for script in scripts.walk_revisions())


def _failure(
    scripts: ScriptDirectory, current: str | None, target: str, applied: list[str], error: Exception
) -> str:
    """What went wrong, in a clause: which migration failed, and the database's own words for why."""
    if isinstance(error, BrokenForeignKeys):
        return str(error)
    steps = [script.revision for script in scripts.iterate_revisions(target, current)][::-1]
    failed = next((step for step in steps if step not in applied), None)
    if isinstance(error, DBAPIError) and error.orig is not None:
        words = str(error.orig)
    else:
        words = str(error) or type(error).__name__
    words = (words.strip().splitlines() or [type(error).__name__])[0].rstrip(".")
    if len(words) > MAX_REASON_LENGTH:
        words = words[: MAX_REASON_LENGTH - 3] + "..."
    return f"migration {failed} failed: {words}" if failed else words
