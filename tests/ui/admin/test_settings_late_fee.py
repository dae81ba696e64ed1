"""Settings > Reminders, the late fee: off until the owner sets a fixed amount or a percentage, once or
monthly; a wrong value is marked with its message and nothing is saved."""

from __future__ import annotations

from decimal import Decimal

from nicegui.testing import User
from sqlalchemy import select

from models import Organization
from services import portal
from services.late_fees import FIXED, NONE, PERCENT, LateFee, get_late_fee
from tests.ui.admin.conftest import set_value, until

PAGE = "/admin/settings/reminders"


def late_fee() -> LateFee:
    with portal.current().db.reading() as session:
        organization_id = session.scalars(select(Organization.id).order_by(Organization.id)).first()
    assert organization_id is not None
    return get_late_fee(portal.current().db, organization_id)


def field_error(user: User, marker: str) -> str:
    [field] = user.find(marker=marker).elements
    return str(field.props.get("error-message") or "") if field.props.get("error") else ""


async def test_the_owner_sets_a_monthly_percentage_and_turns_it_off_again(owner: User) -> None:
    await owner.open(PAGE)
    await owner.should_see("Late fee")
    await owner.should_see("No late fee")
    assert late_fee() == LateFee(NONE, Decimal(0), False)

    set_value(owner, "late-fee-kind", PERCENT)
    await owner.should_see("Of the invoice's balance on that day, up to 50%.")
    set_value(owner, "late-fee-value", "1,5")
    set_value(owner, "late-fee-repeat", "monthly")
    owner.find(marker="late-fee-save").click()

    await owner.should_see("The late fee is saved.")
    assert late_fee() == LateFee(PERCENT, Decimal("1.5"), True)

    await owner.open(PAGE)  # what was saved is what the page shows again
    await owner.should_see("A percentage of the balance")
    await owner.should_see("Every month while overdue")
    set_value(owner, "late-fee-kind", NONE)
    owner.find(marker="late-fee-save").click()

    await owner.should_see("No late fee is charged.")
    assert late_fee().enabled is False


async def test_a_wrong_amount_is_marked_and_nothing_is_saved(owner: User) -> None:
    await owner.open(PAGE)
    set_value(owner, "late-fee-kind", FIXED)
    set_value(owner, "late-fee-value", "0")
    owner.find(marker="late-fee-save").click()

    await until(lambda: field_error(owner, "late-fee-value") != "")
    assert field_error(owner, "late-fee-value") == "Enter an amount more than 0 and at most 100000."
    await owner.should_not_see("The late fee is saved.")
    assert late_fee() == LateFee(NONE, Decimal(0), False)

    set_value(owner, "late-fee-value", "25")
    owner.find(marker="late-fee-save").click()
    await owner.should_see("The late fee is saved.")
    assert late_fee() == LateFee(FIXED, Decimal(25), False)
    assert field_error(owner, "late-fee-value") == ""
