"""Change notices from the services to whatever shows or depends on what changed.

A service publishes a topic after its transaction commits; whoever subscribed to that topic (an open
page's refresh, a page's session follower, the gateway's reload) is called back on the event loop,
in this instance and, through the ``services.notices`` transport, in every instance sharing the
database. Nothing polls: a page that hears nothing costs nothing.

- ``publish`` may be called from any thread (services run in worker threads) and never blocks: it
  schedules the callbacks on the loop with ``call_soon_threadsafe`` and hands the topic to the
  transport. ``version`` counts the notices heard of a topic at once, before any callback runs: a
  check that notes it before reading knows afterwards whether a notice came meanwhile
  (``components.authority`` trusts a session's standing only while none did).
- A subscription lives as long as its owner keeps the ``Subscription`` (the topic's subscribers are
  held weakly) or until it is cancelled: an open page keeps its own and cancels them when it is
  deleted (``components.live``).
- Between instances (``services.notices``: PostgreSQL ``LISTEN/NOTIFY`` or Redis pub/sub; nothing on
  SQLite), ``publish`` delivers here at once and the transport passes the topic on; it never hands an
  instance its own notices back. A transport that lost its connection delivers ``None`` once it
  listens again: notices may have been missed, so it counts as a notice of every topic and calls every
  subscriber (a page reads again, a session follower checks again, the gateway is loaded again).
- Bursts are coalesced: a subscription is called at once, then at most once per
  ``COALESCE_SECONDS``; notices meanwhile call it once more at the end of that time, so the last
  change is never missed. A callback should read what changed after it is called, not before.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import weakref
from collections.abc import Callable

from services.notices import Transport
from services.notices.in_process import InProcess

logger = logging.getLogger("portal.events")

COALESCE_SECONDS = 0.25


class Subscription:
    """One subscriber's interest in one topic; see ``Events.subscribe``."""

    def __init__(
        self, events: Events, topic: str, callback: Callable[[], None], loop: asyncio.AbstractEventLoop
    ) -> None:
        self.topic = topic
        self._events, self._callback, self._loop = events, callback, loop
        self._called_at: float | None = None  # loop time of the last call
        self._later: asyncio.TimerHandle | None = None
        self.cancelled = False

    def cancel(self) -> None:
        """No more calls, also none already scheduled."""
        self.cancelled = True
        if self._later is not None:
            self._later.cancel()
            self._later = None
        self._events._forget(self)

    def _notice(self) -> None:
        """On the loop: call now, or once at the end of the coalescing time if called lately."""
        if self.cancelled or self._later is not None:
            return
        wait = 0.0 if self._called_at is None else self._called_at + COALESCE_SECONDS - self._loop.time()
        if wait > 0:
            self._later = self._loop.call_later(wait, self._call)
        else:
            self._call()

    def _call(self) -> None:
        self._later = None
        if self.cancelled:
            return
        self._called_at = self._loop.time()
        try:
            self._callback()
        except Exception:  # one subscriber's bug must not keep the notice from the others
            logger.exception("a subscriber of %s failed", self.topic)


