"""What the transports that reach other instances through a server (PostgreSQL, Redis) share: a listener
thread that reconnects with back-off, and a sender thread fed by a queue.

- The listener connects, subscribes, and hands each message of another instance to ``Deliver``. When
  its connection is lost (a restart, a failover, a killed backend) it connects again, waiting a little
  longer after each failure (up to ``MAX_RETRY_SECONDS``), and once it listens again it delivers
  ``None``: what was published meanwhile is lost, so every subscriber looks again.
- The sender takes topics from a queue, so ``send`` returns at once on any thread; a topic it cannot
  send is kept (once, however often it was queued meanwhile) and sent when the server answers again.
- ``close`` stops both within about ``POLL_SECONDS``; what is still queued is sent first if the server
  answers at once, never waited for.
"""

from __future__ import annotations

import logging
import queue
import random
import secrets
import threading
from collections.abc import Iterator
from typing import Protocol

from services.notices import Deliver, payload, topic_of

logger = logging.getLogger("portal.notices")

POLL_SECONDS = 0.5  # how long the listener waits for a message before it looks whether to stop
FIRST_RETRY_SECONDS = 0.1
MAX_RETRY_SECONDS = 5.0
CLOSE_SECONDS = 2.0


class Listening(Protocol):
    """A connection subscribed to the channel."""

    def messages(self, timeout: float) -> Iterator[str]:
        """The messages that arrive within ``timeout`` seconds, each as it arrives; raises when the
        connection is lost."""
        ...

    def close(self) -> None: ...


class Sending(Protocol):
    """A connection that publishes on the channel."""

    def send(self, message: str) -> None: ...

    def close(self) -> None: ...


def retry_delay(failures: int) -> float:
    """Seconds to wait after ``failures`` failed connections in a row: doubling, capped, with jitter so
    that instances which lost the server together do not all come back in the same instant."""
    delay = min(FIRST_RETRY_SECONDS * 2 ** max(failures - 1, 0), MAX_RETRY_SECONDS)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - a jitter, not a secret


class Relay:
    """A ``Transport`` over a server: subclasses say how to listen (``listen``) and send (``sender``)."""

    name = "notices"  # for logs and thread names
    max_message_bytes: int | None = None  # the server's limit on one message, if it has one

    def __init__(self) -> None:
        self.instance = secrets.token_hex(8)  # this process's mark on its messages
        self._deliver: Deliver | None = None
        self._stopping = threading.Event()
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()  # None: stop
        self._threads: list[threading.Thread] = []
        self.listening = threading.Event()  # set while the listener is subscribed (tests wait for it)

    def listen(self) -> Listening:
        """Connect and subscribe to the channel; raises when the server cannot be reached."""
        raise NotImplementedError

    def sender(self) -> Sending:
        """Connect for sending; raises when the server cannot be reached."""
        raise NotImplementedError

    def open(self, deliver: Deliver) -> None:
        self._deliver = deliver
        self._threads = [
            threading.Thread(target=self._listen, name=f"portal-{self.name}-listen", daemon=True),
            threading.Thread(target=self._send, name=f"portal-{self.name}-send", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def send(self, topic: str) -> None:
        if self._stopping.is_set():
            return
        message = payload(self.instance, topic)
        if self.max_message_bytes is not None and len(message.encode()) > self.max_message_bytes:
            logger.error("a change notice of %d bytes is too long to send; topic %.80r…", len(message), topic)
            return
        self._queue.put(message)

    def close(self) -> None:
        self._stopping.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(CLOSE_SECONDS)
        self._threads = []

    def _listen(self) -> None:
        deliver = self._deliver
        if deliver is None:  # never opened
            return
        failures, missed = 0, False
        while not self._stopping.is_set():
            try:
                listening = self.listen()
            except Exception as error:
                failures, missed = failures + 1, True
                if failures == 1:
                    logger.warning("%s: cannot listen for change notices (%s); retrying", self.name, error)
                self._stopping.wait(retry_delay(failures))
                continue
            self.listening.set()
            try:
                if missed:  # subscribed again first, so nothing published from now on is missed
                    logger.info("%s: listening for change notices again", self.name)
                    deliver(None)
                failures, missed = 0, False
                while not self._stopping.is_set():
                    for message in listening.messages(POLL_SECONDS):
                        topic = topic_of(message, self.instance)
                        if topic is not None:
                            deliver(topic)
            except Exception as error:
                if not self._stopping.is_set():
                    logger.warning("%s: lost the notices' connection (%s); reconnecting", self.name, error)
                failures, missed = 1, True
                self._stopping.wait(retry_delay(failures))
            finally:
                self.listening.clear()
                _close_quietly(listening)

    def _send(self) -> None:
        sending: Sending | None = None
        waiting: dict[str, None] = {}  # messages to send, in order, each once
        failures, stop = 0, False
        while not stop:
            if not waiting:
                first = self._queue.get()
                if first is None:
                    break
                waiting[first] = None
            while True:  # and whatever else is queued already
                try:
                    message = self._queue.get_nowait()
                except queue.Empty:
                    break
                if message is None:
                    stop = True
                    break
                waiting[message] = None
            try:
                if sending is None:
                    sending = self.sender()
                for message in list(waiting):
                    sending.send(message)
                    del waiting[message]
                failures = 0
            except Exception as error:
                if sending is not None:
                    _close_quietly(sending)
                    sending = None
                if stop or self._stopping.is_set():
                    logger.warning("%s: %d notices not sent at shutdown (%s)", self.name, len(waiting), error)
                    break
                failures += 1
                if failures == 1:
                    logger.warning("%s: cannot send change notices (%s); trying again", self.name, error)
                self._stopping.wait(retry_delay(failures))
        if sending is not None:
            _close_quietly(sending)


def _close_quietly(connection: Listening | Sending) -> None:
    try:
        connection.close()
    except Exception:  # closing a broken connection may fail too; it is dropped either way
        logger.debug("closing a change notices' connection failed", exc_info=True)
