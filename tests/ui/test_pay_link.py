"""The page a pay link opens: one invoice, paid without signing in, and nothing else of the client."""

from __future__ import annotations

from io import BytesIO

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import select, update

from models import Client, Invoice, InvoiceStatus, Organization, Payment, PortalUser
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


def client_email_of(number: str) -> str:
    with portal.current().db.reading() as session:
        return session.scalars(
            select(Client.email).join(Invoice, Invoice.client_id == Client.id).where(Invoice.number == number)
        ).one()


async def test_the_payer_gets_the_receipt_through_the_link_and_learns_where_it_is_emailed(user: User) -> None:
    token, number, _ = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={token}")
    fill_card(user)
    user.find(marker="pay-link-submit").click()
    await user.should_see("Receipt RCPT-", retries=40)
    await user.should_see(f"We are e-mailing your receipt to {client_email_of(number)}.")
    (balance,) = user.find(kind=ui.label, marker="document-balance").elements  # the invoice, as it is now
    assert balance.text == "$0.00"
    with portal.current().db.reading() as session:
        payment = session.scalars(select(Payment).order_by(Payment.id.desc())).first()
        assert payment is not None
        receipt, public_id = payment.receipt_number, payment.public_id
    assert receipt is not None
    user.find("Download receipt").click()
    response = await user.download.next(timeout=10)
    assert response.status_code == 200
    assert f'filename="Receipt-{receipt}.pdf"' in response.headers["content-disposition"]
    assert receipt in PdfReader(BytesIO(response.content)).pages[0].extract_text()
    get = user.http_client.get  # no session: the link is the only key
    assert (await get(f"/pay-link/receipt?token={token}&payment={public_id}")).status_code == 200
    assert (await get(f"/pay-link/receipt?token=wrong&payment={public_id}")).status_code == 404
    assert (
        await get(f"/payments/{public_id}/pdf")
    ).status_code != 200  # the portal's own route asks to sign in


async def test_the_link_gives_no_receipt_of_a_payment_not_made_through_it(user: User) -> None:
    token, _, _ = link_for_an_open_invoice()
    with portal.current().db.reading() as session:
        client_id = session.scalar(select(PortalUser.client_id).where(PortalUser.email == CUSTOMER_EMAIL))
        earlier = session.scalars(
            select(Payment.public_id).where(
                Payment.client_id == client_id, Payment.receipt_number.is_not(None)
            )
        ).first()
    assert earlier is not None  # a payment of the same client, made in the portal
    answer = await user.http_client.get(f"/pay-link/receipt?token={token}&payment={earlier}")
    assert answer.status_code == 404


async def test_a_bank_debit_pays_through_the_link_when_the_business_takes_them(user: User) -> None:
    token, number, _ = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={token}")
    user.find("New bank account").click()
    user.find(marker="account-holder").type("Pat Payer")
    user.find(marker="account-iban").type("DE89 3704 0044 0532 0130 00")
    (email,) = user.find(kind=ui.input, marker="account-email").elements
    assert email.value == client_email_of(number)  # the one the invoice is made out to
    user.find(marker="account-mandate").click()
    user.find(marker="pay-link-submit").click()
    await user.should_see("is processing", retries=40)
    await user.should_see(
        f"We will e-mail your receipt to {client_email_of(number)} when the payment completes."
    )
    with portal.current().db.reading() as session:
        payment = session.scalars(select(Payment).order_by(Payment.id.desc())).first()
        assert payment is not None
        assert (payment.method, payment.status, payment.portal_user_id) == (
            "bank_account",
            "processing",
            None,
        )
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(accept_bank_debits=False))
    other, _, _ = link_for_an_open_invoice()
    await user.open(f"/pay-link?token={other}")
    await user.should_see(marker="card-number")
    await user.should_not_see("New bank account")
