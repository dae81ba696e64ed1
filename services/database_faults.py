"""What a database fault means, said in one line: at start-up, and while the portal runs.

``check_database`` runs at start-up before anything migrates: it opens the database, reads it and makes
a write it rolls back. A database that cannot be reached, opened, read or written raises
``DatabaseUnusable``, a ``StartupError`` whose one line names the problem (app.py prints it and exits
with status 2), instead of a traceback or, for a read-only file, a start whose every sign-in fails.

``is_outage`` tells an error that means "the database is not available right now" (the server went
away, a connection was reset, another program holds the SQLite file locked) from a bug. Pages, routes
and background loops wait such an error out and say so in a sentence (``outage_reason``), since
nothing they could do would help and a traceback would only bury the one line that matters.
``OutageLog`` is that sentence in the log: one line when an outage begins, one when it ends.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool

from services.database import WRITE_OPTION, make_engine, normalize_url
from services.settings import SettingsError, StartupError

logger = logging.getLogger("portal.database")

CONNECT_TIMEOUT_SECONDS = 10
MAX_REASON_LENGTH = 300

# SQLite reports a missing, locked, read-only or failing file with these; every other
# sqlite3.OperationalError ("no such table", a syntax error) is a bug and must surface as one.
_SQLITE_OUTAGES = re.compile(
    r"database is locked|database table is locked|unable to open database|disk I/O error"
    r"|readonly database|database or disk is full|database is busy",
    re.IGNORECASE,
)
# What libpq puts before the server's own words: the address tried and the severity.
_PSYCOPG_NOISE = re.compile(
    r'^(connection failed: )?(connection to server at "[^"]*"(, port \d+)? failed: )?'
)
_SEVERITY = re.compile(r"^(FATAL|ERROR):\s+")


class DatabaseUnusable(StartupError):
    """The database cannot be used; the message names it and the problem in one line."""


def check_database(url: str) -> None:
    """Make sure the database at ``url`` can be reached, read and written, changing nothing.

    Raises ``SettingsError`` for a URL that cannot be parsed and ``DatabaseUnusable`` for a database
    that cannot be used, each with a one-line message naming the problem.
    """
    try:
        parsed = make_url(normalize_url(url))
    except (ArgumentError, ValueError) as error:
        raise SettingsError(f"Invalid setting DATABASE_URL: not a database URL ({error})") from None
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite(url, parsed)
    else:
        _check_postgresql(url, parsed)


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` means the database is unavailable for now (and may come back), not a bug."""
    return any(_is_outage_link(link) for link in _chain(error))


def outage_reason(error: BaseException) -> str:
    """The database's own words for an outage, in one short line, without SQLAlchemy's wrapping."""
    for link in _chain(error):
        if isinstance(link, (psycopg.Error, sqlite3.Error)):
            return _one_line(str(link))
    return _one_line(str(getattr(error, "orig", None) or error))


