"""The business's clients: create, edit, look up and list them with their balances, and their contacts.

Every function is scoped by ``organization_id``: a client of another business is ``NotFound``. Clients
are named by their public id, as in URLs. Lists are paged by a cursor, the id of the last row seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from models import (
    Client,
    CreditNote,
    CreditNoteStatus,
    Invoice,
    InvoiceKind,
    Organization,
    Payment,
    PaymentKind,
    PaymentStatus,
    PortalUser,
    Quote,
)
from services.account_details import AddressInput, _clean_address, _email, _line, _phone, _website
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import CurrencyFixed, InvalidDetails, NotFound
from services.i18n import _
from services.invitations import invite_contact
from services.invoice_list import status_label
from services.invoices import PAYABLE_STATUSES
from services.money import Money, UnknownCurrency, check_currency

MAX_NAME_LENGTH = 200
MAX_TAX_NUMBER_LENGTH = 50
MAX_PAGE_SIZE = 100
RECENT_INVOICES = 10

NOT_INVITED = "not_invited"
INVITED = "invited"
ACTIVE = "active"
DISABLED = "disabled"


@dataclass(frozen=True)
class ClientInput:
    """The details of a client as given by the business. Address empty: not known yet."""

    display_name: str
    currency: str  # ISO 4217
    company_name: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    tax_number: str = ""
    address: AddressInput = field(default_factory=AddressInput)  # the billing address
    shipping: AddressInput = field(default_factory=AddressInput)  # empty: ship to the billing address


@dataclass(frozen=True)
class AddressChange:
    """The address fields to change; a field left None stays as it is."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def applied_to(self, address: AddressInput) -> AddressInput:
        return replace(address, **{name: value for name, value in asdict(self).items() if value is not None})


@dataclass(frozen=True)
class ClientChange:
    """The details of a client to change; a field left None stays as it is, an address field by field."""

    display_name: str | None = None
    currency: str | None = None
    company_name: str | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    tax_number: str | None = None
    address: AddressChange | None = None
    shipping: AddressChange | None = None

    def applied_to(self, details: ClientInput) -> ClientInput:
        texts = {
            name: value
            for name, value in vars(self).items()
            if value is not None and name not in ("address", "shipping")
        }
        return replace(
            details,
            **texts,
            address=self.address.applied_to(details.address) if self.address else details.address,
            shipping=self.shipping.applied_to(details.shipping) if self.shipping else details.shipping,
        )


@dataclass(frozen=True)
class ClientBalanceFigures:
    outstanding: Money  # issued invoices' balances due
    credits: Money  # open credit notes and excess payments
    retainer: Money  # retainer payments not applied yet


@dataclass(frozen=True)
class ClientView:
    id: int
    public_id: str
    display_name: str
    company_name: str
    email: str
    phone: str
    website: str
    tax_number: str
    currency: str
    address: AddressInput
    balances: ClientBalanceFigures
    created_at: datetime
    shipping: AddressInput = field(default_factory=AddressInput)  # empty: ship to the billing address


@dataclass(frozen=True)
class ClientInvoiceRow:
    """One of a client's invoices or retainer invoices, drafts included, as the client page lists them."""

    public_id: str
    number: str
    is_retainer: bool
    issue_date: date
    due_date: date
    status: str
    status_label: str  # Overdue is derived from the due date
    total: Money
    balance_due: Money


@dataclass(frozen=True)
class ContactView:
    public_id: str
    name: str
    email: str
    phone: str
    has_login: bool  # a password is set
    is_active: bool
    invited_at: datetime | None
    last_login_at: datetime | None

    @property
    def state(self) -> str:
        """Disabled, Active (a password is set), Invited (a link is out) or Not invited."""
        if not self.is_active:
            return DISABLED
        if self.has_login:
            return ACTIVE
        return INVITED if self.invited_at is not None else NOT_INVITED


@dataclass(frozen=True)
class ClientPage:
    clients: list[ClientView]
    next_after_id: int | None  # pass as ``after_id`` for the next page; None on the last page


