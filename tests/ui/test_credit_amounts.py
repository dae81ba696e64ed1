"""Applying credit and asking for a refund in a German-locale portal: amounts typed the German way,
echoed beneath the field before anything is applied, and ambiguous ones refused changing nothing."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from models import RefundRequest
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.money import Money
from tests.ui.conftest import balances_of, open_home, post_login
from tests.ui.test_credits_and_cards import first_button, free, set_value, until
from tests.ui.test_pay_amounts import portal_in


def echo(user: User, marker: str) -> str:
    (label,) = user.find(marker=f"{marker}-echo").elements
    return label.text  # type: ignore[attr-defined]


async def test_credit_typed_the_german_way_is_echoed_and_applied(user: User) -> None:
    portal_in("de_DE")
    await post_login(user)
    credit, outstanding = free("credit"), balances_of(CUSTOMER_EMAIL).outstanding
    await open_home(user)
    first_button(user, "Apply to Invoice").click()
    await user.should_see("Apply Credits")
    set_value(user, "apply-amount", "1,50")
    assert echo(user, "apply-amount") == "You will apply 1,50\xa0$."
    user.find(marker="apply-submit").click()
    await until(lambda: free("credit") == credit - Money(150, credit.currency))
    assert balances_of(CUSTOMER_EMAIL).outstanding == outstanding - Money(150, credit.currency)


async def test_an_ambiguous_credit_amount_is_refused_and_nothing_is_applied(user: User) -> None:
    portal_in("de_DE")
    await post_login(user)
    credit = free("credit")
    await open_home(user)
    first_button(user, "Apply to Invoice").click()
    await user.should_see("Apply Credits")
    set_value(user, "apply-amount", "1.50")
    message = "“1.50” could mean 1,50\xa0$ or 150,00\xa0$, so it was not used."
    assert echo(user, "apply-amount").startswith(message)
    user.find(marker="apply-submit").click()
    await user.should_see(message)
    assert free("credit") == credit


async def test_a_refund_request_typed_the_german_way_holds_that_amount(user: User) -> None:
    portal_in("de_DE")
    await post_login(user)
    await open_home(user)
    first_button(user, "Request Refund").click()
    await user.should_see("Request a Refund of Credits")
    set_value(user, "refund-amount", "2,25")
    assert echo(user, "refund-amount") == "You will ask for 2,25\xa0$."
    user.find(marker="refund-submit").click()
    await user.should_see("Refund requested: 2,25\xa0$", retries=40)
    with portal.current().db.reading() as session:
        assert 225 in session.scalars(select(RefundRequest.amount_minor)).all()
