"""Settings > Documents: how documents are numbered, what a new invoice starts with, and whether invoice
PDFs are e-invoices (Factur-X / ZUGFeRD: ``services.e_invoice``).

A number is ``prefix`` + ``next_value`` padded with zeros to ``width`` digits ("INV-00042"). Numbers
must never repeat, so the next number can never be set at or below one already given with that
prefix, whether by the sequence itself or by an older document that used the prefix before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import QueryableAttribute, Session

from models import CreditNote, Invoice, NumberSequence, Organization, Payment
from services.audit import record_event
from services.bank_details import vat_id
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.i18n import N_, _
from services.numbering import DEFAULT_PREFIXES

SETTINGS_UPDATED = "business.document_settings_updated"

# Each kind's name, translated where it is shown (``NumberFormat.label``).
KINDS = {
    "invoice": N_("Invoice"),
    "retainer": N_("Retainer invoice"),
    "receipt": N_("Payment receipt"),
    "credit_note": N_("Credit note"),
}
# What a prefix taken by another kind says, by that kind: set already, and chosen for both now.
_PREFIX_TAKEN = {
    "invoice": (
        N_("Invoices use this prefix already; choose another."),
        N_("Invoices use this prefix too; choose another."),
    ),
    "retainer": (
        N_("Retainer invoices use this prefix already; choose another."),
        N_("Retainer invoices use this prefix too; choose another."),
    ),
    "receipt": (
        N_("Payment receipts use this prefix already; choose another."),
        N_("Payment receipts use this prefix too; choose another."),
    ),
    "credit_note": (
        N_("Credit notes use this prefix already; choose another."),
        N_("Credit notes use this prefix too; choose another."),
    ),
}
DEFAULT_WIDTH = 5
MAX_PREFIX_LENGTH = 12
MIN_WIDTH, MAX_WIDTH = 1, 10
MAX_NEXT_VALUE = 10**12  # numbers are stored as text of at most 40 characters
MAX_TERMS_DAYS = 365
MAX_TEXT_LENGTH = 5000
_PREFIX = re.compile(r"[A-Za-z0-9/.\-]*")


@dataclass(frozen=True)
class NumberFormat:
    kind: str  # invoice | retainer | receipt | credit_note
    prefix: str
    width: int
    next_value: int
    lowest_next_value: int  # the next number may not be set below this: lower ones were given already

    @property
    def label(self) -> str:
        """The kind's name in the reader's language."""
        return _(KINDS[self.kind])

    @property
    def example(self) -> str:
        """The number the next document of this kind gets, e.g. "INV-00042"."""
        return format_number(self.prefix, self.width, self.next_value)


@dataclass(frozen=True)
class DocumentSettings:
    formats: tuple[NumberFormat, ...]  # in the order of ``KINDS``
    payment_terms_days: int
    default_terms: str
    default_notes: str
    e_invoices: bool = False

    def format_of(self, kind: str) -> NumberFormat:
        return next(entry for entry in self.formats if entry.kind == kind)


@dataclass(frozen=True)
class NumberFormatInput:
    """A row of the number formats as typed: the numbers are text until they are checked."""

    kind: str
    prefix: str
    width: str
    next_value: str


@dataclass(frozen=True)
class DocumentSettingsChange:
    formats: tuple[NumberFormatInput, ...]
    payment_terms_days: str
    default_terms: str
    default_notes: str
    e_invoices: bool = False


def format_number(prefix: str, width: int, value: int) -> str:
    return f"{prefix}{value:0{width}d}"


def get_document_settings(db: Database, organization_id: int) -> DocumentSettings:
    """The number formats of each kind of document (the defaults where none was used yet) and the
    payment terms, terms and notes that new invoices start with."""
    with db.reading() as session:
        organization = _organization(session, organization_id)
        sequences = _sequences(session, organization_id)
        formats = tuple(_format(session, organization_id, kind, sequences.get(kind)) for kind in KINDS)
        return DocumentSettings(
            formats,
            organization.payment_terms_days,
            organization.default_terms,
            organization.default_notes,
            organization.e_invoices,
        )


def update_document_settings(
    db: Database,
    organization_id: int,
    change: DocumentSettingsChange,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> DocumentSettings:
    """Save the number formats, payment terms, terms and notes, and whether invoice PDFs are e-invoices.

    ``InvalidDetails`` names every wrong field (keys ``<kind>.prefix``, ``<kind>.width``,
    ``<kind>.next_value``, ``payment_terms_days``, ``default_terms``, ``default_notes``, ``e_invoices``)
    and then nothing is written. E-invoices can be turned on only once the business profile has what
    EN 16931 asks of the seller: a VAT ID and a country. The lowest allowed next number is checked
    again under the sequences' lock, so a document numbered meanwhile cannot be given its number a
    second time.
    """
    with db.transaction() as session:
        organization = _organization(session, organization_id, lock=True)
        sequences = _sequences(session, organization_id, lock=True)
        errors: dict[str, str] = {}
        cleaned: dict[str, tuple[str, int, int]] = {}
        given = {entry.kind: entry for entry in change.formats}
        for kind in KINDS:
            entry = given.get(kind)
            if entry is None:
                continue
            row = _clean_format(session, organization_id, entry, sequences.get(kind), errors)
            if row is not None:
                cleaned[kind] = row
        _check_prefixes_differ(cleaned, errors)
        terms_days = _whole_number(change.payment_terms_days, "payment_terms_days", errors)
        if terms_days is not None and not 0 <= terms_days <= MAX_TERMS_DAYS:
            errors["payment_terms_days"] = _("Enter a number of days from 0 to {most}.").format(
                most=MAX_TERMS_DAYS
            )
        texts = {}
        for key, text in (("default_terms", change.default_terms), ("default_notes", change.default_notes)):
            texts[key] = text.strip()
            if len(texts[key]) > MAX_TEXT_LENGTH:
                errors[key] = _("Use at most {count} characters.").format(count=MAX_TEXT_LENGTH)
        if change.e_invoices and not organization.e_invoices:
            problem = _e_invoice_problem(organization)
            if problem:
                errors["e_invoices"] = problem
        if errors:
            raise InvalidDetails(errors)
        changes: dict[str, dict[str, str]] = {}
        for kind, (prefix, width, next_value) in cleaned.items():
            sequence = sequences.get(kind)
            if sequence is None:
                sequence = NumberSequence(organization_id=organization_id, kind=kind)
                session.add(sequence)
                old = (DEFAULT_PREFIXES[kind], DEFAULT_WIDTH, 1)
            else:
                old = (sequence.prefix, sequence.width, sequence.next_value)
            sequence.prefix, sequence.width, sequence.next_value = prefix, width, next_value
            if old != (prefix, width, next_value):
                changes[kind] = {"old": format_number(*old), "new": format_number(prefix, width, next_value)}
        assert terms_days is not None  # noqa: S101 - checked with the errors above
        for key, old_value, new_value in (
            ("payment_terms_days", organization.payment_terms_days, terms_days),
            ("default_terms", organization.default_terms, texts["default_terms"]),
            ("default_notes", organization.default_notes, texts["default_notes"]),
            ("e_invoices", organization.e_invoices, change.e_invoices),
        ):
            if old_value != new_value:
                changes[key] = {"old": str(old_value), "new": str(new_value)}
        organization.payment_terms_days = terms_days
        organization.default_terms = texts["default_terms"]
        organization.default_notes = texts["default_notes"]
        organization.e_invoices = change.e_invoices
        session.flush()
        if changes:
            record_event(
                session,
                SETTINGS_UPDATED,
                at=clock(),
                staff_user_id=staff_user_id,
                subject=("organization", organization_id),
                details={"changes": changes},
            )
        sequences = _sequences(session, organization_id)
        return DocumentSettings(
            tuple(_format(session, organization_id, kind, sequences.get(kind)) for kind in KINDS),
            organization.payment_terms_days,
            organization.default_terms,
            organization.default_notes,
            organization.e_invoices,
        )


def _e_invoice_problem(organization: Organization) -> str:
    """What the business profile lacks for an e-invoice's seller, or ""."""
    if not vat_id(organization.tax_id):
        return _(
            "E-invoices carry your VAT ID: enter it in Settings > Business as your tax number, starting "
            "with its country code (like DE123456789)."
        )
    if not organization.country:
        return _("E-invoices carry your business's country: choose it in Settings > Business.")
    return ""


