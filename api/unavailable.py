"""While the database is unavailable, every request gets a short "try again" answer, not a crash.

``DatabaseOutageGuard`` wraps the whole app (pages, sign-in, PDF downloads) and, separately, the REST
API: a request that fails because the database is unavailable (``services.database_faults.is_outage``)
is answered 503 with ``Retry-After``. People get a small page in the portal's colours that says
nothing was changed; the API gets ``application/problem+json`` (``api.v1.problems``). Any other
error goes on to the usual handlers. The log gets one line per outage, not a traceback per request.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.auth import safe_local_path
from services.database_faults import OutageLog

RETRY_AFTER_SECONDS = 5
HEADING = "The portal is temporarily unavailable"
EXPLANATION = "Nothing was changed. Please try again in a moment."
# Requests for NiceGUI's scripts and styles never touch the database: their success says nothing. Nor does
# /healthz's, nor that of /metrics, which answers while the database is away.
_NO_DATABASE = ("/_nicegui", "/favicon.ico", "/healthz", "/metrics")

requests_outage = OutageLog("Pages and API", meanwhile="answering 503 until it is back")


class DatabaseOutageGuard:
    """Answers a request that the database's absence failed with ``answer(request)`` (a 503)."""

    def __init__(self, app: ASGIApp, answer: Callable[[Request], Response] | None = None) -> None:
        self.app = app
        self.answer = answer or unavailable_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def watched(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            # Half a response cannot be taken back; then the error goes on like any other.
            if status or not requests_outage.failed(error):
                raise
            await self.answer(Request(scope, receive))(scope, receive, send)
            return
        # A 503 may be the API's own guard answering for the same outage: only a success tells it is over.
        if status < 500 and not str(scope.get("path", "")).startswith(_NO_DATABASE):
            requests_outage.succeeded()


def unavailable_page(request: Request) -> Response:
    """The page people see: what happened, that nothing changed, and a way back."""
    again = _try_again_target(request)
    # A page that was only being looked at comes back by itself; a form sent is never sent again.
    refresh = (
        f'<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS * 2}">' if request.method == "GET" else ""
    )
    page = _PAGE.format(
        refresh=refresh,
        heading=html.escape(HEADING),
        explanation=html.escape(EXPLANATION),
        again=html.escape(again, quote=True),
        later="This page tries again by itself in a few seconds." if refresh else "",
    )
    return HTMLResponse(
        page,
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"},
    )


def _try_again_target(request: Request) -> str:
    """The page asked for; after a form, the page the form was on (never another site)."""
    if request.method == "GET":
        return safe_local_path(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host", ""):
        return "/"
    return safe_local_path(referer.path + (f"?{referer.query}" if referer.query else ""))


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{refresh}
<title>Temporarily unavailable</title>
<style>
  body {{ margin: 0; background: #f5f5f5; color: #212121;
         font-family: Roboto, -apple-system, "Segoe UI", "Helvetica Neue", Arial, sans-serif; }}
  header {{ background: #1d4e89; height: 56px; }}
  main {{ max-width: 34rem; margin: 12vh auto 2rem; padding: 0 1rem; }}
  .card {{ background: #fff; border: 1px solid #e0e0e0; border-radius: 8px; padding: 2rem; }}
  h1 {{ font-size: 1.5rem; font-weight: 600; margin: 0 0 .75rem; }}
  p {{ line-height: 1.5; color: #616161; margin: 0 0 1.25rem; }}
  a {{ display: inline-block; background: #1d4e89; color: #fff; text-decoration: none;
       padding: .6rem 1.25rem; border-radius: 4px; font-weight: 500; }}
  small {{ display: block; margin-top: 1rem; color: #9e9e9e; }}
</style>
</head>
<body>
<header></header>
<main>
  <div class="card">
    <h1>{heading}</h1>
    <p>{explanation}</p>
    <a href="{again}">Try again</a>
    <small>{later}</small>
  </div>
</main>
</body>
</html>
"""
