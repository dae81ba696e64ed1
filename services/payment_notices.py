"""The e-mails a payment sends: the receipt to the customer, a notice to the business, a failed debit.

They are queued in the outbox inside the transaction that books the payment, so a payment is never
booked without its receipt, and a receipt never goes out for a payment that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnExpressionArgument, Integer, Select, bindparam, select
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from models import (
    Client,
    Organization,
    OutboxEmail,
    Payment,
    PaymentKind,
    PaymentStatus,
    PortalUser,
    RefundSource,
)
from services.checkout_credits import UsedCredit
from services.database import Database
from services.dates import format_day
from services.errors import NotFound
from services.gateways.sandbox import SANDBOX_NOTICE
from services.i18n import N_, _, formatting_locale, using_language
from services.i18n.terms import term
from services.money import Money, format_money
from services.outbox import add_email, queue_email
from services.payments import PaidInvoice
from services.principal import ActsForClient
from services.rendered_attachments import receipt_attachment

USED_TOTALS = {
    RefundSource.CREDIT: N_("Credits used: {amount}"),
    RefundSource.RETAINER: N_("Retainer payments used: {amount}"),
}

# Where the receipt's number goes in the messages until it is taken: a private-use character that no
# name or amount contains, so replacing it cannot touch anything else.
RECEIPT_NUMBER = "\ue000receipt\ue000"


@dataclass(frozen=True)
class _Message:
    to: str
    subject: str
    body_text: str
    reply_to: str
    client_id: int
    receipt_pdf: ReceiptPdf | None = None


@dataclass(frozen=True)
class ReceiptPdf:
    """The receipt's PDF, which the sender renders for the customer (``services.rendered_attachments``)."""

    payment_public_id: str
    language: str
    time_zone: str


@dataclass(frozen=True)
class PreparedReceipt:
    """The receipt and the business's notice, written but for the receipt's number."""

    messages: tuple[_Message, ...]

    def queue(self, session: Session, receipt_number: str, now: datetime) -> list[OutboxEmail]:
        """Put both in the outbox with the number, in the caller's transaction (written at its next
        flush); ``services.receipt_numbering`` may give ``RECEIPT_NUMBER`` and write the number later."""
        queued = []
        for message in self.messages:
            pdf = message.receipt_pdf
            email = add_email(
                session,
                to=[message.to],
                subject=message.subject.replace(RECEIPT_NUMBER, receipt_number),
                body_text=message.body_text.replace(RECEIPT_NUMBER, receipt_number),
                reply_to=message.reply_to,
                attachments=[
                    receipt_attachment(
                        message.client_id, pdf.payment_public_id, receipt_number, pdf.language, pdf.time_zone
                    )
                ]
                if pdf
                else [],
                client_id=message.client_id,
                now=now,
            )
            queued.append(email)
        return queued


def prepare_receipt(
    session: Session,
    payment: Payment,
    paid: Sequence[PaidInvoice],
    now: datetime,
    *,
    credits: Sequence[UsedCredit] = (),
    parties: Parties | None = None,
) -> PreparedReceipt:
    """Receipt to the customer who paid and a notice to the business, for a payment that succeeded;
    both say which of the customer's credits and retainer payments were used with it (``credits``).
    ``parties``, if read already with the payment (``with_parties``), spares a query.

    Written before the receipt has its number: the number is taken last, and the row every receipt
    shares stays locked from then until the commit, so nothing slow may come between.
    """
    business, client, customer_email = parties or _parties(session, payment)
    messages: list[_Message] = []
    formatted: dict[tuple[int, str], str] = {}  # the same amounts come up several times in the two messages

    def money(minor: int) -> str:
        locale = formatting_locale(business.locale)
        if (minor, locale) not in formatted:
            formatted[minor, locale] = format_money(Money(minor, payment.currency), locale)
        return formatted[minor, locale]

    if customer_email:
        with using_language(client.language, time_zone=client.time_zone):
            lines = [
                _("Thank you for your payment to {business}.").format(business=business.name),
                "",
                _("Receipt number: {number}").format(number=RECEIPT_NUMBER),
                _("Date: {date}").format(
                    date=format_day((payment.received_at or now).date(), formatting_locale(business.locale))
                ),
                _("Amount: {amount}").format(amount=money(payment.amount_minor)),
                _("Paid with: {method}").format(method=method_text(payment)),
            ]
            if paid:
                lines += ["", _("Applied to:")]
                lines += [
                    "  "
                    + _("{number}: {amount} (still due: {left})").format(
                        number=line.number, amount=money(line.amount_minor), left=money(line.left_minor)
                    )
                    for line in paid
                ]
            if payment.unapplied_minor:
                kept = (
                    _("Available as retainer for future invoices: {amount}")
                    if payment.kind == PaymentKind.RETAINER
                    else _("Available as credit for future invoices: {amount}")
                )
                lines += ["", kept.format(amount=money(payment.unapplied_minor))]
            if credits:
                lines += ["", *credits_used(credits, money)]
            if payment.is_sandbox:
                lines += [
                    "",
                    _("{notice}: this payment was made in the portal's test mode.").format(
                        notice=term(SANDBOX_NOTICE)
                    ),
                ]
            subject = _("Receipt {number} from {business}").format(
                number=RECEIPT_NUMBER, business=business.name
            )
            pdf = ReceiptPdf(payment.public_id, client.language, client.time_zone)
            messages.append(
                _Message(customer_email, subject, "\n".join(lines), business.email, client.id, pdf)
            )
    if business.email:
        with using_language(business.language, time_zone=business.time_zone):
            notice = [
                _("{client} paid {amount} ({method}) in the portal.").format(
                    client=client.company_name or client.display_name,
                    amount=money(payment.amount_minor),
                    method=method_text(payment),
                ),
                _("Receipt number: {number}").format(number=RECEIPT_NUMBER),
            ]
            notice += [f"  {line.number}: {money(line.amount_minor)}" for line in paid]
            notice += credits_used(credits, money)
            if payment.is_sandbox:
                notice.append(term(SANDBOX_NOTICE))
            subject = _("Payment received: {amount} from {client}").format(
                amount=money(payment.amount_minor), client=client.display_name
            )
            messages.append(_Message(business.email, subject, "\n".join(notice), customer_email, client.id))
    return PreparedReceipt(tuple(messages))


