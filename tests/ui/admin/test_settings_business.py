"""Settings > Business: the profile customers see in the portal, and the logo on the invoice PDF."""

from __future__ import annotations

from io import BytesIO

from nicegui import ui
from nicegui.elements.mixins.value_element import ValueElement
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from models import AuditEvent, Invoice, InvoiceStatus, Organization, PortalUser
from services import portal
from services.demo import CUSTOMER_EMAIL
from tests.ui.admin.conftest import set_value, until
from tests.ui.conftest import post_login


def organization() -> Organization:
    with portal.current().db.reading() as session:
        row = session.scalars(select(Organization).order_by(Organization.id)).one()
        session.expunge(row)
        return row


def logo_row() -> tuple[bytes | None, str]:
    with portal.current().db.reading() as session:
        row = session.execute(select(Organization.logo, Organization.logo_mime)).one()
        return row.logo, row.logo_mime


def png(width: int, height: int, *, noise: bool = False) -> bytes:
    image = (
        Image.effect_noise((width, height), 80).convert("RGB")
        if noise
        else Image.new("RGB", (width, height), (30, 90, 160))
    )
    out = BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def value_of(user: User, marker: str) -> object:
    (element,) = user.find(marker=marker).elements
    assert isinstance(element, ValueElement)
    return element.value


async def upload(user: User, name: str, content: bytes, content_type: str = "image/png") -> None:
    """What the browser's upload does: the file arrives at the ui.upload element's handler."""
    (element,) = user.find(kind=ui.upload).elements
    assert isinstance(element, ui.upload)
    await element.handle_uploads([SmallFileUpload(name, content_type, content)])


async def test_the_owner_saves_the_profile_and_customers_see_it_in_the_portal(owner: User) -> None:
    await owner.open("/admin/settings")
    await owner.should_see("Business profile")
    set_value(owner, "business-name", "Northwind Studio & Co")
    set_value(owner, "business-phone", "+1 415 555 0100")
    set_value(owner, "business-website", "northwind.example")
    set_value(owner, "business-email", "hello@northwind.example")
    set_value(owner, "business-address-line1", "12 Harbour Street")
    owner.find(marker="business-save").click()
    await owner.should_see("The business profile is saved.")
    saved = organization()
    assert (saved.name, saved.phone, saved.website, saved.email, saved.address_line1) == (
        "Northwind Studio & Co",
        "+1 415-555-0100",
        "https://northwind.example",
        "hello@northwind.example",
        "12 Harbour Street",
    )

    await post_login(owner)
    await owner.open("/")
    for text in ("Northwind Studio & Co", "+1 415-555-0100", "https://northwind.example",
                 "hello@northwind.example", "12 Harbour Street"):  # fmt: skip
        await owner.should_see(text)


async def test_every_wrong_field_gets_its_own_message_and_nothing_is_saved(owner: User) -> None:
    before = organization()
    await owner.open("/admin/settings")
    set_value(owner, "business-name", "  ")
    set_value(owner, "business-email", "not an address")
    set_value(owner, "business-phone", "12")
    set_value(owner, "business-website", "ftp://files")
    set_value(owner, "business-address-country", None)
    owner.find(marker="business-save").click()
    await owner.should_see("Nothing was saved: 5 fields need correcting.")
    for marker, words in (
        ("business-name", "name"),
        ("business-email", "e-mail"),
        ("business-phone", "country code"),
        ("business-website", ""),
        ("business-address-country", "country"),
    ):
        (field,) = owner.find(marker=marker).elements
        assert field.props["error"] is True, marker
        assert words in field.props["error-message"].lower(), (marker, field.props["error-message"])
    after = organization()
    assert (after.name, after.email, after.phone, after.website, after.country) == (
        before.name, before.email, before.phone, before.website, before.country
    )  # fmt: skip


async def test_cancel_puts_back_the_saved_profile(owner: User) -> None:
    name = organization().name
    await owner.open("/admin/settings")
    set_value(owner, "business-name", "Something Else Ltd")
    owner.find(marker="business-cancel").click()
    await until(lambda: value_of(owner, "business-name") == name)
    assert organization().name == name


async def test_an_uploaded_logo_is_shrunk_shown_and_drawn_on_the_invoice_pdf(owner: User) -> None:
    await owner.open("/admin/settings")
    await owner.should_see("No logo yet.")
    await upload(owner, "logo.png", png(1200, 300))
    await owner.should_see(marker="logo-preview")
    content, mime = logo_row()
    assert mime == "image/png"
    assert content is not None
    with Image.open(BytesIO(content)) as stored:
        assert stored.size == (600, 150)  # fits 600 x 200, shape kept
    response = await owner.http_client.get("/branding/logo")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"

    await post_login(owner)
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(PortalUser.email == CUSTOMER_EMAIL, Invoice.status != InvoiceStatus.DRAFT)
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None
    response = await owner.http_client.get(f"/invoices/{invoice.public_id}/pdf")
    assert response.status_code == 200
    assert PdfReader(BytesIO(response.content)).pages[0].images, "the invoice PDF carries the logo"


