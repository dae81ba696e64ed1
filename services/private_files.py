"""Files in the data folder that only the portal's user may read: the folder itself, the database, the
storage secret, the secret key."""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's contents, written from ``make()`` when it does not exist yet; its mode is kept 0600.

    Processes sharing the data folder may start at the same moment: the file appears whole or not at all
    (written under a name of this process's own, then linked to ``path``, which fails if another process
    linked its own first), so each reads the one file that won, never a half-written one.
    """
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(make())
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process made it first: its contents count
            except OSError:  # a file system without hard links: made in place, as a lone process may
                _create_in_place(path, draft.read_bytes())
        finally:
            draft.unlink(missing_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != 0o600:
        path.chmod(0o600)
    return path.read_bytes().strip()


def _create_in_place(path: Path, contents: bytes) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as file:
        file.write(contents)


def keep_private(path: Path) -> None:
    """Take every right of others away from a folder or file of ours; what we own stays as it is.

    Only permissions are removed, never added: a file made read-only on purpose stays read-only (and
    start-up then says so). SQLite makes its ``-wal`` and ``-shm`` files with the mode of the
    database file, so a private database keeps them private too.
    """
    try:
        if not path.exists() or path.stat().st_uid != os.getuid():
            return  # a folder shared on purpose (a mount point, say) is the operator's to secure
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(mode & 0o700)
    except OSError:
        pass