def _clean_format(
    session: Session,
    organization_id: int,
    entry: NumberFormatInput,
    sequence: NumberSequence | None,
    errors: dict[str, str],
) -> tuple[str, int, int] | None:
    kind = entry.kind
    prefix = entry.prefix.strip()
    if len(prefix) > MAX_PREFIX_LENGTH:
        errors[f"{kind}.prefix"] = _("Use at most {count} characters.").format(count=MAX_PREFIX_LENGTH)
    elif not _PREFIX.fullmatch(prefix):
        errors[f"{kind}.prefix"] = _("Use only letters, digits, and - / . (no spaces).")
    width = _whole_number(entry.width, f"{kind}.width", errors)
    if width is not None and not MIN_WIDTH <= width <= MAX_WIDTH:
        errors[f"{kind}.width"] = _("Enter a number of digits from {least} to {most}.").format(
            least=MIN_WIDTH, most=MAX_WIDTH
        )
    next_value = _whole_number(entry.next_value, f"{kind}.next_value", errors)
    if next_value is not None:
        if not 1 <= next_value <= MAX_NEXT_VALUE:
            errors[f"{kind}.next_value"] = _("Enter a whole number of at least 1.")
        elif f"{kind}.prefix" not in errors:
            lowest = _lowest_next_value(session, organization_id, kind, prefix, sequence)
            if next_value < lowest:
                used = format_number(prefix, width or 1, lowest - 1) if width else f"{prefix}{lowest - 1}"
                errors[f"{kind}.next_value"] = _(
                    "Numbers must never repeat: {used} has been used already, so the next number must be "
                    "{lowest} or more."
                ).format(used=used, lowest=lowest)
    if f"{kind}.prefix" in errors or width is None or next_value is None:
        return None
    return prefix, width, next_value


