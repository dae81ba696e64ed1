"""Recurring invoices: the profiles the back office keeps, and the daily job that makes their invoices.

A profile bills one client the same lines (the invoice editor's lines, taxes and discounts) every N
days, weeks, months or years from its start date (``services.schedules``), until an end date, for a
number of invoices, or for ever. Each occurrence's invoice is made on its day in the business's time
zone by the ``recurring_invoices`` job of the business (``services.jobs``), numbered like every other
invoice, dated that day and due the profile's number of days later; it is sent to the customer like an
invoice the business sends (the same e-mail, with its pay link), or kept as a draft.

Each invoice is made at most once: a ``recurring_runs`` row, unique per profile and day, is written in
the transaction that numbers the invoice and moves the profile's ``next_run`` on, under the profile's
row lock, so a job that runs twice, or on two instances at once, makes nothing twice. After an outage
the days missed are caught up once each, in order. A paused profile makes nothing; resumed, it starts
with its next day from today, none for the days it was paused.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models import (
    Client,
    Invoice,
    InvoiceKind,
    Organization,
    RecurringProfile,
    RecurringProfileLine,
    RecurringRun,
    RecurringStatus,
)
from services.audit import record_event
from services.business_documents import LineView
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.dates import zone
from services.document_lines import priced_lines
from services.draft_invoices import chosen_client_id, document_problems
from services.errors import DomainError, InvalidDetails, InvalidStatusChange, NotFound
from services.i18n import N_, _, ngettext
from services.invoice_emails import queue_invoice_sent_email
from services.invoices import add_draft, issue
from services.money import Money
from services.records import get_client
from services.scheduler import arm
from services.schedules import DAY, MAX_EVERY, MONTH, UNITS, WEEK, YEAR, Schedule
from services.staff_auth import StaffPrincipal
from services.totals import LineInput

log = logging.getLogger(__name__)

RECURRING_JOB = "recurring_invoices"  # the scheduler's kind; the business's id is the job's key
RUN_HOUR = 6  # a day's invoices are made from 6:00 in the business's time zone
MAX_DUE_DAYS = 365
LATEST_SHOWN = 12  # invoices made, on a profile's page
MAX_COUNT = 1000
NEVER, ON_DATE, AFTER_COUNT = "never", "on_date", "after_count"  # how a profile ends, as the editor asks
ENDINGS = (NEVER, ON_DATE, AFTER_COUNT)

SAVED = "recurring.profile_saved"
PAUSED = "recurring.profile_paused"
RESUMED = "recurring.profile_resumed"
ENDED = "recurring.profile_ended"
MADE = "recurring.invoice_made"

STATUS_NAMES = {
    RecurringStatus.ACTIVE: N_("Active"),
    RecurringStatus.PAUSED: N_("Paused"),
    RecurringStatus.ENDED: N_("Ended"),
}


@dataclass(frozen=True)
class ProfileInput:
    """A profile as typed in the back office's editor."""

    client_public_id: str
    unit: str
    every: str
    start_date: date | None
    ending: str  # NEVER, ON_DATE or AFTER_COUNT
    end_date: date | None
    count: str
    due_days: str
    send: bool
    lines: Sequence[LineInput]
    notes: str = ""
    terms: str = ""


@dataclass(frozen=True)
class MadeRef:
    """An invoice a profile made, for its page."""

    number: str
    invoice_public_id: str
    run_date: date


@dataclass(frozen=True)
class ProfileView:
    public_id: str
    client_public_id: str
    client_name: str
    currency: str
    unit: str
    every: int
    start_date: date
    end_date: date | None
    max_count: int | None
    due_days: int
    send: bool
    status: str
    next_run: date | None
    made_count: int
    total: Money
    lines: tuple[LineView, ...]
    notes: str
    terms: str
    made: tuple[MadeRef, ...] = ()  # the latest, newest first

    @property
    def ending(self) -> str:
        return ON_DATE if self.end_date else AFTER_COUNT if self.max_count else NEVER


@dataclass(frozen=True)
class ProfileRow:
    """A line of the back office's list of profiles."""

    public_id: str
    client_name: str
    total: Money
    unit: str
    every: int
    next_run: date | None
    status: str


