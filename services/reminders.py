"""Payment reminders: the rules and texts the owner sets in Settings > Reminders, and the daily job that
sends them.

A rule is a day relative to an invoice's due date (-3: three days before, 0: on the day, 7: a week
after). Every day at ``SEND_HOUR`` in the business's time zone the ``reminders`` job of the business
(``services.jobs``) sends, for each open invoice, the latest rule whose day has come since the last run
(after an outage, the days missed are caught up once: one reminder per invoice, the latest rule's; a
rule whose day came before the invoice was sent counts for nothing). Turned on, reminders start with
that day's; no reminders are sent for the days they were off.

Each reminder goes to the client's people through the outbox, in their language (the business's own
wording for it, else the portal's, ``REMINDER_TEXTS``), with a pay link and the invoice's PDF. It is sent
at most once per invoice and rule: an ``invoice_reminders`` row, unique per invoice and rule, is written
in the transaction that queues the e-mail, so a job that runs twice sends nothing twice. None is sent
for a draft, paid or void invoice, one with a payment on its way (``online_payments.in_flight``), or a
client the business excluded (``send_reminders`` off, on the client's page).
"""

from __future__ import annotations

import logging
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceReminder, Organization, ReminderText
from services.audit import record_event
from services.chasing import locked_for_chasing
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.dates import format_day, zone
from services.errors import DomainError, InvalidDetails, NotFound
from services.i18n import (
    DEFAULT_LANGUAGE,
    N_,
    _,
    available_languages,
    current_language,
    current_time_zone,
    formatting_locale,
    ngettext,
    using_language,
)
from services.invoice_emails import invoice_link, recipients
from services.invoices import PAYABLE_STATUSES
from services.language_settings import writing_for_client
from services.late_fees import add_due_late_fees
from services.money import Money, format_money
from services.outbox import MAX_SUBJECT_LENGTH as MAX_OUTBOX_SUBJECT
from services.outbox import queue_email, secret_link
from services.pay_links import issue_pay_link, pay_link_url
from services.reminder_rows import settings_row, settings_row_to_change
from services.rendered_attachments import invoice_attachment
from services.scheduler import arm, job_state
from services.staff_auth import StaffPrincipal, require_owner

log = logging.getLogger(__name__)

REMINDERS_JOB = "reminders"  # the scheduler's kind; the business's id is the job's key
SEND_HOUR = 9  # reminders go out from 9:00 in the business's time zone
SUGGESTED_DAYS = (-3, 0, 7, 30)  # shown until the owner saves rules of their own
MAX_RULES = 10
MAX_DAYS_BEFORE, MAX_DAYS_AFTER = 60, 365
MAX_SUBJECT_LENGTH, MAX_BODY_LENGTH = 200, 5000

BEFORE, DUE, OVERDUE = "before", "due", "overdue"  # which wording: the invoice's day, as the reminder goes
STAGES = (BEFORE, DUE, OVERDUE)
STAGE_NAMES = {
    BEFORE: N_("Before the due date"),
    DUE: N_("On the due date"),
    OVERDUE: N_("Overdue"),
}
# The placeholders a text may use, filled in for each invoice.
PLACEHOLDERS = ("client", "business", "number", "amount", "due_date", "days")

SETTINGS_UPDATED = "reminders.settings_updated"
TEXT_UPDATED = "reminders.text_updated"
TEXT_RESTORED = "reminders.text_restored"
CLIENT_UPDATED = "client.reminders_updated"
SENT = "invoice.reminder_sent"

WHEN_BEFORE, WHEN_ON, WHEN_AFTER = "before", "on", "after"  # how a rule is typed in Settings

# The portal's own wording, translated in the catalogues; the owner may write their own per language.
REMINDER_TEXTS: dict[str, tuple[str, str]] = {
    BEFORE: (
        N_("Reminder: invoice {number} is due on {due_date}"),
        N_(
            "Hello {client},\n\nThis is a friendly reminder that invoice {number} for {amount} is due on "
            "{due_date}.\n\nIf you have already paid it, thank you, and please disregard this message."
            "\n\nKind regards,\n{business}"
        ),
    ),
    DUE: (
        N_("Invoice {number} is due today"),
        N_(
            "Hello {client},\n\nInvoice {number} for {amount} is due today, {due_date}.\n\nIf you have "
            "already paid it, thank you, and please disregard this message.\n\nKind regards,\n{business}"
        ),
    ),
    OVERDUE: (
        N_("Overdue: invoice {number} was due on {due_date}"),
        N_(
            "Hello {client},\n\nOur records show that invoice {number} was due on {due_date} and that "
            "{amount} of it is still outstanding. Please pay it at your earliest convenience.\n\nIf you "
            "have already paid it, thank you, and please disregard this message.\n\nKind regards,\n"
            "{business}"
        ),
    ),
}


