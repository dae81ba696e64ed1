"""The invoice page's bank transfer: the business's account and, for a euro amount due, the EPC QR code a
banking app scans; the tax numbers beside the parties; and the PDF download as an e-invoice when it is on."""

from __future__ import annotations

import io

from nicegui import ui
from nicegui.testing import User
from pypdf import PdfReader
from sqlalchemy import select, update

from models import Client, Invoice, InvoiceStatus, Organization, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL, OTHER_CUSTOMER_EMAIL
from services.invoices import PAYABLE_STATUSES
from tests.ui.conftest import post_login

IBAN = "DE89370400440532013000"


def set_business(**values: object) -> None:
    with portal.current().db.transaction() as session:
        session.execute(update(Organization).values(**values))


def set_client(email: str, **values: object) -> None:
    with portal.current().db.transaction() as session:
        client_id = session.scalars(select(PortalUser.client_id).where(PortalUser.email == email)).one()
        session.execute(update(Client).where(Client.id == client_id).values(**values))


def open_invoice_of(email: str) -> Invoice:
    """The customer's oldest invoice with something to pay."""
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(
                PortalUser.email == email, Invoice.status.in_(PAYABLE_STATUSES), Invoice.balance_due_minor > 0
            )
            .order_by(Invoice.due_date, Invoice.id)
        ).first()
        assert invoice is not None
        session.expunge(invoice)
        return invoice


def qr_images(user: User) -> list[ui.image]:
    return [element for element in user.find(marker="epc-qr").elements if isinstance(element, ui.image)]


async def test_a_euro_invoice_shows_the_qr_code_and_the_account_to_pay_it(user: User) -> None:
    set_business(iban=IBAN, bic="COBADEFFXXX", bank_name="Commerzbank", tax_id="DE123456789")
    set_client(OTHER_CUSTOMER_EMAIL, tax_number="DE987654321")
    invoice = open_invoice_of(OTHER_CUSTOMER_EMAIL)  # Kowalski Translations pays in euros
    await post_login(user, OTHER_CUSTOMER_EMAIL)
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see("Pay by bank transfer")
    for words in ("Commerzbank", "DE89 3704 0044 0532 0130 00", "COBADEFFXXX", invoice.number,
                  "Tax number: DE123456789", "Tax number: DE987654321"):  # fmt: skip
        await user.should_see(words)
    (image,) = qr_images(user)
    assert image.source.startswith("data:image/svg+xml")
    alt = str(image.props["alt"])
    assert alt.startswith("QR code to pay €"), alt
    assert alt.endswith("by bank transfer"), alt
    await user.should_see("Scan the code with your banking app to pay €")


async def test_a_dollar_invoice_shows_the_account_but_no_qr_code(user: User) -> None:
    set_business(iban=IBAN)
    invoice = open_invoice_of(CUSTOMER_EMAIL)  # Bluebird Cafe pays in dollars
    await post_login(user)
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see("DE89 3704 0044 0532 0130 00")
    await user.should_not_see(marker="epc-qr")
    await user.should_not_see("Scan the code")


async def test_without_an_iban_there_is_no_bank_transfer_and_no_qr_code(user: User) -> None:
    invoice = open_invoice_of(OTHER_CUSTOMER_EMAIL)
    await post_login(user, OTHER_CUSTOMER_EMAIL)
    await user.open(f"/invoices/{invoice.public_id}")
    await user.should_see(invoice.number)
    await user.should_not_see("Pay by bank transfer")
    await user.should_not_see(marker="epc-qr")


async def test_a_paid_invoice_shows_no_qr_code(user: User) -> None:
    set_business(iban=IBAN)
    with portal.current().db.reading() as session:
        paid = session.scalars(
            select(Invoice)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(PortalUser.email == OTHER_CUSTOMER_EMAIL, Invoice.status == InvoiceStatus.PAID)
        ).first()
    if paid is None:  # the demo's euro client has no paid invoice: pay one off in the books
        paid = open_invoice_of(OTHER_CUSTOMER_EMAIL)
        with portal.current().db.transaction() as session:
            session.execute(
                update(Invoice).where(Invoice.id == paid.id).values(status="paid", balance_due_minor=0)
            )
    await post_login(user, OTHER_CUSTOMER_EMAIL)
    await user.open(f"/invoices/{paid.public_id}")
    await user.should_see(paid.number)
    await user.should_not_see("Pay by bank transfer")
    await user.should_not_see(marker="epc-qr")


async def test_with_e_invoices_on_the_downloaded_pdf_is_a_factur_x_e_invoice(user: User) -> None:
    set_business(iban=IBAN, tax_id="DE123456789", e_invoices=True)  # the demo business is in the US
    invoice = open_invoice_of(OTHER_CUSTOMER_EMAIL)  # Kowalski Translations is in Germany
    await post_login(user, OTHER_CUSTOMER_EMAIL)
    response = await user.http_client.get(f"/invoices/{invoice.public_id}/pdf?download=1")
    assert response.status_code == 200
    pdf = PdfReader(io.BytesIO(response.content))
    assert list(pdf.attachments) == ["factur-x.xml"]
    assert invoice.number.encode() in pdf.attachments["factur-x.xml"][0]

    set_business(e_invoices=False)
    response = await user.http_client.get(f"/invoices/{invoice.public_id}/pdf?download=1")
    assert not PdfReader(io.BytesIO(response.content)).attachments
