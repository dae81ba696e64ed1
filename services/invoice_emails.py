"""The e-mail that tells a client an invoice was sent: written to the outbox in the send's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, Invoice, InvoiceKind, Organization, PortalUser
from services.dates import format_day
from services.i18n import _, current_language, current_time_zone, formatting_locale
from services.language_settings import writing_for_client
from services.money import Money, format_money
from services.outbox import queue_email, secret_link
from services.pay_links import issue_pay_link, pay_link_url
from services.rendered_attachments import invoice_attachment


def invoice_link(base_url: str, invoice_public_id: str) -> str:
    """Where the customer opens the invoice in the portal (after signing in)."""
    return f"{base_url.rstrip('/')}/invoices/{invoice_public_id}"


def recipients(session: Session, client: Client) -> list[str]:
    """The client's active contact persons, then the client's own billing address; each once."""
    contacts = session.scalars(
        select(PortalUser.email)
        .where(PortalUser.client_id == client.id, PortalUser.is_active.is_(True))
        .order_by(PortalUser.id)
    ).all()
    addresses = [*contacts, *([client.email] if client.email else [])]
    return list(dict.fromkeys(address.strip().lower() for address in addresses if address.strip()))


def queue_invoice_sent_email(
    session: Session, invoice: Invoice, *, base_url: str, now: datetime
) -> int | None:
    """Queue "invoice sent" for the client in the caller's transaction; None when it has no address.

    The message names the invoice number, the amount due and the due date, and links to the invoice
    in the portal, so it is committed with the status change or not at all. When the business sends
    e-invoices, the invoice's PDF (its Factur-X e-invoice) is attached, rendered by the sender.
    """
    client = session.get_one(Client, invoice.client_id)
    to = recipients(session, client)
    if not to:
        return None
    organization = session.get_one(Organization, invoice.organization_id)
    with writing_for_client(session, client.id):
        return _queue_invoice_sent(session, invoice, client, organization, to, base_url=base_url, now=now)


def _queue_invoice_sent(
    session: Session,
    invoice: Invoice,
    client: Client,
    organization: Organization,
    to: list[str],
    *,
    base_url: str,
    now: datetime,
) -> int:
    locale = formatting_locale(organization.locale)
    retainer = invoice.kind == InvoiceKind.RETAINER
    token, expires_at = issue_pay_link(session, invoice, now=now)
    amount = format_money(Money(invoice.balance_due_minor, invoice.currency), locale)
    due = format_day(invoice.due_date, locale)
    values = {"business": organization.name, "number": invoice.number, "amount": amount, "due": due}
    sent = (
        _("{business} has sent you retainer invoice {number}.")
        if retainer
        else _("{business} has sent you invoice {number}.")
    )
    body = "\n".join(
        (
            _("Hello {name},").format(name=client.display_name),
            "",
            sent.format(**values),
            "",
            _("Amount due: {amount}").format(amount=amount),
            _("Due date: {due}").format(due=due),
            "",
            _("Pay it online now, no sign-in needed:"),
            secret_link(pay_link_url(base_url, token), expires_at),
            "",
            _("Or view, download or pay it in the portal:"),
            invoice_link(base_url, invoice.public_id),
            "",
            *([_("The invoice is attached as a PDF."), ""] if organization.e_invoices else []),
            _("Thank you for your business."),
            organization.name,
        )
    )
    # The e-invoice is the invoice a customer's accounting books, so it goes to them, not only a link.
    attachments = (
        [
            invoice_attachment(
                client.id, invoice.public_id, invoice.number, current_language(), current_time_zone()
            )
        ]
        if organization.e_invoices
        else []
    )
    subject = (
        _("Retainer invoice {number} from {business}: {amount} due {due}")
        if retainer
        else _("Invoice {number} from {business}: {amount} due {due}")
    )
    return queue_email(
        session,
        to=to,
        subject=subject.format(**values),
        body_text=body,
        reply_to=organization.email,
        attachments=attachments,
        client_id=client.id,
        now=now,
    )
