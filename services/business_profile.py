"""Settings > Business: the business's name, address and contact details, tax number, bank account
and logo.

The contact details are what the customer portal shows of the business (its card on Home) and what
the invoice and receipt PDFs print; invoices also print the tax number and the bank account
(``services.bank_details``), and a euro invoice's EPC QR code is made from the IBAN. A logo is
checked by its content, never by its file name or the browser's media type: only a PNG or JPEG image
of at most 1 MB is taken, and it is stored shrunk to the size the PDF draws it at.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Organization
from services.account_details import (
    MAX_NAME_LENGTH,
    AddressInput,
    _clean_address,  # shared address rules: the same fields as the setup page's
    _email,
    _line,
    _phone,
    _website,
)
from services.audit import record_event
from services.bank_details import MAX_BANK_NAME_LENGTH, clean_bic, clean_iban, clean_tax_id
from services.branding import defaults_changed
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.i18n import N_, _

PROFILE_UPDATED = "business.profile_updated"
LOGO_CHANGED = "business.logo_changed"
LOGO_REMOVED = "business.logo_removed"

MAX_LOGO_BYTES = 1024 * 1024
LOGO_SIZE = (600, 200)  # the largest stored logo in pixels; the PDF draws it 48 x 20 mm at most
MAX_LOGO_PIXELS = 40_000_000  # refused before decoding: a small file may unpack to gigabytes
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
# Both are shown with _(), in the reader's language.
NOT_AN_IMAGE = N_("This file is not a PNG or JPEG image. Choose a logo saved as PNG or JPEG.")
TOO_LARGE = N_("The logo is larger than 1 MB. Choose a smaller file (a PNG or JPEG up to 1 MB).")


@dataclass(frozen=True)
class ProfileChange:
    """The Business form's fields as typed."""

    name: str
    address: AddressInput
    email: str
    phone: str = ""
    website: str = ""
    tax_id: str = ""
    bank_name: str = ""
    iban: str = ""
    bic: str = ""


@dataclass(frozen=True)
class BusinessProfile:
    name: str
    address: AddressInput
    email: str
    phone: str
    website: str
    has_logo: bool
    tax_id: str = ""
    bank_name: str = ""
    iban: str = ""  # compact: "DE89370400440532013000"
    bic: str = ""


@dataclass(frozen=True)
class PreparedLogo:
    content: bytes
    media_type: str
    width: int
    height: int


def get_profile(db: Database, organization_id: int) -> BusinessProfile:
    """The business's profile as the Business form shows it."""
    with db.reading() as session:
        return _view(_organization(session, organization_id))


