"""The API sub-application, its key check, and its docs at /api/docs and /api/openapi.json."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from api.unavailable import DatabaseOutageGuard
from api.v1 import clients, credit_notes, invoices, payments
from api.v1.problems import (
    PROBLEM_RESPONSES,
    database_unavailable,
    install_handlers,
    read_only_key,
    unauthorized,
)
from services import portal
from services.api_keys import authenticate_api_key
from services.errors import ApiKeyRefused

PREFIX = "/api/v1"
DOCS_PATH = "/api/docs"
OPENAPI_PATH = "/api/openapi.json"
# Swagger UI's script, styles and icon come with the pinned fastapi-offline package and are served by
# the portal itself: the docs page loads nothing from another origin (no CDN to trust or to be down).
DOCS_ASSETS_PATH = f"{DOCS_PATH}/assets"
DOCS_ASSETS = Path(fastapi_offline.__file__).with_name("static")
DESCRIPTION = """The invoicing portal's API for accounting software.

Authenticate every request with `Authorization: Bearer <key>`, a key the owner makes in Settings.
A read-only key may send GET requests only; any other method is answered 403.
Amounts are integers in minor units (`total_minor: 12345` is 123.45 in a currency with cents) beside
their `currency` (ISO 4217). Lists are paged: pass a list's `next_cursor` as `cursor` for the next page.
Errors are `application/problem+json` (RFC 9457), with `errors` naming each invalid field.
"""


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiKeyGuard(BaseHTTPMiddleware):
    """Every request needs a live key; without one it is answered 401 before routing or parsing.

    A read-only key's write (any method but GET, HEAD, OPTIONS) is answered 403 here, in one place.
    """

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return unauthorized()
        current = portal.current()
        try:
            principal = await run_in_threadpool(
                authenticate_api_key, current.db, secret.strip(), clock=current.clock
            )
        except ApiKeyRefused:
            return unauthorized()
        if request.method not in READ_METHODS and not principal.may_write:
            return read_only_key()
        request.state.api_principal = principal
        return await call_next(request)


def build_api() -> FastAPI:
    api = FastAPI(
        title="Invoicing Portal API",
        version="1",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served by the portal at OPENAPI_PATH, outside the key check
        servers=[{"url": PREFIX}],
        responses=PROBLEM_RESPONSES,
    )
    for module in (clients, invoices, credit_notes, payments):
        api.include_router(module.router)
    install_handlers(api)
    api.add_middleware(ApiKeyGuard)
    # Outside the key check, which reads the database too; inside the API's own 500 handler.
    api.add_middleware(DatabaseOutageGuard, answer=database_unavailable)
    return api


api_app = build_api()
docs_router = APIRouter(include_in_schema=False)


@docs_router.get(OPENAPI_PATH)
def openapi_schema() -> JSONResponse:
    schema: dict[str, Any] = api_app.openapi()
    return JSONResponse(schema)


@docs_router.get(DOCS_PATH)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="Invoicing Portal API",
        swagger_js_url=f"{DOCS_ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS_PATH}/favicon.png",
        # Swagger UI would otherwise send the schema to swagger.io's online validator for its badge.
        swagger_ui_parameters={"validatorUrl": None},
    )


def mount(app: FastAPI) -> None:
    """Serve the API at /api/v1 and its docs at /api/docs on ``app`` (the portal's, or a test's).

    Once per app: the UI tests configure the same app for every test, and a mount added again each
    time would pile up until Starlette's routing overflowed the stack.
    """
    if any(isinstance(route, Mount) and route.path == PREFIX for route in app.routes):
        return
    app.include_router(docs_router)
    app.mount(DOCS_ASSETS_PATH, StaticFiles(directory=DOCS_ASSETS), name="api-docs-assets")
    app.mount(PREFIX, api_app)
