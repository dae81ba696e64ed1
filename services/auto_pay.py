"""Auto-pay: a customer's consent to charge a saved card or bank account for each new invoice on its due
date, and the daily job that charges them.

In the portal, where the saved methods are managed, the customer turns auto-pay on with one of them
after reading the consent (``consent_text``); the words shown, who gave it, when and from which address
are kept (``AutoPayConsent``), and turning it off (at any time) only marks the consent revoked. Each
invoice the business issues to that client afterwards is charged on its due date, in the business's time
zone, by the ``auto_pay`` job of the business (``services.jobs``), through the same path as Pay Now
(``online_payments.pay``): the attempt stored before the gateway is asked, its id the idempotency key,
an answer in doubt left to reconciliation, the receipt and the business's notice e-mailed on success.

Each automatic charge is an ``auto_pay_attempts`` row, unique per invoice and attempt number, written
(under the client's and the invoice's locks, as a payment takes them) before the charge: a job that
runs twice, or on two instances at once, charges nothing twice. A charge the gateway refuses e-mails the
customer with a link to pay the invoice themselves and is tried again after the business's
``retry_days`` (Settings > Payments), at most ``retries`` times. Nothing is charged for an invoice paid
or voided meanwhile, one whose payment is already on its way, or once auto-pay is off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    AutoPayAttempt,
    AutoPayConsent,
    AutoPaySettings,
    Client,
    Invoice,
    InvoiceKind,
    Organization,
    Payment,
    PaymentStatus,
    PortalUser,
    SavedPaymentMethod,
)
from services.audit import record_event
from services.auto_pay_consents import AUTO_PAY_JOB, active_consents
from services.clock import Clock, utc_now
from services.database import Database, insert_unless_present
from services.dates import format_day, zone
from services.errors import DomainError, InvalidDetails, NotFound, PaymentInDoubt
from services.gateways.base import ChargeRequest, MethodKind, PaymentGateway
from services.i18n import N_, _, current_language, formatting_locale
from services.i18n.terms import term
from services.invoice_emails import invoice_link, recipients
from services.invoices import PAYABLE_STATUSES
from services.language_settings import writing_for_client
from services.money import Money, format_money
from services.online_payments import PaymentPlan, in_flight, pay, settle_with_credits
from services.outbox import queue_email, secret_link
from services.pay_links import issue_pay_link, pay_link_url
from services.pay_now import choose, offer_pay_now
from services.principal import Principal
from services.scheduler import arm
from services.staff_auth import StaffPrincipal, require_owner

log = logging.getLogger(__name__)

CHARGE_HOUR = 8  # invoices due today are charged from 8:00 in the business's time zone
WAITING_CHECK = timedelta(minutes=1)  # how soon the job looks again at a charge whose answer is awaited
DEFAULT_RETRY_DAYS, DEFAULT_RETRIES = 3, 2
MAX_RETRY_DAYS, MAX_RETRIES = 30, 5

STARTED, WAITING, SUCCEEDED, FAILED, SKIPPED = "started", "waiting", "succeeded", "failed", "skipped"
NOT_STARTED_AFTER = timedelta(minutes=10)  # a claimed attempt with no payment this long after: none was made

TURNED_ON = "auto_pay.turned_on"
TURNED_OFF = "auto_pay.turned_off"
CHARGED = "auto_pay.charge_made"
CHARGE_FAILED = "auto_pay.charge_failed"
SETTINGS_UPDATED = "auto_pay.settings_updated"

CONSENT = N_(
    "I authorise {business} to charge my {method} automatically for each new invoice, for the amount due, "
    "on its due date, and to try again if a charge fails. I can turn auto-pay off at any time in the "
    "portal; this does not affect charges already made."
)


@dataclass(frozen=True)
class AutoPayStatus:
    """A client's auto-pay as the customer (and the business) sees it."""

    enabled: bool
    method_public_id: str = ""
    method_text: str = ""
    consented_at: datetime | None = None
    consented_by: str = ""


@dataclass(frozen=True)
class ScheduledCharge:
    """An invoice auto-pay will charge: on which day, with which method."""

    invoice_public_id: str
    invoice_number: str
    on: date
    method_text: str