def create_client(
    db: Database, organization_id: int, details: ClientInput, *, clock: Clock = utc_now
) -> ClientView:
    """Add a client. Raises ``InvalidDetails`` with a sentence per wrong field; nothing is written then."""
    clean = _clean(details)
    with db.transaction() as session:
        client = Client(organization_id=organization_id, created_at=clock())
        _apply(client, clean)
        session.add(client)
        session.flush()
        return _view(client, _balances(session, [client])[client.id])


def update_client(db: Database, organization_id: int, public_id: str, details: ClientInput) -> ClientView:
    """Replace a client's details. The currency is fixed once the client has a document or payment."""
    _clean(details)  # wrong details are refused before the client is locked
    return _update(db, organization_id, public_id, lambda _stored: details)


def change_client(db: Database, organization_id: int, public_id: str, change: ClientChange) -> ClientView:
    """Change only the details ``change`` gives; every other stays as it is, even one changed meanwhile.

    The stored details are read and changed under the client's lock in one transaction, so two changes
    of different fields at once both stay. Checked as ``update_client`` checks the whole.
    """
    return _update(db, organization_id, public_id, change.applied_to)


def _update(
    db: Database, organization_id: int, public_id: str, changed: Callable[[ClientInput], ClientInput]
) -> ClientView:
    with db.transaction() as session:
        client = _client(session, organization_id, public_id, lock=True)
        clean = _clean(changed(_details(client)))
        if clean.currency != client.currency and _has_records(session, client.id):
            raise CurrencyFixed(client.display_name, client.currency)
        _apply(client, clean)
        session.flush()
        return _view(client, _balances(session, [client])[client.id])


def get_client(db: Database, organization_id: int, public_id: str) -> ClientView:
    with db.reading() as session:
        client = _client(session, organization_id, public_id)
        return _view(client, _balances(session, [client])[client.id])


def client_details(db: Database, organization_id: int, public_id: str) -> ClientInput:
    """The stored details, as ``update_client`` takes them: change a field with ``dataclasses.replace``."""
    with db.reading() as session:
        return _details(_client(session, organization_id, public_id))


def new_client_details(db: Database, organization_id: int) -> ClientInput:
    """An empty client form, in the business's default currency."""
    with db.reading() as session:
        organization = session.get(Organization, organization_id)
        if organization is None:
            raise NotFound("organization", organization_id)
        return ClientInput(display_name="", currency=organization.default_currency)


def currency_is_fixed(db: Database, organization_id: int, public_id: str) -> bool:
    """Whether the client has a document or payment, so ``update_client`` refuses another currency."""
    with db.reading() as session:
        return _has_records(session, _client(session, organization_id, public_id).id)


def recent_invoices(
    db: Database, organization_id: int, public_id: str, *, today: date, limit: int = RECENT_INVOICES
) -> list[ClientInvoiceRow]:
    """The client's newest invoices and retainer invoices, drafts and void ones included."""
    with db.reading() as session:
        client = _client(session, organization_id, public_id)
        invoices = session.scalars(
            select(Invoice)
            .where(Invoice.client_id == client.id)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(max(1, min(limit, MAX_PAGE_SIZE)))
        )
        return [
            ClientInvoiceRow(
                invoice.public_id,
                invoice.number or "Draft",
                invoice.kind == InvoiceKind.RETAINER,
                invoice.issue_date,
                invoice.due_date,
                invoice.status,
                status_label(invoice.status, invoice.due_date, today),
                Money(invoice.total_minor, invoice.currency),
                Money(invoice.balance_due_minor, invoice.currency),
            )
            for invoice in invoices
        ]