@dataclass(frozen=True)
class ReceiptDelivery:
    """Where a payment's receipt is e-mailed, for the screen the payer sees next."""

    email: str  # "" when there is no address to send it to: no receipt is e-mailed
    queued: bool  # in the outbox already; False while the payment has not succeeded (yet)


def receipt_delivery(db: Database, payer: ActsForClient, payment_public_id: str) -> ReceiptDelivery:
    """Where the receipt of the payer's payment goes: the address ``prepare_receipt`` writes it to (the
    customer who paid, else the client's). It is in the outbox from the moment the payment succeeded,
    written in the transaction that booked it; a payment still processing gets it when it succeeds.
    Another client's payment is ``NotFound``."""
    with db.reading() as session:
        payment = session.scalar(
            select(Payment).where(
                Payment.public_id == payment_public_id, Payment.client_id == payer.client_id
            )
        )
        if payment is None:
            raise NotFound("payment", payment_public_id)
        email = _parties(session, payment)[2]
        return ReceiptDelivery(email, bool(email) and payment.status == PaymentStatus.SUCCEEDED)


def credits_used(credits: Sequence[UsedCredit], money: Callable[[int], str]) -> list[str]:
    """ "Credits used: $120.00" and what went on each invoice, then the same for retainer payments."""
    lines: list[str] = []
    for source, total in USED_TOTALS.items():
        uses = [use for use in credits if use.source == source]
        if uses:
            lines.append(_(total).format(amount=money(sum(use.amount.minor for use in uses))))
            lines += [f"  {use.invoice_number}: {money(use.amount.minor)}" for use in uses]
    return lines


def queue_settled_with_credits(
    session: Session,
    client_id: int,
    portal_user_id: int | None,
    settled: Sequence[PaidInvoice],
    credits: Sequence[UsedCredit],
    now: datetime,
) -> None:
    """Invoices paid with credits and retainer alone (nothing charged, so no receipt): the customer who
    did it and the business learn what was used on which invoice."""
    business, client, customer_email = _parties_of(session, client_id, portal_user_id)
    currency = credits[0].amount.currency

    def money(minor: int) -> str:
        return format_money(Money(minor, currency), formatting_locale(business.locale))

    total = money(sum(use.amount.minor for use in credits))
    if customer_email:
        with using_language(client.language, time_zone=client.time_zone):
            lines = [
                _(
                    "You paid {amount} of your invoices to {business} with your available credits and "
                    "retainer payments in the portal. Nothing was charged."
                ).format(amount=total, business=business.name),
                "",
                _("Applied to:"),
                *(
                    "  "
                    + _("{number}: {amount} (still due: {left})").format(
                        number=line.number, amount=money(line.amount_minor), left=money(line.left_minor)
                    )
                    for line in settled
                ),
                "",
                *credits_used(credits, money),
            ]
            queue_email(
                session,
                to=[customer_email],
                subject=_("{amount} of your invoices paid with your credits at {business}").format(
                    amount=total, business=business.name
                ),
                body_text="\n".join(lines),
                reply_to=business.email,
                client_id=client.id,
                now=now,
            )
    if business.email:
        with using_language(business.language, time_zone=business.time_zone):
            name = client.company_name or client.display_name
            notice = [
                _(
                    "{client} paid {amount} of their invoices with available credits and retainer payments "
                    "in the portal."
                ).format(client=name, amount=total),
                *credits_used(credits, money),
            ]
            queue_email(
                session,
                to=[business.email],
                subject=_("Credits used: {amount} by {client}").format(
                    amount=total, client=client.display_name
                ),
                body_text="\n".join(notice),
                reply_to=customer_email,
                client_id=client.id,
                now=now,
            )


