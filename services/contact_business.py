"""Send Email: a customer writes to the business. The message is kept in the business's inbox and
e-mailed to the business's address with the customer as reply-to; 10 messages an hour per client."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from models import Client, Message, Organization, PortalUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import NotFound, TextHasControlCharacters, TextRequired, TextTooLong
from services.events import BUSINESS_INBOX_TOPIC, Events
from services.i18n import _, using_language
from services.outbox import MAX_SUBJECT_LENGTH as MAX_EMAIL_SUBJECT_LENGTH
from services.outbox import queue_email
from services.principal import Principal
from services.rate_limits import MESSAGES, take

MAX_SUBJECT_LENGTH = 150
MAX_MESSAGE_LENGTH = 5000
MESSAGES_PER_HOUR = MESSAGES.most
SENT = MESSAGES.action

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In the message every control character but the line break and the tab is dropped.
_BODY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class MessageSent:
    public_id: str
    emailed: bool  # False when the business has no e-mail address: the message waits in its inbox only
    messages_left_this_hour: int


def send_message(
    db: Database,
    principal: Principal,
    subject: str,
    body: str,
    *,
    events: Events | None = None,
    clock: Clock = utc_now,
) -> MessageSent:
    """Send the business a message from the signed-in customer.

    Raises ``TextRequired`` (field "subject" or "message") when one is empty, ``TextTooLong`` beyond
    150 / 5,000 characters, ``TextHasControlCharacters`` for a line break in the subject, and
    ``MessageLimitReached`` for the 11th message of a client within an hour; nothing is kept then.
    The business's open inbox shows the message once it is kept.
    """
    subject = subject.strip()
    text = _BODY_CONTROL.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not subject:
        raise TextRequired("subject")
    if _CONTROL.search(subject):
        raise TextHasControlCharacters("subject")
    if len(subject) > MAX_SUBJECT_LENGTH:
        raise TextTooLong("subject", MAX_SUBJECT_LENGTH)
    if not text:
        raise TextRequired("message")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise TextTooLong("message", MAX_MESSAGE_LENGTH)
    now = clock()
    with db.transaction() as session:
        row = session.execute(
            select(PortalUser, Client, Organization)
            .join(Client, Client.id == PortalUser.client_id)
            .join(Organization, Organization.id == Client.organization_id)
            .where(PortalUser.id == principal.portal_user_id, Client.id == principal.client_id)
        ).one_or_none()
        if row is None:
            raise NotFound("client", principal.client_id)
        user, client, business = row
        left = take(session, MESSAGES, client.id, now=now)
        message = Message(
            client_id=client.id, portal_user_id=user.id, subject=subject, body=text, created_at=now
        )
        session.add(message)
        session.flush()
        if business.email:
            with using_language(business.default_language, time_zone=business.time_zone):  # the business's
                queue_email(
                    session,
                    to=[business.email],
                    subject=_email_subject(subject, client.display_name),
                    body_text=_email_text(user.name, user.email, client.display_name, subject, text),
                    reply_to=user.email,
                    client_id=client.id,
                    now=now,
                )
        record_event(
            session,
            SENT,
            at=now,
            portal_user_id=user.id,
            client_id=client.id,
            subject=("message", message.id),
            details={"emailed": bool(business.email)},
        )
        result = MessageSent(message.public_id, bool(business.email), left)
    if events is not None:
        events.publish(BUSINESS_INBOX_TOPIC)
    return result


def _email_subject(subject: str, client_name: str) -> str:
    """ "[Portal] <subject> — from <client>", the client's name shortened to fit an e-mail subject."""
    start = _("[Portal] {subject} — from ").format(subject=subject)
    room = MAX_EMAIL_SUBJECT_LENGTH - len(start)
    name = client_name if len(client_name) <= room else client_name[: room - 1] + "…"
    return start + name


def _email_text(name: str, email: str, client_name: str, subject: str, text: str) -> str:
    return "\n".join(
        [
            _("{name} ({email}) of {client} sent this message from the customer portal.").format(
                name=name, email=email, client=client_name
            ),
            _("Reply to this e-mail to answer them."),
            "",
            _("Subject: {subject}").format(subject=subject),
            "",
            text,
        ]
    )
