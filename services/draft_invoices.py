"""Draft invoices as the back office's editor makes them: typed lines read, checked, saved and replaced.

A draft is the business's work in progress: it may be saved without lines, but it is sent only with
some (``services.invoices.issue``). Only drafts are edited; once sent, history is never rewritten.
Every check is made before anything is written, and each error names its field (``client``,
``issue_date``, ``due_date``, ``line 1`` ...) so the editor shows it where it belongs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Invoice, InvoiceKind, InvoiceStatus, Organization
from services.business_documents import InvoiceView, get_invoice
from services.clients import client_id_for
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, InvalidStatusChange, NotFound
from services.invoices import add_draft, replace_lines
from services.money import UnknownCurrency, exponent
from services.records import get_client
from services.totals import HUNDRED, InvalidLine, LineInput, line_totals

QUANTITY_DECIMALS = 4  # the stored precision of quantities, discounts and tax rates
MAX_QUANTITY = Decimal("9999999999")  # Numeric(14, 4)
MAX_RATE_MINOR = 10**15  # far above any invoice line, far below BigInteger's limit
TOO_LARGE = Decimal(10) ** 12
MAX_LINES = 200
MAX_TEXT_LENGTH = 5000  # notes, terms and a line's description


@dataclass(frozen=True)
class DraftDefaults:
    """What a new invoice starts with: the business's payment terms, notes and terms."""

    issue_date: date
    due_date: date
    payment_terms_days: int
    notes: str
    terms: str


def line_key(position: int) -> str:
    """The error key of the line at ``position`` (1 for the first line)."""
    return f"line {position}"


def draft_defaults(db: Database, organization_id: int, *, today: date) -> DraftDefaults:
    with db.reading() as session:
        organization = session.get_one(Organization, organization_id)
        days = organization.payment_terms_days
        return DraftDefaults(
            today, today + timedelta(days=days), days, organization.default_notes, organization.default_terms
        )


def parse_line(
    *,
    description: str,
    quantity: str,
    rate: str,
    discount_percent: str,
    tax_name: str,
    tax_rate_percent: Decimal,
    currency: str,
) -> LineInput:
    """A line as typed in the editor (rate in major units, "19.99"), read exactly, never via float.

    Raises ``InvalidDetails`` keyed ``quantity``, ``rate`` or ``discount`` for text that is not a
    number the line can carry; the line's own rules (quantity above zero ...) are ``line_totals``'.
    """
    errors: dict[str, str] = {}
    amount = _number(quantity, "quantity", QUANTITY_DECIMALS, errors, empty="Enter a quantity.")
    price = _number(rate, "rate", _decimals(currency), errors, empty="Enter a rate.")
    discount = _number(discount_percent or "0", "discount", QUANTITY_DECIMALS, errors, empty="")
    if amount is not None and abs(amount) > MAX_QUANTITY:
        errors["quantity"] = "The quantity is too large."
    rate_minor = 0 if price is None else int(price.scaleb(_decimals(currency)))
    if abs(rate_minor) > MAX_RATE_MINOR:
        errors["rate"] = "The rate is too large."
    if errors or amount is None or discount is None:
        raise InvalidDetails(errors)
    return LineInput(description.strip(), amount, rate_minor, discount, tax_rate_percent, tax_name)


def line_problem(line: LineInput, position: int) -> str | None:
    """What is wrong with a line, as a sentence, or None when it can be saved."""
    try:
        line_totals(line, position)
    except InvalidLine as error:
        return f"The {error.field} {error.problem}."
    if len(line.description) > MAX_TEXT_LENGTH:
        return f"The description can be at most {MAX_TEXT_LENGTH:,} characters long."
    return None


