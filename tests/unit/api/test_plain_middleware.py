"""NiceGUI's request middlewares, done as plain ASGI: the same headers, redirects and storage bookkeeping,
without a task group and memory streams per request (``api.plain_middleware``)."""

from __future__ import annotations

import nicegui.storage
import nicegui.ui_run
from nicegui import core
from nicegui.version import __version__
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import Message, Receive, Scope, Send

from api.plain_middleware import AssetCaching, PrefixedRedirects, RequestTracking, install


async def answered(
    middleware: type, path: str, headers: dict[str, str], answer: list[tuple[bytes, bytes]], **scope: object
) -> dict[str, str]:
    """The response headers the browser gets when the app behind ``middleware`` answers with ``answer``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 303, "headers": answer})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    request = {
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        **scope,
    }
    await middleware(app)(request, receive, send)
    return {name.decode(): value.decode() for name, value in sent[0]["headers"]}


async def test_a_redirect_goes_under_the_prefix_a_trusted_proxy_names():
    # (api.forwarded drops X-Forwarded-Prefix unless a trusted proxy sent it)
    headers = await answered(
        PrefixedRedirects, "/", {"X-Forwarded-Prefix": "/portal"}, [(b"location", b"/login?next=/")]
    )
    assert headers["location"] == "/portal/login?next=/"


async def test_a_prefix_that_names_another_site_or_a_redirect_elsewhere_is_left_alone():
    elsewhere = await answered(
        PrefixedRedirects, "/", {"X-Forwarded-Prefix": "//evil.example"}, [(b"location", b"/login")]
    )
    assert elsewhere["location"] == "/login"
    outside = await answered(
        PrefixedRedirects, "/", {"X-Forwarded-Prefix": "/portal"}, [(b"location", b"https://stripe.example/")]
    )
    assert outside["location"] == "https://stripe.example/"
    plain = await answered(PrefixedRedirects, "/", {}, [(b"location", b"/login")])
    assert plain["location"] == "/login"


async def test_nicegui_s_versioned_assets_may_be_cached_and_nothing_else(monkeypatch):
    # (ui.run sets it; NiceGUI's default)
    directives = "public, max-age=31536000, immutable, stale-while-revalidate=31536000"
    monkeypatch.setattr(core.app.config, "cache_control_directives", directives, raising=False)
    asset = await answered(AssetCaching, f"/_nicegui/{__version__}/static/nicegui.css", {}, [])
    assert asset["cache-control"] == directives
    dynamic = await answered(AssetCaching, f"/_nicegui/{__version__}/dynamic_resources/x.js", {}, [])
    page = await answered(AssetCaching, "/", {}, [])
    assert "cache-control" not in dynamic
    assert "cache-control" not in page


async def test_a_request_gets_its_browser_id_and_user_storage_and_is_marked_answered_once_it_is():
    session: dict[str, str] = {}
    state: dict[str, object] = {}
    seen_while_building: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen_while_building.append(state["responded"])
        seen_while_building.append(nicegui.storage.request_contextvar.get() is not None)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        seen_while_building.append(state["responded"])
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        return None

    scope = {"type": "http", "method": "GET", "path": "/", "headers": [], "session": session, "state": state}
    await RequestTracking(app)(scope, receive, send)
    assert seen_while_building == [
        False,
        True,
        True,
    ]  # app.storage.browser is writable until the answer starts
    assert session["id"] in core.app.storage._users  # NiceGUI's user storage, made for it
    assert session["id"] not in core.app.storage._active_request_sessions  # and let go of again


def test_ui_run_adds_these_instead_of_nicegui_s_own():
    install()
    added = (
        nicegui.ui_run.RedirectWithPrefixMiddleware,
        nicegui.ui_run.SetCacheControlMiddleware,
        nicegui.storage.RequestTrackingMiddleware,
    )
    assert added == (PrefixedRedirects, AssetCaching, RequestTracking)
    assert not any(issubclass(middleware, BaseHTTPMiddleware) for middleware in added)