@dataclass(frozen=True)
class RuleInput:
    """A rule as typed in Settings: ``when`` is before, on or after the due date; ``days`` as typed."""

    when: str
    days: str = ""


@dataclass(frozen=True)
class ReminderSetup:
    """What Settings > Reminders shows: on or off, the rules, and how the daily job is doing."""

    enabled: bool
    rule_days: tuple[int, ...]  # sorted; negative before the due date
    saved: bool  # False until the owner saved rules (the suggested ones are shown)
    time_zone: str
    next_run: datetime | None
    last_run: datetime | None
    last_error: str

    @property
    def rules(self) -> tuple[RuleInput, ...]:
        return tuple(rule_input(days) for days in self.rule_days)


@dataclass(frozen=True)
class ReminderWording:
    """A reminder's subject and body in one language, the business's own or the portal's."""

    language: str
    stage: str
    subject: str
    body: str
    is_default: bool


@dataclass(frozen=True)
class SentReminder:
    invoice_number: str
    invoice_public_id: str
    rule_days: int
    stage: str
    sent_on: date


@dataclass(frozen=True)
class ClientReminders:
    """A client's page in the back office: whether the client gets reminders, and the latest sent."""

    send: bool
    recent: tuple[SentReminder, ...]
    business_sends: bool  # whether the business has reminders on at all (Settings > Reminders)


@dataclass(frozen=True)
class RunReport:
    sent: int
    day: date


def rule_input(days: int) -> RuleInput:
    """How Settings shows a rule of ``days`` relative to the due date."""
    if days < 0:
        return RuleInput(WHEN_BEFORE, str(-days))
    return RuleInput(WHEN_AFTER, str(days)) if days > 0 else RuleInput(WHEN_ON, "")


def describe_rule(days: int) -> str:
    """A rule in words: "3 days before the due date", "On the due date", "7 days after the due date"."""
    if days == 0:
        return _("On the due date")
    if days < 0:
        return ngettext("{days} day before the due date", "{days} days before the due date", -days).format(
            days=-days
        )
    return ngettext("{days} day after the due date", "{days} days after the due date", days).format(days=days)


# --- Settings > Reminders ---------------------------------------------------------------------------


def get_reminder_setup(db: Database, organization_id: int) -> ReminderSetup:
    """The business's reminder rules (the suggested ones until it saves its own) and the job's state."""
    with db.reading() as session:
        row = settings_row(session, organization_id)
        time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
    if time_zone is None:
        raise NotFound("organization", organization_id)
    job = job_state(db, REMINDERS_JOB, str(organization_id))
    enabled = bool(row and row.enabled)
    return ReminderSetup(
        enabled=enabled,
        rule_days=parse_days(row.rule_days) if row else SUGGESTED_DAYS,
        saved=row is not None,
        time_zone=time_zone,
        next_run=job.due_at if job and enabled else None,
        last_run=job.last_succeeded_at if job else None,
        last_error=job.last_error if job and enabled else "",
    )


