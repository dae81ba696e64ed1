"""Change notices between instances through Redis pub/sub, when ``PORTAL_REDIS_URL`` is set.

For operators who run Redis already (NiceGUI's storage for several instances uses it) or whose
PostgreSQL sits behind a pooler in transaction mode, where ``LISTEN`` does not work. Redis keeps
nothing for a subscriber that is reconnecting either, hence the ``None`` after a reconnection. The
client's own retries are off: it would reconnect and subscribe again without telling, and the
notices lost meanwhile would go unnoticed; ``relay.Relay`` reconnects instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from services.notices import CHANNEL
from services.notices.relay import Relay

TIMEOUT_SECONDS = 5.0


class RedisNotices(Relay):
    name = "redis"

    def __init__(self, redis_url: str, *, channel: str = CHANNEL) -> None:
        super().__init__()
        self.redis_url, self.channel = redis_url, channel

    def listen(self) -> _Listener:
        return _Listener(self._client("listen"), self.channel)

    def sender(self) -> _Sender:
        return _Sender(self._client("send"), self.channel)

    def connection_name(self, role: str) -> str:
        """``CLIENT LIST``'s name of this instance's connection for ``role``."""
        return f"portal-notices-{role}-{self.instance}"

    def _client(self, role: str) -> redis.Redis:
        return redis.Redis.from_url(
            self.redis_url,
            client_name=self.connection_name(role),
            socket_connect_timeout=TIMEOUT_SECONDS,
            socket_timeout=TIMEOUT_SECONDS,
            socket_keepalive=True,
            health_check_interval=30,
            retry=Retry(NoBackoff(), 0),
            decode_responses=True,
        )


class _Listener:
    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.client = client
        self.pubsub = client.pubsub()
        try:
            self.pubsub.subscribe(channel)
            # Listening only once Redis confirms: a message published after that reaches us.
            confirmation = self.pubsub.get_message(timeout=TIMEOUT_SECONDS)
            if confirmation is None or confirmation.get("type") != "subscribe":
                raise redis.ConnectionError(f"Redis did not confirm the subscription to {channel}")
        except BaseException:
            self.close()
            raise

    def messages(self, timeout: float) -> Iterator[str]:
        message: dict[str, Any] | None = self.pubsub.get_message(timeout=timeout)
        while message is not None:
            if message.get("type") == "message":
                yield str(message["data"])
            message = self.pubsub.get_message(timeout=0)

    def close(self) -> None:
        self.pubsub.close()
        self.client.close()


class _Sender:
    def __init__(self, client: redis.Redis, channel: str) -> None:
        self.client, self.channel = client, channel

    def send(self, message: str) -> None:
        self.client.publish(self.channel, message)

    def close(self) -> None:
        self.client.close()
