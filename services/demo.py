"""Demo data for ``python app.py --demo``: one business, two customers and a year of history.

Everything is made through the same services the portal uses, so the demo's figures obey the same
accounting rules as real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text

from models import (
    Client,
    Invoice,
    InvoiceKind,
    Organization,
    PaymentKind,
    PaymentMethodKind,
    PortalUser,
    Quote,
    QuoteStatus,
    RefundSource,
    StaffUser,
)
from services.clock import Clock, utc_now
from services.comments import add_comment, reply_as_business
from services.credit_notes import issue_credit_note
from services.credits import apply_to_invoice
from services.database import Database
from services.invoices import create_invoice, mark_viewed, send_invoice, void_invoice
from services.money import Money
from services.passwords import hash_password
from services.payments import record_payment
from services.principal import Principal
from services.quotes import create_quote
from services.records import DocumentRef
from services.totals import LineInput

CUSTOMER_EMAIL = "demo@client.example"
OTHER_CUSTOMER_EMAIL = "other@client.example"
CUSTOMER_PASSWORD = "Demo-Portal-2026"  # noqa: S105 - published demo login
OWNER_EMAIL = "owner@business.example"
OWNER_PASSWORD = "Demo-Owner-2026"  # noqa: S105 - published demo login

# Instances started at once with --demo on one PostgreSQL database fill it one after the other: "portal"
# and this use's number (services.database's MIGRATION_LOCK is "portal" alone; 02 was payment settling's).
DEMO_LOCK = 0x706F7274616C03


@dataclass(frozen=True)
class _Method:
    method: PaymentMethodKind
    gateway: str
    brand: str = ""
    last4: str = ""


_METHODS = {
    "card": _Method(PaymentMethodKind.CARD, "sandbox", "Visa", "4242"),
    "bank": _Method(PaymentMethodKind.BANK_ACCOUNT, "sandbox", "SEPA Direct Debit", "3000"),
    "transfer": _Method(PaymentMethodKind.BANK_TRANSFER, "offline"),
}


def _fixed(moment: datetime) -> Clock:
    return lambda: moment


def _at(day: date) -> datetime:
    """Demo events happen at half past ten, UTC."""
    return datetime.combine(day, time(10, 30), tzinfo=UTC)


@dataclass(frozen=True)
class DemoLogins:
    customer: tuple[str, str]
    other_customer: tuple[str, str]
    owner: tuple[str, str]


@dataclass(frozen=True)
class _InvoiceSpec:
    days_ago: int
    description: str
    quantity: str
    rate: int  # minor units
    term_days: int = 30
    paid: str = ""  # "", "full", "part", "excess"
    method: str = "card"
    viewed: bool = False
    void: bool = False


_MAIN_INVOICES = (
    _InvoiceSpec(350, "Brand identity workshop", "1", 240000, paid="full", viewed=True),
    _InvoiceSpec(320, "Website design, phase 1", "1", 480000, paid="full", method="bank", viewed=True),
    _InvoiceSpec(290, "Website maintenance (hours)", "6", 9500, paid="full", viewed=True),
    _InvoiceSpec(260, "Product photography", "1", 85000, paid="excess", viewed=True),
    _InvoiceSpec(230, "Print collateral", "500", 180, paid="full", method="transfer", viewed=True),
    _InvoiceSpec(200, "Website maintenance (hours)", "4", 9500, void=True),
    _InvoiceSpec(170, "SEO audit", "1", 120000, paid="full", viewed=True),
    _InvoiceSpec(140, "Newsletter templates", "3", 45000, paid="part", method="bank", viewed=True),
    _InvoiceSpec(110, "Website maintenance (hours)", "5", 9500, viewed=True),
    _InvoiceSpec(80, "Social media kit", "1", 64000),
    _InvoiceSpec(60, "Hosting renewal (12 months)", "1", 36000, viewed=True),
    _InvoiceSpec(40, "Website maintenance (hours)", "8", 9500, term_days=45, viewed=True),
    _InvoiceSpec(20, "Landing page design", "1", 150000),
    _InvoiceSpec(10, "Website maintenance (hours)", "3", 9500, viewed=True),
    _InvoiceSpec(3, "Consulting (hours)", "2.5", 14000),
)

_OTHER_INVOICES = (
    _InvoiceSpec(90, "Translation, 4,000 words", "4000", 12, paid="full"),
    _InvoiceSpec(50, "Proofreading (hours)", "6", 5500),
    _InvoiceSpec(12, "Localisation review", "1", 42000),
)


def seed_demo(db: Database, *, clock: Clock = utc_now, password_rounds: int = 12) -> DemoLogins | None:
    """Fill an empty database with the demo business; a database with any data is left untouched.

    Several instances may run this at once on one database: on PostgreSQL the first to take ``DEMO_LOCK``
    fills it while the others wait, then find it filled. (On SQLite the demo's first transaction looks
    again, holding the write lock, so a second process finds the business the first one made.)
    """
    with _one_at_a_time(db):
        with db.reading() as session:
            if session.scalar(select(func.count()).select_from(Organization)):
                return None
        return _fill(db, clock, password_rounds)


@contextmanager
def _one_at_a_time(db: Database) -> Iterator[None]:
    """A session-level advisory lock held on a connection of its own for the block (PostgreSQL only)."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": DEMO_LOCK})
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": DEMO_LOCK})


