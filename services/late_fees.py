"""Late fees: the optional fee the business sets in Settings > Reminders, added by the daily reminders job.

A late fee is a fixed amount (in the overdue invoice's currency, rounded half-up to its minor unit) or a
percentage of the overdue invoice's balance that day, added once (the day after the due date) or each
month the invoice stays overdue (the same day of each following month). Each fee is a separate invoice,
numbered like the others, issued and e-mailed to the client in one transaction with an
``invoice_late_fees`` row unique per overdue invoice and period: a job that runs twice, or on two
instances at once, adds nothing twice, and the accounting invariant holds as for any invoice.

As for reminders, none is added for a draft, paid or void invoice, one with a payment on its way, a
client excluded from reminders, or a late fee's own invoice; none for the days before late fees were
turned on, and after an outage only the latest period missed is added.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import format_percent
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceKind, InvoiceLateFee, Organization, ReminderSettings
from services.audit import record_event
from services.chasing import locked_for_chasing
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.dates import format_day, zone
from services.errors import DomainError, InvalidDetails, NotFound
from services.i18n import _, formatting_locale
from services.invoice_emails import queue_invoice_sent_email, recipients
from services.invoices import PAYABLE_STATUSES, add_draft, issue
from services.language_settings import writing_for_client
from services.money import Money, exponent, format_money, round_half_up
from services.reminder_rows import settings_row, settings_row_to_change
from services.staff_auth import StaffPrincipal, require_owner
from services.totals import LineInput

log = logging.getLogger(__name__)

NONE, FIXED, PERCENT = "", "fixed", "percent"
KINDS = (NONE, FIXED, PERCENT)
MAX_PERCENT = Decimal(50)
MAX_FIXED = Decimal(100000)
ADDED = "invoice.late_fee_added"
SETTINGS_UPDATED = "reminders.late_fee_updated"


@dataclass(frozen=True)
class LateFee:
    """The business's late fee: ``kind`` NONE (off), FIXED or PERCENT, its value, once or monthly."""

    kind: str
    value: Decimal
    monthly: bool

    @property
    def enabled(self) -> bool:
        return self.kind != NONE


def late_fee_of(settings: ReminderSettings | None) -> LateFee:
    if settings is None or settings.late_fee_kind not in (FIXED, PERCENT):
        return LateFee(NONE, Decimal(0), False)
    return LateFee(settings.late_fee_kind, Decimal(settings.late_fee_value), settings.late_fee_monthly)


def checked_late_fee(kind: str, value: str, monthly: bool) -> LateFee:
    """The late fee as typed in Settings; ``InvalidDetails`` for ``late_fee_kind`` or ``late_fee_value``."""
    if kind not in KINDS:
        raise InvalidDetails({"late_fee_kind": _("Choose no late fee, a fixed amount or a percentage.")})
    if kind == NONE:
        return LateFee(NONE, Decimal(0), False)
    typed = value.strip().replace(",", ".")
    try:
        number = Decimal(typed)
    except InvalidOperation:
        number = Decimal("NaN")
    if kind == FIXED:
        if not number.is_finite() or not 0 < number <= MAX_FIXED or _too_precise(number):
            raise InvalidDetails(
                {
                    "late_fee_value": _("Enter an amount more than 0 and at most {limit}.").format(
                        limit=MAX_FIXED
                    )
                }
            )
    elif not number.is_finite() or not 0 < number <= MAX_PERCENT or _too_precise(number):
        raise InvalidDetails(
            {
                "late_fee_value": _("Enter a percentage more than 0 and at most {limit}.").format(
                    limit=MAX_PERCENT
                )
            }
        )
    return LateFee(kind, number.normalize() if number == number.to_integral() else number, monthly)


def _too_precise(number: Decimal) -> bool:
    exponent_ = number.as_tuple().exponent
    return isinstance(exponent_, int) and exponent_ < -3


def fee_minor(fee: LateFee, balance_minor: int, currency: str) -> int:
    """The fee on an overdue balance, in the currency's minor units, rounded half-up once."""
    if fee.kind == FIXED:
        return round_half_up(fee.value * (Decimal(10) ** exponent(currency)))
    if fee.kind == PERCENT:
        return round_half_up(Decimal(balance_minor) * fee.value / 100)
    return 0


def period_day(due_date: date, period: int) -> date:
    """The day of a fee's period: the day after the due date, then the same day of each month after."""
    first = due_date + timedelta(days=1)
    months = first.month - 1 + period
    year, month = first.year + months // 12, months % 12 + 1
    return date(year, month, min(first.day, calendar.monthrange(year, month)[1]))


def latest_period(due_date: date, fee: LateFee, first: date, today: date, after: date) -> int | None:
    """The latest period whose day is between ``first`` and ``today`` and after ``after``; None if none."""
    found = None
    period = 0
    while (day := period_day(due_date, period)) <= today:
        if day >= first and day > after:
            found = period
        if not fee.monthly:
            break
        period += 1
    return found


def get_late_fee(db: Database, organization_id: int) -> LateFee:
    """The business's late fee (none until it sets one)."""
    with db.reading() as session:
        return late_fee_of(settings_row(session, organization_id))