def list_clients(
    db: Database, organization_id: int, *, after_id: int | None = None, limit: int = 50, search: str = ""
) -> ClientPage:
    """The business's clients in the order they were added, ``limit`` at a time, with their balances."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    query = select(Client).where(Client.organization_id == organization_id)
    if after_id is not None:
        query = query.where(Client.id > after_id)
    words = search.strip().lower()
    if words:
        query = query.where(
            func.lower(Client.display_name).contains(words, autoescape=True)
            | func.lower(Client.company_name).contains(words, autoescape=True)
            | func.lower(Client.email).contains(words, autoescape=True)
        )
    with db.reading() as session:
        rows = list(session.scalars(query.order_by(Client.id).limit(limit + 1)))
        page = rows[:limit]
        balances = _balances(session, page)
        return ClientPage(
            [_view(client, balances[client.id]) for client in page],
            page[-1].id if len(rows) > limit else None,
        )


def list_contacts(db: Database, organization_id: int, client_public_id: str) -> list[ContactView]:
    """The client's contact persons, with or without a login, in the order they were added."""
    with db.reading() as session:
        client = _client(session, organization_id, client_public_id)
        users = session.scalars(
            select(PortalUser).where(PortalUser.client_id == client.id).order_by(PortalUser.id)
        )
        return [
            ContactView(
                user.public_id,
                user.name,
                user.email,
                user.phone,
                user.password_hash is not None,
                user.is_active,
                user.invited_at,
                user.last_login_at,
            )
            for user in users
        ]


def client_id_for(session: Session, organization_id: int, public_id: str) -> int:
    """The internal id of the business's client ``public_id``; ``NotFound`` for anyone else's."""
    return _client(session, organization_id, public_id).id


def _client(session: Session, organization_id: int, public_id: str, *, lock: bool = False) -> Client:
    query = select(Client).where(Client.organization_id == organization_id, Client.public_id == public_id)
    client = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if client is None:
        raise NotFound("client", public_id)
    return client


def _has_records(session: Session, client_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(Invoice.client_id == client_id)
                | exists().where(CreditNote.client_id == client_id)
                | exists().where(Payment.client_id == client_id)
                # a quote's amounts are in the currency too, and accepting it bills them
                | exists().where(Quote.client_id == client_id)
            )
        )
    )


def _clean(details: ClientInput) -> ClientInput:
    errors: dict[str, str] = {}
    display_name = _line(
        details.display_name, "display_name", MAX_NAME_LENGTH, errors, missing=_("Enter the client's name.")
    )
    company_name = _line(details.company_name, "company_name", MAX_NAME_LENGTH, errors)
    tax_number = _line(details.tax_number, "tax_number", MAX_TAX_NUMBER_LENGTH, errors)
    currency = details.currency.strip().upper()
    try:
        check_currency(currency)
    except UnknownCurrency:
        errors["currency"] = _("Choose a currency by its ISO 4217 code, such as USD or EUR.")
    email, problem = _email(details.email)
    if problem:
        errors["email"] = problem
    phone, problem = _phone(details.phone, details.address.country)
    if problem:
        errors["phone"] = problem
    website, problem = _website(details.website)
    if problem:
        errors["website"] = problem
    address = AddressInput()
    if not details.address.is_empty:
        address, address_errors = _clean_address("address", details.address)
        errors |= address_errors
    shipping = AddressInput()
    if not details.shipping.is_empty:
        shipping, shipping_errors = _clean_address("shipping", details.shipping)
        errors |= shipping_errors
    if errors:
        raise InvalidDetails(errors)
    return replace(
        details,
        display_name=display_name,
        company_name=company_name,
        tax_number=tax_number,
        currency=currency,
        email=email,
        phone=phone,
        website=website,
        address=address,
        shipping=shipping,
    )


def _apply(client: Client, details: ClientInput) -> None:
    client.display_name = details.display_name
    client.company_name = details.company_name
    client.email = details.email
    client.phone = details.phone
    client.website = details.website
    client.tax_number = details.tax_number
    client.currency = details.currency
    client.address_line1 = details.address.line1
    client.address_line2 = details.address.line2
    client.city = details.address.city
    client.region = details.address.region
    client.postal_code = details.address.postal_code
    client.country = details.address.country
    client.shipping_line1 = details.shipping.line1
    client.shipping_line2 = details.shipping.line2
    client.shipping_city = details.shipping.city
    client.shipping_region = details.shipping.region
    client.shipping_postal_code = details.shipping.postal_code
    client.shipping_country = details.shipping.country


