"""The amount to pay is read the way the business's locale writes it, shown back on the Pay button,
and refused with a message (charging nothing) when it cannot be read without guessing."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import func, select, update

from models import Invoice, InvoiceStatus, Organization, Payment
from services import portal
from services.branding import defaults_changed
from tests.ui.conftest import post_login
from tests.ui.test_pay import fill_card


def portal_in(locale: str) -> None:
    """The business writes amounts as ``locale`` does (Settings > Business); the demo is en_US."""
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(locale=locale))
    defaults_changed()  # as Settings does: this process remembers the branding (services.branding)


def open_invoice() -> Invoice:
    with portal.current().db.reading() as session:
        return session.scalars(
            select(Invoice).where(Invoice.number == "INV-00013", Invoice.status == InvoiceStatus.SENT)
        ).one()


def paid_so_far(invoice: Invoice) -> int:
    with portal.current().db.reading() as session:
        stored = session.get_one(Invoice, invoice.id)
        return stored.total_minor - stored.balance_due_minor


def payment_count() -> int:
    with portal.current().db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def type_amount(user: User, text: str) -> None:
    (field,) = user.find(marker="pay-amount").elements
    field.value = text  # type: ignore[attr-defined]


def pay_button_text(user: User) -> str:
    (button,) = user.find(marker="pay-submit").elements
    return button.text  # type: ignore[attr-defined]


async def test_in_a_german_portal_1_comma_50_pays_one_fifty(user: User) -> None:
    portal_in("de_DE")
    invoice = open_invoice()
    await post_login(user)
    await user.open(f"/pay?invoice={invoice.public_id}")
    await user.should_see("Amount to pay")
    type_amount(user, "1,50")
    assert pay_button_text(user) == "Pay 1,50\xa0$"
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see("Thank you! Payment received: 1,50\xa0$.", retries=40)
    assert paid_so_far(invoice) == 150


async def test_the_amount_field_starts_with_the_balance_written_the_german_way(user: User) -> None:
    portal_in("de_DE")
    invoice = open_invoice()
    await post_login(user)
    await user.open(f"/pay?invoice={invoice.public_id}")
    (field,) = user.find(marker="pay-amount").elements
    whole, cents = divmod(invoice.balance_due_minor, 100)
    assert field.value == f"{whole:,}".replace(",", ".") + f",{cents:02d}"  # type: ignore[attr-defined]


async def test_in_a_german_portal_an_english_decimal_is_refused_and_nothing_is_charged(user: User) -> None:
    portal_in("de_DE")
    invoice = open_invoice()
    before = payment_count()
    await post_login(user)
    await user.open(f"/pay?invoice={invoice.public_id}")
    type_amount(user, "1.50")
    message = "“1.50” could mean 1,50\xa0$ or 150,00\xa0$, so it was not used."
    await user.should_see(message)
    assert pay_button_text(user) == "Pay"
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see(message)
    assert (payment_count(), paid_so_far(invoice)) == (before, 0)


async def test_in_an_american_portal_1_comma_50_is_ambiguous_and_nothing_is_charged(user: User) -> None:
    invoice = open_invoice()
    before = payment_count()
    await post_login(user)
    await user.open(f"/pay?invoice={invoice.public_id}")
    type_amount(user, "1,50")
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see("“1,50” could mean $1.50 or $150.00, so it was not used.")
    await user.should_see("Here “.” marks the decimals, as in 123,456.50.")
    assert (payment_count(), paid_so_far(invoice)) == (before, 0)
    type_amount(user, "1.50")
    assert pay_button_text(user) == "Pay $1.50"