def save_reminder_setup(
    db: Database,
    owner: StaffPrincipal,
    *,
    enabled: bool,
    rules: Sequence[RuleInput],
    clock: Clock = utc_now,
) -> ReminderSetup:
    """Turn reminders on or off and save their rules (the owner only: ``OwnerOnly``).

    Raises ``InvalidDetails`` naming each wrong rule (``rules.<n>``, from 0) or the list (``rules``):
    a number of days that is not whole or out of range, the same day twice, more than ``MAX_RULES``,
    or none while reminders are on. Turned on, the job runs at once (today's reminders go out), and
    from then on every day at ``SEND_HOUR``.
    """
    require_owner(owner)
    days = _checked_rules(rules, required=enabled)
    now = clock()
    with db.transaction() as session:
        organization = session.get(Organization, owner.organization_id)
        if organization is None:
            raise NotFound("organization", owner.organization_id)
        existing = settings_row(session, owner.organization_id, lock=True)
        before = (bool(existing and existing.enabled), parse_days(existing.rule_days) if existing else ())
        row = settings_row_to_change(session, owner.organization_id, now)
        if enabled and not row.enabled:
            # Reminders start with today's: none for the days they were off.
            row.sent_through = _local_day(now, organization.time_zone) - timedelta(days=1)
        row.enabled = enabled
        row.rule_days = ",".join(str(day) for day in days)
        row.updated_at = now
        if enabled:
            arm(session, REMINDERS_JOB, str(owner.organization_id), due_at=now, now=now)
        if before != (enabled, days):
            record_event(
                session,
                SETTINGS_UPDATED,
                at=now,
                staff_user_id=owner.staff_user_id,
                subject=("organization", owner.organization_id),
                details={"enabled": enabled, "rule_days": list(days)},
            )
    return get_reminder_setup(db, owner.organization_id)


def get_reminder_text(db: Database, organization_id: int, language: str, stage: str) -> ReminderWording:
    """One reminder's wording in ``language``: the business's own, else the portal's translation."""
    _check_choice(language, stage)
    with db.reading() as session:
        return _wording(session, organization_id, language, stage)


def save_reminder_text(
    db: Database,
    owner: StaffPrincipal,
    *,
    language: str,
    stage: str,
    subject: str,
    body: str,
    clock: Clock = utc_now,
) -> ReminderWording:
    """Save the business's own wording of one reminder in one language (the owner only).

    Raises ``InvalidDetails`` for an empty or over-long subject or body, a line break or control
    character in the subject, or a brace that is not one of ``PLACEHOLDERS``. A text saved as the
    portal's own is kept as the portal's (it then follows the catalogues' corrections).
    """
    require_owner(owner)
    _check_choice(language, stage)
    subject, body = subject.strip(), body.strip().replace("\r\n", "\n")
    errors = {}
    if problem := _text_problem(subject, MAX_SUBJECT_LENGTH, one_line=True, missing=_("Enter the subject.")):
        errors["subject"] = problem
    if problem := _text_problem(body, MAX_BODY_LENGTH, one_line=False, missing=_("Enter the e-mail's text.")):
        errors["body"] = problem
    if errors:
        raise InvalidDetails(errors)
    now = clock()
    with db.transaction() as session:
        _lock_organization(session, owner.organization_id)
        default = _default_wording(language, stage)
        own = _own_text(session, owner.organization_id, language, stage)
        if (subject, body) == (default.subject, default.body):
            if own is not None:
                session.delete(own)
        elif own is None:
            session.add(
                ReminderText(
                    organization_id=owner.organization_id,
                    language=language,
                    stage=stage,
                    subject=subject,
                    body=body,
                    updated_at=now,
                )
            )
        else:
            own.subject, own.body, own.updated_at = subject, body, now
        record_event(
            session,
            TEXT_UPDATED,
            at=now,
            staff_user_id=owner.staff_user_id,
            subject=("organization", owner.organization_id),
            details={"language": language, "stage": stage},
        )
        session.flush()
        return _wording(session, owner.organization_id, language, stage)


def restore_reminder_text(
    db: Database, owner: StaffPrincipal, *, language: str, stage: str, clock: Clock = utc_now
) -> ReminderWording:
    """Go back to the portal's own wording of one reminder in one language (the owner only)."""
    require_owner(owner)
    _check_choice(language, stage)
    now = clock()
    with db.transaction() as session:
        _lock_organization(session, owner.organization_id)
        own = _own_text(session, owner.organization_id, language, stage)
        if own is not None:
            session.delete(own)
            record_event(
                session,
                TEXT_RESTORED,
                at=now,
                staff_user_id=owner.staff_user_id,
                subject=("organization", owner.organization_id),
                details={"language": language, "stage": stage},
            )
    return _default_wording(language, stage)


# --- a client's page ---------------------------------------------------------------------------------