class _AlreadyFilled(Exception):
    """Another process made the demo business first (SQLite, see ``seed_demo``)."""


def _fill(db: Database, clock: Clock, password_rounds: int) -> DemoLogins | None:
    now = clock()
    today = now.date()
    try:
        organization_id, main_id, other_id, main_user_id = _people(db, now, password_rounds)
    except _AlreadyFilled:
        return None

    def days_ago(days: int) -> datetime:
        return _at(today - timedelta(days=days))

    main_refs = _invoices(db, main_id, _MAIN_INVOICES, today)
    _invoices(db, other_id, _OTHER_INVOICES, today)

    # A retainer paid up front and partly used, and one still waiting for payment.
    retainer = _document(
        db,
        main_id,
        today - timedelta(days=150),
        "Retainer for 2026 support",
        100000,
        kind=InvoiceKind.RETAINER,
    )
    record_payment(
        db,
        client_id=main_id,
        amount=Money(100000, "USD"),
        kind=PaymentKind.RETAINER,
        retainer_invoice_id=retainer.id,
        received_at=days_ago(146),
        portal_user_id=main_user_id,
        clock=_fixed(days_ago(146)),
        **_method("card"),
    )
    _document(
        db,
        main_id,
        today - timedelta(days=15),
        "Retainer for the Q1 campaign",
        50000,
        kind=InvoiceKind.RETAINER,
    )
    maintenance = main_refs[11]
    apply_to_invoice(
        db,
        client_id=main_id,
        invoice_id=maintenance.id,
        amount=Money(30000, "USD"),
        source=RefundSource.RETAINER,
        clock=_fixed(days_ago(30)),
    )

    # A credit note for a late delivery, partly applied to the hosting renewal.
    issue_credit_note(
        db,
        client_id=main_id,
        issue_date=today - timedelta(days=90),
        lines=[LineInput("Goodwill credit for the delayed photo shoot", Decimal(1), 12000)],
        reason="Delivery was two weeks late.",
        clock=_fixed(days_ago(90)),
    )
    apply_to_invoice(
        db,
        client_id=main_id,
        invoice_id=main_refs[10].id,
        amount=Money(5000, "USD"),
        source=RefundSource.CREDIT,
        clock=_fixed(days_ago(55)),
    )

    # A draft the customer must never see.
    create_invoice(
        db,
        client_id=main_id,
        lines=[LineInput("Brochure redesign (draft)", Decimal(1), 99000)],
        issue_date=today,
        due_date=today + timedelta(days=30),
        clock=clock,
    )

    _comments(db, organization_id, main_user_id, main_refs, today)
    _quote(db, organization_id, main_id, today, now)
    return DemoLogins(
        customer=(CUSTOMER_EMAIL, CUSTOMER_PASSWORD),
        other_customer=(OTHER_CUSTOMER_EMAIL, CUSTOMER_PASSWORD),
        owner=(OWNER_EMAIL, OWNER_PASSWORD),
    )


def _people(db: Database, now: datetime, rounds: int) -> tuple[int, int, int, int]:
    customer_hash = hash_password(CUSTOMER_PASSWORD, rounds=rounds)
    owner_hash = hash_password(OWNER_PASSWORD, rounds=rounds)
    with db.transaction() as session:  # (on SQLite it holds the write lock from its start)
        if session.scalar(select(func.count()).select_from(Organization)):
            raise _AlreadyFilled
        organization = Organization(
            name="Northwind Design Studio",
            email="hello@northwind.example",
            phone="+1 415 555 0142",
            website="https://northwind.example",
            address_line1="500 Market Street",
            address_line2="Suite 210",
            city="San Francisco",
            region="CA",
            postal_code="94105",
            country="US",
            default_currency="USD",
            is_demo=True,
            created_at=now,
        )
        session.add(organization)
        session.flush()
        session.add(
            StaffUser(
                organization_id=organization.id,
                name="Olivia Owner",
                email=OWNER_EMAIL,
                password_hash=owner_hash,
                created_at=now,
            )
        )
        main = Client(
            organization_id=organization.id,
            display_name="Bluebird Cafe",
            company_name="Bluebird Cafe LLC",
            email="accounts@bluebird.example",
            phone="+1 415 555 0199",
            address_line1="18 Harbor Road",
            city="Oakland",
            region="CA",
            postal_code="94607",
            country="US",
            currency="USD",
            created_at=now,
        )
        other = Client(
            organization_id=organization.id,
            display_name="Kowalski Translations",
            company_name="Kowalski Translations GmbH",
            email="office@kowalski.example",
            address_line1="Torstraße 12",
            city="Berlin",
            postal_code="10119",
            country="DE",
            currency="EUR",
            created_at=now,
        )
        session.add_all([main, other])
        session.flush()
        main_user = PortalUser(
            client_id=main.id,
            name="Dana Demo",
            email=CUSTOMER_EMAIL,
            phone="+1 415 555 0123",
            password_hash=customer_hash,
            created_at=now,
        )
        session.add_all(
            [
                main_user,
                PortalUser(
                    client_id=other.id,
                    name="Otto Other",
                    email=OTHER_CUSTOMER_EMAIL,
                    password_hash=customer_hash,
                    created_at=now,
                ),
            ]
        )
        session.flush()
        return organization.id, main.id, other.id, main_user.id


