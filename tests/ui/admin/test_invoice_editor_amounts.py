"""The editor reads numbers as the business's locale writes them, and refuses on the line (or beneath
the totals) any amount above the one bound of services.amount_bounds, saving nothing."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import update

from models import Organization
from services import portal
from services.amount_bounds import MAX_AMOUNT_MINOR
from services.branding import defaults_changed
from tests.ui.admin.test_invoice_editor import (
    WAIT,
    demo_client,
    in_order,
    invoice_count,
    newest_invoice,
    shown,
    type_line,
)


def no_tax(user: User) -> None:
    for select in in_order(user, "line-tax"):
        select.value = ""


def line_messages(user: User) -> list[str]:
    return [label.text for label in in_order(user, "line-message")]


async def save_refused(user: User, before: int) -> None:
    user.find(kind=ui.button, content="Save as draft").click()
    await user.should_see("Nothing was saved", retries=WAIT)
    assert invoice_count() == before


async def test_a_line_exactly_at_the_bound_is_saved(owner: User) -> None:
    client_id, _ = demo_client()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Airport", quantity="1", rate="100,000,000,000.00")
    no_tax(owner)
    assert shown(owner, "totals-total") == "$100,000,000,000.00"
    owner.find(kind=ui.button, content="Save as draft").click()
    await owner.should_see("The draft was saved.", retries=WAIT)
    assert newest_invoice().total_minor == MAX_AMOUNT_MINOR


async def test_a_rate_one_cent_over_the_bound_is_refused_on_its_line(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Airport", quantity="1", rate="100,000,000,000.01")
    await owner.should_see("The rate can be at most $100,000,000,000.00.")
    await save_refused(owner, before)


async def test_a_quantity_times_rate_over_the_bound_is_refused_on_its_line(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Runways", quantity="2", rate="50,000,000,000.01")
    no_tax(owner)
    assert line_messages(owner) == [
        "The amount $100,000,000,000.02 is more than $100,000,000,000.00, the most one document can carry."
    ]
    await save_refused(owner, before)


async def test_lines_within_the_bound_whose_total_is_not_are_refused_beneath_the_totals(owner: User) -> None:
    client_id, _ = demo_client()
    before = invoice_count()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Airport", quantity="1", rate="100,000,000,000")
    owner.find(marker="add-line").click()
    type_line(owner, 1, description="Coffee", quantity="1", rate="0.01")
    no_tax(owner)
    assert line_messages(owner) == ["", ""]
    assert shown(owner, "totals-message") == (
        "The subtotal $100,000,000,000.01 is more than $100,000,000,000.00, the most one document can carry."
    )
    await save_refused(owner, before)


async def test_a_german_business_types_its_lines_the_german_way(owner: User) -> None:
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(locale="de_DE"))
    defaults_changed()  # as Settings does: this process remembers the branding (services.branding)
    client_id, _ = demo_client()
    await owner.open(f"/admin/invoices/new?client={client_id}")
    type_line(owner, 0, description="Beratung", quantity="2,5", rate="1.234,50", discount="10")
    no_tax(owner)
    assert shown(owner, "totals-total") == "2.777,62\xa0$"  # 3.086,25 less 308,63 (10 %, rounded)
    type_line(owner, 0, description="Beratung", quantity="2.5", rate="1.234,50")
    assert line_messages(owner) == [
        "“2.5” could mean 2,5 or 25, so it was not used. Here “,” marks the decimals, as in 2,5."
    ]