@dataclass(frozen=True)
class MadeInvoice:
    profile_public_id: str
    run_date: date
    invoice_number: str
    sent: bool


def frequency_text(unit: str, every: int) -> str:
    """ "Every month", "Every 2 weeks" ... in the reader's language."""
    if every == 1:
        return {DAY: _("Every day"), WEEK: _("Every week"), MONTH: _("Every month"), YEAR: _("Every year")}[
            unit
        ]
    texts = {
        DAY: ngettext("Every {count} day", "Every {count} days", every),
        WEEK: ngettext("Every {count} week", "Every {count} weeks", every),
        MONTH: ngettext("Every {count} month", "Every {count} months", every),
        YEAR: ngettext("Every {count} year", "Every {count} years", every),
    }
    return texts[unit].format(count=every)


def status_name(status: str) -> str:
    return _(STATUS_NAMES.get(status, status))


# --- the back office -------------------------------------------------------------------------------------


def list_profiles(db: Database, organization_id: int) -> list[ProfileRow]:
    """The business's profiles: active first, then by next run date and client."""
    with db.reading() as session:
        rows = session.execute(
            select(
                RecurringProfile.public_id,
                Client.display_name,
                RecurringProfile.total_minor,
                RecurringProfile.currency,
                RecurringProfile.unit,
                RecurringProfile.every,
                RecurringProfile.next_run,
                RecurringProfile.status,
            )
            .join(Client, Client.id == RecurringProfile.client_id)
            .where(RecurringProfile.organization_id == organization_id)
        ).all()
    order = {RecurringStatus.ACTIVE: 0, RecurringStatus.PAUSED: 1, RecurringStatus.ENDED: 2}
    found = [
        ProfileRow(public_id, name, Money(total, currency), unit, every, next_run, status)
        for public_id, name, total, currency, unit, every, next_run, status in rows
    ]
    return sorted(
        found, key=lambda row: (order.get(row.status, 3), row.next_run or date.max, row.client_name)
    )


def get_profile(db: Database, organization_id: int, public_id: str) -> ProfileView:
    with db.reading() as session:
        return _view(session, _profile(session, organization_id, public_id))


def save_profile(
    db: Database,
    staff: StaffPrincipal,
    typed: ProfileInput,
    *,
    public_id: str | None = None,
    clock: Clock = utc_now,
) -> ProfileView:
    """Create a profile (``public_id`` None) or change one; any staff member may.

    Raises ``InvalidDetails`` naming each wrong field (``client``, ``every``, ``start_date``,
    ``end_date``, ``count``, ``due_days``, ``line <n>``, ``lines``) and writes nothing. A new profile
    starts on its start date (today or later); a changed one bills its next day from today on with the
    new lines and schedule (the invoices already made stay as they are). An ended profile is not changed.
    """
    now = clock()
    with db.transaction() as session:
        organization = session.get_one(Organization, staff.organization_id)
        today = now.astimezone(zone(organization.time_zone)).date()
        profile = (
            None if public_id is None else _profile(session, staff.organization_id, public_id, lock=True)
        )
        if profile is not None and profile.status == RecurringStatus.ENDED:
            raise InvalidStatusChange("recurring profile", profile.public_id, profile.status, "edited")
        checked = _checked(typed, today=today, new=profile is None)
        client = get_client(session, chosen_client_id(session, staff.organization_id, typed.client_public_id))
        if profile is None:
            profile = RecurringProfile(
                organization_id=staff.organization_id,
                status=RecurringStatus.ACTIVE,
                made_count=0,
                created_at=now,
            )
            session.add(profile)
        profile.client_id, profile.currency = client.id, client.currency
        profile.unit, profile.every = checked.unit, checked.every
        profile.start_date, profile.end_date, profile.max_count = checked.start, checked.end, checked.count
        profile.due_days, profile.send = checked.due_days, typed.send
        profile.notes, profile.terms = typed.notes.strip(), typed.terms.strip()
        profile.updated_at = now
        _set_lines(profile, typed.lines)
        if profile.status == RecurringStatus.ACTIVE:
            _move_on(session, profile, not_before=today)
        session.flush()
        record_event(
            session,
            SAVED,
            at=now,
            staff_user_id=staff.staff_user_id,
            client_id=client.id,
            subject=("recurring_profile", profile.id),
            details={"unit": profile.unit, "every": profile.every, "send": profile.send},
        )
        _arm(session, profile, organization, now)
        return _view(session, profile)