@dataclass(frozen=True)
class AutoPayView:
    """What Card Details shows: auto-pay on or off, and the charges it will make."""

    status: AutoPayStatus
    charges: tuple[ScheduledCharge, ...]


@dataclass(frozen=True)
class RetrySettings:
    retry_days: int
    retries: int


@dataclass(frozen=True)
class AttemptReport:
    invoice_number: str
    attempt: int
    status: str


# --- the customer's side -----------------------------------------------------------------------------


def consent_text(db: Database, principal: Principal, method_public_id: str, gateway_name: str) -> str:
    """The consent the customer reads before turning auto-pay on with this saved method (their language)."""
    with db.reading() as session:
        method = _own_method(session, principal.client_id, gateway_name, method_public_id)
        business = session.scalar(
            select(Organization.name).where(Organization.id == principal.organization_id)
        )
        return _(CONSENT).format(business=business or "", method=describe_method(method))


def auto_pay_status(db: Database, client_id: int) -> AutoPayStatus:
    """Whether auto-pay is on for the client, with which method, since when and by whom."""
    with db.reading() as session:
        return _status(session, client_id)


def client_auto_pay_status(db: Database, organization_id: int, client_public_id: str) -> AutoPayStatus:
    """The business's view of a client's auto-pay (its client page); ``NotFound`` for another's client."""
    with db.reading() as session:
        client_id = session.scalar(
            select(Client.id).where(
                Client.organization_id == organization_id, Client.public_id == client_public_id
            )
        )
        if client_id is None:
            raise NotFound("client", client_public_id)
        return _status(session, client_id)


def turn_on_auto_pay(
    db: Database,
    principal: Principal,
    method_public_id: str,
    *,
    gateway_name: str,
    shown_text: str,
    ip_address: str,
    clock: Clock = utc_now,
) -> AutoPayStatus:
    """Turn auto-pay on with one of the customer's saved methods, keeping the consent as it was shown.

    ``shown_text`` is the consent the page showed (``consent_text``); a page drawn before the method or
    the business's name changed shows other words, and is refused (``InvalidDetails`` for ``consent``)
    rather than keeping words the customer did not read. A consent given before is replaced.
    """
    now = clock()
    with db.transaction() as session:
        _lock_client(session, principal.client_id)
        method = _own_method(session, principal.client_id, gateway_name, method_public_id)
        business = session.scalar(
            select(Organization.name).where(Organization.id == principal.organization_id)
        )
        text = _(CONSENT).format(business=business or "", method=describe_method(method))
        if shown_text.strip() != text:
            raise InvalidDetails(
                {"consent": _("The consent changed while the page was open; please read it again.")}
            )
        _close_removed(session, principal.client_id)
        _revoke(session, principal.client_id, now)
        consent = AutoPayConsent(
            client_id=principal.client_id,
            saved_method_id=method.id,
            portal_user_id=principal.portal_user_id,
            consent_text=text,
            language=current_language(),
            ip_address=ip_address[:64],
            consented_at=now,
        )
        session.add(consent)
        session.flush()
        record_event(
            session,
            TURNED_ON,
            at=now,
            portal_user_id=principal.portal_user_id,
            client_id=principal.client_id,
            subject=("auto_pay_consent", consent.id),
            ip_address=ip_address,
            details={"method": method.public_id, "brand": method.brand, "last4": method.last4},
        )
        arm(session, AUTO_PAY_JOB, str(principal.organization_id), due_at=now, now=now)
        return _status(session, principal.client_id)


def turn_off_auto_pay(
    db: Database, principal: Principal, *, ip_address: str = "", clock: Clock = utc_now
) -> None:
    """Turn auto-pay off: nothing more is charged automatically (a charge already on its way is not
    undone; it is booked as any payment is)."""
    now = clock()
    with db.transaction() as session:
        _lock_client(session, principal.client_id)
        if _revoke(session, principal.client_id, now):
            record_event(
                session,
                TURNED_OFF,
                at=now,
                portal_user_id=principal.portal_user_id,
                client_id=principal.client_id,
                ip_address=ip_address,
            )