class Events:
    """The process's change notices: ``subscribe`` on the event loop, ``publish`` from anywhere."""

    def __init__(self, transport: Transport | None = None) -> None:
        self._transport = transport or InProcess()
        self._lock = threading.Lock()
        self._subscribers: dict[str, weakref.WeakSet[Subscription]] = {}
        self._versions: dict[str, int] = {}
        self._missed = 0  # times notices may have been missed, which counts as a notice of every topic
        self._heard = 0  # notices of any topic, missed ones included
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: set[str] = set()  # topics waiting for the loop to call their subscribers
        self._everything = False  # notices may have been missed: call every subscriber
        self._transport.open(self._receive)

    def subscribe(self, topic: str, callback: Callable[[], None]) -> Subscription:
        """Call ``callback`` on this event loop after each change notice of ``topic``, coalesced.

        Call it on the loop, before reading what the callback would read, so a change made meanwhile is
        not missed. Keep the returned subscription for as long as the calls are wanted.
        """
        loop = asyncio.get_running_loop()
        subscription = Subscription(self, topic, callback, loop)
        with self._lock:
            self._loop = loop
            self._subscribers.setdefault(topic, weakref.WeakSet()).add(subscription)
        return subscription

    def publish(self, topic: str) -> None:
        """Tell every subscriber of ``topic``, in every instance, that it changed; call after the commit."""
        self._transport.send(topic)
        self._receive(topic)

    def version(self, topic: str) -> int:
        """How many notices of ``topic`` this process has heard so far; from any thread."""
        with self._lock:
            return self._missed + self._versions.get(topic, 0)

    def heard(self) -> int:
        """How many notices of any topic this process has heard so far (missed ones too); from any thread.
        Unchanged between two calls: no notice at all came between them."""
        with self._lock:
            return self._heard

    def close(self) -> None:
        """Stop the transport (at shutdown); notices published later reach this process only."""
        self._transport.close()
        self._transport = InProcess()

    def _receive(self, topic: str | None) -> None:
        """A notice of this process's or another instance's (``None``: of every topic), from any thread."""
        with self._lock:
            self._heard += 1
            if topic is None:
                self._missed += 1
            else:
                self._versions[topic] = self._versions.get(topic, 0) + 1
            loop = self._loop
            if loop is None:  # nobody subscribed yet
                return
            waiting = bool(self._arrived) or self._everything
            if topic is None:
                self._everything = True
            else:
                self._arrived.add(topic)
        if waiting:  # the loop is called already and takes this one along
            return
        try:
            loop.call_soon_threadsafe(self._call_subscribers)
        except RuntimeError:  # the loop was closed (a test's): nobody is left to tell
            with self._lock:
                self._arrived.clear()
                self._everything = False

    def _call_subscribers(self) -> None:
        with self._lock:
            topics, everything = self._arrived, self._everything
            self._arrived, self._everything = set(), False
            chosen = list(self._subscribers) if everything else [t for t in topics if t in self._subscribers]
            called = [subscription for topic in chosen for subscription in list(self._subscribers[topic])]
            for topic in chosen:
                if not self._subscribers[topic]:  # every subscriber of it is gone
                    del self._subscribers[topic]
        for subscription in called:
            subscription._notice()

    def _forget(self, subscription: Subscription) -> None:
        with self._lock:
            subscribers = self._subscribers.get(subscription.topic)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[subscription.topic]


def invoice_comments_topic(invoice_public_id: str) -> str:
    return f"invoice:{invoice_public_id}:comments"


def quote_topic(quote_public_id: str) -> str:
    """Published when a quote is sent, answered or commented on: its open pages, the customer's and
    the business's, refresh."""
    return f"quote:{quote_public_id}"


def quote_comments_topic(quote_public_id: str) -> str:
    return f"quote:{quote_public_id}:comments"


QUOTES_TOPIC = "business:quotes"
"""Published when a quote is made, sent or answered: the business's open quote list refreshes."""


def client_documents_topic(client_public_id: str) -> str:
    """Published when the business sends, voids or credits a document of this client, or books a payment
    or refund for it: the client's open dashboard, invoice list and invoice pages refresh."""
    return f"client:{client_public_id}:documents"


def customer_sessions_topic(portal_user_id: int) -> str:
    """Published when a session of this customer contact may have ended (sign-out, a password change or
    reset, access disabled): their open pages check whether theirs still stands."""
    return f"portal_user:{portal_user_id}:sessions"


def staff_sessions_topic(staff_user_id: int) -> str:
    """Published when a session of this staff member may have ended, or their role changed (sign-out,
    disabled, owner made staff): their open back-office pages check whether theirs still stands."""
    return f"staff_user:{staff_user_id}:sessions"


BUSINESS_INBOX_TOPIC = "business:inbox"
"""Published when a customer comments, writes a message, leaves a review or asks for a refund."""

SETTINGS_TOPIC = "business:settings"
"""Published when the owner saves the gateway or the SMTP server: every instance loads the gateway again."""