class OutageLog:
    """Logs one line when the database becomes unavailable to ``name`` and one when it is back.

    Whoever meets database errors (a background loop, the pages) reports each failure to ``failed``
    and each success to ``succeeded``; however many rounds or requests fail in between, the log says
    when the outage began, why, and how long it lasted. Both lines are warnings: the portal configures
    no log levels of its own, and an operator reading the log needs the second line as much as the first.
    """

    def __init__(self, name: str, *, meanwhile: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.meanwhile = meanwhile  # what happens until it is back: "retrying every 2 s"
        self._clock = clock
        self._since: float | None = None
        self._lock = threading.Lock()  # pages report from the event loop and from worker threads

    @property
    def is_down(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> bool:
        """Note a failure; True when it is an outage (logged if it is the first of one), else False."""
        if not is_outage(error):
            return False
        with self._lock:
            if self._since is None:
                self._since = self._clock()
                logger.warning(
                    "%s: database unavailable: %s; %s", self.name, outage_reason(error), self.meanwhile
                )
        return True

    def succeeded(self) -> None:
        """Note that the database answered; ends the outage, if there was one."""
        if self._since is None:  # the common case, without taking the lock
            return
        with self._lock:
            if self._since is not None:
                lasted = self._clock() - self._since
                self._since = None
                logger.warning("%s: database available again after %.0f s", self.name, lasted)


def _check_sqlite(url: str, parsed: URL) -> None:
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return  # nothing on disk to check, or a URI whose options SQLite applies itself
    path = Path(database).resolve()
    where = f"Cannot use the database {path}"
    if not path.parent.is_dir():
        raise DatabaseUnusable(f"{where}: the folder {path.parent} does not exist")
    if path.exists() and not path.is_file():
        raise DatabaseUnusable(f"{where}: it is not a file")
    try:
        engine = make_engine(url, poolclass=NullPool)
    except ArgumentError as error:
        raise SettingsError(f"Invalid setting DATABASE_URL: {error}") from None
    try:
        with _writing(engine) as connection:
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master")
            version = connection.exec_driver_sql("PRAGMA user_version").scalar()
            # A real write (of the value already there): only a write finds out that the file is read-only.
            connection.exec_driver_sql(f"PRAGMA user_version = {int(version or 0)}")
    except (DBAPIError, sqlite3.Error) as error:
        raise DatabaseUnusable(f"{where}: {_sqlite_problem(outage_reason(error))}") from None
    finally:
        engine.dispose()


def _sqlite_problem(reason: str) -> str:
    lowered = reason.lower()
    if "not a database" in lowered or "malformed" in lowered:
        return f"it is not a SQLite database, or it is damaged ({reason})"
    if "readonly" in lowered or "read-only" in lowered:
        return (
            f"it is read-only ({reason}); the portal must be able to write the file and its folder "
            "(for the -wal and -shm files beside it)"
        )
    if "locked" in lowered or "busy" in lowered:
        return f"another program holds it locked ({reason})"
    if "unable to open" in lowered:
        return f"it cannot be opened ({reason}); check that the file and its folder can be read and written"
    return reason


def _check_postgresql(url: str, parsed: URL) -> None:
    where = f"Cannot use the database {make_url(url).render_as_string(hide_password=True)} (DATABASE_URL)"
    try:
        engine = make_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
    except ArgumentError as error:  # an unknown driver, "postgresql+nothing://"
        raise SettingsError(f"Invalid setting DATABASE_URL: {error}") from None
    try:
        with _writing(engine) as connection:
            read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
    except (DBAPIError, psycopg.Error) as error:
        raise DatabaseUnusable(f"{where}: {_postgresql_problem(outage_reason(error))}") from None
    finally:
        engine.dispose()
    if read_only == "on":
        raise DatabaseUnusable(
            f"{where}: it only accepts reads (a standby server, or default_transaction_read_only is on)"
        )


def _postgresql_problem(reason: str) -> str:
    lowered = reason.lower()
    if "password" in lowered or "role" in lowered or "pg_hba" in lowered or "authentication" in lowered:
        return f"the server refused the login: {reason}"
    if 'database "' in lowered and "does not exist" in lowered:
        return f"{reason} on the server (create it first, e.g. with createdb)"
    if any(word in lowered for word in ("resolve host", "refused", "timeout", "timed out", "unreachable")):
        return f"the server cannot be reached: {reason}"
    return reason


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (SQLite: holding the write lock), always rolled back."""
    with engine.connect() as connection:
        writing = connection.execution_options(**{WRITE_OPTION: True})
        with writing.begin() as transaction:
            yield writing
            transaction.rollback()


def _is_outage_link(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, PoolTimeout):  # every connection is stuck waiting for the server
        return True
    if isinstance(error, psycopg.OperationalError):
        # Connection lost or refused (no SQLSTATE), connection exceptions (08), too many connections or no
        # space (53), the server shutting down (57P01-57P03); not a deadlock or a limit a query ran into,
        # which are the portal's own to report.
        state = error.sqlstate or ""
        return not state or state.startswith(("08", "53", "57P"))
    return isinstance(error, sqlite3.OperationalError) and bool(_SQLITE_OUTAGES.search(str(error)))


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, the errors it wraps (SQLAlchemy's ``orig``) and those it was raised from."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        link = pending.pop(0)
        if link is None or id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        pending += [getattr(link, "orig", None), link.__cause__, link.__context__]


def _one_line(message: str) -> str:
    first = next((line.strip() for line in message.splitlines() if line.strip()), "unknown error")
    first = _SEVERITY.sub("", _PSYCOPG_NOISE.sub("", first))
    return first[:MAX_REASON_LENGTH]
