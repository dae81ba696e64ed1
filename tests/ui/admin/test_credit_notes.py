"""Back office > Credit Notes: issue one (it becomes the client's credit), void an unused one."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from models import Client, CreditNote
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.money import Money
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import balances_of


def bluebird_public_id() -> str:
    with portal.current().db.reading() as session:
        return session.scalars(select(Client.public_id).where(Client.display_name == "Bluebird Cafe")).one()


def table_rows(user: User) -> list[dict]:
    [table] = user.find(marker="credit-notes-table").elements
    return table.rows  # type: ignore[attr-defined]


async def issue(user: User, description: str, quantity: str, rate: str) -> None:
    await user.open("/admin/credit-notes")
    user.find(marker="new-credit-note").click()
    await user.should_see("Its total becomes the client's available credit as soon as it is issued.")
    set_value(user, "credit-client", bluebird_public_id())
    set_value(user, "line-description", description)
    set_value(user, "line-quantity", quantity)
    set_value(user, "line-rate", rate)


async def test_an_issued_credit_note_is_listed_and_is_the_clients_credit(owner: User) -> None:
    before = balances_of(CUSTOMER_EMAIL).available_credits
    await issue(owner, "Refund for the cancelled workshop", "2", "75.50")
    await owner.should_see("$151.00")  # the total, live, before anything is saved
    set_value(owner, "credit-reason", "Workshop cancelled by us.")
    owner.find(marker="credit-submit").click()
    await owner.should_see("issued to Bluebird Cafe")
    await until(lambda: len(table_rows(owner)) == 2)
    newest = table_rows(owner)[0]
    assert (newest["client"], newest["total"], newest["remaining"], newest["status"]) == (
        "Bluebird Cafe",
        "$151.00",
        "$151.00",
        "Open",
    )
    assert balances_of(CUSTOMER_EMAIL).available_credits == before + Money(15100, "USD")


async def test_a_line_with_a_negative_quantity_is_refused(owner: User) -> None:
    await issue(owner, "Wrong line", "-1", "10")
    owner.find(marker="credit-submit").click()
    await owner.should_see("Please correct the lines marked in red.")
    with portal.current().db.reading() as session:
        assert len(session.scalars(select(CreditNote)).all()) == 1  # the demo's own


async def test_voiding_an_unused_credit_note_takes_its_credit_away(owner: User) -> None:
    before = balances_of(CUSTOMER_EMAIL).available_credits
    await issue(owner, "Goodwill", "1", "40")
    owner.find(marker="credit-submit").click()
    await until(lambda: len(table_rows(owner)) == 2)
    row = table_rows(owner)[0]
    owner.find(marker="credit-notes-table").trigger("void", row)
    await owner.should_see(f"Credit note {row['number']} is void; its credit is no longer available.")
    await until(lambda: table_rows(owner)[0]["status"] == "Void")
    assert balances_of(CUSTOMER_EMAIL).available_credits == before


async def test_a_partly_used_credit_note_cannot_be_voided(owner: User) -> None:
    await owner.open("/admin/credit-notes")
    await until(lambda: len(table_rows(owner)) == 1)
    row = table_rows(owner)[0]  # the demo's, of which $50.00 was applied to an invoice
    owner.find(marker="credit-notes-table").trigger("void", row)
    await owner.should_see(
        f"The credit note {row['number']} has payments or credits applied; remove them first."
    )
    assert table_rows(owner)[0]["status"] == "Open"
