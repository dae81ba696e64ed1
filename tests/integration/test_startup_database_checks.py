"""Start-up with a database it cannot use: one line on stderr naming the problem, exit status 2, nothing made.

Each case starts the real ``python app.py`` as an operator would. The read-only cases take away the
superuser's right to ignore file permissions (``setpriv``) when the tests run as root, who could
otherwise write a file marked read-only.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_URL
from tests.portal_process import run_app

NEEDS_POSTGRES = pytest.mark.skipif(
    not POSTGRES_URL, reason="PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on"
)


def one_line(result) -> str:
    """The single line the operator sees; fails on a traceback or a silent start."""
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def without_file_permission_override() -> list[str]:
    """A command prefix that makes the portal obey file permissions even when run by root."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: a read-only file cannot be made read-only for root")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def make_sqlite_database(path: Path) -> None:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE kept (x)")
    connection.commit()
    connection.close()


def postgres_server_address() -> tuple[str, int]:
    from sqlalchemy import make_url

    url = make_url(POSTGRES_URL)
    return url.host or "127.0.0.1", url.port or 5432


@NEEDS_POSTGRES
@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda host, port: "postgresql://postgres@nohost.invalid/portal", "the server cannot be reached"),
        (
            lambda host, port: f"postgresql://postgres@{host}:{port}/portal_no_such_database",
            'database "portal_no_such_database" does not exist',
        ),
        (
            lambda host, port: f"postgresql://portal_no_such_role@{host}:{port}/postgres",
            "the server refused the login",
        ),
    ],
    ids=["unknown-host", "missing-database", "unknown-role"],
)
def test_a_postgresql_database_it_cannot_use_is_one_line(tmp_path, make_url, expected):
    url = make_url(*postgres_server_address())
    line = one_line(run_app("--data-dir", str(tmp_path), DATABASE_URL=url))
    assert line.startswith("Cannot use the database postgresql://")
    assert expected in line
    assert not (tmp_path / "portal.db").exists()


def test_a_postgresql_server_that_is_not_running_is_one_line(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line = one_line(
        run_app("--data-dir", str(tmp_path), DATABASE_URL=f"postgresql://portal@127.0.0.1:{port}/db")
    )
    assert f"postgresql://portal@127.0.0.1:{port}/db" in line
    assert "the server cannot be reached: Connection refused" in line


@pytest.fixture
def refusing_server() -> Iterator[int]:
    """A PostgreSQL server that turns every login away as a wrong password (the shared test server trusts)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with client:
                while True:  # SSL and GSS encryption requests are declined; then comes the login
                    length, code = struct.unpack("!ii", client.recv(8))
                    client.recv(length - 8)
                    if code not in (80877103, 80877104):
                        break
                    client.sendall(b"N")
                fields = b'SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "portal"\0\0'
                client.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_wrong_postgresql_password_is_one_line(tmp_path, refusing_server):
    url = f"postgresql://portal:wrong@127.0.0.1:{refusing_server}/portal"
    line = one_line(run_app("--data-dir", str(tmp_path), DATABASE_URL=url))
    assert 'the server refused the login: password authentication failed for user "portal"' in line
    assert "wrong" not in line  # the password is never printed


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://portal@db.example:port/portal",
        "postgresql//db.example/portal",
        "postgresql+nodriver://db/p",
    ],
)
def test_a_malformed_database_url_is_one_line_naming_the_setting(tmp_path, url):
    line = one_line(run_app("--data-dir", str(tmp_path), DATABASE_URL=url))
    assert line.startswith("Invalid setting DATABASE_URL:")
    assert not (tmp_path / "portal.db").exists()


def test_a_sqlite_database_in_a_folder_that_does_not_exist_is_one_line(tmp_path):
    missing = tmp_path / "no-such-folder"
    line = one_line(
        run_app("--data-dir", str(tmp_path / "data"), DATABASE_URL=f"sqlite:///{missing / 'p.db'}")
    )
    assert line == f"Cannot use the database {missing / 'p.db'}: the folder {missing} does not exist"
    assert not missing.exists()


def test_a_corrupt_sqlite_database_is_one_line_and_left_as_it_was(tmp_path):
    damaged = tmp_path / "portal.db"
    content = b"these are not the bytes of a database" * 200
    damaged.write_bytes(content)
    line = one_line(run_app("--data-dir", str(tmp_path)))
    assert line.startswith(
        f"Cannot use the database {damaged}: it is not a SQLite database, or it is damaged"
    )
    assert damaged.read_bytes() == content


def test_a_read_only_sqlite_file_is_one_line_not_a_start_whose_sign_ins_fail(tmp_path):
    database = tmp_path / "portal.db"
    make_sqlite_database(database)
    database.chmod(0o444)
    line = one_line(run_app("--data-dir", str(tmp_path), prefix=without_file_permission_override()))
    assert line.startswith(f"Cannot use the database {database}: it is read-only")


def test_a_sqlite_file_in_a_read_only_folder_is_one_line(tmp_path):
    # The write-ahead log needs files beside the database, so its folder must be writable too.
    folder = tmp_path / "database"
    folder.mkdir()
    database = folder / "portal.db"
    make_sqlite_database(database)
    folder.chmod(0o555)
    try:
        result = run_app(
            "--data-dir",
            str(tmp_path / "data"),
            prefix=without_file_permission_override(),
            DATABASE_URL=f"sqlite:///{database}",
        )
    finally:
        folder.chmod(0o755)
    assert one_line(result).startswith(f"Cannot use the database {database}: it is read-only")
    assert sorted(path.name for path in folder.iterdir()) == ["portal.db"]