def client_reminders(db: Database, organization_id: int, client_public_id: str) -> ClientReminders:
    """Whether the client gets reminders, and the latest ten sent to it."""
    with db.reading() as session:
        client = _client(session, organization_id, client_public_id)
        settings = settings_row(session, organization_id)
        rows = session.execute(
            select(
                Invoice.number,
                Invoice.public_id,
                InvoiceReminder.rule_days,
                InvoiceReminder.stage,
                InvoiceReminder.sent_on,
            )
            .join(Invoice, Invoice.id == InvoiceReminder.invoice_id)
            .where(Invoice.client_id == client.id)
            .order_by(InvoiceReminder.id.desc())
            .limit(10)
        ).all()
        return ClientReminders(
            client.send_reminders,
            tuple(SentReminder(*row) for row in rows),
            business_sends=bool(settings and settings.enabled),
        )


def set_client_reminders(
    db: Database,
    staff: StaffPrincipal,
    client_public_id: str,
    send: bool,
    *,
    clock: Clock = utc_now,
) -> bool:
    """Send the client payment reminders, or exclude it from them; any staff member may. Returns ``send``.

    Excluded, the client gets none until included again, and none later for the days it was excluded.
    """
    now = clock()
    with db.transaction() as session:
        client = _client(session, staff.organization_id, client_public_id, lock=True)
        if client.send_reminders != send:
            client.send_reminders = send
            record_event(
                session,
                CLIENT_UPDATED,
                at=now,
                staff_user_id=staff.staff_user_id,
                client_id=client.id,
                details={"send_reminders": send},
            )
    return send


# --- the daily job -----------------------------------------------------------------------------------


def run_reminders(
    db: Database, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> datetime | None:
    """The business's reminders for every day since the last run, up to today (blocking).

    Returns when to run next (``SEND_HOUR`` tomorrow, in the business's time zone), or None when the
    business has reminders off (the job is then finished until they are turned on again). Safe to run
    twice, or on two instances at once: each reminder is a unique row written with its e-mail.
    """
    return send_due_reminders(db, organization_id, base_url=base_url, clock=clock)[1]


def send_due_reminders(
    db: Database, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> tuple[RunReport | None, datetime | None]:
    """``run_reminders`` with what it did: how many reminders it sent, for which day."""
    now = clock()
    with db.reading() as session:
        settings = settings_row(session, organization_id)
        time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
    if settings is None or not settings.enabled or time_zone is None:
        return None, None
    today = _local_day(now, time_zone)
    days = parse_days(settings.rule_days)
    first = settings.sent_through + timedelta(days=1) if settings.sent_through else today
    sent = 0
    if days and first <= today:
        for invoice_id, rule_days in _due(db, organization_id, days, first, today, time_zone):
            try:
                if _send(db, invoice_id, rule_days, today=today, base_url=base_url, now=now):
                    sent += 1
            except DomainError as error:  # a client's address the outbox refuses: the others still go
                log.warning("No reminder for invoice %s: %s", invoice_id, error)
    if first <= today:
        add_due_late_fees(db, organization_id, first=first, today=today, base_url=base_url, now=now)
    with db.transaction() as session:
        row = settings_row(session, organization_id, lock=True)
        if row is not None and (row.sent_through is None or row.sent_through < today):
            row.sent_through = today
    return RunReport(sent, today), next_run(now, time_zone)


def next_run(now: datetime, time_zone: str) -> datetime:
    """The next ``SEND_HOUR`` o'clock after ``now`` in ``time_zone``, as a UTC moment."""
    local = now.astimezone(zone(time_zone))
    moment = datetime.combine(local.date(), time(SEND_HOUR), tzinfo=zone(time_zone))
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), time(SEND_HOUR), tzinfo=zone(time_zone))
    return moment.astimezone(now.tzinfo)


def _due(
    db: Database, organization_id: int, days: Sequence[int], first: date, today: date, time_zone: str
) -> list[tuple[int, int]]:
    """(invoice id, rule) of each open invoice whose latest rule came due between ``first`` and ``today``
    and after the invoice was sent; whether it was sent already is checked when it is sent."""
    with db.reading() as session:
        rows = session.execute(
            select(Invoice.id, Invoice.due_date, Invoice.sent_at, Invoice.issue_date)
            .join(Client, Client.id == Invoice.client_id)
            .where(
                Invoice.organization_id == organization_id,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.balance_due_minor > 0,
                Client.send_reminders.is_(True),
                Invoice.due_date >= first - timedelta(days=max(days)),
                Invoice.due_date <= today - timedelta(days=min(days)),
            )
            .order_by(Invoice.id)
        ).all()
    due = []
    for invoice_id, due_date, sent_at, issue_date in rows:
        sent_day = _local_day(sent_at, time_zone) if sent_at is not None else issue_date
        window = [day for day in days if first <= due_date + timedelta(days=day) <= today]
        window = [day for day in window if due_date + timedelta(days=day) > sent_day]
        if window:
            due.append((invoice_id, max(window)))
    return due