def editable_draft(db: Database, organization_id: int, public_id: str) -> InvoiceView:
    """The business's draft to edit; ``InvalidStatusChange`` once it was sent (or voided)."""
    invoice = get_invoice(db, organization_id, public_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise InvalidStatusChange("invoice", invoice.number, invoice.status, "edited")
    return invoice


def create_draft(
    db: Database,
    organization_id: int,
    *,
    client_public_id: str,
    kind: InvoiceKind,
    issue_date: date,
    due_date: date,
    lines: Sequence[LineInput],
    notes: str = "",
    terms: str = "",
    clock: Clock = utc_now,
) -> InvoiceView:
    """Save a new draft invoice or retainer invoice. Raises ``InvalidDetails`` and writes nothing
    when the client is missing, the due date is before the issue date or a line is wrong."""
    _check(client_public_id, issue_date, due_date, lines, notes, terms)
    with db.transaction() as session:
        invoice = add_draft(
            session,
            client_id=_client_id(session, organization_id, client_public_id),
            lines=lines,
            issue_date=issue_date,
            due_date=due_date,
            kind=kind,
            notes=notes,
            terms=terms,
            now=clock(),
        )
        public_id = invoice.public_id
    return get_invoice(db, organization_id, public_id)


def update_draft(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    client_public_id: str,
    issue_date: date,
    due_date: date,
    lines: Sequence[LineInput],
    notes: str = "",
    terms: str = "",
) -> InvoiceView:
    """Replace a draft's client, dates, lines and texts, and recompute its stored totals.

    One transaction with the invoice row locked, so a send in between cannot slip past: an invoice
    that is no longer a draft is refused (``InvalidStatusChange``) and left as it is. The kind and the
    number stay. Raises ``InvalidDetails`` as ``create_draft`` does.
    """
    _check(client_public_id, issue_date, due_date, lines, notes, terms)
    with db.transaction() as session:
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.organization_id == organization_id, Invoice.public_id == public_id)
            .options(selectinload(Invoice.lines))
            .with_for_update()
        ).one_or_none()
        if invoice is None:
            raise NotFound("invoice", public_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise InvalidStatusChange("invoice", invoice.number, invoice.status, "edited")
        client = get_client(session, _client_id(session, organization_id, client_public_id))
        invoice.client_id = client.id
        invoice.currency = client.currency
        invoice.issue_date = issue_date
        invoice.due_date = due_date
        invoice.notes = notes
        invoice.terms = terms
        replace_lines(invoice, lines)
    return get_invoice(db, organization_id, public_id)


def _check(
    client_public_id: str,
    issue_date: date,
    due_date: date,
    lines: Sequence[LineInput],
    notes: str,
    terms: str,
) -> None:
    errors: dict[str, str] = {}
    if not client_public_id:
        errors["client"] = "Choose a client."
    if due_date < issue_date:
        errors["due_date"] = "The due date cannot be before the issue date."
    if len(lines) > MAX_LINES:
        errors["lines"] = f"An invoice can have at most {MAX_LINES} lines."
    for position, line in enumerate(lines, start=1):
        problem = line_problem(line, position)
        if problem:
            errors[line_key(position)] = problem
    for field, text in (("notes", notes), ("terms", terms)):
        if len(text) > MAX_TEXT_LENGTH:
            errors[field] = f"The {field} can be at most {MAX_TEXT_LENGTH:,} characters long."
    if errors:
        raise InvalidDetails(errors)


def _client_id(session: Session, organization_id: int, client_public_id: str) -> int:
    try:
        return client_id_for(session, organization_id, client_public_id)
    except NotFound:
        raise InvalidDetails({"client": "Choose a client of the business."}) from None


def _decimals(currency: str) -> int:
    try:
        return exponent(currency)
    except UnknownCurrency:
        return 2


def _number(text: str, field: str, decimals: int, errors: dict[str, str], *, empty: str) -> Decimal | None:
    # A comma is refused rather than guessed at: "1,250" is 1250 to some and 1.25 to others.
    cleaned = text.strip()
    if not cleaned:
        if empty:
            errors[field] = empty
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        errors[field] = "Enter a number, such as 2 or 19.99."
        return None
    if not value.is_finite():
        errors[field] = "Enter a number, such as 2 or 19.99."
        return None
    if abs(value) >= TOO_LARGE:  # checked first: quantizing a huge number overflows the context
        errors[field] = f"The {field} is too large."
        return None
    if value != value.quantize(Decimal(1).scaleb(-decimals)):
        errors[field] = (
            f"Enter the {field} with at most {decimals} decimal{'s' if decimals != 1 else ''}."
            if decimals
            else f"Enter the {field} as a whole number."
        )
        return None
    if field == "discount" and not (0 <= value <= HUNDRED):
        errors[field] = "The discount must be between 0 and 100 %."
        return None
    return value
