"""An address holding a NUL character is answered 400 before any page, route or database sees it.

PostgreSQL's text cannot hold a NUL: comparing a column with a value that has one fails the query
("PostgreSQL text fields cannot contain NUL (0x00) bytes"), so ``/invoices/%00`` or ``?q=%00`` would be
a server error on any page that looks a path or query value up. No person types one, so the request is
refused whole here, in one place, for every page, download and API route. Every other value of a page's
query parameters is read by ``components.url_params``, which falls back to the default for anything it
cannot use.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.v1.problems import problem_response

MESSAGE = "This address holds a character that is not allowed (NUL). Check the link and try again."


class UrlGuard:
    """Answers 400 for an HTTP request, and closes a WebSocket, whose path or query holds a NUL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not holds_nul(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})  # policy violation
            return
        await _refusal(str(scope.get("path", "")))(scope, receive, send)


def holds_nul(scope: Scope) -> bool:
    """Whether the decoded path, or the query string raw or percent-decoded, has a NUL in it."""
    query = bytes(scope.get("query_string", b""))
    return "\x00" in str(scope.get("path", "")) or b"\x00" in query or b"%00" in query


def _refusal(path: str) -> Response:
    if path == "/api" or path.startswith("/api/"):
        return problem_response(400, "bad-url", MESSAGE)
    return PlainTextResponse(MESSAGE, status_code=400, headers={"Cache-Control": "no-store"})
