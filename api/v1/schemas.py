"""Request and response bodies. Amounts are integers in minor units (``*_minor``) beside a ``currency``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from models import InvoiceKind, InvoiceStatus, PaymentMethodKind
from services.account_details import AddressInput
from services.amount_bounds import MAX_AMOUNT_MINOR
from services.business_documents import CreditNoteView, InvoiceView, LineView, PaymentView
from services.clients import AddressChange, ClientChange, ClientView, ContactView

MAX_MINOR = MAX_AMOUNT_MINOR  # the one bound on amounts, so every sum stays far inside 64 bits
MAX_QUANTITY = 100_000
MAX_LINES = 100
EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)


def _storable(value: str) -> str:
    """Text every database keeps: no NUL (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def _in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


def _moment_in_range(value: datetime) -> datetime:
    _in_range(value.date())
    return value


Storable = AfterValidator(_storable)
Text2 = Annotated[str, StringConstraints(max_length=2), Storable]
Text3 = Annotated[str, StringConstraints(max_length=3), Storable]
Text20 = Annotated[str, StringConstraints(max_length=20), Storable]
Text50 = Annotated[str, StringConstraints(max_length=50), Storable]
Text100 = Annotated[str, StringConstraints(max_length=100), Storable]
Text200 = Annotated[str, StringConstraints(max_length=200), Storable]
Text254 = Annotated[str, StringConstraints(max_length=254), Storable]
Text2000 = Annotated[str, StringConstraints(max_length=2000), Storable]
Text10000 = Annotated[str, StringConstraints(max_length=10_000), Storable]


PublicId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
MinorAmount = Annotated[int, Field(strict=True, ge=0, le=MAX_MINOR)]
PositiveMinorAmount = Annotated[int, Field(strict=True, ge=1, le=MAX_MINOR)]
Percent = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)]
DocumentDate = Annotated[date, AfterValidator(_in_range)]
Moment = Annotated[AwareDatetime, AfterValidator(_moment_in_range)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Clients and contacts


class Address(Body):
    line1: Text200 = ""
    line2: Text200 = ""
    city: Text100 = ""
    region: Text100 = ""
    postal_code: Text20 = ""
    country: Text2 = Field(default="", description="ISO 3166-1 alpha-2 code")

    @classmethod
    def of(cls, address: AddressInput) -> Address:
        return cls(**vars(address))

    def as_input(self) -> AddressInput:
        return AddressInput(**self.model_dump())


class ClientCreate(Body):
    display_name: Text200
    currency: Text3 = Field(description="ISO 4217 code; fixed once the client has a document")
    company_name: Text200 = ""
    email: Text254 = ""
    phone: Text50 = ""
    website: Text200 = ""
    tax_number: Text50 = ""
    address: Address = Field(default_factory=lambda: Address())


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def unless_sent(description: str | None = None) -> Any:
    """A PATCH field: left out, it stays as it is; sent as null, it is refused (422), as its type has no
    None. None is only the marker for "not sent", never validated, and not shown in the schema."""
    return Field(default=None, description=description, json_schema_extra=_no_default)


class AddressUpdate(Body):
    """Only the address fields sent change."""

    line1: Text200 = unless_sent()
    line2: Text200 = unless_sent()
    city: Text100 = unless_sent()
    region: Text100 = unless_sent()
    postal_code: Text20 = unless_sent()
    country: Text2 = unless_sent("ISO 3166-1 alpha-2 code")

    def change(self) -> AddressChange:
        return AddressChange(**self.model_dump(include=self.model_fields_set))


class ClientUpdate(Body):
    """Only the fields sent change; of an address, only its fields sent."""

    display_name: Text200 = unless_sent()
    currency: Text3 = unless_sent()
    company_name: Text200 = unless_sent()
    email: Text254 = unless_sent()
    phone: Text50 = unless_sent()
    website: Text200 = unless_sent()
    tax_number: Text50 = unless_sent()
    address: AddressUpdate = unless_sent()

    def change(self) -> ClientChange:
        sent = self.model_fields_set
        texts = self.model_dump(include=sent - {"address"})
        return ClientChange(**texts, address=self.address.change() if "address" in sent else None)


class Balances(BaseModel):
    currency: str
    outstanding_minor: int
    credits_minor: int
    retainer_minor: int


class ClientOut(BaseModel):
    id: str
    display_name: str
    company_name: str
    email: str
    phone: str
    website: str
    tax_number: str
    currency: str
    address: Address
    balances: Balances
    created_at: datetime

    @classmethod
    def of(cls, view: ClientView) -> ClientOut:
        return cls(
            id=view.public_id,
            display_name=view.display_name,
            company_name=view.company_name,
            email=view.email,
            phone=view.phone,
            website=view.website,
            tax_number=view.tax_number,
            currency=view.currency,
            address=Address.of(view.address),
            balances=Balances(
                currency=view.currency,
                outstanding_minor=view.balances.outstanding.minor,
                credits_minor=view.balances.credits.minor,
                retainer_minor=view.balances.retainer.minor,
            ),
            created_at=view.created_at,
        )


class ContactCreate(Body):
    name: Text200
    email: Text254


class ContactOut(BaseModel):
    id: str
    name: str
    email: str
    phone: str
    has_login: bool
    is_active: bool
    invited_at: datetime | None
    last_login_at: datetime | None

    @classmethod
    def of(cls, view: ContactView) -> ContactOut:
        return cls(id=view.public_id, **{k: v for k, v in vars(view).items() if k != "public_id"})


# Documents


class LineIn(Body):
    description: Text2000
    quantity: Annotated[Decimal, Field(gt=0, le=MAX_QUANTITY, max_digits=10, decimal_places=4)]
    unit_price_minor: MinorAmount
    discount_percent: Percent = Decimal(0)
    tax_rate_percent: Percent = Decimal(0)
    tax_name: Text50 = ""


class LineOut(BaseModel):
    description: str
    quantity: Decimal
    unit_price_minor: int
    discount_percent: Decimal
    tax_name: str
    tax_rate_percent: Decimal
    amount_minor: int
    discount_minor: int
    tax_minor: int

    @classmethod
    def of(cls, line: LineView) -> LineOut:
        return cls(**vars(line))


class InvoiceCreate(Body):
    client_id: PublicId
    kind: InvoiceKind = InvoiceKind.INVOICE
    issue_date: DocumentDate | None = Field(default=None, description="today when left out")
    due_date: DocumentDate | None = Field(
        default=None, description="after the business's payment terms when left out"
    )
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    notes: Text10000 = ""
    terms: Text10000 = ""


class InvoiceOut(BaseModel):
    id: str
    number: str
    kind: InvoiceKind
    status: InvoiceStatus
    client_id: str
    currency: str
    issue_date: date
    due_date: date
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    balance_due_minor: int
    notes: str
    terms: str
    lines: list[LineOut]
    sent_at: datetime | None
    voided_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: InvoiceView) -> InvoiceOut:
        values = {
            k: v for k, v in vars(view).items() if k not in ("id", "public_id", "client_public_id", "lines")
        }
        return cls(
            id=view.public_id,
            client_id=view.client_public_id,
            lines=[LineOut.of(line) for line in view.lines],
            **values,
        )


