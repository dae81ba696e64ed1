"""Back office > Payments in a German-locale business: the amount received is read the German way and
shown back before it is recorded; an amount that could mean two things records nothing."""

from __future__ import annotations

from nicegui.testing import User

from services.demo import CUSTOMER_EMAIL
from services.money import Money
from tests.ui.admin.conftest import set_value, until
from tests.ui.admin.test_payments_admin import _summary, bluebird, open_record_dialog, payment_count
from tests.ui.conftest import balances_of
from tests.ui.test_pay_amounts import portal_in


async def test_an_amount_typed_the_german_way_is_shown_back_and_recorded(owner: User) -> None:
    portal_in("de_DE")
    _organization_id, client_public_id = bluebird()
    before = balances_of(CUSTOMER_EMAIL)
    await open_record_dialog(owner, client_public_id)
    set_value(owner, "payment-amount", "1.234,50")
    await until(lambda: _summary(owner).startswith("1.234,50\xa0$ received. Pays "))
    owner.find(marker="payment-submit").click()
    await owner.should_see("recorded")
    paid = Money(123450, "USD")
    after = balances_of(CUSTOMER_EMAIL)
    assert after.outstanding - after.available_credits == before.outstanding - before.available_credits - paid


async def test_an_ambiguous_amount_received_records_nothing(owner: User) -> None:
    portal_in("de_DE")
    _organization_id, client_public_id = bluebird()
    count = payment_count()
    await open_record_dialog(owner, client_public_id)
    set_value(owner, "payment-amount", "12.50")
    message = "“12.50” could mean 12,50\xa0$ or 1.250,00\xa0$, so it was not used."
    await until(lambda: _summary(owner).startswith(message))
    owner.find(marker="payment-submit").click()
    await owner.should_see(message)
    assert payment_count() == count
