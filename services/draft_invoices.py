"""Draft invoices as the back office's editor makes them: typed lines read, checked, saved and replaced.

A draft is the business's work in progress: it may be saved without lines, but it is sent only with
some (``services.invoices.issue``). Only drafts are edited; once sent, history is never rewritten.
Every check is made before anything is written, and each error names its field (``client``,
``issue_date``, ``due_date``, ``line 1`` ...) so the editor shows it where it belongs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Invoice, InvoiceKind, InvoiceStatus, Organization
from services.amount_bounds import MAX_AMOUNT_MINOR, check_document, check_line
from services.amount_input import read_amount, read_number
from services.business_documents import InvoiceView, get_invoice
from services.clients import client_id_for
from services.clock import Clock, utc_now
from services.database import Database
from services.dates import zone
from services.errors import (
    AmountTooLarge,
    InvalidDetails,
    InvalidNumber,
    InvalidStatusChange,
    NotFound,
    human_message,
)
from services.i18n import _, formatting_locale
from services.i18n.terms import term
from services.invoices import add_draft, replace_lines
from services.money import DEFAULT_LOCALE, Money
from services.records import get_client
from services.totals import HUNDRED, InvalidLine, LineInput, document_totals, line_totals

QUANTITY_DECIMALS = 4  # the stored precision of quantities, discounts and tax rates
STORED_STEP = Decimal(1).scaleb(-QUANTITY_DECIMALS)
MAX_QUANTITY = Decimal("9999999999")  # Numeric(14, 4); rates and amounts have ``services.amount_bounds``
MAX_LINES = 200
Number = TypeVar("Number", Decimal, Money)
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


def draft_defaults(db: Database, organization_id: int, *, now: datetime) -> DraftDefaults:
    """A new document's dates start on the business's day (in its time zone, not the server's or UTC's:
    the first invoice of a recurring profile may not start before it), with its terms and texts."""
    with db.reading() as session:
        organization = session.get_one(Organization, organization_id)
        today = now.astimezone(zone(organization.time_zone)).date()
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
    locale: str,
) -> LineInput:
    """A line as typed in the editor, its numbers written as ``locale`` writes them ("19,99" in de_DE,
    rate in major units) and read by ``services.amount_input``: exactly, never via float or a guess.

    Raises ``InvalidDetails`` keyed ``quantity``, ``rate`` or ``discount`` with the sentence for each
    number that cannot be read; the line's own rules (quantity above zero ...) are ``line_totals``'.
    """
    errors: dict[str, str] = {}

    def read(field: str, reader: Callable[[], Number]) -> Number | None:
        try:
            return reader()
        except InvalidNumber as error:
            errors[field] = human_message(error)
            return None

    def percent_or_count(field: str, text: str, most: Decimal) -> Decimal:
        return read_number(text, locale, field=field, decimals=QUANTITY_DECIMALS, most=most)

    amount = read("quantity", lambda: percent_or_count("quantity", quantity, MAX_QUANTITY))
    price = read("rate", lambda: read_amount(rate, currency, locale, field="rate"))
    discount = read(
        "discount", lambda: percent_or_count("discount", discount_percent.strip() or "0", HUNDRED)
    )
    if errors or amount is None or price is None or discount is None:
        raise InvalidDetails(errors)
    return LineInput(description.strip(), amount, price.minor, discount, tax_rate_percent, tax_name)


def line_problem(
    line: LineInput, position: int, currency: str = "", locale: str = DEFAULT_LOCALE
) -> str | None:
    """What is wrong with a line, as a sentence, or None when it can be saved.

    With the ``currency``, a rate, amount or tax above the bound of ``services.amount_bounds`` is
    wrong too (saving checks that in any case, once the client's currency is certain).
    """
    # Past these, the line could not even be priced (28 significant digits); the bounds below are far lower.
    if line.quantity.is_finite() and line.quantity > MAX_QUANTITY:
        return _("The {field} {problem}.").format(field=term("quantity"), problem=term("is too large"))
    if line.unit_price_minor > MAX_AMOUNT_MINOR:
        return _("The {field} {problem}.").format(field=term("rate"), problem=term("is too large"))
    try:
        totals = line_totals(line, position)
        if currency:
            check_line(line, totals, currency, position)
    except InvalidLine as error:
        return _("The {field} {problem}.").format(field=term(error.field), problem=term(error.problem))
    except AmountTooLarge as error:
        return human_message(AmountTooLarge(error.name, error.amount, error.limit), locale=locale)
    # The lines keep four decimals: a finer number would price the document on what its stored lines
    # (and an invoice made from them) do not add up to.
    for field, value in (
        ("quantity", line.quantity),
        ("discount", line.discount_percent),
        ("tax rate", line.tax_rate_percent),
    ):
        if value != value.quantize(STORED_STEP):
            refused = InvalidNumber(field, f"{value:f}", "decimals", decimals=QUANTITY_DECIMALS)
            return human_message(refused, locale=locale)
    if len(line.description) > MAX_TEXT_LENGTH:
        return _("The description can be at most {count} characters long.").format(
            count=format_decimal(MAX_TEXT_LENGTH, locale=locale)
        )
    return None


def totals_problem(lines: Sequence[LineInput], currency: str, locale: str = DEFAULT_LOCALE) -> str | None:
    """What is wrong with the totals of lines that are each right: a figure above the bound."""
    try:
        check_document(lines, document_totals(lines, currency))
    except AmountTooLarge as error:
        return human_message(error, locale=locale)
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
            client_id=chosen_client_id(session, organization_id, client_public_id),
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
        client = get_client(session, chosen_client_id(session, organization_id, client_public_id))
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
    errors = document_problems(client_public_id, lines, notes, terms)
    if due_date < issue_date:
        errors["due_date"] = _("The due date cannot be before the issue date.")
    if errors:
        raise InvalidDetails(errors)


def document_problems(
    client_public_id: str, lines: Sequence[LineInput], notes: str, terms: str
) -> dict[str, str]:
    """What is wrong with a draft document's client, lines, notes and terms (an invoice's or a quote's),
    each keyed by its field; empty when they can be saved."""
    errors: dict[str, str] = {}
    if not client_public_id:
        errors["client"] = _("Choose a client.")
    if len(lines) > MAX_LINES:
        errors["lines"] = _("An invoice can have at most {count} lines.").format(
            count=format_decimal(MAX_LINES, locale=formatting_locale())
        )
    for position, line in enumerate(lines, start=1):
        problem = line_problem(line, position)
        if problem:
            errors[line_key(position)] = problem
    most = format_decimal(MAX_TEXT_LENGTH, locale=formatting_locale())
    if len(notes) > MAX_TEXT_LENGTH:
        errors["notes"] = _("The notes can be at most {count} characters long.").format(count=most)
    if len(terms) > MAX_TEXT_LENGTH:
        errors["terms"] = _("The terms can be at most {count} characters long.").format(count=most)
    return errors


def chosen_client_id(session: Session, organization_id: int, client_public_id: str) -> int:
    """The id of the business's client chosen in an editor; ``InvalidDetails`` keyed ``client`` if none."""
    try:
        return client_id_for(session, organization_id, client_public_id)
    except NotFound:
        raise InvalidDetails({"client": _("Choose a client of the business.")}) from None
