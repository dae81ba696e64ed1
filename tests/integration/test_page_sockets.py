"""A page's socket belongs to the browser session that opened the page (components.authority).

NiceGUI routes a socket's messages by the client id they name. On the real portal (``python app.py
--demo``) a customer opens an invoice page; a bare Socket.IO client that knows everything in that page
(its client id, its elements and listeners, even the tab id its browser pinned) but not the session
cookie cannot attach to it, and what it sends changes nothing. The same messages from the page's own
socket post the comment, so they are the messages a browser sends.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import socketio  # type: ignore[import-untyped]

from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD, OTHER_CUSTOMER_EMAIL
from tests.portal_process import RunningPortal, running_portal

SOCKET_PATH = "/_nicegui_ws/socket.io"


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    with running_portal(tmp_path_factory.mktemp("portal-data")) as portal:
        yield portal


@dataclass(frozen=True)
class Page:
    client_id: str
    elements: dict[str, Any]

    def element(self, tag: str, **props: str) -> tuple[int, dict[str, str]]:
        """The id of the element with these props, and its listener ids by event type."""
        for key, element in self.elements.items():
            if element.get("tag") == tag and all(element["props"].get(k) == v for k, v in props.items()):
                return int(key), {each["type"]: each["listener_id"] for each in element.get("events", [])}
        raise AssertionError(f"no {tag} with {props}")


def signed_in(portal: RunningPortal, email: str = CUSTOMER_EMAIL) -> httpx.Client:
    browser = httpx.Client(base_url=portal.url, timeout=10)
    response = browser.post("/auth/login", data={"email": email, "password": CUSTOMER_PASSWORD, "next": "/"})
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    return browser


def open_page(browser: httpx.Client, path: str) -> Page:
    html = browser.get(path).text
    client_id = re.search(r"'client_id': '([0-9a-f-]+)'", html)
    elements = re.search(r"String\.raw`(.*?)`\)", html, re.S)
    assert client_id is not None
    assert elements is not None
    return Page(client_id.group(1), json.loads(elements.group(1)))


def an_invoice(browser: httpx.Client) -> str:
    found = re.search(r'"id":\s*"([\w-]{16})",\s*"number":\s*"INV-', browser.get("/invoices").text)
    assert found is not None
    return found.group(1)


def cookie_header(browser: httpx.Client | None) -> dict[str, str]:
    if browser is None:
        return {}
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in browser.cookies.items())}


async def connect(
    portal: RunningPortal, query: dict[str, str], browser: httpx.Client | None
) -> socketio.AsyncClient:
    """A Socket.IO connection as NiceGUI's page script makes it (``query`` empty: naming no page)."""
    client = socketio.AsyncClient(reconnection=False)
    url = portal.url + (f"?{urlencode(query)}" if query else "")
    await client.connect(
        url,
        socketio_path=SOCKET_PATH,
        transports=["websocket"],
        headers=cookie_header(browser),
        wait_timeout=10,
    )
    return client


def handshake(page: Page, tab_id: str) -> dict[str, str]:
    return {
        "client_id": page.client_id,
        "tab_id": tab_id,
        "document_id": str(uuid.uuid4()),
        "next_message_id": "0",
        "implicit_handshake": "true",
    }


async def write_comment(socket: socketio.AsyncClient, page: Page, text: str) -> None:
    """What the browser sends when someone types into the comment box and clicks Add Comment."""
    box, box_listeners = page.element("nicegui-input", label="Add a comment")
    button, button_listeners = page.element("q-btn", label="Add Comment")
    await socket.emit(
        "event",
        {
            "client_id": page.client_id,
            "id": box,
            "listener_id": box_listeners["update:value"],
            "args": [json.dumps(text)],
        },
    )
    await socket.emit(
        "event",
        {"client_id": page.client_id, "id": button, "listener_id": button_listeners["click"], "args": []},
    )


def comments_shown(browser: httpx.Client, invoice: str) -> str:
    return browser.get(f"/invoices/{invoice}").text