def save_late_fee(
    db: Database,
    owner: StaffPrincipal,
    *,
    kind: str,
    value: str,
    monthly: bool,
    clock: Clock = utc_now,
) -> LateFee:
    """Set the business's late fee, or none (the owner only: ``OwnerOnly``).

    Raises ``InvalidDetails`` for a kind not offered or a value that is not a positive amount (at most
    ``MAX_FIXED``) or percentage (at most ``MAX_PERCENT``), with at most three decimals. A fee turned on
    is added from today's overdue days on, none for the days before.
    """
    require_owner(owner)
    fee = checked_late_fee(kind, value, monthly)
    now = clock()
    with db.transaction() as session:
        organization = session.get(Organization, owner.organization_id)
        if organization is None:
            raise NotFound("organization", owner.organization_id)
        row = settings_row_to_change(session, owner.organization_id, now)
        before = late_fee_of(row)
        if fee.enabled and not before.enabled:
            row.late_fee_since = now.astimezone(zone(organization.time_zone)).date()
        row.late_fee_kind, row.late_fee_value, row.late_fee_monthly = fee.kind, fee.value, fee.monthly
        row.updated_at = now
        if before != fee:
            record_event(
                session,
                SETTINGS_UPDATED,
                at=now,
                staff_user_id=owner.staff_user_id,
                subject=("organization", owner.organization_id),
                details={"kind": fee.kind, "value": str(fee.value), "monthly": fee.monthly},
            )
    return fee


def add_due_late_fees(
    db: Database,
    organization_id: int,
    *,
    first: date,
    today: date,
    base_url: str,
    now: datetime,
) -> int:
    """Add the late fees whose day came between ``first`` and ``today``; how many were added."""
    with db.reading() as session:
        settings = settings_row(session, organization_id)
        time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
        fee = late_fee_of(settings)
        if settings is None or not fee.enabled or time_zone is None:
            return 0
        since = settings.late_fee_since or today
        start = max(first, since)
        fee_invoices = select(InvoiceLateFee.fee_invoice_id)
        rows = session.execute(
            select(Invoice.id, Invoice.due_date, Invoice.sent_at, Invoice.issue_date)
            .join(Client, Client.id == Invoice.client_id)
            .where(
                Invoice.organization_id == organization_id,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.balance_due_minor > 0,
                Client.send_reminders.is_(True),
                Invoice.due_date < today,
                Invoice.id.not_in(fee_invoices),
            )
            .order_by(Invoice.id)
        ).all()
    added = 0
    for invoice_id, due_date, sent_at, issue_date in rows:
        sent_day = sent_at.astimezone(zone(time_zone)).date() if sent_at is not None else issue_date
        period = latest_period(due_date, fee, start, today, sent_day)
        if period is None:
            continue
        try:
            if _add(db, invoice_id, period, fee, today=today, base_url=base_url, now=now):
                added += 1
        except DomainError as error:  # an amount above the bound, an address the outbox refuses
            log.warning("No late fee for invoice %s: %s", invoice_id, error)
    return added


class _AlreadyAdded(Exception):
    """The fee's row was written meanwhile: its invoice and e-mail are rolled back with this transaction."""


def _add(
    db: Database, invoice_id: int, period: int, fee: LateFee, *, today: date, base_url: str, now: datetime
) -> bool:
    """Number, issue and e-mail one fee's invoice with its row, in one transaction; False when not due.

    The client's and the invoice's rows are locked as a reminder's are (``services.chasing``), so no
    payment starts meanwhile and a second run waits, then finds the row and adds nothing.
    """
    try:
        with db.transaction() as session:
            chased = locked_for_chasing(session, invoice_id)
            if chased is None:
                return False
            client, invoice = chased
            already = session.scalar(
                select(InvoiceLateFee.id).where(
                    InvoiceLateFee.invoice_id == invoice.id, InvoiceLateFee.period == period
                )
            )
            amount = fee_minor(fee, invoice.balance_due_minor, invoice.currency)
            if already is not None or amount <= 0 or not recipients(session, client):
                return False
            fee_invoice = _fee_invoice(session, invoice, client, fee, amount, today=today, now=now)
            if not insert_unless_present(
                session,
                InvoiceLateFee,
                ["invoice_id", "period"],
                invoice_id=invoice.id,
                period=period,
                fee_invoice_id=fee_invoice.id,
                added_on=today,
                created_at=now,
            ):
                raise _AlreadyAdded
            queue_invoice_sent_email(session, fee_invoice, base_url=base_url, now=now)
            record_event(
                session,
                ADDED,
                at=now,
                client_id=client.id,
                subject=("invoice", invoice.id),
                details={"period": period, "fee_invoice": fee_invoice.number, "amount_minor": amount},
            )
    except _AlreadyAdded:
        return False
    return True


def _fee_invoice(
    session: Session,
    invoice: Invoice,
    client: Client,
    fee: LateFee,
    amount: int,
    *,
    today: date,
    now: datetime,
) -> Invoice:
    """The fee's invoice, issued; its line worded in the client's language."""
    organization = session.get_one(Organization, invoice.organization_id)
    locale = formatting_locale(organization.locale)
    with writing_for_client(session, client.id):
        values = {"number": invoice.number, "due_date": format_day(invoice.due_date, locale)}
        if fee.kind == PERCENT:
            balance = format_money(Money(invoice.balance_due_minor, invoice.currency), locale)
            description = _(
                "Late fee of {rate} on {balance} overdue on invoice {number}, due {due_date}"
            ).format(rate=percent_text(fee.value, locale), balance=balance, **values)
        else:
            description = _("Late fee: invoice {number}, due {due_date}").format(**values)
    fee_invoice = add_draft(
        session,
        client_id=client.id,
        lines=[LineInput(description=description, quantity=Decimal(1), unit_price_minor=amount)],
        issue_date=today,
        due_date=today + timedelta(days=organization.payment_terms_days),
        kind=InvoiceKind.INVOICE,
        notes="",
        terms="",
        now=now,
    )
    issue(session, fee_invoice, now=now)
    return fee_invoice


def percent_text(value: Decimal, locale: str) -> str:
    """A percentage as the locale writes it ("1.5%", "1,5 %")."""
    return format_percent(value / 100, locale=locale, decimal_quantization=False)
