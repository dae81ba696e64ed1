"""How change notices travel between the portal's instances (``services.events`` delivers them inside one).

A ``Transport`` passes each topic a process publishes on to every other instance sharing the
database, and hands what the others publish to its ``Deliver``. Which one runs is chosen once, in the
composition root (``services.portal.start``, with ``choose``):

- ``in_process``: one instance alone (SQLite): nothing to pass on.
- ``postgres``: PostgreSQL's ``LISTEN/NOTIFY`` on the portal's own database.
- ``redis``: Redis pub/sub, when ``PORTAL_REDIS_URL`` is set (it wins over PostgreSQL).

Notices carry a topic only (``"client:<public id>:documents"``), never data: whoever hears one reads
what changed from the database. So a notice lost while a connection was down costs only freshness,
and a transport that reconnects delivers ``None`` ("anything may have changed") to make up for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

Deliver = Callable[[str | None], None]
"""Called from the transport's thread with a topic another instance published, or ``None`` when
notices may have been missed (after a reconnection): every subscriber should look again."""

CHANNEL = "portal_notices"  # the NOTIFY channel and the Redis channel


class Transport(Protocol):
    def open(self, deliver: Deliver) -> None:
        """Start passing notices from other instances to ``deliver`` (in a thread of the transport's)."""

    def send(self, topic: str) -> None:
        """Pass ``topic`` on to the other instances; returns at once and never raises (the change it
        announces is committed already; a notice that cannot be sent now is sent once it can)."""

    def close(self) -> None:
        """Stop listening and sending (at shutdown)."""
