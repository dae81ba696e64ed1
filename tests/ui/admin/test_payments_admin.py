"""Back office > Payments: the list, recording an offline payment, and refunding a client's credit."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User
from sqlalchemy import func, select

from models import Client, Payment, Refund
from services import portal
from services.admin_payments import open_invoices_of
from services.business_documents import get_invoice
from services.demo import CUSTOMER_EMAIL
from services.money import Money
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import balances_of


def bluebird() -> tuple[int, str]:
    """The demo customer's business and client public id."""
    with portal.current().db.reading() as session:
        client = session.scalars(select(Client).where(Client.display_name == "Bluebird Cafe")).one()
        return client.organization_id, client.public_id


def payment_count() -> int:
    with portal.current().db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


async def open_record_dialog(user: User, client_public_id: str) -> None:
    await user.open("/admin/payments")
    user.find(marker="record-payment").click()
    await user.should_see("Money the client paid you directly: cash, a cheque or a bank transfer.")
    set_value(user, "payment-client", client_public_id)
    await until(lambda: "Enter the amount" in _summary(user))


def _summary(user: User) -> str:
    return next(iter(user.find(marker="payment-summary").elements)).text  # type: ignore[attr-defined]


def table_rows(user: User) -> list[dict]:
    [table] = user.find(marker="admin-payments-table").elements
    return table.rows  # type: ignore[attr-defined]


async def test_the_list_shows_every_payment_and_filters_by_client(owner: User) -> None:
    await owner.open("/admin/payments")
    await owner.should_see(f"{payment_count()} payments")
    rows = table_rows(owner)
    assert {row["client"] for row in rows} == {"Bluebird Cafe", "Kowalski Translations"}
    assert "RCPT-00001" in {row["receipt"] for row in rows}
    assert "Bank transfer" in {row["method"] for row in rows}
    set_value(owner, "payments-client-filter", bluebird()[1])
    await until(lambda: {row["client"] for row in table_rows(owner)} == {"Bluebird Cafe"})


async def test_a_cash_payment_pays_the_oldest_open_invoice(owner: User) -> None:
    organization_id, client_public_id = bluebird()
    oldest = open_invoices_of(portal.current().db, organization_id, client_public_id)[0]
    before = balances_of(CUSTOMER_EMAIL)
    await open_record_dialog(owner, client_public_id)
    set_value(owner, "payment-method", "cash")
    set_value(owner, "payment-amount", str(oldest.balance_due.to_decimal()))
    await until(lambda: oldest.number in _summary(owner))
    owner.find(marker="payment-submit").click()
    await owner.should_see("recorded")
    assert get_invoice(portal.current().db, organization_id, oldest.public_id).status == "paid"
    assert balances_of(CUSTOMER_EMAIL).outstanding == before.outstanding - oldest.balance_due


async def test_money_over_the_open_balance_is_kept_as_credit(owner: User) -> None:
    _organization_id, client_public_id = bluebird()
    before = balances_of(CUSTOMER_EMAIL)
    extra = Money(2500, "USD")
    await open_record_dialog(owner, client_public_id)
    set_value(owner, "payment-amount", str((before.outstanding + extra).to_decimal()))
    await owner.should_see("$25.00 is kept as the client's credit, to apply later or refund.")
    owner.find(marker="payment-submit").click()
    await owner.should_see("recorded")
    after = balances_of(CUSTOMER_EMAIL)
    assert after.outstanding == Money(0, "USD")
    assert after.available_credits == before.available_credits + extra


async def test_bad_amounts_and_dates_are_refused_and_nothing_is_recorded(owner: User) -> None:
    _organization_id, client_public_id = bluebird()
    count = payment_count()
    await open_record_dialog(owner, client_public_id)
    for typed, message in (
        ("0", "Enter an amount more than zero."),
        ("-20", "The amount cannot be negative."),
        ("twelve", "Enter the amount as a number, like 123,456.50."),
        ("1,50", "“1,50” could mean $1.50 or $150.00, so it was not used."),
    ):
        set_value(owner, "payment-amount", typed)
        owner.find(marker="payment-submit").click()
        await owner.should_see(message)
    set_value(owner, "payment-amount", "10")
    tomorrow = portal.current().clock().date() + timedelta(days=1)
    set_value(owner, "payment-date", tomorrow.isoformat())
    owner.find(marker="payment-submit").click()
    await owner.should_see("The date cannot be in the future.")
    assert payment_count() == count


async def test_refunding_more_credit_than_available_is_refused(owner: User) -> None:
    _organization_id, client_public_id = bluebird()
    available = balances_of(CUSTOMER_EMAIL).available_credits
    await owner.open("/admin/payments")
    owner.find(marker="refund-credit").click()
    set_value(owner, "refund-client", client_public_id)
    await owner.should_see(f"Available to refund: ${available.to_decimal():,.2f}")
    set_value(owner, "refund-amount", str((available + Money(1, "USD")).to_decimal()))
    owner.find(marker="refund-submit").click()
    await owner.should_see("is available")
    with portal.current().db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Refund)) == 0
    assert balances_of(CUSTOMER_EMAIL).available_credits == available
    set_value(owner, "refund-amount", "20")
    owner.find(marker="refund-submit").click()
    await owner.should_see("Refund of $20.00 to Bluebird Cafe recorded.")
    assert balances_of(CUSTOMER_EMAIL).available_credits == available - Money(2000, "USD")


async def test_staff_can_record_payments_too(staff: User) -> None:
    await staff.open("/admin/payments")
    await staff.should_see("Record payment")
