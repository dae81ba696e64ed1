"""Pay Now's choices on the Pay page: every unpaid invoice ticked, oldest first, each amount open to
lowering (never above its balance, refused as it is typed), and the demo customer's credits and
retainer used first; the card pays the rest, or nothing is charged when they cover it all."""

from __future__ import annotations

from typing import Any

from nicegui.testing import User
from sqlalchemy import func, select

from models import Client, Invoice, InvoiceKind, InvoiceStatus, Payment, PortalUser, RefundSource
from services import portal
from services.credit_actions import apply_available
from services.demo import CUSTOMER_EMAIL
from services.gateways.switch import unwrap
from services.money import Money, format_money
from services.principal import Principal
from tests.ui.conftest import balances_of, post_login
from tests.ui.test_pay import fill_card

CREDITS, RETAINER = Money(12000, "USD"), Money(70000, "USD")  # the demo customer's, free to use


def unpaid() -> list[tuple[str, str, Money]]:
    """The demo customer's unpaid invoices, oldest due first: public id, number, balance due."""
    with portal.current().db.reading() as session:
        rows = session.execute(
            select(Invoice.public_id, Invoice.number, Invoice.balance_due_minor)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(
                PortalUser.email == CUSTOMER_EMAIL,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.balance_due_minor > 0,
                Invoice.status.in_((InvoiceStatus.SENT, InvoiceStatus.VIEWED, InvoiceStatus.PARTIALLY_PAID)),
            )
            .order_by(Invoice.due_date, Invoice.id)
        ).all()
    return [(public_id, number, Money(balance, "USD")) for public_id, number, balance in rows]


def figures() -> tuple[Money, Money, Money]:
    """Outstanding, and the credits and retainer free to use."""
    balances = balances_of(CUSTOMER_EMAIL)
    return balances.outstanding, balances.free_credits, balances.free_retainer


def payments() -> int:
    with portal.current().db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def element(user: User, marker: str) -> Any:
    (found,) = user.find(marker=marker).elements
    return found


def text(user: User, marker: str) -> str:
    return str(element(user, marker).text)


def keep_only(user: User, *numbers: str) -> None:
    """Untick every invoice but these."""
    for _public_id, number, _balance in unpaid():
        if number not in numbers:
            user.find(marker=f"pay-line-{number}").click()


def usd(value: Money) -> str:
    return format_money(value)


async def test_every_unpaid_invoice_is_ticked_oldest_first_with_the_credits_offered(user: User) -> None:
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    boxes: list[Any] = sorted(user.find(marker="pay-line").elements, key=lambda box: box.id)
    assert [(box.text, box.value) for box in boxes] == [(number, True) for _id, number, _due in unpaid()]
    for _public_id, number, balance in unpaid():
        assert (
            element(user, f"pay-amount-{number}").value
            == f"{balance.minor // 100:,}.{balance.minor % 100:02d}"
        )
        assert element(user, f"pay-amount-{number}").props["aria-label"] == f"Amount for {number}"
    outstanding, credits, retainer = figures()
    assert (credits, retainer) == (CREDITS, RETAINER)
    assert text(user, "pay-use-credit") == "Use $120.00 of credits"
    assert text(user, "pay-use-retainer") == "Use $700.00 of retainer payments"
    assert element(user, "pay-use-credit").value
    assert element(user, "pay-use-retainer").value
    assert text(user, "pay-total") == usd(outstanding)
    assert (text(user, "pay-credit"), text(user, "pay-retainer")) == ("−$120.00", "−$700.00")
    assert text(user, "pay-to-charge") == usd(outstanding - CREDITS - RETAINER)
    assert text(user, "pay-submit") == f"Pay {usd(outstanding - CREDITS - RETAINER)}"


async def test_unticking_and_lowering_amounts_change_the_total_and_the_pay_button_at_once(user: User) -> None:
    (_, first, first_due), (_, second, _due), *_ = unpaid()
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    keep_only(user, first, second)
    element(user, f"pay-amount-{second}").value = "100.00"
    total = first_due + Money(10000, "USD")
    assert text(user, "pay-total") == usd(total)
    assert text(user, "pay-submit") == f"Pay {usd(total - CREDITS - RETAINER)}"
    element(user, "pay-use-retainer").value = False  # credits only
    assert text(user, "pay-submit") == f"Pay {usd(total - CREDITS)}"
    assert text(user, "pay-use-retainer") == "Use $700.00 of retainer payments"  # what it would use
    element(user, "pay-use-credit").value = False
    assert text(user, "pay-submit") == f"Pay {usd(total)}"
    await user.should_not_see(marker="pay-credit")
    user.find(marker=f"pay-line-{first}").click()
    user.find(marker=f"pay-line-{second}").click()  # nothing ticked
    assert (text(user, "pay-submit"), element(user, "pay-submit").enabled) == ("Pay", False)
    await user.should_see("Tick at least one invoice to pay.")


