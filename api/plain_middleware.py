"""NiceGUI's three request middlewares, as plain ASGI.

``ui.run`` adds ``RedirectWithPrefixMiddleware``, ``SetCacheControlMiddleware`` and (with a storage
secret) ``RequestTrackingMiddleware``, each a Starlette ``BaseHTTPMiddleware``: every request, a page
and each of its assets, then runs through a task group and a pair of memory streams per middleware,
which a month-end burst of Home loads pays for three times over. These do the same work by looking at
the request's scope and the response's first message. ``install`` puts them in NiceGUI's place; it is
called before ``ui.run``.
"""

from __future__ import annotations

import uuid
from collections import Counter

import nicegui.storage
import nicegui.ui_run
from nicegui import core
from nicegui.storage import request_contextvar
from nicegui.version import __version__
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ASSETS = f"/_nicegui/{__version__}/"
_DYNAMIC = f"/_nicegui/{__version__}/dynamic_resources/"


class PrefixedRedirects:
    """A redirect to a local path goes under the prefix a proxy names in ``X-Forwarded-Prefix``
    (NiceGUI's ``RedirectWithPrefixMiddleware``). Only a path counts as a prefix: "//host" would send
    the browser to another site."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = Headers(scope=scope).get("x-forwarded-prefix", "") if scope["type"] == "http" else ""
        if not prefix.startswith("/") or prefix.startswith("//"):
            await self.app(scope, receive, send)
            return

        async def prefixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                location = headers.get("location", "")
                if location.startswith("/") and not location.startswith("//"):
                    headers["location"] = prefix.rstrip("/") + location
            await send(message)

        await self.app(scope, receive, prefixed)


class AssetCaching:
    """NiceGUI's own versioned assets may be cached by the browser (``SetCacheControlMiddleware``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(_ASSETS) or path.startswith(_DYNAMIC):
            await self.app(scope, receive, send)
            return

        async def cached(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["cache-control"] = core.app.config.cache_control_directives
            await send(message)

        await self.app(scope, receive, cached)


class RequestTracking:
    """Makes the request NiceGUI's current one, gives the browser its storage id and user storage, and
    notes when the answer has started (NiceGUI's ``RequestTrackingMiddleware``); inside Starlette's
    ``SessionMiddleware``, which reads the session cookie into the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_contextvar.set(request)
        if "id" not in request.session:
            request.session["id"] = str(uuid.uuid4())
        request.state.responded = False
        session_id = request.session["id"]
        storage = core.app.storage
        active: Counter[str] = storage._active_request_sessions
        active[session_id] += 1

        async def answering(message: Message) -> None:
            if message["type"] == "http.response.start":
                request.state.responded = True  # app.storage.browser is read-only from here on
            await send(message)

        try:
            if session_id not in storage._users:
                await storage._create_user_storage(session_id)
            await self.app(scope, receive, answering)
        finally:
            active[session_id] -= 1
            if active[session_id] <= 0:
                del active[session_id]


def install() -> None:
    """Have ``ui.run`` (and NiceGUI's storage set-up) add these instead of NiceGUI's own."""
    nicegui.ui_run.RedirectWithPrefixMiddleware = PrefixedRedirects  # type: ignore[misc,assignment]
    nicegui.ui_run.SetCacheControlMiddleware = AssetCaching  # type: ignore[misc,assignment]
    nicegui.storage.RequestTrackingMiddleware = RequestTracking  # type: ignore[misc,assignment]
