"""Request bodies are refused while they arrive, as soon as they outgrow what their path takes.

``BodyLimit`` wraps the whole app (``app.py``), so no route, page or upload handler ever holds more of a
body than its path allows: a declared ``Content-Length`` over the limit is answered 413 before a byte
is read; a body sent without one (chunked) is counted as it arrives and answered 413 the moment it
passes the limit. The handler then sees the client gone, and whatever it answers goes nowhere. The
413 closes the connection, so the rest of the body is neither read nor kept.
"""

from __future__ import annotations

import json
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.webhooks import WEBHOOK_PATH

log = logging.getLogger(__name__)

KB = 1024
MB = 1024 * KB

# (path pattern, most bytes a body may have), the first match wins.
LIMITS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(re.escape(WEBHOOK_PATH) + "$"), 512 * KB),  # Stripe's events are a few kB
    (re.compile(r"/(admin/)?auth/"), 8 * KB),  # sign-in, its second step, sign-out: a few fields
    (re.compile(r"/api/v1(/|$)"), 1 * MB),  # an invoice of many lines is some tens of kB
    (re.compile(r"/_nicegui/client/[^/]+/upload/"), 2 * MB),  # ui.upload: the 1 MB logo, with its form
    (re.compile(r"/_nicegui_ws/"), 1 * MB),  # socket.io over long polling (engine.io takes 1,000,000 bytes)
)
DEFAULT_LIMIT = 64 * KB  # every other path: pages and downloads take no body at all


def limit_for(path: str) -> int:
    """The most bytes a request body for ``path`` may have."""
    for pattern, limit in LIMITS:
        if pattern.match(path):
            return limit
    return DEFAULT_LIMIT


class BodyLimit:
    """Answers 413 for a body over ``limit_for(path)``, declared or counted, without reading the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = limit_for(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(path, limit, send)
            return
        received = 0
        cut = False  # the body passed the limit: the app is told the client left
        refused = False  # and we answered 413 for it (the app had not started its answer)
        started = False

        async def counted() -> Message:
            nonlocal received, cut, refused
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut = True
                    if not started:
                        refused = True
                        await _too_large(path, limit, send)
                    return {"type": "http.disconnect"}
            return message

        async def answer(message: Message) -> None:
            nonlocal started
            if refused:  # the 413 was the answer
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, answer)
        except Exception as error:
            if not refused:
                raise
            # The handler failed on the body it never got whole; the client has its 413 already.
            log.debug("after a 413 for %s: %s", path, error)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


async def _too_large(path: str, limit: int, send: Send) -> None:
    detail = f"The request body is larger than {_size(limit)}, the most {path} accepts."
    if path.startswith("/api/"):
        media_type = b"application/problem+json" if path.startswith("/api/v1") else b"application/json"
        body = json.dumps(
            {"type": "urn:invoicing-portal:problem:content-too-large", "title": "Content too large"}
            | {"status": 413, "detail": detail}
        ).encode()
    else:
        media_type, body = b"text/plain; charset=utf-8", detail.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", media_type),
                (b"content-length", str(len(body)).encode()),
                # the rest of the body is not wanted: uvicorn closes instead of reading it to the end
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _size(limit: int) -> str:
    return f"{limit // MB} MB" if limit % MB == 0 else f"{limit // KB} kB"
