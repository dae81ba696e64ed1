"""The page a pay link opens: one invoice, paid without signing in, and nothing else of the client."""

from __future__ import annotations

from nicegui.testing import User
from sqlalchemy import select

from models import Invoice, InvoiceStatus, Payment, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from services.invoices import PAYABLE_STATUSES
from services.pay_links import issue_pay_link


def link_for_an_open_invoice() -> tuple[str, str, list[str]]:
    """A new link for one of the demo customer's open invoices: its token, its number, and the numbers
    of the customer's other invoices."""
    current = portal.current()
    with current.db.transaction() as session:
        client_id = session.scalar(select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL))
        invoices = session.scalars(
            select(Invoice).where(Invoice.client_id == client_id).order_by(Invoice.due_date)
        ).all()
        invoice = next(i for i in invoices if i.status in PAYABLE_STATUSES and i.balance_due_minor > 0)
        token, _ = issue_pay_link(session, invoice, now=current.clock())
        others = [i.number for i in invoices if i.id != invoice.id and i.status != InvoiceStatus.DRAFT]
        return token, invoice.number, others


def fill_card(user: User, number: str = "4242 4242 4242 4242") -> None:
    user.find(marker="card-number").type(number)
    user.find(marker="card-expiry").type("1230")
    user.find(marker="card-cvc").type("123")
    user.find(marker="card-name").type("Pat Payer")


async def test_the_link_shows_its_invoice_only_and_pays_it_without_a_session(user: User) -> None:
    token, number, others = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={token}")
    await user.should_see(f"Invoice {number}")
    await user.should_see("Sign in to see all invoices")
    for other in others:
        await user.should_not_see(other)
    await user.should_not_see("Outstanding Invoices")
    fill_card(user)
    user.find(marker="pay-link-submit").click()
    await user.should_see("Thank you! Payment received", retries=40)
    await user.should_see("Receipt RCPT-")
    with portal.current().db.reading() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.number == number)).one()
        payment = session.scalars(select(Payment).order_by(Payment.id.desc())).first()
        assert (invoice.status, invoice.balance_due_minor) == ("paid", 0)
        assert payment is not None
        assert payment.portal_user_id is None
    await user.open("/")  # no session was opened: Home still asks to sign in
    await user.should_see("Sign in")
    await user.open(f"/pay-link?token={token}")
    await user.should_see("This invoice is paid. Thank you!")


async def test_a_declined_card_says_so_and_the_invoice_stays_due(user: User) -> None:
    token, number, _ = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={token}")
    fill_card(user, "4000 0000 0000 0002")
    user.find(marker="pay-link-submit").click()
    await user.should_see("Your card was declined.", retries=40)
    with portal.current().db.reading() as session:
        assert session.scalars(select(Invoice.status).where(Invoice.number == number)).one() != "paid"


async def test_a_wrong_token_gets_a_clear_page(user: User) -> None:
    await user.open("/pay-link?token=not-a-real-token")
    await user.should_see("This payment link is not valid.")
    await user.should_not_see(marker="pay-link-submit")


async def test_the_pdf_is_the_links_invoice(user: User) -> None:
    token, number, _ = link_for_an_open_invoice()
    response = user.http_client.get  # the same app, no cookie
    answer = await response(f"/pay-link/pdf?token={token}")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert number in answer.headers["content-disposition"]
    assert (await response("/pay-link/pdf?token=wrong")).status_code == 404