def pause_profile(
    db: Database, staff: StaffPrincipal, public_id: str, *, clock: Clock = utc_now
) -> ProfileView:
    """Stop making invoices until resumed (an ended profile cannot be paused)."""
    return _change_status(db, staff, public_id, RecurringStatus.PAUSED, clock=clock)


def resume_profile(
    db: Database, staff: StaffPrincipal, public_id: str, *, clock: Clock = utc_now
) -> ProfileView:
    """Make invoices again, from the profile's next day from today on: none for the days it was paused."""
    return _change_status(db, staff, public_id, RecurringStatus.ACTIVE, clock=clock)


def end_profile(
    db: Database, staff: StaffPrincipal, public_id: str, *, clock: Clock = utc_now
) -> ProfileView:
    """End the profile for good: it makes no more invoices; those it made stay."""
    return _change_status(db, staff, public_id, RecurringStatus.ENDED, clock=clock)


def _change_status(
    db: Database, staff: StaffPrincipal, public_id: str, status: str, *, clock: Clock
) -> ProfileView:
    now = clock()
    allowed = {
        RecurringStatus.PAUSED: (RecurringStatus.ACTIVE,),
        RecurringStatus.ACTIVE: (RecurringStatus.PAUSED,),
        RecurringStatus.ENDED: (RecurringStatus.ACTIVE, RecurringStatus.PAUSED),
    }
    action = {
        RecurringStatus.PAUSED: "paused",
        RecurringStatus.ACTIVE: "resumed",
        RecurringStatus.ENDED: "ended",
    }
    with db.transaction() as session:
        profile = _profile(session, staff.organization_id, public_id, lock=True)
        if profile.status == status:
            return _view(session, profile)
        if profile.status not in allowed[status]:
            raise InvalidStatusChange("recurring profile", profile.public_id, profile.status, action[status])
        organization = session.get_one(Organization, staff.organization_id)
        profile.status = status
        profile.updated_at = now
        if status == RecurringStatus.ACTIVE:
            _move_on(session, profile, not_before=now.astimezone(zone(organization.time_zone)).date())
            _arm(session, profile, organization, now)
        elif status == RecurringStatus.ENDED:
            profile.next_run = None
        record_event(
            session,
            {RecurringStatus.PAUSED: PAUSED, RecurringStatus.ACTIVE: RESUMED, RecurringStatus.ENDED: ENDED}[
                status
            ],
            at=now,
            staff_user_id=staff.staff_user_id,
            client_id=profile.client_id,
            subject=("recurring_profile", profile.id),
        )
        return _view(session, profile)


# --- the daily job ------------------------------------------------------------------------------------


