"""The real portal as an operator runs it: `python app.py backup` while it serves, a clean stop that leaves
portal.db complete on its own, and `python app.py restore` with its one-line refusals (exit status 2)."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

import models
from app import backup_command, parse_flags
from services.demo import CUSTOMER_EMAIL, OWNER_EMAIL
from tests.portal_process import ROOT, clean_environment, free_port, run_app


@dataclass(frozen=True)
class StoppedPortal:
    data_dir: Path
    exit_status: int
    backup: subprocess.CompletedProcess[str] | None  # `python app.py backup` while it served
    archive: Path


def serve_then_stop(folder: Path, stop: signal.Signals, *, back_up: bool = True) -> StoppedPortal:
    """`python app.py --demo` started, answering HTTP, backed up while it runs, then stopped by ``stop``."""
    data_dir, output, archive = folder / "data", folder / "output.txt", folder / "live.tar.gz"
    port = free_port()
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", "--demo", "--data-dir", str(data_dir), "--port", str(port)],
            cwd=ROOT,
            env=clean_environment(PORTAL_BCRYPT_ROUNDS="4"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, output.read_text()
            assert time.monotonic() < deadline, output.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        backup = run_app("backup", "--data-dir", str(data_dir), str(archive)) if back_up else None
        process.send_signal(stop)
        exit_status = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # uvicorn ends by raising the signal again once it has shut down: the shell sees "killed by it"
    assert exit_status in (0, -stop), output.read_text()
    return StoppedPortal(data_dir, exit_status, backup, archive)


@pytest.fixture(scope="module")
def stopped(tmp_path_factory: pytest.TempPathFactory) -> StoppedPortal:
    return serve_then_stop(tmp_path_factory.mktemp("stopped"), signal.SIGTERM)


def assert_complete_alone(data_dir: Path, copy: Path) -> None:
    """``portal.db`` copied without anything beside it holds every table and the demo."""
    shutil.copyfile(data_dir / "portal.db", copy)  # nothing else: no -wal, no -shm
    connection = sqlite3.connect(copy)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        owners = connection.execute("SELECT count(*) FROM staff_users WHERE email = ?", (OWNER_EMAIL,))
        customers = connection.execute("SELECT count(*) FROM portal_users WHERE email = ?", (CUSTOMER_EMAIL,))
        assert (owners.fetchone()[0], customers.fetchone()[0]) == (1, 1)
        assert connection.execute("SELECT count(*) FROM invoices").fetchone()[0] > 0
        assert connection.execute("SELECT count(*) FROM payments").fetchone()[0] > 0
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()
    assert set(models.Base.metadata.tables) | {"alembic_version"} <= tables


def test_after_a_clean_stop_portal_db_alone_holds_every_table_and_the_demo(stopped: StoppedPortal, tmp_path):
    assert_complete_alone(stopped.data_dir, tmp_path / "portal.db")


def test_a_stop_by_ctrl_c_leaves_portal_db_complete_too(tmp_path):
    interrupted = serve_then_stop(tmp_path, signal.SIGINT, back_up=False)

    assert_complete_alone(interrupted.data_dir, tmp_path / "portal.db")


def test_the_backup_command_writes_an_archive_while_the_portal_runs(stopped: StoppedPortal, tmp_path):
    assert stopped.backup is not None
    assert stopped.backup.returncode == 0, stopped.backup.stderr
    assert stopped.backup.stdout.startswith(f"Backup written: {stopped.archive} (")
    target = tmp_path / "restored"

    restored = run_app("restore", "--data-dir", str(target), str(stopped.archive))

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.startswith("Restored the backup of ")
    assert sorted(path.name for path in target.iterdir()) == ["portal.db", "secret_key", "storage_secret"]
    for name in ("secret_key", "storage_secret"):
        assert (target / name).read_bytes() == (stopped.data_dir / name).read_bytes()
    connection = sqlite3.connect(target / "portal.db")
    try:
        assert connection.execute("SELECT count(*) FROM invoices").fetchone()[0] > 0
    finally:
        connection.close()


def test_a_refused_restore_says_why_in_one_line_with_exit_status_2(stopped: StoppedPortal, tmp_path, capsys):
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(stopped.archive.read_bytes()[:-100])

    damaged = run_app("restore", "--data-dir", str(tmp_path / "new"), str(truncated))
    into_used = backup_command(
        parse_flags(["restore", "--data-dir", str(stopped.data_dir), str(stopped.archive)])
    )

    assert damaged.returncode == 2
    assert damaged.stdout == ""
    assert damaged.stderr == (
        "Cannot restore: truncated.tar.gz is damaged or incomplete "
        "(Compressed file ended before the end-of-stream marker was reached)\n"
    )
    assert not (tmp_path / "new").exists()
    assert into_used == 2
    output = capsys.readouterr()
    assert output.out == ""
    assert output.err.startswith(f"Cannot restore: the data folder {stopped.data_dir} is not empty (")
    assert len(output.err.splitlines()) == 1


def test_the_commands_keep_the_flags_and_honour_the_environment(monkeypatch, tmp_path: Path, capsys):
    assert parse_flags(["--demo", "--port", "9100", "--data-dir", "d"]).command is None
    after = parse_flags(["backup", "--data-dir", "x", "out.tar.gz"])
    before = parse_flags(["--data-dir", "x", "backup"])
    assert (after.command, after.data_dir, after.file) == ("backup", Path("x"), Path("out.tar.gz"))
    assert (before.command, before.data_dir, before.file) == ("backup", Path("x"), None)
    assert parse_flags(["restore", "in.tar.gz"]).file == Path("in.tar.gz")

    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "from-environment"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    status = backup_command(parse_flags(["backup"]))

    assert status == 2  # no database there yet: one line naming where it looked
    assert capsys.readouterr().err == (
        f"Cannot back up: there is no database at {tmp_path / 'from-environment' / 'portal.db'}\n"
    )
