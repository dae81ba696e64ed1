"""The e-mails about quotes, written to the outbox in the transaction of their cause: the client's when a
quote is sent, and the business's notice when the customer accepts or declines it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from models import Client, Organization, Quote, QuoteStatus
from services.dates import format_day
from services.i18n import _, formatting_locale, using_language
from services.invoice_emails import recipients
from services.language_settings import writing_for_client
from services.money import Money, format_money
from services.outbox import queue_email


def quote_link(base_url: str, quote_public_id: str) -> str:
    """Where the customer opens the quote in the portal (after signing in)."""
    return f"{base_url.rstrip('/')}/quotes/{quote_public_id}"


def queue_quote_sent_email(session: Session, quote: Quote, *, base_url: str, now: datetime) -> int | None:
    """Queue "quote sent" for the client's contacts, in their language; None when it has no address.

    It names the quote, its total and the last day it can be accepted, and links to it in the portal,
    where the customer accepts or declines it.
    """
    client = session.get_one(Client, quote.client_id)
    to = recipients(session, client)
    if not to:
        return None
    organization = session.get_one(Organization, quote.organization_id)
    with writing_for_client(session, client.id):
        locale = formatting_locale(organization.locale)
        values = {
            "business": organization.name,
            "number": quote.number,
            "amount": format_money(Money(quote.total_minor, quote.currency), locale),
            "valid_until": format_day(quote.valid_until, locale),
        }
        body = "\n".join(
            (
                _("Hello {name},").format(name=client.display_name),
                "",
                _("{business} has sent you quote {number}.").format(**values),
                "",
                _("Total: {amount}").format(**values),
                _("Valid until: {valid_until}").format(**values),
                "",
                _("Read it, download it, and accept or decline it in the portal:"),
                quote_link(base_url, quote.public_id),
                "",
                _("Thank you for your business."),
                organization.name,
            )
        )
        return queue_email(
            session,
            to=to,
            subject=_("Quote {number} from {business}: {amount}, valid until {valid_until}").format(**values),
            body_text=body,
            reply_to=organization.email,
            client_id=client.id,
            now=now,
        )


def queue_quote_answered_notice(
    session: Session, quote: Quote, *, customer: str, customer_email: str, invoice_number: str, base_url: str,
    now: datetime,
) -> int | None:  # fmt: skip
    """Tell the business, in its language, that ``customer`` accepted (making ``invoice_number``) or
    declined (with the quote's reason) a quote; None when the business has no address."""
    organization = session.get_one(Organization, quote.organization_id)
    if not organization.email:
        return None
    client = session.get_one(Client, quote.client_id)
    with using_language(organization.default_language, time_zone=organization.time_zone):
        values = {"number": quote.number, "client": client.display_name, "person": customer}
        if quote.status == QuoteStatus.ACCEPTED:
            subject = _("Quote {number} accepted by {client}").format(**values)
            lines = [
                _("{person} of {client} accepted quote {number}, signing as “{signature}”.").format(
                    signature=quote.signature_name, **values
                ),
                _("Invoice {number} was issued for it and e-mailed to the customer.").format(
                    number=invoice_number
                ),
            ]
        else:
            subject = _("Quote {number} declined by {client}").format(**values)
            lines = [
                _("{person} of {client} declined quote {number}.").format(**values),
                _("Reason: {reason}").format(reason=quote.decline_reason),
            ]
        link = [f"{base_url.rstrip('/')}/admin/quotes/{quote.public_id}"] if base_url else []
        body = "\n".join((*lines, "", *link))
        return queue_email(
            session,
            to=[organization.email],
            subject=subject,
            body_text=body,
            reply_to=customer_email,
            client_id=client.id,
            now=now,
        )
