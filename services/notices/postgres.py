"""Change notices between instances through PostgreSQL's ``LISTEN/NOTIFY`` on the portal's own database.

Two connections of their own, outside the SQLAlchemy pool, both in autocommit: one ``LISTEN``s on
``CHANNEL`` in the listener thread, one sends with ``pg_notify`` in the sender thread (``relay.Relay``).
NOTIFY reaches only the sessions listening at that moment and PostgreSQL keeps nothing for one that is
reconnecting, hence the ``None`` after a reconnection. A payload must be shorter than 8000 bytes; topics
are a few dozen, and a longer one is refused with a log line rather than failing the sender.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
from psycopg import sql
from sqlalchemy import make_url

from services.database import normalize_url
from services.notices import CHANNEL
from services.notices.relay import Relay

CONNECT_TIMEOUT_SECONDS = 5
# A connection whose server vanished without a word (a cut network) is noticed within about a minute:
# the listener would otherwise wait for notices on it for ever.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 30, 10, 3


def conninfo(database_url: str) -> str:
    """The libpq form of the portal's database URL (``postgresql+psycopg://`` is SQLAlchemy's)."""
    url = make_url(normalize_url(database_url)).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PostgresNotices(Relay):
    name = "postgresql"
    max_message_bytes = 7999  # NOTIFY's payload limit is "shorter than 8000 bytes"

    def __init__(self, database_url: str, *, channel: str = CHANNEL) -> None:
        super().__init__()
        self.conninfo = conninfo(database_url)
        self.channel = channel

    def listen(self) -> _Listener:
        return _Listener(self._connect("listen"), self.channel)

    def sender(self) -> _Sender:
        return _Sender(self._connect("send"), self.channel)

    def _connect(self, role: str) -> psycopg.Connection:
        return psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            application_name=self.connection_name(role),
            keepalives=1,
            keepalives_idle=KEEPALIVE_IDLE,
            keepalives_interval=KEEPALIVE_INTERVAL,
            keepalives_count=KEEPALIVE_COUNT,
        )

    def connection_name(self, role: str) -> str:
        """``pg_stat_activity``'s ``application_name`` of this instance's connection for ``role``."""
        return f"portal notices {role} {self.instance}"


class _Listener:
    def __init__(self, connection: psycopg.Connection, channel: str) -> None:
        self.connection = connection
        try:
            connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        except BaseException:
            connection.close()
            raise

    def messages(self, timeout: float) -> Iterator[str]:
        for notify in self.connection.notifies(timeout=timeout):
            yield notify.payload

    def close(self) -> None:
        self.connection.close()


class _Sender:
    def __init__(self, connection: psycopg.Connection, channel: str) -> None:
        self.connection, self.channel = connection, channel

    def send(self, message: str) -> None:
        self.connection.execute("SELECT pg_notify(%s, %s)", (self.channel, message))

    def close(self) -> None:
        self.connection.close()
