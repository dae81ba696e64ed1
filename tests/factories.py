"""Test data: an organization, clients and documents made through the real services."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from models import Client, Organization, PortalUser
from services.database import Database
from services.invoices import create_invoice, send_invoice
from services.passwords import hash_password
from services.principal import Principal
from services.records import DocumentRef
from services.totals import LineInput

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def fixed_clock() -> datetime:
    return NOW


def make_organization(db: Database, name: str = "Acme Studio") -> int:
    with db.transaction() as session:
        organization = Organization(
            name=name,
            email="hello@acme.example",
            phone="+1 555 0100",
            website="https://acme.example",
            address_line1="1 Main Street",
            city="Springfield",
            postal_code="12345",
            country="US",
            created_at=NOW,
        )
        session.add(organization)
        session.flush()
        return organization.id


def make_client(
    db: Database, organization_id: int, *, currency: str = "USD", name: str = "Client Ltd"
) -> int:
    with db.transaction() as session:
        client = Client(
            organization_id=organization_id,
            display_name=name,
            company_name=name,
            email=f"billing@{name.lower().replace(' ', '')}.example",
            currency=currency,
            created_at=NOW,
        )
        session.add(client)
        session.flush()
        return client.id


def make_portal_user(
    db: Database, client_id: int, email: str, password: str = "Correct-Horse-9", *, rounds: int = 4
) -> int:
    with db.transaction() as session:
        user = PortalUser(
            client_id=client_id,
            name=email.split("@")[0].title(),
            email=email,
            password_hash=hash_password(password, rounds=rounds),
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return user.id


def make_customer(
    db: Database,
    organization_id: int | None = None,
    *,
    name: str = "Client Ltd",
    email: str = "ann@client.example",
    currency: str = "USD",
) -> Principal:
    """A client with one signed-in contact, as the services see them (in a new business by default)."""
    organization_id = organization_id or make_organization(db)
    client_id = make_client(db, organization_id, name=name, currency=currency)
    user_id = make_portal_user(db, client_id, email)
    return Principal(user_id, client_id, organization_id, email.split("@")[0].title(), email, user_id)


def make_sent_invoice(
    db: Database,
    client_id: int,
    amount_minor: int,
    *,
    due_in_days: int = 30,
    issue_date: date = TODAY,
) -> DocumentRef:
    ref = create_invoice(
        db,
        client_id=client_id,
        lines=[LineInput("Services", Decimal(1), amount_minor)],
        issue_date=issue_date,
        due_date=issue_date + timedelta(days=due_in_days),
        clock=fixed_clock,
    )
    send_invoice(db, ref.id, clock=fixed_clock)
    return ref


class Clock:
    """A clock tests set and move by hand."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
