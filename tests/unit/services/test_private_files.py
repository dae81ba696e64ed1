"""The data folder's secret files when several processes start on one folder at the same moment."""

from __future__ import annotations

import os
import secrets
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from services.private_files import read_or_create

STARTS = 8


def test_starts_at_the_same_moment_all_read_the_one_whole_file_that_won(tmp_path):
    path = tmp_path / "secret_key"
    ready = threading.Barrier(STARTS)

    def start() -> bytes:
        def make() -> bytes:
            time.sleep(0.05)  # as long as the others need to find the file missing, or half-written
            return secrets.token_urlsafe(32).encode()

        ready.wait()
        return read_or_create(path, make)

    with ThreadPoolExecutor(STARTS) as pool:
        read = list(pool.map(lambda _: start(), range(STARTS)))

    assert len(set(read)) == 1
    assert read[0]
    assert read[0] == path.read_bytes()
    assert os.listdir(tmp_path) == ["secret_key"]  # no draft left behind
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_existing_file_is_read_and_kept(tmp_path):
    path = tmp_path / "storage_secret"
    path.write_bytes(b"kept\n")
    path.chmod(0o644)

    assert read_or_create(path, lambda: b"new") == b"kept"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
