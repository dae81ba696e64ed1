"""Using available credits and retainer from Home and the invoice page, and Card Details on Home."""

from __future__ import annotations

import asyncio

from nicegui import ui
from nicegui.testing.user_interaction import UserInteraction
from sqlalchemy import select

from models import Invoice, RefundRequest, SavedPaymentMethod
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.money import Money, format_money
from tests.ui.conftest import balances_of, open_home, post_login
from tests.ui.test_pay import fill_card


def free(source: str) -> Money:
    balances = balances_of(CUSTOMER_EMAIL)
    if source == "credit":
        return balances.available_credits - balances.reserved_credits
    return balances.available_retainer - balances.reserved_retainer


def oldest_unpaid() -> Invoice:
    with portal.current().db.reading() as session:
        return session.scalars(
            select(Invoice)
            .where(Invoice.number.like("INV-%"), Invoice.balance_due_minor > 0, Invoice.kind == "invoice")
            .where(Invoice.status.in_(("sent", "viewed", "partially_paid")))
            .order_by(Invoice.due_date, Invoice.id)
            .limit(1)
        ).one()


def first_button(user, text: str) -> UserInteraction:
    """The first of several buttons with this text, in page order."""
    found = user.find(kind=ui.button, content=text)
    return UserInteraction(user, {min(found.elements, key=lambda e: e.id)}, text)


def last_button(user, text: str) -> UserInteraction:
    found = user.find(kind=ui.button, content=text)
    return UserInteraction(user, {max(found.elements, key=lambda e: e.id)}, text)


async def until(condition, seconds: float = 10) -> None:
    """Wait for what a click set off in the background to be done."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the change did not happen")


def saved_labels() -> list[str]:
    with portal.current().db.reading() as session:
        rows = session.scalars(
            select(SavedPaymentMethod).where(SavedPaymentMethod.removed_at.is_(None))
        ).all()
        return [f"{row.last4} {row.exp_month:02d}/{row.exp_year}" for row in rows]


def set_value(user, marker: str, value: str) -> None:
    for element in user.find(marker=marker).elements:
        element.value = value


async def test_home_applies_credit_to_the_oldest_invoice(user):
    await post_login(user)
    credit, outstanding = free("credit"), balances_of(CUSTOMER_EMAIL).outstanding
    assert credit.minor > 0, "the demo has credit to apply"
    await open_home(user)
    first_button(user, "Apply to Invoice").click()  # Available Credits comes first
    await user.should_see("Apply Credits")
    set_value(user, "apply-amount", "1.00")
    user.find(marker="apply-submit").click()
    await until(lambda: free("credit") == credit - Money(100, credit.currency))
    assert balances_of(CUSTOMER_EMAIL).outstanding == outstanding - Money(100, credit.currency)
    await user.should_see(format_money(credit - Money(100, credit.currency)), retries=40)  # drawn again


async def test_applying_more_than_is_available_is_refused_and_changes_nothing(user):
    await post_login(user)
    credit = free("credit")
    await open_home(user)
    first_button(user, "Apply to Invoice").click()
    await user.should_see("Apply Credits")
    set_value(user, "apply-amount", str((credit + Money(1, credit.currency)).to_decimal()))
    user.find(marker="apply-submit").click()
    await user.should_see("is available", retries=40)
    assert free("credit") == credit
    set_value(user, "apply-amount", "ten")
    user.find(marker="apply-submit").click()
    await user.should_see("Enter the amount as a number")
    assert free("credit") == credit


async def test_the_invoice_page_applies_retainer_to_that_invoice(user):
    await post_login(user)
    invoice = oldest_unpaid()
    retainer = free("retainer")
    assert retainer.minor > 0, "the demo has retainer to apply"
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see("available to use on this invoice")
    user.find("Apply Retainer Payments").click()
    set_value(user, "apply-amount", "2.50")
    user.find(marker="apply-submit").click()
    await until(lambda: free("retainer") == retainer - Money(250, retainer.currency))
    with portal.current().db.reading() as session:
        assert session.get_one(Invoice, invoice.id).balance_due_minor == invoice.balance_due_minor - 250


async def test_a_refund_request_is_confirmed_and_holds_the_amount(user):
    await post_login(user)
    retainer = free("retainer")
    await open_home(user)
    last_button(user, "Request Refund").click()  # Available Retainer Payments
    await user.should_see("Request a Refund of Retainer Payments")
    set_value(user, "refund-amount", "0")
    user.find(marker="refund-submit").click()
    await user.should_see("must be more than zero", retries=40)
    set_value(user, "refund-amount", "5.00")
    set_value(user, "refund-reason", "Project ended early")
    user.find(marker="refund-submit").click()
    await user.should_see(f"Refund requested: {format_money(Money(500, retainer.currency))}", retries=40)
    assert free("retainer") == retainer - Money(500, retainer.currency)
    with portal.current().db.reading() as session:
        request = session.scalars(
            select(RefundRequest).where(RefundRequest.reason == "Project ended early")
        ).one()
    assert (request.amount_minor, request.status, request.source) == (500, "open", "retainer")
    await open_home(user)  # the figure still counts it, and says it is held
    await user.should_see(
        f"{format_money(Money(500, retainer.currency))} of it is held for your refund request."
    )


async def save_a_card(user) -> None:
    invoice = oldest_unpaid()
    await user.open(f"/pay?invoice={invoice.public_id}")
    set_value(user, "pay-amount", "1.00")
    fill_card(user, "4242 4242 4242 4242")
    user.find("Save this card for future payments").click()
    user.find(marker="pay-submit").click()
    await user.should_see("Thank you! Payment received", retries=40)


async def test_card_details_lists_a_saved_card_and_edits_it(user):
    await post_login(user)
    await open_home(user)
    await user.should_see("No saved cards or bank accounts")
    await save_a_card(user)
    await open_home(user)
    await user.should_see("Visa •••• 4242, expires 12/2030")
    await user.should_see("Default")
    user.find(marker="card-edit").click()
    set_value(user, "edit-expiry", "13/31")
    user.find(marker="edit-save").click()
    await user.should_see("The expiry month must be between 1 and 12.", retries=40)
    set_value(user, "edit-expiry", "04/32")
    set_value(user, "edit-name", "Dana Q. Demo")
    user.find(marker="edit-save").click()
    await until(lambda: saved_labels() == ["4242 04/2032"])
    await open_home(user)
    await user.should_see("Visa •••• 4242, expires 04/2032")
    await user.should_see("Dana Q. Demo")


async def test_a_removed_card_is_no_longer_offered(user):
    await post_login(user)
    await save_a_card(user)
    await user.open("/pay")
    (methods,) = user.find(marker="pay-method").elements
    assert list(methods.options.values()) == [
        "Visa •••• 4242, expires 12/2030",
        "New card",
        "New bank account",
    ]
    await open_home(user)
    user.find("Remove").click()
    await user.should_see("Remove Visa •••• 4242, expires 12/2030?")
    user.find(marker="remove-confirm").click()
    await until(lambda: saved_labels() == [])
    await user.open("/pay")
    (methods,) = user.find(marker="pay-method").elements
    assert list(methods.options.values()) == ["New card", "New bank account"]
