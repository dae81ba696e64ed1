"""No address makes a page fail: every page route the app registers, opened by the person it is for, with
hostile values in each query parameter it reads, in some it does not read, and in its path parameters,
answers without a server error and logs no error. A value a page cannot use means its default."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from nicegui import Client as PageClient
from nicegui import app
from nicegui.testing import User
from sqlalchemy import select
from starlette.routing import Route

from models import Client, Invoice, InvoiceStatus, Payment, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from tests.ui.admin.conftest import sign_in_staff
from tests.ui.conftest import post_login

# What people (and scripts) put into addresses: digits that are not ASCII, numbers past any integer
# column, negative and zero pages, attribute names, control and format characters, text far longer
# than any field, impossible dates, quotes.
HOSTILE = (
    "²",
    "٣",
    "99999999999999999999",
    "-1",
    "0",
    "1e3",
    "__class__",
    "\u202e\u200b\x07\x1b",
    "x" * 3000,
    "2026-02-30",
    "'\"<>;--",
    "",
)
# Fewer for the parameters a page does not read at all: all of them at once, in every page's address.
NOT_READ = ("page", "size", "sort", "desc", "filter", "q", "period", "status", "kind", "id", "next")
HOSTILE_TOGETHER = ("²", "99999999999999999999", "-1", "__class__", "x" * 3000)

# The query parameters each page reads, each with the others it needs to be read at all.
READS: dict[str, dict[str, dict[str, str]]] = {
    "/invoices": {name: {} for name in ("filter", "q", "sort", "desc", "page")},
    "/payments": {name: {} for name in ("filter", "sort", "desc", "page", "size")},
    "/statement": {
        "period": {},
        "start": {"period": "custom", "end": "2026-03-31"},
        "end": {"period": "custom", "start": "2026-01-01"},
    },
    "/statement/pdf": {
        "period": {},
        "start": {"period": "custom", "end": "2026-03-31"},
        "end": {"period": "custom", "start": "2026-01-01"},
        "download": {},
    },
    "/pay": {"invoice": {}},
    "/set-password": {"token": {}},
    "/login": {
        **{name: {} for name in ("next", "email", "error", "signed_out", "expired")},
        "minutes": {"error": "locked"},
    },
    "/admin/login": {
        **{name: {} for name in ("next", "email", "error", "signed_out", "expired", "welcome")},
        "minutes": {"error": "locked"},
    },
    "/admin/invoices": {name: {} for name in ("status", "kind", "q", "page")},
    "/admin/clients": {"q": {}},
    "/admin/invoices/new": {"kind": {}, "client": {}},
    "/admin/invoices/{public_id}": {"done": {}},
    "/admin/payments": {"record": {}},
    "/login/verify": {"next": {}, "error": {}},
    "/admin/login/verify": {"next": {}, "error": {}},
    "/admin/login/two-factor": {"next": {}},
}
HOSTILE_IDS = ("²", "x" * 3000, "__class__", "..", "-1", "99999999999999999999", "\u202e", " ")


def page_routes() -> list[str]:
    """Every NiceGUI page, and every other GET route of the portal's own (downloads), as registered."""
    pages = set(PageClient.page_routes.values())
    others = {
        route.path
        for route in app.routes
        if isinstance(route, Route)
        and "GET" in (route.methods or ())
        and not route.path.startswith(("/_nicegui", "/api/"))
        and route.path != "/favicon.ico"
    }
    return sorted(pages | others)


def real_ids() -> dict[str, str]:
    """A public id that exists for each path that takes one: the demo customer's or the business's."""
    with portal.current().db.reading() as session:
        client_id = session.scalars(
            select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL)
        ).one()
        sent = session.scalars(
            select(Invoice.public_id).where(
                Invoice.client_id == client_id, Invoice.status != InvoiceStatus.DRAFT
            )
        ).first()
        draft = session.scalars(
            select(Invoice.public_id).where(Invoice.status == InvoiceStatus.DRAFT)
        ).first()
        payment = session.scalars(select(Payment.public_id).where(Payment.client_id == client_id)).first()
        client = session.scalars(select(Client.public_id).where(Client.id == client_id)).one()
    assert sent
    assert draft
    assert payment
    return {
        "/invoices/{public_id}": sent,
        "/invoices/{public_id}/pdf": sent,
        "/payments/{public_id}": payment,
        "/payments/{public_id}/pdf": payment,
        "/admin/clients/{public_id}": client,
        "/admin/invoices/{public_id}": draft,
        "/admin/invoices/{public_id}/edit": draft,
        "/admin/invoices/{public_id}/pdf": draft,
    }


