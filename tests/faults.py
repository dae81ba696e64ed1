"""Real faults for tests: a database server that goes away, a SQLite file another process holds locked.

``TcpGate`` stands between the portal and PostgreSQL on loopback. ``close()`` is what the portal sees
when the server stops: open connections are reset and new ones refused; ``open()`` brings it back.
Stopping the machine's shared server would take it from every other test running in parallel, so the
outage is made at the network edge of the one portal under test instead.

``sqlite_lock`` holds a write lock on a SQLite file from another connection (as a backup tool, a second
process or a stuck writer would), so that every write of the portal waits and then fails.
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import make_url

from services.database import normalize_url


class TcpGate:
    """A loopback TCP proxy to ``target_host:target_port`` that can be closed and opened again."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stopped = False
        threading.Thread(target=self._accept, name="tcp-gate", daemon=True).start()

    @classmethod
    def for_url(cls, database_url: str) -> tuple[TcpGate, str]:
        """A gate in front of the server of a PostgreSQL URL, and the same URL through the gate."""
        url = make_url(normalize_url(database_url))
        gate = cls(url.host or "127.0.0.1", url.port or 5432)
        gated = url.set(host="127.0.0.1", port=gate.port).render_as_string(hide_password=False)
        return gate, gated

    def close(self) -> None:
        """The server is gone: reset every open connection and refuse new ones."""
        self._open.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                sock.close()

    def open(self) -> None:
        self._open.set()

    def stop(self) -> None:
        self._stopped = True
        self.close()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                client.close()  # refused, as by a server that is not running
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@contextlib.contextmanager
def sqlite_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Hold the write lock of the SQLite database at ``path`` until the block ends.

    ``BEGIN EXCLUSIVE`` in WAL mode keeps every other writer out (readers still read), exactly as a
    long write by another process would; the portal's writes wait for their busy time-out and fail.
    """
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        yield connection
    finally:
        with contextlib.suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        connection.close()
