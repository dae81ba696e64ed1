"""The real portal as a subprocess (``python app.py``), started as a user would and stopped at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from services.database import make_engine
from services.settings import Settings
from tests.conftest import postgres_test_url

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class RunningPortal:
    url: str
    data_dir: Path
    output: Path
    pid: int = 0  # the server process's


def crash_environment(backend: str, data_dir: Path, purpose: str) -> dict[str, str]:
    """The settings of a portal that a test kills: its own data folder and, on PostgreSQL, a database of
    its own (``purpose`` names it), emptied."""
    environment = {"PORTAL_DATA_DIR": str(data_dir), "PORTAL_BCRYPT_ROUNDS": "4"}
    if backend == "postgresql":
        url = postgres_test_url(purpose)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        environment["DATABASE_URL"] = url
    return environment


def settings_of(environment: dict[str, str]) -> Settings:
    """The settings app.py reads from this environment."""
    fields = {
        key if key == "DATABASE_URL" else key.removeprefix("PORTAL_").lower(): value
        for key, value in environment.items()
    }
    return Settings.model_validate(fields)


def run_until_killed(module: str, *arguments: str, environment: dict[str, str]) -> None:
    """``python -m module arguments`` as a portal process with ``environment``, which must end killed by
    SIGKILL (a crash driver kills itself at the step it was told)."""
    finished = subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=ROOT,
        env=clean_environment(**environment),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == -signal.SIGKILL, finished.stderr


def clean_environment(**settings: str) -> dict[str, str]:
    """The environment of a portal process: this one's without pytest's and NiceGUI's variables (NiceGUI
    switches to test mode when it sees them) or the portal's own settings, then ``settings``."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "PYTEST_", "NICEGUI_")) and key != "DATABASE_URL"
    }
    return environment | settings


def run_app(
    *args: str, prefix: list[str] | None = None, timeout: float = 120, **settings: str
) -> subprocess.CompletedProcess[str]:
    """``python app.py ARGS`` to its end (a command, or a start that fails), with ``settings`` only."""
    return subprocess.run(
        [*(prefix or []), sys.executable, "app.py", *args],
        cwd=ROOT,
        env=clean_environment(**settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_portal(
    data_dir: Path, *, port: int = 0, settings: dict[str, str] | None = None, demo: bool = True
) -> Iterator[RunningPortal]:
    """``python app.py --demo`` on a free port with a fresh data folder, as a user would start it.

    ``demo=False`` starts it without ``--demo``: an empty portal that shows its first-run setup.
    """
    output = data_dir.parent / f"{data_dir.name}-output.txt"
    port = port or free_port()
    environment = clean_environment(**(settings or {}))
    flags = ["--demo"] if demo else []
    with output.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "app.py", *flags, "--port", str(port), "--data-dir", str(data_dir)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"the portal exited early:\n{output.read_text()}")
            try:
                # An empty portal answers /login with a redirect to its setup page.
                if httpx.get(f"{url}/login", timeout=2, follow_redirects=True).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the portal did not answer within 60 s:\n{output.read_text()}")
            time.sleep(0.3)
        yield RunningPortal(url, data_dir, output, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
