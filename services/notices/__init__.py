"""How change notices travel between the portal's instances (``services.events`` delivers them inside one).

A ``Transport`` passes each topic a process publishes on to every other instance sharing the
database, and hands what the others publish to its ``Deliver``. Which one runs is chosen once, in the
composition root (``services.portal.start``, with ``choose``):

- ``in_process``: one instance alone (SQLite): nothing to pass on.
- ``postgres``: PostgreSQL's ``LISTEN/NOTIFY`` on the portal's own database, when it is PostgreSQL.
- ``redis_pubsub``: Redis pub/sub, when ``PORTAL_REDIS_URL`` is set (it wins over PostgreSQL).

Notices carry a topic only (``"client:<public id>:documents"``), never data: whoever hears one reads
what changed from the database. So a notice lost while a connection was down costs only freshness,
and a transport that reconnects delivers ``None`` ("anything may have changed") to make up for it.

The two that reach other instances (``relay.Relay``) listen in a thread of their own and send from
another, through a queue, so ``send`` never waits for the network; a notice that cannot be sent is sent
again once the server answers. Each message is the sending transport's instance id and the topic
(``payload``), so an instance skips its own: ``Events.publish`` has delivered those already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from services.settings import Settings

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


def choose(settings: Settings, database_url: str) -> Transport:
    """Redis pub/sub when ``PORTAL_REDIS_URL`` is set, else ``LISTEN/NOTIFY`` when the database is
    PostgreSQL, else in-process (SQLite: one instance alone). Nothing connects before ``open``."""
    if settings.redis_url:
        from services.notices.redis_pubsub import RedisNotices

        return RedisNotices(settings.redis_url)
    from services.database import normalize_url

    if normalize_url(database_url).startswith("postgresql"):
        from services.notices.postgres import PostgresNotices

        return PostgresNotices(database_url)
    from services.notices.in_process import InProcess

    return InProcess()


def payload(instance: str, topic: str) -> str:
    """A message on the channel: the sender's instance id, a space, the topic."""
    return f"{instance} {topic}"


def topic_of(message: str, instance: str) -> str | None:
    """The topic of ``message`` unless this instance sent it (``None`` then). A message without an
    instance id (``NOTIFY portal_notices, 'business:settings'`` typed by hand) is a topic alone."""
    sender, separator, topic = message.partition(" ")
    if not separator:
        return message or None
    return None if sender == instance else topic or None
