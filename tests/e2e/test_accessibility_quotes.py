"""axe-core finds nothing on the quote pages, the customer's and the business's, at desktop and phone
widths: a quote waiting for an answer (with the decline box open), an accepted and a declined one, the
lists, the editor, and the Send dialog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Client, PortalUser
from services.demo import CUSTOMER_EMAIL
from services.principal import Principal
from services.quote_answers import accept_quote, decline_quote
from services.quotes import create_quote, send_quote
from services.totals import LineInput
from tests.e2e.accessibility import (
    WIDTHS,
    DialogCase,
    axe_violations,
    click_button,
    portal_database,
    report,
    scan_dialogs,
    scan_pages,
    settle,
    sign_in_customer,
    sign_in_owner,
)

pytestmark = pytest.mark.e2e

LINES = [
    LineInput("Brand workshop (half day)", Decimal(1), 1200_00, Decimal(0), Decimal("8.25"), "Sales tax"),
    LineInput("Logo design, three concepts", Decimal(1), 1850_00, Decimal(10)),
]


@pytest.fixture(scope="module")
def quotes(demo_portal) -> dict[str, str]:
    """The demo customer's quotes: a draft, one waiting for an answer (with a deposit), an accepted and a
    declined one; their public ids by state."""
    made: dict[str, str] = {}
    with portal_database(demo_portal.data_dir) as db:
        with db.reading() as session:
            client, contact = session.execute(
                select(Client, PortalUser)
                .join(PortalUser, PortalUser.client_id == Client.id)
                .where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            customer = Principal(
                contact.id, client.id, client.organization_id, contact.name, contact.email, 0
            )
            organization_id, client_public_id = client.organization_id, client.public_id
        today = datetime.now(UTC).date()
        for state in ("draft", "sent", "accepted", "declined"):
            made[state] = create_quote(
                db,
                organization_id,
                client_public_id=client_public_id,
                issue_date=today,
                valid_until=today + timedelta(days=30),
                deposit_percent=Decimal(25) if state == "sent" else Decimal(0),
                lines=LINES,
                notes="We can start two weeks after your go-ahead.",
            )
            if state != "draft":
                send_quote(db, organization_id, made[state], base_url=demo_portal.url)
        accept_quote(
            db,
            customer,
            made["accepted"],
            signature="Dana Demo",
            ip_address="192.0.2.4",
            base_url=demo_portal.url,
        )
        decline_quote(
            db, customer, made["declined"], reason="We chose another studio.", ip_address="192.0.2.4"
        )
    return made


@pytest.mark.parametrize("width", WIDTHS)
def test_the_customers_quote_pages_have_no_axe_violations(demo_portal, browser, width, quotes):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    paths = ["/quotes", *(f"/quotes/{quotes[state]}" for state in ("sent", "accepted", "declined"))]
    found = scan_pages(page, demo_portal.url, paths, width)
    page.goto(f"{demo_portal.url}/quotes/{quotes['sent']}")
    settle(page)
    page.get_by_role("button", name="Decline", exact=True).click()
    page.get_by_label("Why do you decline? (required)").wait_for()
    found += axe_violations(page, f"{width} /quotes/… with the decline box open")
    context.close()
    assert not found, report(found)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_back_offices_quote_pages_and_send_dialog_have_no_axe_violations(
    demo_portal, browser, width, quotes
):
    context = browser.new_context(viewport=WIDTHS[width])
    page = context.new_page()
    sign_in_owner(page, demo_portal.url)
    draft = f"/admin/quotes/{quotes['draft']}"
    paths = [
        "/admin/quotes",
        "/admin/quotes/new",
        draft,
        f"{draft}/edit",
        *(f"/admin/quotes/{quotes[state]}" for state in ("sent", "accepted", "declined")),
    ]
    found = scan_pages(page, demo_portal.url, paths, width)
    found += scan_dialogs(
        page, demo_portal.url, [DialogCase("Send quote", draft, click_button("Send"))], width
    )
    context.close()
    assert not found, report(found)