def _check_prefixes_differ(cleaned: dict[str, tuple[str, int, int]], errors: dict[str, str]) -> None:
    """Two kinds with one prefix would hand out the same numbers (invoices and retainers share a table)."""
    kinds_of: dict[str, list[str]] = {}
    for kind, (prefix, _next, _width) in cleaned.items():
        kinds_of.setdefault(prefix.upper(), []).append(kind)
    for kinds in kinds_of.values():
        for kind in kinds[1:] if len(kinds) > 1 else ():
            errors[f"{kind}.prefix"] = _(_PREFIX_TAKEN[kinds[0]][0])
        if len(kinds) > 1:
            errors[f"{kinds[0]}.prefix"] = _(_PREFIX_TAKEN[kinds[1]][1])


def _lowest_next_value(
    session: Session, organization_id: int, kind: str, prefix: str, sequence: NumberSequence | None
) -> int:
    """One more than the highest number already given with ``prefix`` to this kind of document."""
    lowest = 1
    if sequence is not None and sequence.prefix == prefix:
        lowest = sequence.next_value
    for number in _numbers_with_prefix(session, organization_id, kind, prefix):
        rest = number[len(prefix) :]
        if rest.isdigit():
            lowest = max(lowest, int(rest) + 1)
    return lowest


def _numbers_with_prefix(session: Session, organization_id: int, kind: str, prefix: str) -> list[str]:
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    column: QueryableAttribute[Any]  # Invoice.number is str, Payment.receipt_number str | None
    if kind in ("invoice", "retainer"):
        column, owner = Invoice.number, Invoice.organization_id
    elif kind == "credit_note":
        column, owner = CreditNote.number, CreditNote.organization_id
    else:
        column, owner = Payment.receipt_number, Payment.organization_id
    query = select(column).where(owner == organization_id, column.like(pattern, escape="\\"))
    return [number for number in session.scalars(query) if number]


def _whole_number(text: str, key: str, errors: dict[str, str]) -> int | None:
    value = str(text).strip()
    if not value.isdigit() or not value.isascii():
        errors[key] = _("Enter a whole number, like 30.") if value else _("Enter a number.")
        return None
    return int(value)


def _format(
    session: Session, organization_id: int, kind: str, sequence: NumberSequence | None
) -> NumberFormat:
    prefix = sequence.prefix if sequence else DEFAULT_PREFIXES[kind]
    width = sequence.width if sequence else DEFAULT_WIDTH
    next_value = sequence.next_value if sequence else 1
    lowest = _lowest_next_value(session, organization_id, kind, prefix, sequence)
    return NumberFormat(kind, prefix, width, max(next_value, lowest), lowest)


def _sequences(session: Session, organization_id: int, *, lock: bool = False) -> dict[str, NumberSequence]:
    query = select(NumberSequence).where(NumberSequence.organization_id == organization_id)
    return {row.kind: row for row in session.scalars(query.with_for_update() if lock else query)}


def _organization(session: Session, organization_id: int, *, lock: bool = False) -> Organization:
    query = select(Organization).where(Organization.id == organization_id)
    organization = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if organization is None:
        raise NotFound("organization", organization_id)
    return organization
