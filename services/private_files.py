"""Files in the data folder that only the portal's user may read: the storage secret, the secret key."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's contents, written from ``make()`` when it does not exist yet; its mode is kept 0600."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        path.chmod(0o600)
    return path.read_bytes().strip()
