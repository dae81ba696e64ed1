""" "Page not found" and "Something went wrong", in the portal's own frame instead of NiceGUI's
"HTTPException: 404": with the sidebar for a signed-in customer or staff member, else a plain card.

A 404 raised by a page (an invoice that does not exist, or is not the customer's) shows its own
sentence; a path that matches nothing shows the general one. The REST API and other endpoints that
are not pages keep their JSON answers.
"""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.exception_handlers import http_exception_handler
from nicegui import Client, app, ui
from nicegui.page import page
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from components.admin_frame import admin_frame
from components.frame import business_mark, frame
from components.offload import io_bound
from components.theme import apply_theme
from services import portal
from services.branding import NOT_SET_UP, Branding, get_branding
from services.i18n import _

log = logging.getLogger(__name__)
NOT_FOUND = 404
FAILED = 500


def install() -> None:
    """In place of NiceGUI's own error pages; called once from app.py."""
    app.add_exception_handler(NOT_FOUND, _not_found)
    # Not app.on_page_exception: with it, NiceGUI answers a page's own 404 (an invoice not found) as
    # a failure too; this handler sees only what no other handler took.
    app.add_exception_handler(Exception, _page_failed)


async def _not_found(request: Request, exception: Exception) -> Response:
    if _answered_as_data(request, exception):
        return await http_exception_handler(request, exception)  # type: ignore[arg-type]
    detail = getattr(exception, "detail", "")
    text = detail if isinstance(detail, str) and detail and detail != "Not Found" else ""
    branding = await io_bound(_branding)
    with Client(page(""), request=request) as client:
        _error_page(request, branding, _("Page not found"), text or _(
            "There is no page at this address. It may have moved, or the link may be incomplete."
        ))  # fmt: skip
    return client.build_response(request, NOT_FOUND)


async def _page_failed(request: Request, exception: Exception) -> Response:
    """A page failed while it was being built: log it, say so, and where to go on."""
    if not request.scope.get("nicegui_page_path"):
        raise exception  # not a page: the plain "Internal Server Error", as FastAPI answers
    log.error("the page %s failed", request.url.path, exc_info=exception)
    branding = await io_bound(_branding)
    with Client(page(""), request=request) as client:
        _error_page(
            request,
            branding,
            _("Something went wrong"),
            _("This page could not be shown. Nothing was changed. Please try again in a moment."),
        )
    return client.build_response(request, FAILED)


def _error_page(request: Request | None, branding: Branding, title: str, text: str) -> None:
    state = getattr(request, "state", None)
    principal, staff = getattr(state, "principal", None), getattr(state, "staff", None)
    if staff is not None:
        with admin_frame(title, branding=branding, staff=staff, active=""):
            _message(text, "/admin", _("Back to the back office"))
    elif principal is not None:
        with frame(title, branding=branding, principal=principal, active=""):
            _message(text, "/", _("Back to Home"))
    else:
        apply_theme()
        ui.page_title(f"{title} · {branding.name}")
        with (
            ui.column().classes("w-full min-h-[80vh] items-center justify-center p-4"),
            ui.card().classes("w-full max-w-sm p-6 gap-4").props("flat bordered"),
        ):
            business_mark(branding)
            ui.label(title).classes("text-xl font-semibold").props("role=heading aria-level=1")
            _message(text, "/login", _("Go to sign-in"))


def _message(text: str, home: str, back: str) -> None:
    ui.label(text).classes("text-grey-9").mark("error-text")
    ui.link(back, home).classes("text-primary")


def _branding() -> Branding:
    try:
        return get_branding(portal.current().db)
    except Exception:  # the page is already about a failure: it shows without the business's name
        log.warning("the error page could not read the business's name", exc_info=True)
        return NOT_SET_UP


def _answered_as_data(request: Request, exception: Exception) -> bool:
    """As NiceGUI decides: an endpoint that is not a page answers a 404 in JSON, and so does the API."""
    if request.url.path.startswith("/api/"):
        return True
    endpoint = request.scope.get("endpoint")
    return (
        endpoint is not None
        and endpoint is not app
        and not request.scope.get("nicegui_page_path")
        and isinstance(exception, StarletteHTTPException)
    )