def queue_debit_failed(session: Session, payment: Payment, now: datetime) -> None:
    """A bank debit that was processing failed: the customer learns that the invoices are still due."""
    business, client, customer_email = _parties(session, payment)
    if not customer_email:
        return
    with using_language(client.language, time_zone=client.time_zone):
        amount = format_money(
            Money(payment.amount_minor, payment.currency), formatting_locale(business.locale)
        )
        values = {"amount": amount, "business": business.name, "method": method_text(payment)}
        body = "\n\n".join(
            (
                _("Your payment of {amount} to {business} ({method}) did not go through: {reason}").format(
                    reason=term(payment.failure_message), **values
                ),
                _(
                    "Nothing was taken from your account and the invoices are still due. "
                    "You can pay them again from the portal."
                ),
            )
        )
        queue_email(
            session,
            to=[customer_email],
            subject=_("Your payment of {amount} to {business} failed").format(**values),
            body_text=body,
            reply_to=business.email,
            client_id=client.id,
            now=now,
        )


def method_text(payment: Payment) -> str:
    """ "Visa ending 4242", "SEPA Direct Debit ending 3000", or the offline method's name."""
    if payment.method_last4:
        return _("{brand} ending {last4}").format(
            brand=payment.method_brand or _("Card"), last4=payment.method_last4
        )
    return term(payment.method.replace("_", " ").capitalize())


@dataclass(frozen=True)
class _Business:
    name: str
    email: str
    locale: str
    language: str  # its default, for the notice it gets itself
    time_zone: str


@dataclass(frozen=True)
class _Client:
    id: int
    display_name: str
    company_name: str
    language: str  # the payer's own, else the business's default: the receipt's language
    time_zone: str


Parties = tuple[_Business, _Client, str]  # the business, the client, the address its messages go to

_PARTY_COLUMNS = (
    Organization.name,
    Organization.email,
    Organization.locale,
    Organization.default_language,
    Organization.time_zone,
    Client.id,
    Client.display_name,
    Client.company_name,
    Client.email,
    PortalUser.email,
    PortalUser.language,
    PortalUser.time_zone,
)


def with_parties(query: Select[Any], portal_user_id: ColumnExpressionArgument[Any]) -> Select[Any]:
    """``query``, which selects from the client, with the columns ``parties_from`` reads after its own:
    the client's, its business's, and those of the portal user ``portal_user_id`` names, if any. A
    payment's booking reads them with the payment it locks, in the same statement."""
    return (
        query.add_columns(*_PARTY_COLUMNS)
        .join(Organization, Organization.id == Client.organization_id)
        .outerjoin(PortalUser, PortalUser.id == portal_user_id)
    )


def parties_from(row: Sequence[Any], portal_user_id: int | None) -> Parties:
    """The business, the client and the address of the customer who paid (else the client's), from the
    last columns of a row of a ``with_parties`` query."""
    (name, business_email, locale, language, zone, client_id, display_name, company_name, client_email,
     user_email, user_language, user_zone) = row[-len(_PARTY_COLUMNS):]  # fmt: skip
    if portal_user_id is not None and user_email is None:
        raise NoResultFound(f"no portal user {portal_user_id}")
    business = _Business(name, business_email, locale, language, zone)
    client = _Client(client_id, display_name, company_name, user_language or language, user_zone or zone)
    return business, client, user_email or client_email


def _parties(session: Session, payment: Payment) -> Parties:
    """``parties_from`` for a payment, in one query."""
    return _parties_of(session, payment.client_id, payment.portal_user_id)


# Made once: every payment runs it (making it again cost about as much as running it). Without a
# portal user (None), the outer join finds none, as "id IS NULL" did.
_PARTIES = with_parties(select().select_from(Client), bindparam("portal_user_id", type_=Integer)).where(
    Client.id == bindparam("client_id")
)


def _parties_of(session: Session, client_id: int, portal_user_id: int | None) -> Parties:
    row = session.execute(_PARTIES, {"client_id": client_id, "portal_user_id": portal_user_id}).one()
    return parties_from(row, portal_user_id)