async def test_a_socket_without_the_pages_session_can_do_nothing_on_the_page(
    demo_portal: RunningPortal,
) -> None:
    customer = signed_in(demo_portal)
    invoice = an_invoice(customer)
    page = open_page(customer, f"/invoices/{invoice}")
    tab_id = str(uuid.uuid4())
    own = await connect(demo_portal, handshake(page, tab_id), customer)  # the customer's browser
    other_customer = signed_in(demo_portal, OTHER_CUSTOMER_EMAIL)
    stranger = None
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):  # without a cookie
            await connect(demo_portal, handshake(page, tab_id), None)
        with pytest.raises(socketio.exceptions.ConnectionError):  # with another customer's session
            await connect(demo_portal, handshake(page, tab_id), other_customer)

        stranger = await connect(demo_portal, {}, None)  # naming no page while connecting
        answer = await stranger.call("handshake", handshake(page, tab_id), timeout=10)
        assert answer is False
        await write_comment(stranger, page, "Written by a stranger")
        await asyncio.sleep(2)  # longer than the page takes to post a comment
        assert "Written by a stranger" not in comments_shown(customer, invoice)

        await write_comment(own, page, "Written by the customer")
        for _ in range(100):
            if "Written by the customer" in comments_shown(customer, invoice):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the page's own socket could not post the comment")
        assert "Written by a stranger" not in comments_shown(customer, invoice)
    finally:
        for socket in (own, stranger):
            if socket is not None:
                await socket.disconnect()


def listening(socket: socketio.AsyncClient) -> list[str]:
    """Everything the portal sends this socket from now on, as text."""
    received: list[str] = []

    async def keep(event: str, *args: Any) -> None:
        received.append(json.dumps([event, *args], default=str))

    socket.on("*", keep)
    return received


async def test_a_page_whose_session_ended_is_sent_nothing_new_and_cannot_be_attached_again(
    demo_portal: RunningPortal,
) -> None:
    leaving = signed_in(demo_portal)  # the browser that signs out, with its tab left open
    staying = signed_in(demo_portal)  # the same customer in another browser
    invoice = an_invoice(leaving)
    page = open_page(leaving, f"/invoices/{invoice}")
    tab_id = str(uuid.uuid4())
    old = await connect(demo_portal, handshake(page, tab_id), leaving)
    received = listening(old)
    revoked = dict(leaving.cookies.items())
    other = open_page(staying, f"/invoices/{invoice}")
    writer = await connect(demo_portal, handshake(other, str(uuid.uuid4())), staying)
    reattached = None
    try:
        assert leaving.post("/auth/logout").status_code == 303
        await asyncio.sleep(3)  # the old page is told to leave, and is stopped

        await write_comment(writer, other, "Posted after the sign-out")
        for _ in range(100):
            if "Posted after the sign-out" in comments_shown(staying, invoice):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # longer than an open page takes to show a new comment
        assert not [message for message in received if "Posted after the sign-out" in message]

        # The revoked cookie cannot attach a new socket to the page and have it sent again.
        await old.disconnect()
        stale = httpx.Client(base_url=demo_portal.url, cookies=revoked)
        try:
            reattached = await connect(demo_portal, handshake(page, tab_id), stale)
        except socketio.exceptions.ConnectionError:
            reattached = None
        if reattached is not None:
            replayed = listening(reattached)
            await asyncio.sleep(2)
            assert not [message for message in replayed if "Posted after the sign-out" in message]
    finally:
        for socket in (old, writer, reattached):
            if socket is not None and socket.connected:
                await socket.disconnect()


async def test_what_a_browser_reports_for_the_log_is_short_escaped_and_limited(
    demo_portal: RunningPortal,
) -> None:
    anyone = httpx.Client(base_url=demo_portal.url, timeout=10)
    page = open_page(anyone, "/login")  # a public page: anyone on the internet can open it
    socket = await connect(demo_portal, handshake(page, str(uuid.uuid4())), anyone)
    try:
        for _ in range(40):
            await socket.emit(
                "log",
                {
                    "client_id": page.client_id,
                    "level": "error",
                    "message": "x" * 100_000 + "\nERROR portal FORGED-LINE",
                },
            )
        await asyncio.sleep(2)
    finally:
        await socket.disconnect()
    lines = Path(demo_portal.output).read_text().splitlines()
    reported = [line for line in lines if "browser of page /login" in line]
    assert 1 <= len(reported) <= 10  # a few a minute per page, whatever is sent
    assert all(len(line) < 500 for line in reported)
    assert not [line for line in lines if line.startswith("ERROR portal FORGED-LINE")]


def test_the_portal_log_has_no_traceback(demo_portal: RunningPortal) -> None:
    assert "Traceback" not in Path(demo_portal.output).read_text()