async def test_an_amount_above_the_balance_is_refused_as_it_is_typed(user: User) -> None:
    (_, first, first_due), *_ = unpaid()
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    field = element(user, f"pay-amount-{first}")
    field.value = format_money(first_due + Money(1, "USD")).removeprefix("$")
    message = f"{usd(first_due + Money(1, 'USD'))} is more than the {usd(first_due)} due on invoice {first}."
    assert text(user, f"pay-amount-error-{first}") == message  # at once, before anything is clicked
    assert (field.props["error"], field.props["aria-invalid"]) == (True, "true")
    assert not element(user, "pay-submit").enabled
    field.value = "1,50"
    assert text(user, f"pay-amount-error-{first}").startswith("“1,50” could mean $1.50 or $150.00")
    assert not element(user, "pay-submit").enabled
    field.value = format_money(first_due).removeprefix("$")
    await user.should_not_see(marker=f"pay-amount-error-{first}")
    assert element(user, "pay-submit").enabled
    assert not field.props["error"]


async def test_the_credits_go_first_and_the_card_pays_the_rest(user: User) -> None:
    (_, first, first_due), (_, second, second_due), *_ = unpaid()
    outstanding, _credits, _retainer = figures()
    before = payments()
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    keep_only(user, first, second)
    rest = first_due + second_due - CREDITS - RETAINER
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see(f"Thank you! Payment received: {usd(rest)}.", retries=40)
    await user.should_see("Credits used: $120.00")
    await user.should_see("Retainer payments used: $700.00")
    assert figures() == (outstanding - first_due - second_due, Money(0, "USD"), Money(0, "USD"))
    assert payments() == before + 1
    with portal.current().db.reading() as session:
        assert session.scalar(select(Payment.amount_minor).order_by(Payment.id.desc()).limit(1)) == rest.minor


async def test_a_declined_card_leaves_the_credits_as_they_were(user: User) -> None:
    before = figures()
    await post_login(user)
    await user.open("/pay")
    fill_card(user, "4000 0000 0000 0002")
    user.find(marker="pay-submit").click()
    await user.should_see("Your card was declined.", retries=40)
    assert figures() == before
    assert text(user, "pay-use-credit") == "Use $120.00 of credits"


async def test_credits_that_cover_it_all_pay_without_the_payment_service(user: User) -> None:
    (_, first, first_due), *_ = unpaid()
    outstanding, _credits, _retainer = figures()
    before = payments()
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    keep_only(user, first)
    assert first_due <= CREDITS + RETAINER
    await user.should_see("Your credits and retainer payments cover all of it: nothing will be charged.")
    await user.should_not_see(marker="pay-submit")  # no payment method is asked for
    await user.should_not_see("Payment method")
    gateway = unwrap(portal.current().gateway)

    def not_called(request: object) -> None:
        raise AssertionError("the payment service was asked to charge")

    gateway.charge = not_called  # type: ignore[method-assign,assignment]
    try:
        user.find(marker="pay-with-credits").click()
        await user.should_see(f"Paid with your credits: {usd(first_due)}.", retries=40)
    finally:
        del gateway.charge
    await user.should_see(f"{first}: {usd(first_due)} (still due: $0.00)")
    await user.should_see("Credits used: $120.00")
    await user.should_see(f"Retainer payments used: {usd(first_due - CREDITS)}")
    await user.should_see("Nothing was charged.")
    assert figures() == (outstanding - first_due, Money(0, "USD"), RETAINER - (first_due - CREDITS))
    assert payments() == before


async def test_credits_used_in_another_tab_meanwhile_are_refused_and_the_page_shows_what_is_left(
    user: User,
) -> None:
    invoices = unpaid()
    before = payments()
    await post_login(user)
    await user.open("/pay")
    await user.should_see("What you are paying")
    keep_only(user, *(number for _id, number, _due in invoices[:-1]))
    with portal.current().db.reading() as session:
        customer = session.scalars(select(PortalUser).where(PortalUser.email == CUSTOMER_EMAIL)).one()
        business = session.get_one(Client, customer.client_id).organization_id
        principal = Principal(customer.id, customer.client_id, business, customer.name, CUSTOMER_EMAIL, 0)
    # Another tab applies $50 of the credits to the newest invoice, which this page leaves unticked.
    apply_available(portal.current().db, principal, invoices[-1][0], Money(5000, "USD"), RefundSource.CREDIT)
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see(
        "Only $70.00 of your credits can be used now, not the $120.00 this payment was to use, so nothing "
        "was charged. Please check the amounts and pay again.",
        retries=40,
    )
    assert payments() == before
    await user.should_see("Use $70.00 of credits")  # the page reads them again, keeping the choice
    assert not element(user, f"pay-line-{invoices[-1][1]}").value