def _method(name: str) -> dict[str, Any]:
    method = _METHODS[name]
    return {"method": method.method, "gateway": method.gateway, "brand": method.brand, "last4": method.last4}


def _document(
    db: Database,
    client_id: int,
    issued: date,
    description: str,
    rate: int,
    *,
    kind: InvoiceKind = InvoiceKind.INVOICE,
    quantity: str = "1",
    term_days: int = 30,
) -> DocumentRef:
    stamp = _at(issued)
    ref = create_invoice(
        db,
        client_id=client_id,
        kind=kind,
        issue_date=issued,
        due_date=issued + timedelta(days=term_days),
        lines=[
            LineInput(
                description,
                Decimal(quantity),
                rate,
                tax_name="Sales tax" if kind == InvoiceKind.INVOICE else "",
                tax_rate_percent=Decimal(8) if kind == InvoiceKind.INVOICE else Decimal(0),
            )
        ],
        terms="Payment due within the stated term. Thank you for your business.",
        clock=_fixed(stamp),
    )
    send_invoice(db, ref.id, clock=_fixed(stamp))
    return ref


def _invoices(
    db: Database, client_id: int, specs: tuple[_InvoiceSpec, ...], today: date
) -> list[DocumentRef]:
    refs = []
    with db.reading() as session:
        currency = session.get_one(Client, client_id).currency
    for spec in specs:
        issued = today - timedelta(days=spec.days_ago)
        ref = _document(
            db,
            client_id,
            issued,
            spec.description,
            spec.rate,
            quantity=spec.quantity,
            term_days=spec.term_days,
        )
        refs.append(ref)
        seen = _at(issued + timedelta(days=2))
        if spec.viewed or spec.paid:
            mark_viewed(db, ref.id, clock=_fixed(seen))
        if spec.void:
            void_invoice(db, ref.id, clock=_fixed(seen))
        if spec.paid:
            total = _total(db, ref.id)
            amount = {"full": total, "part": total // 2, "excess": total + 5000}[spec.paid]
            paid_at = _at(issued + timedelta(days=12))
            record_payment(
                db,
                client_id=client_id,
                amount=Money(amount, currency),
                received_at=paid_at,
                allocations={ref.id: min(amount, total)},
                clock=_fixed(paid_at),
                **_method(spec.method),
            )
    return refs


def _total(db: Database, invoice_id: int) -> int:
    with db.reading() as session:
        return session.get_one(Invoice, invoice_id).total_minor


def _comments(db: Database, organization_id: int, user_id: int, refs: list[DocumentRef], today: date) -> None:
    thread = (
        (
            refs[7],
            130,
            "We paid half now; the rest follows at the end of next month. Is that OK?",
            "Yes, that's fine. Thank you for letting us know!",
        ),
        (
            refs[9],
            75,
            "Could you add our purchase order number PO-4471 to this invoice?",
            "Done: PO-4471 is noted on the invoice. Thanks!",
        ),
    )
    with db.reading() as session:
        owner_id = session.scalars(
            select(StaffUser.id).where(StaffUser.organization_id == organization_id)
        ).one()
        user = session.get_one(PortalUser, user_id)
        customer = Principal(user.id, user.client_id, organization_id, user.name, user.email, session_id=0)
    for ref, days_ago, question, answer in thread:
        asked = _at(today - timedelta(days=days_ago))
        add_comment(db, customer, ref.public_id, question, clock=_fixed(asked))
        reply_as_business(
            db,
            staff_user_id=owner_id,
            invoice_id=ref.id,
            body=answer,
            clock=_fixed(asked + timedelta(hours=3)),
        )


def _quote(db: Database, organization_id: int, client_id: int, today: date, now: datetime) -> None:
    """A quote waiting for the demo customer's answer, with a deposit: Accept makes a retainer invoice.

    Marked sent without its e-mail, as the demo's invoices are issued without theirs."""
    with db.reading() as session:
        client_public_id = session.get_one(Client, client_id).public_id
    public_id = create_quote(
        db,
        organization_id,
        client_public_id=client_public_id,
        issue_date=today,
        valid_until=today + timedelta(days=30),
        deposit_percent=Decimal(25),
        lines=[
            LineInput("Website redesign, phase 2: design", Decimal(1), 240000),
            LineInput("Online ordering page", Decimal(1), 85000, Decimal(10)),
        ],
        notes="We can start two weeks after your go-ahead.",
        clock=lambda: now,
    )
    with db.transaction() as session:
        quote = session.scalars(select(Quote).where(Quote.public_id == public_id)).one()
        quote.status = QuoteStatus.SENT
        quote.sent_at = now
