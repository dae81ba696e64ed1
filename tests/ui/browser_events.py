"""Events sent to an open page as its browser sends them: through NiceGUI's Socket.IO handler.

NiceGUI's simulated user calls a page's handlers directly, past the socket; these helpers go the
browser's way instead, with the socket the page handshook with, so that what ``components.authority``
checks there is part of the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from nicegui import core, helpers, ui
from nicegui.testing import User

from components import authority


def send_event(user: User, element: ui.element, event: str = "click", *args: object) -> None:
    """What the browser emits when ``event`` happens on ``element`` of the user's open page."""
    client = user.client
    assert client is not None
    [socket] = list(client._socket_to_document_id)
    kind = helpers.event_type_to_camel_case(event)  # as NiceGUI keeps it ("update:modelValue")
    listener = next(each for each in element._event_listeners.values() if each.type == kind)
    core.sio.handlers["/"]["event"](
        socket,
        {
            "client_id": client.id,
            "id": element.id,
            "listener_id": listener.id,
            "args": [json.dumps(arg) for arg in args],
        },
    )


def marked(user: User, marker: str) -> ui.element:
    [element] = user.find(marker=marker).elements
    return element


async def checked(user: User) -> None:
    """Wait until the open page has heard from the database that its session stands (its first check)."""
    assert user.client is not None
    holder = authority.holder_of(user.client)
    assert holder is not None, "not a signed-in page"
    await until(lambda: holder.ends_at is not None)


async def left_for(user: User, login_path: str, seconds: float = 10) -> dict[str, str]:
    """Wait until the page went to ``login_path`` by itself; returns the sign-in page's query."""
    await until(lambda: urlsplit(user.back_history[-1]).path == login_path, seconds)
    return {key: values[0] for key, values in parse_qs(urlsplit(user.back_history[-1]).query).items()}


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("it did not happen in time")