def scheduled_charges(db: Database, client_id: int, *, clock: Clock = utc_now) -> list[ScheduledCharge]:
    """The client's open invoices auto-pay will charge, with the day of their next charge."""
    with db.reading() as session:
        return _scheduled(session, client_id, clock())


def auto_pay_view(db: Database, client_id: int, *, clock: Clock = utc_now) -> AutoPayView:
    """Card Details' auto-pay: on or off, and the charges it will make (one read: Home draws it)."""
    with db.reading() as session:
        return auto_pay_view_in(session, client_id, clock())


def auto_pay_view_in(session: Session, client_id: int, now: datetime) -> AutoPayView:
    """``auto_pay_view`` inside a transaction of the caller's (Home's one read)."""
    return AutoPayView(_status(session, client_id), tuple(_scheduled(session, client_id, now)))


def _scheduled(session: Session, client_id: int, now: datetime) -> list[ScheduledCharge]:
    consent = _consent(session, client_id)
    if consent is None:
        return []
    method = session.get_one(SavedPaymentMethod, consent.saved_method_id)
    organization_id, time_zone = session.execute(
        select(Organization.id, Organization.time_zone)
        .join(Client, Client.organization_id == Organization.id)
        .where(Client.id == client_id)
    ).one()
    today = now.astimezone(zone(time_zone)).date()
    settings = _settings(session, organization_id)
    found = []
    for invoice in _covered(session, consent):
        day = _next_day(session, invoice, settings)
        if day is not None:
            found.append(
                ScheduledCharge(invoice.public_id, invoice.number, max(day, today), describe_method(method))
            )
    return found


def scheduled_charge(
    db: Database, client_id: int, invoice_public_id: str, *, clock: Clock = utc_now
) -> ScheduledCharge | None:
    """When auto-pay will charge this invoice of the client's, and with what; None if it will not."""
    found = (
        c for c in scheduled_charges(db, client_id, clock=clock) if c.invoice_public_id == invoice_public_id
    )
    return next(found, None)


def describe_method(method: SavedPaymentMethod) -> str:
    """ "Visa ending 4242", "SEPA Direct Debit ending 3000" in the reader's language."""
    brand = method.brand or (_("Card") if method.kind == MethodKind.CARD else _("Bank account"))
    return _("{brand} ending {last4}").format(brand=brand, last4=method.last4)


# --- Settings > Payments --------------------------------------------------------------------------------


def get_retry_settings(db: Database, organization_id: int) -> RetrySettings:
    with db.reading() as session:
        return _settings(session, organization_id)


def save_retry_settings(
    db: Database, owner: StaffPrincipal, *, retry_days: str, retries: str, clock: Clock = utc_now
) -> RetrySettings:
    """How a failed automatic charge is tried again (the owner only): after ``retry_days`` days, at most
    ``retries`` times. ``InvalidDetails`` for ``retry_days`` or ``retries`` that is not a whole number in
    range (1 to ``MAX_RETRY_DAYS``; 0 to ``MAX_RETRIES``)."""
    require_owner(owner)
    errors: dict[str, str] = {}
    days = _whole(retry_days, 1, MAX_RETRY_DAYS)
    times = _whole(retries, 0, MAX_RETRIES)
    if days is None:
        errors["retry_days"] = _("Enter a whole number of days from 1 to {most}.").format(most=MAX_RETRY_DAYS)
    if times is None:
        errors["retries"] = _("Enter a whole number from {least} to {most}.").format(
            least=0, most=MAX_RETRIES
        )
    if errors or days is None or times is None:
        raise InvalidDetails(errors)
    now = clock()
    with db.transaction() as session:
        insert_unless_present(
            session,
            AutoPaySettings,
            ["organization_id"],
            organization_id=owner.organization_id,
            retry_days=DEFAULT_RETRY_DAYS,
            retries=DEFAULT_RETRIES,
            updated_at=now,
        )
        session.execute(
            update(AutoPaySettings)
            .where(AutoPaySettings.organization_id == owner.organization_id)
            .values(retry_days=days, retries=times, updated_at=now)
        )
        record_event(
            session,
            SETTINGS_UPDATED,
            at=now,
            staff_user_id=owner.staff_user_id,
            subject=("organization", owner.organization_id),
            details={"retry_days": days, "retries": times},
        )
    return RetrySettings(days, times)