def _view(client: Client, balances: ClientBalanceFigures) -> ClientView:
    details = _details(client)
    return ClientView(
        client.id,
        client.public_id,
        details.display_name,
        details.company_name,
        details.email,
        details.phone,
        details.website,
        details.tax_number,
        details.currency,
        details.address,
        balances,
        client.created_at,
        details.shipping,
    )


def _details(client: Client) -> ClientInput:
    return ClientInput(
        client.display_name,
        client.currency,
        client.company_name,
        client.email,
        client.phone,
        client.website,
        client.tax_number,
        AddressInput(
            client.address_line1,
            client.address_line2,
            client.city,
            client.region,
            client.postal_code,
            client.country,
        ),
        AddressInput(
            client.shipping_line1,
            client.shipping_line2,
            client.shipping_city,
            client.shipping_region,
            client.shipping_postal_code,
            client.shipping_country,
        ),
    )


def _balances(session: Session, clients: Iterable[Client]) -> dict[int, ClientBalanceFigures]:
    """The figures ``services.balances.client_balances`` shows, for a page of clients in four queries."""
    currencies = {client.id: client.currency for client in clients}
    ids = list(currencies)
    if not ids:
        return {}

    def summed(column: Any, client_column: Any, *conditions: Any) -> dict[int, int]:
        rows = session.execute(
            select(client_column, func.sum(column))
            .where(client_column.in_(ids), *conditions)
            .group_by(client_column)
        )
        return {client_id: int(total) for client_id, total in rows}

    outstanding = summed(
        Invoice.balance_due_minor,
        Invoice.client_id,
        Invoice.kind == InvoiceKind.INVOICE,
        Invoice.balance_due_minor > 0,
        Invoice.status.in_(PAYABLE_STATUSES),
    )
    credit_notes = summed(
        CreditNote.remaining_minor,
        CreditNote.client_id,
        CreditNote.remaining_minor > 0,
        CreditNote.status == CreditNoteStatus.OPEN,
    )
    unapplied = session.execute(
        select(Payment.client_id, Payment.kind, func.sum(Payment.unapplied_minor))
        .where(
            Payment.client_id.in_(ids),
            Payment.unapplied_minor > 0,
            Payment.status == PaymentStatus.SUCCEEDED,
        )
        .group_by(Payment.client_id, Payment.kind)
    )
    excess: dict[int, int] = {}
    retainer: dict[int, int] = {}
    for client_id, kind, total in unapplied:
        (retainer if kind == PaymentKind.RETAINER else excess)[client_id] = int(total)
    return {
        client_id: ClientBalanceFigures(
            Money(outstanding.get(client_id, 0), currency),
            Money(credit_notes.get(client_id, 0) + excess.get(client_id, 0), currency),
            Money(retainer.get(client_id, 0), currency),
        )
        for client_id, currency in currencies.items()
    }


def invite_client_contact(
    db: Database,
    organization_id: int,
    client_public_id: str,
    *,
    name: str,
    email: str,
    base_url: str,
    invited_by_staff_id: int | None = None,
    clock: Clock = utc_now,
) -> ContactView:
    """Invite a contact person of the business's client to the portal (see ``invite_contact``)."""
    with db.reading() as session:
        client_id = client_id_for(session, organization_id, client_public_id)
    invitation = invite_contact(
        db,
        client_id,
        name=name,
        email=email,
        invited_by_staff_id=invited_by_staff_id,
        base_url=base_url,
        clock=clock,
    )
    contacts = list_contacts(db, organization_id, client_public_id)
    return next(contact for contact in contacts if contact.email == invitation.email)