def run_recurring(
    db: Database, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> datetime | None:
    """Make every invoice whose day has come (blocking); when to run next, or None with no active profile.

    Safe to run twice, or on two instances at once: each invoice is made with its unique run row.
    """
    return make_due_invoices(db, organization_id, base_url=base_url, clock=clock)[1]


def make_due_invoices(
    db: Database, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> tuple[list[MadeInvoice], datetime | None]:
    """``run_recurring`` with what it made."""
    now = clock()
    with db.reading() as session:
        time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
        if time_zone is None:
            return [], None
        today = now.astimezone(zone(time_zone)).date()
        due = session.scalars(
            select(RecurringProfile.id)
            .where(
                RecurringProfile.organization_id == organization_id,
                RecurringProfile.status == RecurringStatus.ACTIVE,
                RecurringProfile.next_run <= today,
            )
            .order_by(RecurringProfile.next_run, RecurringProfile.id)
        ).all()
    made: list[MadeInvoice] = []
    for profile_id in due:
        try:
            while (one := _make_next(db, profile_id, today=today, base_url=base_url, now=now)) is not None:
                made.append(one)
        except DomainError as error:  # an amount above the bound, an address the outbox refuses
            log.warning("Recurring profile %s made no invoice: %s", profile_id, error)
    with db.reading() as session:
        upcoming = session.scalar(
            select(func.min(RecurringProfile.next_run)).where(
                RecurringProfile.organization_id == organization_id,
                RecurringProfile.status == RecurringStatus.ACTIVE,
            )
        )
    if upcoming is None:
        return made, None
    return made, run_moment(max(upcoming, today + timedelta(days=1)), time_zone, now)


def run_moment(day: date, time_zone: str, now: datetime) -> datetime:
    """``RUN_HOUR`` o'clock of ``day`` in the business's time zone, as a moment in ``now``'s zone."""
    return datetime.combine(day, time(RUN_HOUR), tzinfo=zone(time_zone)).astimezone(now.tzinfo)


class _AlreadyMade(Exception):
    """The run's row was written meanwhile: this transaction's invoice is rolled back with it."""


def _make_next(
    db: Database, profile_id: int, *, today: date, base_url: str, now: datetime
) -> MadeInvoice | None:
    """Make the profile's next invoice if its day has come, with its run row, in one transaction."""
    try:
        with db.transaction() as session:
            profile = session.scalars(
                select(RecurringProfile)
                .where(RecurringProfile.id == profile_id)
                .options(selectinload(RecurringProfile.lines))
                .with_for_update()
                .execution_options(populate_existing=True)
            ).one()
            day = profile.next_run
            if profile.status != RecurringStatus.ACTIVE or day is None or day > today:
                return None
            invoice = add_draft(
                session,
                client_id=profile.client_id,
                lines=[_line_input(line) for line in profile.lines],
                issue_date=day,
                due_date=day + timedelta(days=profile.due_days),
                kind=InvoiceKind.INVOICE,
                notes=profile.notes,
                terms=profile.terms,
                now=now,
            )
            if not insert_unless_present(
                session,
                RecurringRun,
                ["profile_id", "run_date"],
                profile_id=profile.id,
                run_date=day,
                invoice_id=invoice.id,
                created_at=now,
            ):
                raise _AlreadyMade
            if profile.send:
                issue(session, invoice, now=now)
                queue_invoice_sent_email(session, invoice, base_url=base_url, now=now)
            profile.made_count += 1
            _move_on(session, profile, after=day)
            record_event(
                session,
                MADE,
                at=now,
                client_id=profile.client_id,
                subject=("invoice", invoice.id),
                details={"profile": profile.public_id, "run_date": day.isoformat(), "sent": profile.send},
            )
            return MadeInvoice(profile.public_id, day, invoice.number, profile.send)
    except _AlreadyMade:
        return None


# --- helpers -------------------------------------------------------------------------------------------


def schedule_of(profile: RecurringProfile) -> Schedule:
    return Schedule(profile.unit, profile.every, profile.start_date, profile.end_date, profile.max_count)


def _move_on(
    session: Session, profile: RecurringProfile, *, after: date | None = None, not_before: date | None = None
) -> None:
    """Set ``next_run`` to the first day of the schedule after the last invoice made (and after ``after``,
    on or after ``not_before``) that is still within its count; the profile ends when there is none."""
    last = session.scalar(
        select(func.max(RecurringRun.run_date)).where(RecurringRun.profile_id == profile.id)
    )
    bounds = [
        day
        for day in (last and last + timedelta(days=1), after and after + timedelta(days=1), not_before)
        if day
    ]
    earliest = max(bounds) if bounds else profile.start_date
    schedule = schedule_of(profile)
    following = None
    if profile.max_count is None or profile.made_count < profile.max_count:
        following = next(
            (
                day
                for _k, day in Schedule(
                    schedule.unit, schedule.every, schedule.start, schedule.end
                ).occurrences()
                if day >= earliest
            ),
            None,
        )
    profile.next_run = following
    if following is None:
        profile.status = RecurringStatus.ENDED


def _arm(session: Session, profile: RecurringProfile, organization: Organization, now: datetime) -> None:
    if profile.status == RecurringStatus.ACTIVE and profile.next_run is not None:
        today = now.astimezone(zone(organization.time_zone)).date()
        due = now if profile.next_run <= today else run_moment(profile.next_run, organization.time_zone, now)
        arm(session, RECURRING_JOB, str(organization.id), due_at=due, now=now)


@dataclass(frozen=True)
class _Checked:
    unit: str
    every: int
    start: date
    end: date | None
    count: int | None
    due_days: int


def _checked(typed: ProfileInput, *, today: date, new: bool) -> _Checked:
    errors: dict[str, str] = {}
    if typed.unit not in UNITS:
        errors["every"] = _("Choose days, weeks, months or years.")
    every = _whole(typed.every, 1, MAX_EVERY, "every", errors)
    if typed.start_date is None:
        errors["start_date"] = _("Enter the start date.")
    elif new and typed.start_date < today:
        errors["start_date"] = _("The start date cannot be in the past.")
    end, count = None, None
    if typed.ending == ON_DATE:
        if typed.end_date is None:
            errors["end_date"] = _("Enter the end date.")
        elif typed.start_date is not None and typed.end_date < typed.start_date:
            errors["end_date"] = _("The end date cannot be before the start date.")
        end = typed.end_date
    elif typed.ending == AFTER_COUNT:
        count = _whole(typed.count, 1, MAX_COUNT, "count", errors)
    elif typed.ending != NEVER:
        errors["ending"] = _("Choose when the profile ends.")
    due_days = _whole(typed.due_days, 0, MAX_DUE_DAYS, "due_days", errors)
    errors.update(document_problems(typed.client_public_id, typed.lines, typed.notes, typed.terms))
    if not typed.lines:
        errors["lines"] = _("Add at least one line.")
    if errors or every is None or due_days is None or typed.start_date is None:
        raise InvalidDetails(errors)
    return _Checked(typed.unit, every, typed.start_date, end, count, due_days)


def _whole(text: str, least: int, most: int, field: str, errors: dict[str, str]) -> int | None:
    typed = text.strip()
    if not typed.isdecimal() or not least <= int(typed) <= most:
        errors[field] = _("Enter a whole number from {least} to {most}.").format(least=least, most=most)
        return None
    return int(typed)


def _set_lines(profile: RecurringProfile, lines: Sequence[LineInput]) -> None:
    """The profile's lines and the totals each invoice will have (the invoices' own rounding rules)."""
    profile.lines = priced_lines(profile, lines, RecurringProfileLine)


def _line_input(line: RecurringProfileLine) -> LineInput:
    return LineInput(
        line.description,
        line.quantity,
        line.unit_price_minor,
        line.discount_percent,
        line.tax_rate_percent,
        line.tax_name,
    )


def _profile(
    session: Session, organization_id: int, public_id: str, *, lock: bool = False
) -> RecurringProfile:
    query = (
        select(RecurringProfile)
        .where(RecurringProfile.organization_id == organization_id, RecurringProfile.public_id == public_id)
        .options(selectinload(RecurringProfile.lines))
    )
    profile = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if profile is None:
        raise NotFound("recurring profile", public_id)
    return profile


def _view(session: Session, profile: RecurringProfile) -> ProfileView:
    client = session.get_one(Client, profile.client_id)
    return ProfileView(
        public_id=profile.public_id,
        client_public_id=client.public_id,
        client_name=client.display_name,
        currency=profile.currency,
        unit=profile.unit,
        every=profile.every,
        start_date=profile.start_date,
        end_date=profile.end_date,
        max_count=profile.max_count,
        due_days=profile.due_days,
        send=profile.send,
        status=profile.status,
        next_run=profile.next_run,
        made_count=profile.made_count,
        total=Money(profile.total_minor, profile.currency),
        lines=tuple(
            LineView(
                line.description,
                line.quantity,
                line.unit_price_minor,
                line.discount_percent,
                line.tax_name,
                line.tax_rate_percent,
                line.amount_minor,
                line.discount_minor,
                line.tax_minor,
            )
            for line in profile.lines
        ),
        notes=profile.notes,
        terms=profile.terms,
        made=tuple(
            MadeRef(number, public_id, run_date)
            for number, public_id, run_date in session.execute(
                select(Invoice.number, Invoice.public_id, RecurringRun.run_date)
                .join(Invoice, Invoice.id == RecurringRun.invoice_id)
                .where(RecurringRun.profile_id == profile.id)
                .order_by(RecurringRun.run_date.desc())
                .limit(LATEST_SHOWN)
            )
        ),
    )