# --- the daily job ----------------------------------------------------------------------------------------


def run_auto_pay(
    db: Database, gateway: PaymentGateway, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> datetime | None:
    """Charge every invoice whose day has come (blocking); when to run next, or None when no client of
    the business has auto-pay on and no charge is awaited."""
    return charge_due_invoices(db, gateway, organization_id, base_url=base_url, clock=clock)[1]


def charge_due_invoices(
    db: Database, gateway: PaymentGateway, organization_id: int, *, base_url: str, clock: Clock = utc_now
) -> tuple[list[AttemptReport], datetime | None]:
    """``run_auto_pay`` with what each attempt came to."""
    now = clock()
    with db.reading() as session:
        time_zone = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
        if time_zone is None:
            return [], None
        today = now.astimezone(zone(time_zone)).date()
        settings = _settings(session, organization_id)
        awaited = session.scalars(
            select(AutoPayAttempt.id)
            .join(Invoice, Invoice.id == AutoPayAttempt.invoice_id)
            .where(Invoice.organization_id == organization_id, AutoPayAttempt.status.in_((STARTED, WAITING)))
        ).all()
        due: list[tuple[int, int]] = []
        consents = session.scalars(
            active_consents()
            .join(Client, Client.id == AutoPayConsent.client_id)
            .where(Client.organization_id == organization_id)
        ).all()
        for consent in consents:
            for invoice in _covered(session, consent):
                day = _next_day(session, invoice, settings)
                if day is not None and day <= today:
                    due.append((invoice.id, consent.id))
    reports: list[AttemptReport] = []
    for attempt_id in awaited:
        if (report := _settle(db, attempt_id, settings, base_url=base_url, clock=clock)) is not None:
            reports.append(report)
    for invoice_id, consent_id in due:
        try:
            if (
                report := _charge(db, gateway, invoice_id, consent_id, today, settings, base_url, clock)
            ) is not None:
                reports.append(report)
        except DomainError as error:
            log.warning("No automatic charge of invoice %s: %s", invoice_id, error)
    with db.reading() as session:
        still_awaited = session.scalar(
            select(func.count())
            .select_from(AutoPayAttempt)
            .join(Invoice, Invoice.id == AutoPayAttempt.invoice_id)
            .where(Invoice.organization_id == organization_id, AutoPayAttempt.status.in_((STARTED, WAITING)))
        )
        any_on = session.scalar(
            select(func.count()).select_from(
                active_consents()
                .join(Client, Client.id == AutoPayConsent.client_id)
                .where(Client.organization_id == organization_id)
                .subquery()
            )
        )
    if still_awaited:
        return reports, now + WAITING_CHECK
    if not any_on:
        return reports, None
    return reports, charge_moment(today + timedelta(days=1), time_zone, now)


def charge_moment(day: date, time_zone: str, now: datetime) -> datetime:
    return datetime.combine(day, time(CHARGE_HOUR), tzinfo=zone(time_zone)).astimezone(now.tzinfo)


def _charge(
    db: Database,
    gateway: PaymentGateway,
    invoice_id: int,
    consent_id: int,
    today: date,
    settings: RetrySettings,
    base_url: str,
    clock: Clock,
) -> AttemptReport | None:
    """Claim the invoice's next attempt (its unique row, under the locks a payment takes), then charge it
    through ``online_payments.pay`` and record what came of it."""
    now = clock()
    with db.transaction() as session:
        client_id = session.scalar(select(Invoice.client_id).where(Invoice.id == invoice_id))
        if client_id is None:
            return None
        _lock_client(session, client_id)
        invoice = session.scalars(
            select(Invoice)
            .where(Invoice.id == invoice_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        consent = _consent(session, client_id)
        if (
            consent is None
            or consent.id != consent_id
            or invoice.status not in PAYABLE_STATUSES
            or invoice.balance_due_minor - in_flight(session, client_id).get(invoice.id, 0) <= 0
        ):
            return None
        day = _next_day(session, invoice, settings)
        if day is None or day > today:
            return None
        number = (
            session.scalar(
                select(func.max(AutoPayAttempt.attempt)).where(AutoPayAttempt.invoice_id == invoice.id)
            )
            or 0
        ) + 1
        if not insert_unless_present(
            session,
            AutoPayAttempt,
            ["invoice_id", "attempt"],
            invoice_id=invoice.id,
            attempt=number,
            consent_id=consent.id,
            run_on=today,
            status=STARTED,
            failure_message="",
            created_at=now,
            updated_at=now,
        ):
            return None
        attempt_id = session.scalar(
            select(AutoPayAttempt.id).where(
                AutoPayAttempt.invoice_id == invoice.id, AutoPayAttempt.attempt == number
            )
        )
        method = session.get_one(SavedPaymentMethod, consent.saved_method_id)
        user_email = session.scalar(select(PortalUser.email).where(PortalUser.id == consent.portal_user_id))
        client = session.get_one(Client, client_id)
        who = session.scalar(select(PortalUser.name).where(PortalUser.id == consent.portal_user_id)) or ""
        payer = Principal(
            consent.portal_user_id, client_id, client.organization_id, who, user_email or client.email, 0
        )
        public_id, invoice_number = invoice.public_id, invoice.number
        removed = method.removed_at is not None
        request = ChargeRequest("", 0, "", "", saved_method_id=method.gateway_method_id, off_session=True)
    assert attempt_id is not None  # noqa: S101 - for the type checker; inserted above
    if removed:
        return _finish(
            db,
            attempt_id,
            FAILED,
            None,
            _("The saved payment method was removed."),
            settings,
            base_url,
            clock,
        )
    try:
        plan = _plan(db, payer, public_id, clock)
        if plan.charge.minor == 0:  # the credits and retainer cover it: nothing is charged
            settle_with_credits(db, payer, plan, clock=clock)
            return _finish(db, attempt_id, SUCCEEDED, None, "", settings, base_url, clock)
        outcome = pay(db, gateway, payer, plan, request, clock=clock)
    except PaymentInDoubt as error:
        _link_payment(db, attempt_id, error.payment_public_id, clock)
        return AttemptReport(invoice_number, number, WAITING)
    except DomainError as error:  # refused before anything was charged
        if _nothing_left(db, payer.client_id, invoice_id):  # paid (by the customer's own Pay Now) or voided
            return _finish(db, attempt_id, SKIPPED, None, "nothing left to charge", settings, base_url, clock)
        payment_id = _payment_since(db, payer.client_id, invoice_id, now)
        return _finish(db, attempt_id, FAILED, payment_id, _failure_words(error), settings, base_url, clock)
    payment_id = _payment_id(db, outcome.payment_public_id)
    if outcome.status == PaymentStatus.SUCCEEDED:
        return _finish(db, attempt_id, SUCCEEDED, payment_id, "", settings, base_url, clock)
    if outcome.status == PaymentStatus.FAILED:
        return _finish(db, attempt_id, FAILED, payment_id, outcome.failure_message, settings, base_url, clock)
    _link_payment(db, attempt_id, outcome.payment_public_id, clock)  # processing, or a challenge pending
    return AttemptReport(invoice_number, number, WAITING)


def _plan(db: Database, payer: Principal, invoice_public_id: str, clock: Clock) -> PaymentPlan:
    """What Pay Now would plan for this invoice alone: what can be paid of it now, with the available
    credits and retainer used first (``services.pay_now``); the card or account is charged the rest."""
    offer = offer_pay_now(db, payer, clock=clock)
    return choose(offer, {invoice_public_id: offer.line(invoice_public_id).amount})


def _settle(
    db: Database, attempt_id: int, settings: RetrySettings, *, base_url: str, clock: Clock
) -> AttemptReport | None:
    """An attempt whose answer was awaited: finished once its payment is booked (by reconciliation or a
    webhook), as that payment came out; one claimed with no payment made, failed without a charge."""
    with db.reading() as session:
        attempt = session.get(AutoPayAttempt, attempt_id)
        if attempt is None or attempt.status not in (STARTED, WAITING):
            return None
        payment = session.get(Payment, attempt.payment_id) if attempt.payment_id else None
        status: str | None
        if payment is None:
            client_id = session.scalar(select(Invoice.client_id).where(Invoice.id == attempt.invoice_id))
            payment_id = _payment_since_in(session, client_id or 0, attempt.invoice_id, attempt.created_at)
            payment = session.get(Payment, payment_id) if payment_id else None
            if payment is None:
                if clock() - attempt.created_at < NOT_STARTED_AFTER:
                    return None  # its charge may still be on its way
                status, message = SKIPPED, "no payment was made"
            else:
                status, message = _payment_state(payment)
        else:
            status, message = _payment_state(payment)
        if status is None:
            return None
    return _finish(
        db, attempt_id, status, payment.id if payment else None, message, settings, base_url, clock
    )


def _payment_state(payment: Payment) -> tuple[str | None, str]:
    if payment.status == PaymentStatus.SUCCEEDED:
        return SUCCEEDED, ""
    if payment.status == PaymentStatus.FAILED:
        return FAILED, payment.failure_message
    return None, ""


def _finish(
    db: Database,
    attempt_id: int,
    status: str,
    payment_id: int | None,
    message: str,
    settings: RetrySettings,
    base_url: str,
    clock: Clock,
) -> AttemptReport | None:
    """Record how an attempt ended, once (a conditional update); a failure e-mails the customer in the
    same transaction, with a pay link and when it will be tried again."""
    now = clock()
    with db.transaction() as session:
        changed = (
            session.connection()
            .execute(
                update(AutoPayAttempt)
                .where(AutoPayAttempt.id == attempt_id, AutoPayAttempt.status.in_((STARTED, WAITING)))
                .values(status=status, payment_id=payment_id, failure_message=message[:500], updated_at=now)
            )
            .rowcount
        )
        if not changed:
            return None
        attempt = session.get_one(AutoPayAttempt, attempt_id, populate_existing=True)
        invoice = session.get_one(Invoice, attempt.invoice_id)
        if status == FAILED:
            _queue_failure(session, invoice, attempt, settings, base_url, now)
        if status in (SUCCEEDED, FAILED):
            record_event(
                session,
                CHARGED if status == SUCCEEDED else CHARGE_FAILED,
                at=now,
                client_id=invoice.client_id,
                subject=("invoice", invoice.id),
                details={"attempt": attempt.attempt, "payment_id": payment_id, "failure": message[:200]},
            )
        return AttemptReport(invoice.number, attempt.attempt, status)


def _queue_failure(
    session: Session,
    invoice: Invoice,
    attempt: AutoPayAttempt,
    settings: RetrySettings,
    base_url: str,
    now: datetime,
) -> None:
    client = session.get_one(Client, invoice.client_id)
    to = recipients(session, client)
    if not to:
        return
    organization = session.get_one(Organization, invoice.organization_id)
    method = session.get_one(
        SavedPaymentMethod, session.get_one(AutoPayConsent, attempt.consent_id).saved_method_id
    )
    failures = _failures(session, invoice.id)
    with writing_for_client(session, client.id):
        locale = formatting_locale(organization.locale)
        values = {
            "number": invoice.number,
            "amount": format_money(Money(invoice.balance_due_minor, invoice.currency), locale),
            "method": describe_method(method),
            "business": organization.name,
        }
        token, expires_at = issue_pay_link(session, invoice, now=now)
        if failures <= settings.retries:
            again = _("We will try again on {day}.").format(
                day=format_day(attempt.run_on + timedelta(days=settings.retry_days), locale)
            )
        else:
            again = _("We will not try again automatically.")
        reason = attempt.failure_message or _("The payment was declined.")
        body = "\n".join(
            (
                _("Hello {client},").format(client=client.display_name),
                "",
                _(
                    "The automatic payment of invoice {number} ({amount}) with your {method} did not go "
                    "through: {reason}"
                ).format(reason=term(reason), **values),
                again,
                "",
                _("Pay it online now, no sign-in needed:"),
                secret_link(pay_link_url(base_url, token), expires_at),
                "",
                _("Or view, download or pay it in the portal:"),
                invoice_link(base_url, invoice.public_id),
                "",
                _("Kind regards,"),
                organization.name,
            )
        )
        queue_email(
            session,
            to=to,
            subject=_("Automatic payment of invoice {number} failed").format(**values),
            body_text=body,
            reply_to=organization.email,
            client_id=client.id,
            now=now,
        )


# --- helpers ---------------------------------------------------------------------------------------------


def _covered(session: Session, consent: AutoPayConsent) -> list[Invoice]:
    """The client's open invoices issued since auto-pay was turned on: the ones auto-pay charges."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.client_id == consent.client_id,
                Invoice.kind == InvoiceKind.INVOICE,
                Invoice.status.in_(PAYABLE_STATUSES),
                Invoice.balance_due_minor > 0,
                Invoice.sent_at >= _on_since(session, consent),
            )
            .order_by(Invoice.due_date, Invoice.id)
        )
    )


def _on_since(session: Session, consent: AutoPayConsent) -> datetime:
    """When auto-pay was turned on, back through the consents this one replaced: a customer who puts
    another card on auto-pay (after a decline, typically) still has the invoices issued before it charged,
    their retries included. ``turn_on_auto_pay`` revokes the consent it replaces at the new one's moment."""
    since, newer = consent.consented_at, consent.id
    while (
        replaced := session.execute(
            select(AutoPayConsent.id, AutoPayConsent.consented_at)
            .where(
                AutoPayConsent.client_id == consent.client_id,
                AutoPayConsent.id < newer,
                AutoPayConsent.revoked_at == since,
            )
            .order_by(AutoPayConsent.id.desc())
            .limit(1)
        ).first()
    ) is not None:
        newer, since = replaced
    return since


def _next_day(session: Session, invoice: Invoice, settings: RetrySettings) -> date | None:
    """The day of the invoice's next automatic charge: its due date, then ``retry_days`` after each
    failed one; None while one is awaited, once it succeeded, or after the last retry failed."""
    rows = session.execute(
        select(AutoPayAttempt.status, AutoPayAttempt.run_on)
        .where(AutoPayAttempt.invoice_id == invoice.id)
        .order_by(AutoPayAttempt.attempt)
    ).all()
    if any(status in (STARTED, WAITING, SUCCEEDED) for status, _day in rows):
        return None
    failed = [day for status, day in rows if status == FAILED]
    if not failed:
        return invoice.due_date
    if len(failed) > settings.retries:
        return None
    return failed[-1] + timedelta(days=settings.retry_days)


def _failures(session: Session, invoice_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(
                AutoPayAttempt.invoice_id == invoice_id, AutoPayAttempt.status == FAILED
            )
        )
        or 0
    )


def _consent(session: Session, client_id: int) -> AutoPayConsent | None:
    return session.scalars(
        active_consents()
        .where(AutoPayConsent.client_id == client_id)
        .order_by(AutoPayConsent.id.desc())
        .limit(1)
    ).first()


def _close_removed(session: Session, client_id: int) -> None:
    """Record as turned off, when their method was removed, the consents whose method is gone: a consent
    given later does not carry them on (``_on_since``)."""
    rows = session.execute(
        select(AutoPayConsent.id, SavedPaymentMethod.removed_at)
        .join(SavedPaymentMethod, SavedPaymentMethod.id == AutoPayConsent.saved_method_id)
        .where(
            AutoPayConsent.client_id == client_id,
            AutoPayConsent.revoked_at.is_(None),
            SavedPaymentMethod.removed_at.is_not(None),
        )
    ).all()
    for consent_id, removed_at in rows:
        session.connection().execute(
            update(AutoPayConsent).where(AutoPayConsent.id == consent_id).values(revoked_at=removed_at)
        )


def _status(session: Session, client_id: int) -> AutoPayStatus:
    consent = _consent(session, client_id)
    if consent is None:
        return AutoPayStatus(False)
    method = session.get_one(SavedPaymentMethod, consent.saved_method_id)
    who = session.scalar(select(PortalUser.name).where(PortalUser.id == consent.portal_user_id)) or ""
    return AutoPayStatus(True, method.public_id, describe_method(method), consent.consented_at, who)


def _revoke(session: Session, client_id: int, now: datetime) -> bool:
    return bool(
        session.connection()
        .execute(
            update(AutoPayConsent)
            .where(AutoPayConsent.client_id == client_id, AutoPayConsent.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        .rowcount
    )


def _own_method(session: Session, client_id: int, gateway_name: str, public_id: str) -> SavedPaymentMethod:
    method = session.scalar(
        select(SavedPaymentMethod).where(
            SavedPaymentMethod.client_id == client_id,
            SavedPaymentMethod.gateway == gateway_name,
            SavedPaymentMethod.public_id == public_id,
            SavedPaymentMethod.removed_at.is_(None),
        )
    )
    if method is None:
        raise NotFound("payment method", public_id)
    return method


def _lock_client(session: Session, client_id: int) -> None:
    """The client's row as a payment locks it: one auto-pay change or charge at a time per client."""
    if (
        session.scalar(select(Client.id).where(Client.id == client_id).with_for_update(key_share=True))
        is None
    ):
        raise NotFound("client", client_id)


def _settings(session: Session, organization_id: int) -> RetrySettings:
    row = session.scalars(
        select(AutoPaySettings).where(AutoPaySettings.organization_id == organization_id)
    ).first()
    return (
        RetrySettings(row.retry_days, row.retries)
        if row
        else RetrySettings(DEFAULT_RETRY_DAYS, DEFAULT_RETRIES)
    )


def _link_payment(db: Database, attempt_id: int, payment_public_id: str, clock: Clock) -> None:
    with db.transaction() as session:
        payment_id = session.scalar(select(Payment.id).where(Payment.public_id == payment_public_id))
        session.execute(
            update(AutoPayAttempt)
            .where(AutoPayAttempt.id == attempt_id, AutoPayAttempt.status == STARTED)
            .values(status=WAITING, payment_id=payment_id, updated_at=clock())
        )


def _nothing_left(db: Database, client_id: int, invoice_id: int) -> bool:
    """Whether the invoice was paid, voided or put on its way meanwhile: a refusal then is no failed charge
    to tell the customer about (their own payment won the race with auto-pay's)."""
    with db.reading() as session:
        invoice = session.get_one(Invoice, invoice_id)
        left = invoice.balance_due_minor - in_flight(session, client_id).get(invoice_id, 0)
        return invoice.status not in PAYABLE_STATUSES or left <= 0


def _payment_id(db: Database, public_id: str) -> int | None:
    with db.reading() as session:
        return session.scalar(select(Payment.id).where(Payment.public_id == public_id))


def _payment_since(db: Database, client_id: int, invoice_id: int, since: datetime) -> int | None:
    with db.reading() as session:
        return _payment_since_in(session, client_id, invoice_id, since)


def _payment_since_in(session: Session, client_id: int, invoice_id: int, since: datetime) -> int | None:
    """The payment an attempt made when its id never reached us: the client's first towards the invoice
    since the attempt was claimed (the client's lock lets no other start in between)."""
    rows = session.execute(
        select(Payment.id, Payment.planned_allocations)
        .where(Payment.client_id == client_id, Payment.created_at >= since)
        .order_by(Payment.id)
    ).all()
    for payment_id, planned in rows:
        if any(int(line["invoice_id"]) == invoice_id for line in planned):
            return int(payment_id)
    return None


def _failure_words(error: DomainError) -> str:
    message = getattr(error, "message", "")
    return str(message) if message else "The payment could not be made; nothing was charged."


def _whole(text: str, least: int, most: int) -> int | None:
    typed = text.strip()
    return int(typed) if typed.isdecimal() and least <= int(typed) <= most else None