async def test_a_text_file_named_logo_png_is_refused_and_nothing_changes(owner: User) -> None:
    await owner.open("/admin/settings")
    await upload(owner, "logo.png", b"not an image")
    await owner.should_see("This file is not a PNG or JPEG image.", retries=40)  # checked off the event loop
    assert logo_row() == (None, "")


async def test_a_gif_is_refused_whatever_its_name(owner: User) -> None:
    gif = BytesIO()
    Image.new("RGB", (20, 20)).save(gif, format="GIF")
    await owner.open("/admin/settings")
    await upload(owner, "logo.jpg", gif.getvalue(), "image/jpeg")
    await owner.should_see("This file is not a PNG or JPEG image.", retries=40)
    assert logo_row() == (None, "")


async def test_a_logo_over_1_mb_is_refused(owner: User) -> None:
    big = png(1100, 1100, noise=True)
    assert len(big) > 1024 * 1024
    await owner.open("/admin/settings")
    await upload(owner, "logo.png", big)
    await owner.should_see("The logo is larger than 1 MB.", retries=40)
    assert logo_row() == (None, "")


async def test_remove_takes_the_logo_away(owner: User) -> None:
    await owner.open("/admin/settings")
    await upload(owner, "logo.png", png(100, 100))
    await owner.should_see(marker="logo-remove")
    owner.find(marker="logo-remove").click()
    await owner.should_see("No logo yet.")
    assert logo_row() == (None, "")
    with portal.current().db.reading() as session:
        actions = session.scalars(select(AuditEvent.action)).all()
    assert {"business.logo_changed", "business.logo_removed"} <= set(actions)
    assert (await owner.http_client.get("/branding/logo")).status_code == 404


async def test_staff_cannot_change_the_profile(staff: User) -> None:
    response = await staff.http_client.get("/admin/settings")
    assert response.status_code == 403
    assert "Business profile" not in response.text


async def test_the_tax_number_and_bank_account_are_saved_and_printed_on_invoices(owner: User) -> None:
    await owner.open("/admin/settings")
    await owner.should_see("Tax and bank details")
    set_value(owner, "business-tax-id", "US 94-1234567")
    set_value(owner, "business-bank-name", "Wise")
    set_value(owner, "business-iban", "be71 0961 2345 6769")
    set_value(owner, "business-bic", "trwibeb1xxx")
    owner.find(marker="business-save").click()
    await owner.should_see("The business profile is saved.")
    saved = organization()
    assert (saved.tax_id, saved.bank_name, saved.iban, saved.bic) == (
        "US 94-1234567",
        "Wise",
        "BE71096123456769",
        "TRWIBEB1XXX",
    )
    assert value_of(owner, "business-iban") == "BE71 0961 2345 6769"  # shown back as banks print it

    await post_login(owner)
    with portal.current().db.reading() as session:
        invoice = session.scalars(
            select(Invoice)
            .join(PortalUser, PortalUser.client_id == Invoice.client_id)
            .where(PortalUser.email == CUSTOMER_EMAIL, Invoice.status != InvoiceStatus.DRAFT)
            .order_by(Invoice.id)
        ).first()
        assert invoice is not None
    response = await owner.http_client.get(f"/invoices/{invoice.public_id}/pdf")
    printed = PdfReader(BytesIO(response.content)).pages[0].extract_text()
    for words in ("Tax number: US 94-1234567", "Wise", "BE71 0961 2345 6769", "TRWIBEB1XXX"):
        assert words in printed, words


async def test_a_wrong_iban_and_bic_each_say_what_is_wrong_and_nothing_is_saved(owner: User) -> None:
    await owner.open("/admin/settings")
    set_value(owner, "business-iban", "BE71 0961 2345 6760")
    set_value(owner, "business-bic", "TRWI")
    owner.find(marker="business-save").click()
    await owner.should_see("Nothing was saved: 2 fields need correcting.")
    (iban,) = owner.find(marker="business-iban").elements
    assert iban.props["error-message"] == (
        "The IBAN's check digits do not match: compare it with your bank statement."
    )
    (bic,) = owner.find(marker="business-bic").elements
    assert bic.props["error-message"].startswith("A BIC has 8 or 11 letters and digits")
    saved = organization()
    assert (saved.iban, saved.bic) == ("", "")
