"""The business's named tax rates: offered in the invoice editor, managed in Settings > Documents."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import TaxRate
from services.amount_input import read_number
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, InvalidNumber, NotFound, human_message
from services.i18n import _, formatting_locale
from services.money import DEFAULT_LOCALE
from services.totals import HUNDRED

TAX_RATE_ADDED = "tax_rate.added"
TAX_RATE_CHANGED = "tax_rate.changed"
TAX_RATE_DELETED = "tax_rate.deleted"
TAX_RATE_DEFAULT = "tax_rate.made_default"
MAX_NAME_LENGTH = 50  # an invoice line stores the name in 50 characters
RATE_DECIMALS = 4  # the lines store percentages with four decimals


@dataclass(frozen=True)
class TaxRateView:
    public_id: str
    name: str
    rate_percent: Decimal
    is_default: bool

    @property
    def label(self) -> str:
        """ "VAT 20 %": the name with the rate, for pickers and tables."""
        return f"{self.name} {self.rate_percent.normalize():f} %"


def list_tax_rates(db: Database, organization_id: int) -> list[TaxRateView]:
    """The rates by name; the default (if any) is marked."""
    with db.reading() as session:
        rows = session.scalars(
            select(TaxRate).where(TaxRate.organization_id == organization_id).order_by(TaxRate.name)
        ).all()
        return [_view(row) for row in rows]


def create_tax_rate(
    db: Database,
    organization_id: int,
    name: str,
    rate: str,
    *,
    is_default: bool = False,
    locale: str = DEFAULT_LOCALE,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> TaxRateView:
    """Add a named rate ("VAT", "20", "5,5 %" in de_DE: the rate is read as ``locale`` writes numbers);
    ``InvalidDetails`` (keys ``name``, ``rate``) writes nothing."""
    clean_name, percent = _clean(name, rate, locale)
    with db.transaction() as session:
        _check_unique(session, organization_id, clean_name)
        row = TaxRate(
            organization_id=organization_id, name=clean_name, rate_percent=percent, created_at=clock()
        )
        session.add(row)
        session.flush()
        if is_default:
            _make_default(session, organization_id, row)
        _audit(session, TAX_RATE_ADDED, row, staff_user_id, clock, {"rate": f"{percent:f}"})
        return _view(row)


def update_tax_rate(
    db: Database,
    organization_id: int,
    public_id: str,
    name: str,
    rate: str,
    *,
    locale: str = DEFAULT_LOCALE,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> TaxRateView:
    """Rename a rate or change its percentage (read as ``create_tax_rate`` reads it). Invoices already
    written keep the percentage and name their lines were given: only new lines get the new rate."""
    clean_name, percent = _clean(name, rate, locale)
    with db.transaction() as session:
        row = _owned(session, organization_id, public_id)
        _check_unique(session, organization_id, clean_name, leaving=row.id)
        old = {"name": row.name, "rate": f"{row.rate_percent.normalize():f}"}
        row.name, row.rate_percent = clean_name, percent
        _audit(session, TAX_RATE_CHANGED, row, staff_user_id, clock, {"old": old, "rate": f"{percent:f}"})
        return _view(row)


def delete_tax_rate(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> None:
    """Stop offering a rate. Existing invoices are untouched: each line stores its own percentage."""
    with db.transaction() as session:
        row = _owned(session, organization_id, public_id)
        _audit(session, TAX_RATE_DELETED, row, staff_user_id, clock, {"rate": f"{row.rate_percent:f}"})
        session.delete(row)


def set_default_tax_rate(
    db: Database,
    organization_id: int,
    public_id: str | None,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> None:
    """Make one rate the default for new invoice lines (``None``: no default); the others stop being it."""
    with db.transaction() as session:
        if public_id is None:
            for row in _rows(session, organization_id):
                row.is_default = False
            return
        row = _owned(session, organization_id, public_id)
        _make_default(session, organization_id, row)
        _audit(session, TAX_RATE_DEFAULT, row, staff_user_id, clock, {})


def _clean(name: str, rate: str, locale: str) -> tuple[str, Decimal]:
    errors: dict[str, str] = {}
    clean_name = " ".join(name.split())
    if not clean_name:
        errors["name"] = _("Enter a name for the rate, like VAT or Sales tax.")
    elif len(clean_name) > MAX_NAME_LENGTH:
        errors["name"] = _("Use at most {count} characters.").format(
            count=format_decimal(MAX_NAME_LENGTH, locale=formatting_locale())
        )
    elif any(not char.isprintable() for char in clean_name):
        errors["name"] = _("Remove the special (control) characters.")
    percent = Decimal(0)
    try:
        text = rate.strip().removesuffix("%")
        percent = read_number(text, locale, field="rate", decimals=RATE_DECIMALS, most=HUNDRED)
    except InvalidNumber as error:
        errors["rate"] = human_message(error)
    if errors:
        raise InvalidDetails(errors)
    return clean_name, percent.quantize(Decimal(1).scaleb(-RATE_DECIMALS))


def _check_unique(session: Session, organization_id: int, name: str, *, leaving: int | None = None) -> None:
    for row in _rows(session, organization_id):
        if row.id != leaving and row.name.casefold() == name.casefold():
            taken = _("There is a rate named {name} already; choose another name.").format(name=row.name)
            raise InvalidDetails({"name": taken})


def _make_default(session: Session, organization_id: int, chosen: TaxRate) -> None:
    for row in _rows(session, organization_id):
        row.is_default = row.id == chosen.id


def _rows(session: Session, organization_id: int) -> list[TaxRate]:
    return list(
        session.scalars(
            select(TaxRate).where(TaxRate.organization_id == organization_id).with_for_update()
        ).all()
    )


def _owned(session: Session, organization_id: int, public_id: str) -> TaxRate:
    row = session.scalars(
        select(TaxRate)
        .where(TaxRate.organization_id == organization_id, TaxRate.public_id == public_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound("tax rate", public_id)
    return row


def _audit(
    session: Session,
    action: str,
    row: TaxRate,
    staff_user_id: int | None,
    clock: Clock,
    details: dict[str, object],
) -> None:
    record_event(
        session,
        action,
        at=clock(),
        staff_user_id=staff_user_id,
        subject=("tax_rate", row.id),
        details={"name": row.name, **details},
    )


def _view(row: TaxRate) -> TaxRateView:
    return TaxRateView(row.public_id, row.name, row.rate_percent, row.is_default)