def addresses(route: str, ids: dict[str, str]) -> list[str]:
    """The addresses to try for ``route``: hostile query values (one parameter at a time, then all the
    ones it does not read at once), a parameter given twice, and hostile values of its path parameters."""
    path = re.sub(r"\{[^}]+\}", ids.get(route, "x"), route)
    tried = [path]
    for name, context in READS.get(route, {}).items():
        for value in HOSTILE:
            tried.append(f"{path}?{urlencode({**context, name: value})}")
        tried.append(f"{path}?{urlencode(context)}&{name}=1&{name}=%C2%B2")  # repeated: the last counts
        tried.append(f"{path}?{urlencode(context)}&{name}=%C2%B2&{name}=1")
    for value in HOSTILE_TOGETHER:
        tried.append(f"{path}?{urlencode(dict.fromkeys(NOT_READ, value))}")
    for match in re.finditer(r"\{[^}]+\}", route):
        for value in HOSTILE_IDS:
            tried.append(route[: match.start()] + quote(value, safe="") + route[match.end() :])
    return tried


async def fetch(user: User, address: str) -> httpx.Response:
    """GET ``address``; a page that took more than NiceGUI's 3 s to build on a busy machine is asked again."""
    for _ in range(3):
        response = await user.http_client.get(address)
        if response.status_code != 500 or "response_timeout" not in response.text:
            return response
    return response


async def walk(user: User, routes: list[str], caplog: pytest.LogCaptureFixture) -> int:
    ids = real_ids()
    failures: list[str] = []
    count = 0
    for route in routes:
        for address in addresses(route, ids):
            caplog.clear()
            try:
                response = await fetch(user, address)
            except Exception as error:  # what the app raised (the test client passes it on)
                failures.append(f"{address[:160]}: raised {error!r}"[:300])
                continue
            count += 1
            errors = [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]
            if response.status_code >= 500 or errors:
                failures.append(f"{address[:160]}: {response.status_code} {errors}")
    assert not failures, "\n".join(failures)
    return count


async def test_no_customer_page_fails_on_any_address(user: User, caplog: pytest.LogCaptureFixture) -> None:
    await post_login(user)
    await user.http_client.get("/")  # the app's routes are all registered by now
    routes = [route for route in page_routes() if not route.startswith("/admin")]
    assert {"/", "/invoices", "/invoices/{public_id}", "/payments", "/statement", "/pay"} <= set(routes)
    assert await walk(user, routes, caplog) > 300


async def test_no_back_office_page_fails_on_any_address(user: User, caplog: pytest.LogCaptureFixture) -> None:
    await sign_in_staff(user)
    await user.http_client.get("/admin")
    routes = [route for route in page_routes() if route.startswith("/admin")]
    assert {"/admin", "/admin/invoices", "/admin/invoices/{public_id}", "/admin/clients"} <= set(routes)
    assert await walk(user, routes, caplog) > 300


@pytest.mark.parametrize(
    "address",
    ["/invoices?q=%00", "/invoices/%00", "/admin/clients/a%00b", "/statement?start=%00", "/login?next=%00"],
)
async def test_an_address_with_a_nul_is_a_clear_400(user: User, address: str) -> None:
    """PostgreSQL cannot compare text holding a NUL: such an address is refused before any page reads it."""
    await post_login(user)
    response = await user.http_client.get(address)
    assert response.status_code == 400
    assert "not allowed" in response.text


async def test_the_api_answers_a_nul_with_a_problem(user: User) -> None:
    response = await user.http_client.get("/api/v1/clients/%00")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


def test_pages_read_their_query_parameters_only_through_url_params() -> None:
    """The one mechanism: a page that read ``request.query_params`` itself could forget a check."""
    pages = Path(__file__).parents[2] / "pages"
    for module in pages.rglob("*.py"):
        for line in module.read_text().splitlines():
            if "query_params" in line:
                assert "UrlParams(request.query_params)" in line, f"{module.name}: {line.strip()}"
