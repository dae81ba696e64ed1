"""Keep an open page current: refresh a part of it when a topic's change notice arrives.

Pages subscribe to ``services.events`` instead of polling: a page that hears nothing costs no work
at all, and one that hears a notice reads the database once, however many notices a burst brought.
A page's subscriptions last as long as the page: ``subscribe`` ties them to it, they end when it is
deleted, and ``stop`` ends them at once (a page whose session ended, ``components.authority``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from weakref import WeakKeyDictionary

from nicegui import Client, background_tasks, ui

from components.offload import io_bound
from services.database import Database
from services.events import Events, Subscription
from services.live_topics import documents_topic, known_documents_topic
from services.principal import Principal

Refresh = Callable[[], Awaitable[None] | None]

_subscriptions: WeakKeyDictionary[Client, list[Subscription]] = WeakKeyDictionary()
log = logging.getLogger(__name__)


def subscribe(client: Client, events: Events, topic: str, callback: Callable[[], None]) -> None:
    """Call ``callback`` on ``topic``'s change notices for as long as the page ``client`` lives."""
    subscription = events.subscribe(topic, callback)
    if client not in _subscriptions:
        _subscriptions[client] = []
        client.on_delete(lambda: stop(client))
    _subscriptions[client].append(subscription)  # the page holds it; Events only weakly


def stop(client: Client) -> None:
    """No more change notices for this page."""
    for subscription in _subscriptions.pop(client, []):
        subscription.cancel()


class LiveTopics:
    """Calls a refresh after any of ``topics`` changed since this was made, one refresh at a time.

    Make it before the page reads what it shows, so that a change made meanwhile is not missed, and
    call ``follow`` once the page can be refreshed.
    """

    def __init__(self, events: Events, *topics: str) -> None:
        self.client = ui.context.client
        self.refresh: Refresh | None = None
        self.noticed = False  # a notice came that no refresh has read since
        self.running = False
        for topic in topics:
            subscribe(self.client, events, topic, self.notice)

    def follow(self, refresh: Refresh) -> None:
        self.refresh = refresh
        self._start()  # for a change made while the page was being built

    def catch_up(self) -> None:
        """The page is about to show the latest state itself (after its own change): skip a refresh
        for the notices so far.

        Call it before reading, so that a change made meanwhile by someone else is read, not lost.
        """
        self.noticed = False

    def notice(self) -> None:
        self.noticed = True
        self._start()

    def _start(self) -> None:
        if self.refresh is None or self.running or not self.noticed or self.client.is_deleted:
            return
        self.running = True
        background_tasks.create(self._refresh(), name="live refresh", context=self.client)

    async def _refresh(self) -> None:
        try:
            while self.noticed and self.refresh is not None and not self.client.is_deleted:
                self.noticed = False  # before reading: a notice during the read refreshes once more
                result = self.refresh()
                if inspect.isawaitable(result):
                    await result
        finally:
            self.running = False


class Loads:
    """Numbers a part's reads, so only the newest is drawn: a refresh and a click may read at once, and
    the older read finishing last would put stale figures back on the screen."""

    def __init__(self) -> None:
        self.started = 0

    def start(self) -> int:
        self.started += 1
        return self.started

    def is_latest(self, ticket: int) -> bool:
        return ticket == self.started


async def customer_topic(db: Database, principal: Principal) -> str:
    """``documents_topic`` for a page: no trip to a database thread when the session knew the client."""
    known = known_documents_topic(principal)
    if known is not None:
        return known
    return await io_bound(documents_topic, db, principal)


async def announce_documents(events: Events, db: Database, principal: Principal) -> None:
    """After a customer's own change (a payment, credit applied, a refund asked for): their pages open in
    other tabs, on any instance, show it too. The change is committed already, so a failure only logs."""
    try:
        events.publish(await customer_topic(db, principal))
    except Exception:
        log.warning("the customer's other open pages were not told of their change", exc_info=True)