class CreditNoteCreate(Body):
    client_id: PublicId
    issue_date: DocumentDate | None = Field(default=None, description="today when left out")
    reason: Text10000 = ""
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)


class CreditNoteOut(BaseModel):
    id: str
    number: str
    status: Literal["draft", "open", "closed", "void"]
    client_id: str
    currency: str
    issue_date: date
    reason: str
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    total_minor: int
    remaining_minor: int
    lines: list[LineOut]
    issued_at: datetime | None
    voided_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: CreditNoteView) -> CreditNoteOut:
        values = {
            k: v for k, v in vars(view).items() if k not in ("id", "public_id", "client_public_id", "lines")
        }
        return cls(
            id=view.public_id,
            client_id=view.client_public_id,
            lines=[LineOut.of(line) for line in view.lines],
            **values,
        )


# Payments

OfflineMethod = Literal[
    PaymentMethodKind.CASH, PaymentMethodKind.CHEQUE, PaymentMethodKind.BANK_TRANSFER, PaymentMethodKind.OTHER
]


class PaymentCreate(Body):
    client_id: PublicId
    amount_minor: PositiveMinorAmount
    currency: CurrencyCode = Field(description="must be the client's currency")
    method: OfflineMethod
    received_at: Moment | None = Field(default=None, description="now when left out")
    reference: Text100 = ""
    allocations: dict[PublicId, PositiveMinorAmount] = Field(
        default_factory=dict,
        max_length=MAX_LINES,
        description="invoice id -> amount in minor units; what is left over is kept as credit",
    )
    retainer_invoice_id: PublicId | None = Field(
        default=None, description="pays this retainer invoice instead of invoices; leave allocations empty"
    )


class AllocationOut(BaseModel):
    invoice_id: str
    invoice_number: str
    amount_minor: int


class PaymentOut(BaseModel):
    id: str
    receipt_number: str | None
    status: str
    kind: str
    client_id: str
    currency: str
    amount_minor: int
    unapplied_minor: int
    method: str
    reference: str
    retainer_invoice_id: str | None
    allocations: list[AllocationOut]
    received_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, view: PaymentView) -> PaymentOut:
        return cls(
            id=view.public_id,
            receipt_number=view.receipt_number,
            status=view.status,
            kind=view.kind,
            client_id=view.client_public_id,
            currency=view.currency,
            amount_minor=view.amount_minor,
            unapplied_minor=view.unapplied_minor,
            method=view.method,
            reference=view.reference,
            retainer_invoice_id=view.retainer_invoice_public_id,
            allocations=[
                AllocationOut(
                    invoice_id=a.invoice_public_id,
                    invoice_number=a.invoice_number,
                    amount_minor=a.amount_minor,
                )
                for a in view.allocations
            ],
            received_at=view.received_at,
            created_at=view.created_at,
        )


# Lists


class ClientList(BaseModel):
    data: list[ClientOut]
    next_cursor: str | None


class ContactList(BaseModel):
    data: list[ContactOut]


class InvoiceList(BaseModel):
    data: list[InvoiceOut]
    next_cursor: str | None


class CreditNoteList(BaseModel):
    data: list[CreditNoteOut]
    next_cursor: str | None


class PaymentList(BaseModel):
    data: list[PaymentOut]
    next_cursor: str | None