class _AlreadySent(Exception):
    """The reminder's row was written meanwhile: its e-mail is rolled back with this transaction."""


def _send(
    db: Database, invoice_id: int, rule_days: int, *, today: date, base_url: str, now: datetime
) -> bool:
    """Queue one reminder with its row, in one transaction; False when it is not (or no longer) to be sent
    (``services.chasing.locked_for_chasing`` says which, under the locks a payment takes)."""
    try:
        with db.transaction() as session:
            chased = locked_for_chasing(session, invoice_id)
            if chased is None:
                return False
            client, invoice = chased
            already = session.scalar(
                select(InvoiceReminder.id).where(
                    InvoiceReminder.invoice_id == invoice.id, InvoiceReminder.rule_days == rule_days
                )
            )
            to = recipients(session, client)
            if already is not None or not to:
                return False
            organization = session.get_one(Organization, invoice.organization_id)
            stage = BEFORE if today < invoice.due_date else DUE if today == invoice.due_date else OVERDUE
            with writing_for_client(session, client.id) as reader:
                email_id = _queue(session, invoice, client, organization, to, stage, today, base_url, now)
                language, time_zone = reader.language, reader.time_zone
            if not insert_unless_present(
                session,
                InvoiceReminder,
                ["invoice_id", "rule_days"],
                invoice_id=invoice.id,
                rule_days=rule_days,
                stage=stage,
                email_id=email_id,
                sent_on=today,
                created_at=now,
            ):
                raise _AlreadySent
            record_event(
                session,
                SENT,
                at=now,
                client_id=client.id,
                subject=("invoice", invoice.id),
                details={
                    "rule_days": rule_days,
                    "stage": stage,
                    "language": language,
                    "time_zone": time_zone,
                },
            )
    except _AlreadySent:
        return False
    return True


