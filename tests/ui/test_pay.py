"""Pay Now and the payment screen with the sandbox gateway."""

from __future__ import annotations

from io import BytesIO

from nicegui import ui
from pypdf import PdfReader
from sqlalchemy import func, select

from models import Invoice, InvoiceStatus, OutboxEmail, Payment, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.gateways.switch import unwrap
from services.money import Money, format_money
from tests.ui.conftest import balances_of, post_login


def outstanding(email: str = CUSTOMER_EMAIL):
    return balances_of(email).outstanding


def to_charge(email: str = CUSTOMER_EMAIL):
    """What Pay Now charges at first: everything outstanding less the credits and retainer used first."""
    balances = balances_of(email)
    return balances.outstanding - balances.free_credits - balances.free_retainer


def fill_card(user, number: str, expiry: str = "12/30", cvc: str = "123") -> None:
    user.find(marker="card-number").type(number)
    user.find(marker="card-expiry").type(expiry)
    user.find(marker="card-cvc").type(cvc)
    user.find(marker="card-name").type("Dana Demo")


async def test_home_offers_pay_now_for_the_outstanding_amount(user):
    await post_login(user)
    await user.open("/")
    await user.should_see("Pay Now")
    await user.open("/pay")
    await user.should_see("Sandbox - no real money")
    await user.should_see(f"Pay {format_money(to_charge())}")


async def test_paying_everything_with_the_test_card_clears_the_outstanding_amount(user):
    await post_login(user)
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4242")
    user.find(marker="pay-submit").click()
    await user.should_see("Receipt RCPT-", retries=40)
    assert outstanding().minor == 0


async def test_a_declined_card_says_so_and_nothing_is_paid(user):
    await post_login(user)
    before = outstanding()
    await user.open("/pay")
    fill_card(user, "4000 0000 0000 0002")
    user.find(marker="pay-submit").click()
    await user.should_see("Your card was declined.", retries=40)
    assert outstanding() == before


async def test_a_mistyped_card_number_gets_its_message(user):
    await post_login(user)
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4241")
    user.find(marker="pay-submit").click()
    await user.should_see("The card number is not valid.", retries=40)


async def test_one_invoice_can_be_paid_in_part_but_not_beyond_its_balance(user):
    await post_login(user)
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.number == "INV-00013", Invoice.status == InvoiceStatus.SENT)
        ).one()
    await user.open(f"/pay?invoice={invoice.public_id}")
    amount = user.find(marker="pay-amount").elements.pop()
    amount.value = "99999"
    fill_card(user, "4242424242424242")
    user.find(marker="pay-submit").click()
    await user.should_see("is more than the", retries=40)
    amount.value = "100.00"
    user.find(marker="pay-submit").click()
    await user.should_see("Thank you! Payment received", retries=40)
    with portal.current().db.reading() as session:
        paid = session.get_one(Invoice, invoice.id)
    assert paid.status == InvoiceStatus.PARTIALLY_PAID
    assert paid.total_minor - paid.balance_due_minor == 10000


async def test_another_clients_invoice_cannot_be_paid_here(user):
    await post_login(user)
    with portal.current().db.reading() as session:
        other = session.scalars(
            select(Invoice.public_id)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(PortalUser.email == OTHER_CUSTOMER_EMAIL)
        ).first()
    response = await user.http_client.get(f"/pay?invoice={other}")
    assert response.status_code == 404


async def test_a_double_clicked_pay_button_makes_one_attempt(user):
    await post_login(user)
    with portal.current().db.reading() as session:
        before = session.scalar(select(func.count()).select_from(Payment)) or 0
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4242")
    pay_button = user.find(marker="pay-submit")
    pay_button.click()
    pay_button.click()  # the second click lands while the first is still at the gateway
    await user.should_see("Receipt RCPT-", retries=40)
    with portal.current().db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == before + 1
    assert outstanding().minor == 0


async def test_a_processing_bank_payment_shows_on_the_invoice_and_in_the_list(user):
    await post_login(user)
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice).where(Invoice.number == "INV-00013", Invoice.status == InvoiceStatus.SENT)
        ).one()
    await user.open(f"/pay?invoice={invoice.public_id}")
    user.find("New bank account").click()
    user.find(marker="account-holder").type("Dana Demo")
    user.find(marker="account-iban").type("DE89 3704 0044 0532 0130 00")
    user.find(marker="account-mandate").click()
    user.find(marker="pay-submit").click()
    await user.should_see("is processing", retries=40)
    shown = format_money(Money(invoice.balance_due_minor, invoice.currency))
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see(f"A payment of {shown} is being processed.")
    await user.should_not_see(marker="pay-now")
    await user.open("/invoices")
    (table,) = user.find(kind=ui.table).elements
    (row,) = [row for row in table.rows if row["number"] == "INV-00013"]
    assert (row["processing"], row["payable"]) == (f"{shown} processing", False)
    await user.open("/")
    await user.should_see(
        f"A payment of {shown} is being processed; the invoices it pays are marked paid once it clears."
    )


