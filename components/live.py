"""Keep an open page current: refresh a part of it when a topic's change notice moves.

Polling reads an in-process counter (services.events), so a page that sees no change costs no
database query; only a moved version calls the page's refresh.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from nicegui import ui

from services.events import Events

POLL_SECONDS = 1.0

Refresh = Callable[[], Awaitable[None] | None]


class LiveTopics:
    """Calls a refresh about once a second after any of ``topics`` moved since this was made.

    Make it before the page reads what it shows, so that a change made meanwhile is not missed, and
    call ``follow`` once the page is built: a timer makes NiceGUI answer the request at once, and the
    rest of a page built after it would only arrive later.
    """

    def __init__(self, events: Events, *topics: str) -> None:
        self.events, self.topics = events, topics
        self.seen = self.versions()

    def follow(self, refresh: Refresh) -> None:
        self.refresh = refresh
        self.timer = ui.timer(POLL_SECONDS, self.poll)

    def versions(self) -> tuple[int, ...]:
        return tuple(self.events.version(topic) for topic in self.topics)

    def catch_up(self) -> None:
        """The page is about to show the latest state itself (after its own change): skip the poll's refresh.

        Call it before reading, so that a change made meanwhile by someone else is read, not lost.
        """
        self.seen = self.versions()

    async def poll(self) -> None:
        if self.versions() == self.seen:
            return
        self.catch_up()
        result = self.refresh()
        if inspect.isawaitable(result):
            await result


class Loads:
    """Numbers a part's reads, so only the newest is drawn: a poll and a click may read at once, and
    the older read finishing last would put stale figures back on the screen."""

    def __init__(self) -> None:
        self.started = 0

    def start(self) -> int:
        self.started += 1
        return self.started

    def is_latest(self, ticket: int) -> bool:
        return ticket == self.started
