"""In Chromium at a phone's width: the invoice list shows each invoice's balance, and a Pay button under it
for each invoice that can be paid (by the Pay page's own rules), without scrolling sideways; Pay opens the
payment of that invoice. At a desktop's width the table keeps its Pay Now column."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import Client, PortalUser
from services.demo import CUSTOMER_EMAIL
from services.invoice_list import InvoiceListQuery, list_invoices
from services.principal import Principal
from tests.e2e.accessibility import DESKTOP, PHONE, portal_database, settle, sign_in_customer

pytestmark = pytest.mark.e2e

# The table's own box must not scroll sideways either (a wide table scrolls inside it, not the page).
TABLE_WIDTHS = """() => {
    const middle = document.querySelector('.q-table__middle');
    return {page: document.documentElement.scrollWidth, screen: document.documentElement.clientWidth,
            table: middle.scrollWidth, box: middle.clientWidth};
}"""


def payable_invoices(data_dir) -> dict[str, str]:
    """Number -> public id of each invoice the list offers to pay, as the service decides it."""
    with portal_database(data_dir) as db:
        with db.reading() as session:
            user, client = session.execute(
                select(PortalUser, Client)
                .join(Client, Client.id == PortalUser.client_id)
                .where(PortalUser.email == CUSTOMER_EMAIL)
            ).one()
            principal = Principal(user.id, client.id, client.organization_id, user.name, user.email, 0)
        today = datetime.now(UTC).date()  # the portal runs on the real clock
        page = list_invoices(db, principal, InvoiceListQuery(page_size=100), today=today)
    return {row.number: row.public_id for row in page.rows if row.is_payable}


def rows_with_pay(page) -> dict[str, str]:
    """Number -> the address of the visible Pay button in that row."""
    return page.locator("tbody tr").evaluate_all(
        """rows => Object.fromEntries(rows.flatMap(row => {
            const pay = [...row.querySelectorAll('a[href^="/pay?invoice="]')]
                .find(link => link.offsetParent !== null);
            return pay ? [[row.querySelector('td a').textContent.trim(), pay.getAttribute('href')]] : [];
        }))"""
    )


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_phone_shows_each_balance_with_pay_and_pays_from_the_list(demo_portal, browser, language):
    payable = payable_invoices(demo_portal.data_dir)
    assert len(payable) >= 5  # the demo's unpaid, partly paid and overdue invoices, a retainer among them
    context = browser.new_context(viewport=PHONE, locale=language, is_mobile=True)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    page.goto(f"{demo_portal.url}/invoices")
    settle(page)
    page.locator("[data-testid=phone-pay]").first.wait_for()

    assert rows_with_pay(page) == {
        number: f"/pay?invoice={public_id}" for number, public_id in payable.items()
    }
    widths = page.evaluate(TABLE_WIDTHS)
    assert widths["page"] <= widths["screen"], widths
    assert widths["table"] <= widths["box"], widths
    pay_column = page.locator("tbody tr td:last-child").filter(visible=True)
    assert pay_column.count() == 0  # the Pay Now column is hidden: Pay sits under the balance instead
    button = page.locator("[data-testid=phone-pay]").first
    box = button.bounding_box()
    assert box is not None
    assert box["height"] >= 32  # a finger's target, not a speck
    number = button.evaluate("b => b.closest('tr').querySelector('td a').textContent.trim()")
    assert button.get_attribute("aria-label").endswith(number)  # "Pay INV-00015": which one it pays

    button.click()
    page.wait_for_url(f"**/pay?invoice={payable[number]}")
    page.wait_for_selector(f"text={number}")
    context.close()


def test_a_desktop_keeps_its_pay_now_column(demo_portal, browser):
    payable = payable_invoices(demo_portal.data_dir)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in_customer(page, demo_portal.url)
    page.goto(f"{demo_portal.url}/invoices")
    settle(page)
    page.get_by_role("link", name="Pay Now").first.wait_for()
    assert page.locator("[data-testid=phone-pay]").filter(visible=True).count() == 0
    assert rows_with_pay(page) == {
        number: f"/pay?invoice={public_id}" for number, public_id in payable.items()
    }
    assert page.get_by_role("link", name="Pay Now").filter(visible=True).count() == len(payable)
    context.close()