def _queue(
    session: Session,
    invoice: Invoice,
    client: Client,
    organization: Organization,
    to: list[str],
    stage: str,
    today: date,
    base_url: str,
    now: datetime,
) -> int:
    """The reminder's e-mail, written for the reader of the moment (``writing_for_client``)."""
    reader_language = _reader_language()
    wording = _wording(session, organization.id, reader_language, stage)
    locale = formatting_locale(organization.locale)
    values = {
        "client": client.display_name,
        "business": organization.name,
        "number": invoice.number,
        "amount": format_money(Money(invoice.balance_due_minor, invoice.currency), locale),
        "due_date": format_day(invoice.due_date, locale),
        "days": str(abs((today - invoice.due_date).days)),
    }
    token, expires_at = issue_pay_link(session, invoice, now=now)
    body = "\n".join(
        (
            fill(wording.body, values),
            "",
            _("Pay it online now, no sign-in needed:"),
            secret_link(pay_link_url(base_url, token), expires_at),
            "",
            _("Or view, download or pay it in the portal:"),
            invoice_link(base_url, invoice.public_id),
            "",
            _("The invoice is attached as a PDF."),
        )
    )
    return queue_email(
        session,
        to=to,
        subject=fill(wording.subject, values)[:MAX_OUTBOX_SUBJECT],
        body_text=body,
        reply_to=organization.email,
        attachments=[
            invoice_attachment(
                client.id, invoice.public_id, invoice.number, reader_language, current_time_zone()
            )
        ],
        client_id=client.id,
        now=now,
    )


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with each placeholder replaced by its value; a text saved before a placeholder was
    dropped, or a stray brace, is left as written rather than failing the reminder."""
    parts = []
    try:
        for literal, name, _spec, _conversion in string.Formatter().parse(text):
            parts.append(literal)
            if name is not None:
                parts.append(values.get(name, "{" + name + "}"))
    except ValueError:
        return text
    return "".join(parts)


# --- helpers -----------------------------------------------------------------------------------------


def parse_days(text: str) -> tuple[int, ...]:
    """The rules as stored ("-3,0,7,30"), sorted."""
    return tuple(sorted(int(part) for part in text.split(",") if part.strip()))


def _checked_rules(rules: Sequence[RuleInput], *, required: bool) -> tuple[int, ...]:
    errors: dict[str, str] = {}
    days: list[int] = []
    for index, rule in enumerate(rules):
        if rule.when == WHEN_ON:
            day = 0
        elif rule.when in (WHEN_BEFORE, WHEN_AFTER):
            typed = rule.days.strip()
            limit = MAX_DAYS_BEFORE if rule.when == WHEN_BEFORE else MAX_DAYS_AFTER
            if not typed.isdecimal() or not 1 <= int(typed) <= limit:
                errors[f"rules.{index}"] = _("Enter a whole number of days from 1 to {limit}.").format(
                    limit=limit
                )
                continue
            day = -int(typed) if rule.when == WHEN_BEFORE else int(typed)
        else:
            errors[f"rules.{index}"] = _("Choose before, on or after the due date.")
            continue
        if day in days:
            errors[f"rules.{index}"] = _("This reminder is already in the list.")
            continue
        days.append(day)
    if len(rules) > MAX_RULES:
        errors["rules"] = _("Keep to {count} reminders at most.").format(count=MAX_RULES)
    elif required and not rules:
        errors["rules"] = _("Add at least one reminder, or turn reminders off.")
    if errors:
        raise InvalidDetails(errors)
    return tuple(sorted(days))


def _text_problem(text: str, limit: int, *, one_line: bool, missing: str) -> str:
    if not text:
        return missing
    if len(text) > limit:
        return _("Use at most {count} characters.").format(count=limit)
    if one_line and any(ord(character) < 32 or ord(character) == 127 for character in text):
        return _("Keep the subject on one line.")
    allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    try:
        fields = [name for _literal, name, _spec, _conversion in string.Formatter().parse(text)]
    except ValueError:
        return _("Braces may only surround a placeholder: {placeholders}.").format(placeholders=allowed)
    for name in fields:
        if name is not None and name not in PLACEHOLDERS:
            return _("{placeholder} is not a placeholder; use {placeholders}.").format(
                placeholder="{" + name + "}", placeholders=allowed
            )
    return ""


def _check_choice(language: str, stage: str) -> None:
    errors = {}
    if language not in available_languages():
        errors["language"] = _("Choose a language from the list.")
    if stage not in STAGES:
        errors["stage"] = _("Choose a reminder from the list.")
    if errors:
        raise InvalidDetails(errors)


def _wording(session: Session, organization_id: int, language: str, stage: str) -> ReminderWording:
    own = _own_text(session, organization_id, language, stage)
    if own is not None:
        return ReminderWording(language, stage, own.subject, own.body, is_default=False)
    return _default_wording(language, stage)


def _default_wording(language: str, stage: str) -> ReminderWording:
    subject, body = REMINDER_TEXTS[stage]
    with using_language(language):
        return ReminderWording(language, stage, _(subject), _(body), is_default=True)


def _own_text(session: Session, organization_id: int, language: str, stage: str) -> ReminderText | None:
    return session.scalars(
        select(ReminderText).where(
            ReminderText.organization_id == organization_id,
            ReminderText.language == language,
            ReminderText.stage == stage,
        )
    ).one_or_none()


def _reader_language() -> str:
    language = current_language()
    return language if language in available_languages() else DEFAULT_LANGUAGE


def _lock_organization(session: Session, organization_id: int) -> None:
    """One change of the business's texts at a time (two saves of a new text would both insert it)."""
    found = session.scalar(
        select(Organization.id).where(Organization.id == organization_id).with_for_update()
    )
    if found is None:
        raise NotFound("organization", organization_id)


def _client(session: Session, organization_id: int, public_id: str, *, lock: bool = False) -> Client:
    query = select(Client).where(Client.organization_id == organization_id, Client.public_id == public_id)
    if lock:
        query = query.with_for_update(key_share=True)
    client = session.scalars(query).one_or_none()
    if client is None:
        raise NotFound("client", public_id)
    return client


def _local_day(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(zone(time_zone)).date()


def stage_name(stage: str) -> str:
    return _(STAGE_NAMES.get(stage, stage))