async def test_a_payment_in_doubt_says_it_is_being_confirmed_and_offers_no_second_pay_button(user, caplog):
    await post_login(user)
    before, owed = outstanding(), to_charge()
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4242")
    gateway = unwrap(portal.current().gateway)  # the gateway pay() calls, behind the portal's switch

    def connection_reset(request):  # no answer from the payment service: did it charge? we cannot tell
        raise ConnectionResetError("connection reset by peer")

    gateway.charge = connection_reset  # type: ignore[method-assign]
    try:
        user.find(marker="pay-submit").click()
        await user.should_see(f"We are confirming your payment of {format_money(owed)}.", retries=40)
    finally:
        del gateway.charge
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert ["open for reconciliation" in r.getMessage() for r in logged] == [True]  # for the operator
    caplog.clear()
    await user.should_see("You will not be charged twice.")
    await user.should_see("The credits it uses are kept for it until then.")
    await user.should_not_see(marker="pay-submit")

    await user.open("/")
    await user.should_see(
        f"We are confirming your payment of {format_money(owed)}; you will not be charged twice."
    )
    await user.should_not_see("Pay Now")
    await user.should_see("$120.00 of it is kept for your payment in progress.")  # the credits it uses
    await user.should_see("$700.00 of it is kept for your payment in progress.")  # and the retainer
    await user.open("/pay")
    await user.should_see(
        f"We are confirming your payment of {format_money(owed)}; you will not be charged twice."
    )
    await user.should_not_see(marker="pay-submit")
    await user.open("/invoices")
    (table,) = user.find(kind=ui.table).elements
    unpaid = [row for row in table.rows if row["processing"]]
    assert unpaid
    assert all(row["processing"].endswith(" being confirmed") for row in unpaid)
    assert not any(row["payable"] for row in unpaid)
    await user.open(f"/invoices/{unpaid[0]['id']}")
    await user.should_see(f"We are confirming a payment of {unpaid[0]['processing'].split()[0]} towards")
    await user.should_not_see(marker="pay-now")
    assert outstanding() == before  # nothing is paid before the gateway says so, not even by credits
    held = balances_of(CUSTOMER_EMAIL)
    assert (held.free_credits.minor, held.free_retainer.minor) == (0, 0)  # held for that payment


async def test_the_success_screen_offers_the_receipt_and_says_where_it_is_emailed(user):
    await post_login(user)
    await user.open("/pay")
    fill_card(user, "4242 4242 4242 4242", expiry="1230")
    user.find(marker="pay-submit").click()
    await user.should_see("Receipt RCPT-", retries=40)
    await user.should_see(f"We are e-mailing your receipt to {CUSTOMER_EMAIL}.")
    with portal.current().db.reading() as session:
        number = session.scalars(select(Payment.receipt_number).order_by(Payment.id.desc())).first()
        assert number is not None
        queued = session.scalars(
            select(OutboxEmail.to_addresses).where(OutboxEmail.subject.contains(number))
        ).all()
    assert CUSTOMER_EMAIL in queued  # said as it is: the receipt waits in the outbox for that address
    user.find("Download receipt").click()
    response = await user.download.next(timeout=10)
    assert response.status_code == 200
    assert f'filename="Receipt-{number}.pdf"' in response.headers["content-disposition"]
    assert number in PdfReader(BytesIO(response.content)).pages[0].extract_text()
    await user.should_see("Print receipt")


async def test_a_processing_bank_payment_promises_the_receipt_when_it_completes(user):
    await post_login(user)
    await user.open("/pay")
    user.find("New bank account").click()
    user.find(marker="account-holder").type("Dana Demo")
    user.find(marker="account-iban").type("DE89 3704 0044 0532 0130 00")
    user.find(marker="account-mandate").click()
    user.find(marker="pay-submit").click()
    await user.should_see("is processing", retries=40)
    await user.should_see(f"We will e-mail your receipt to {CUSTOMER_EMAIL} when the payment completes.")
    await user.should_not_see("Download receipt")  # no receipt before the money has arrived