def update_profile(
    db: Database,
    organization_id: int,
    change: ProfileChange,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> BusinessProfile:
    """Save the profile; ``InvalidDetails`` names every wrong field (keys: ``ProfileChange`` field
    names, ``address.<field>`` for the address) and then nothing is written.
    """
    errors: dict[str, str] = {}
    name = _line(change.name, "name", MAX_NAME_LENGTH, errors, missing=_("Enter the business's name."))
    address, address_errors = _clean_address("address", change.address)
    errors |= address_errors
    email, problem = _email(change.email)
    if problem or not email:
        errors["email"] = problem or _("Enter the business's e-mail address; customers write to it.")
    phone, problem = _phone(change.phone, address.country)
    if problem:
        errors["phone"] = problem
    website, problem = _website(change.website)
    if problem:
        errors["website"] = problem
    tax_id, problem = clean_tax_id(change.tax_id)
    if problem:
        errors["tax_id"] = problem
    bank_name = _line(change.bank_name, "bank_name", MAX_BANK_NAME_LENGTH, errors)
    iban, problem = clean_iban(change.iban)
    if problem:
        errors["iban"] = problem
    bic, problem = clean_bic(change.bic)
    if problem:
        errors["bic"] = problem
    if errors:
        raise InvalidDetails(errors)
    with db.transaction() as session:
        organization = _organization(session, organization_id, lock=True)
        before = _view(organization)
        organization.name = name
        organization.address_line1 = address.line1
        organization.address_line2 = address.line2
        organization.city = address.city
        organization.region = address.region
        organization.postal_code = address.postal_code
        organization.country = address.country
        organization.email = email
        organization.phone = phone
        organization.website = website
        organization.tax_id = tax_id
        organization.bank_name = bank_name
        organization.iban = iban
        organization.bic = bic
        after = _view(organization)
        changes = {
            key: {"old": str(getattr(before, key)), "new": str(getattr(after, key))}
            for key in ("name", "address", "email", "phone", "website", "tax_id", "bank_name", "iban", "bic")
            if getattr(before, key) != getattr(after, key)
        }
        if changes:
            record_event(
                session,
                PROFILE_UPDATED,
                at=clock(),
                staff_user_id=staff_user_id,
                subject=("organization", organization.id),
                details={"changes": changes},
            )
    defaults_changed()  # every page's header shows the name
    return after


def prepare_logo(data: bytes) -> PreparedLogo:
    """Check an uploaded logo by its content and shrink it to fit ``LOGO_SIZE``, keeping its shape.

    Raises ``InvalidDetails({"logo": ...})`` for anything but a PNG or JPEG image of at most 1 MB.
    """
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidDetails({"logo": _(TOO_LARGE)})
    if not data:
        raise InvalidDetails({"logo": _(NOT_AN_IMAGE)})
    try:
        with Image.open(BytesIO(data)) as probe:
            image_format = probe.format or ""
            width, height = probe.size
            probe.verify()  # a truncated or corrupt file fails here, before it is decoded
        if image_format not in LOGO_FORMATS or not width or not height:
            raise InvalidDetails({"logo": _(NOT_AN_IMAGE)})
        if width * height > MAX_LOGO_PIXELS:
            raise InvalidDetails({"logo": _("This image is too large in pixels. Use one under 5000 x 5000.")})
        with Image.open(BytesIO(data)) as image:
            image.load()
            return _shrunk(image, image_format)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        # Pillow reports a damaged file through any of these, depending on the format and the damage.
        raise InvalidDetails({"logo": _(NOT_AN_IMAGE)}) from None


def set_logo(
    db: Database,
    organization_id: int,
    data: bytes,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> PreparedLogo:
    """Check, shrink and store a new logo in place of the old one (see ``prepare_logo``)."""
    logo = prepare_logo(data)
    with db.transaction() as session:
        organization = _organization(session, organization_id, lock=True)
        organization.logo = logo.content
        organization.logo_mime = logo.media_type
        record_event(
            session,
            LOGO_CHANGED,
            at=clock(),
            staff_user_id=staff_user_id,
            subject=("organization", organization.id),
            details={"media_type": logo.media_type, "width": logo.width, "height": logo.height},
        )
    defaults_changed()
    return logo


def remove_logo(
    db: Database, organization_id: int, *, staff_user_id: int | None = None, clock: Clock = utc_now
) -> None:
    """Take the logo off the portal and the PDFs."""
    with db.transaction() as session:
        organization = _organization(session, organization_id, lock=True)
        if not organization.logo_mime:
            return
        organization.logo = None
        organization.logo_mime = ""
        record_event(
            session,
            LOGO_REMOVED,
            at=clock(),
            staff_user_id=staff_user_id,
            subject=("organization", organization.id),
        )
    defaults_changed()


def _shrunk(image: Image.Image, image_format: str) -> PreparedLogo:
    if image_format == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")  # CMYK and other JPEG modes: fpdf2 and browsers draw RGB best
    elif image_format == "PNG" and image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    image.thumbnail(LOGO_SIZE, Image.Resampling.LANCZOS)
    out = BytesIO()
    if image_format == "PNG":
        image.save(out, format="PNG", optimize=True)
    else:
        image.save(out, format="JPEG", quality=90, optimize=True)
    return PreparedLogo(out.getvalue(), LOGO_FORMATS[image_format], image.width, image.height)


def _organization(session: Session, organization_id: int, *, lock: bool = False) -> Organization:
    query = select(Organization).where(Organization.id == organization_id)
    organization = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if organization is None:
        raise NotFound("organization", organization_id)
    return organization


def _view(organization: Organization) -> BusinessProfile:
    return BusinessProfile(
        name=organization.name,
        address=AddressInput(
            organization.address_line1,
            organization.address_line2,
            organization.city,
            organization.region,
            organization.postal_code,
            organization.country,
        ),
        email=organization.email,
        phone=organization.phone,
        website=organization.website,
        has_logo=bool(organization.logo_mime),
        tax_id=organization.tax_id,
        bank_name=organization.bank_name,
        iban=organization.iban,
        bic=organization.bic,
    )
