"""The e-mail outbox: messages are written in the transaction of the event that causes them.

A feature service calls ``queue_email`` with its own session, so an invoice that is sent and the
e-mail announcing it are committed together, or not at all. ``services.mailer`` delivers the
outbox later, with retries; nothing in the outbox is ever deleted.

A message's status is one of:

- ``pending``: waiting for ``next_attempt_at``;
- ``sending``: claimed by a sender until ``next_attempt_at`` (the claim's lease); a claim whose
  lease has run out is due again, so a sender that stopped half-way loses nothing;
- ``sent``: the SMTP server accepted it (``sent_at``);
- ``failed``: every attempt failed, or the address was refused for good; ``retry_now`` revives it.

A link that grants something (an invitation's or a reset's set-password link) is never stored in clear:
``secret_link`` puts it in the body sealed under the portal's secret key (``models.sealed``) with its
expiry, ``links_for_delivery`` opens it only for the message being sent and only before it expires,
the sender removes it from the stored message once sent (``links_hidden``), and ``expire_links``
removes it from a message still waiting once it has expired. Screens show ``[link hidden]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import OutboxAttachment, OutboxEmail
from models.sealed import SecretUnreadable, seal, unseal
from services.database import Database
from services.errors import InvalidEmail, InvalidStatusChange, NotFound
from services.i18n import DEFAULT_LANGUAGE, N_, _, current_language, using_language

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"

MAX_ADDRESS_LENGTH = 254
MAX_SUBJECT_LENGTH = 300
MAX_FILENAME_LENGTH = 200
MAX_MIME_TYPE_LENGTH = 100
MAX_RENDERED_FROM_LENGTH = 100

# Control characters (CR and LF among them) would let a value end its header and start another.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters that mean an address list or a display name rather than one bare address; commas
# would also split the stored comma-separated list.
_NOT_IN_ADDRESS = re.compile(r"[\s,;<>()\[\]\"\\]")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")

# Shown to staff in place of a secret link on the outbox screen, in their language (``_entry``).
LINK_HIDDEN = N_("[link hidden]")
# Stored in place of a sent message's link, as it is (in no reader's language): a marker the outbox
# screen shows in its reader's language (``_entry``). The recipient's copy never holds it.
LINK_SENT = N_("[link removed after sending]")
# Said to the reader in place of a link that can no longer be used, in the language of its message.
LINK_EXPIRED = N_("[this link has expired: please ask for a new one]")
_LINK_MARK = "[[sealed link until "
# A sealed link: its expiry in clear (for expire_links), the link and its expiry again under the seal,
# and the language its message is written in (none in a link sealed before languages: English).
_SEALED_LINK = re.compile(
    re.escape(_LINK_MARK) + r"(\S+) (sealed:v1:[A-Za-z0-9_=-]+)(?: ([A-Za-z_-]{2,20}))?\]\]"
)
# A set-password link as messages held it before links were sealed (services.invitations seals those
# still waiting at start-up; this catches one queued meanwhile by an instance not yet upgraded).
_PLAIN_SECRET_LINK = re.compile(r"\S*/set-password\?token=[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Attachment:
    filename: str
    mime_type: str  # "application/pdf"
    content: bytes  # b"" when ``rendered_from`` names a document the sender renders
    rendered_from: str = ""  # services.rendered_attachments


@dataclass(frozen=True)
class OutboxEntry:
    public_id: str
    to: tuple[str, ...]
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime  # when a pending message is tried next
    body: str  # the text, with any secret link hidden


def queue_email(
    session: Session,
    *,
    to: Sequence[str],
    subject: str,
    body_text: str,
    reply_to: str = "",
    attachments: Sequence[Attachment] = (),
    client_id: int | None = None,
    now: datetime,
) -> int:
    """Add a message to the outbox in the caller's transaction and return its id.

    The message is due at once; it is sent only if the caller's transaction commits. Raises
    ``InvalidEmail`` for an empty or malformed address, an empty or over-long subject, or a
    control character (CR, LF, ...) in any header value, so no header can be injected.
    """
    email = add_email(
        session,
        to=to,
        subject=subject,
        body_text=body_text,
        reply_to=reply_to,
        attachments=attachments,
        client_id=client_id,
        now=now,
    )
    session.flush()
    return email.id


def add_email(
    session: Session,
    *,
    to: Sequence[str],
    subject: str,
    body_text: str,
    reply_to: str = "",
    attachments: Sequence[Attachment] = (),
    client_id: int | None = None,
    now: datetime,
) -> OutboxEmail:
    """``queue_email`` without writing it yet: it goes in with the transaction's next flush, together
    with whatever else is pending (one statement for several messages)."""
    recipients = _recipients(to)
    if reply_to:
        reply_to = _address("reply_to", reply_to)
    _check_header("subject", subject, MAX_SUBJECT_LENGTH)
    for attachment in attachments:
        _check_attachment(attachment)
    email = OutboxEmail(
        client_id=client_id,
        to_addresses=",".join(recipients),
        reply_to=reply_to,
        subject=subject,
        body_text=body_text,
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
        attachments=[
            OutboxAttachment(
                filename=attachment.filename,
                mime_type=attachment.mime_type.lower(),
                content=bytes(attachment.content),
                rendered_from=attachment.rendered_from,
            )
            for attachment in attachments
        ],
    )
    session.add(email)
    return email


def secret_link(url: str, expires_at: datetime) -> str:
    """What a message's body holds for ``url``, a link that must not be stored readable (it grants
    something until ``expires_at``): sent as the link itself while it is valid, stored only sealed.

    Written for the reader of the moment (``using_language``): should the link expire before the
    message is sent, the line said in its place is in the message's language.
    """
    until = _utc(expires_at).isoformat()
    return f"{_LINK_MARK}{until} {seal(f'{until} {url}')} {current_language()}]]"


def links_for_delivery(body: str, now: datetime) -> str:
    """The body as it is sent at ``now``: each sealed link opened, or a line saying it has expired
    (expired, or sealed with a key the portal no longer has)."""

    def opened(match: re.Match[str]) -> str:
        try:
            until, _sep, url = unseal(match.group(2)).partition(" ")
        except SecretUnreadable:
            return _expired(match)
        return url if url and _utc(now) < datetime.fromisoformat(until) else _expired(match)

    return _SEALED_LINK.sub(opened, body)


def _expired(link: re.Match[str]) -> str:
    """The line in place of an expired link, in the language of its message."""
    with using_language(link.group(3) or DEFAULT_LANGUAGE):
        return _(LINK_EXPIRED)


def links_hidden(body: str, replacement: str = LINK_HIDDEN) -> str:
    """The body with every secret link, sealed or (from before sealing) plain, replaced."""
    return _PLAIN_SECRET_LINK.sub(replacement, _SEALED_LINK.sub(replacement, body))


def expire_links(db: Database, now: datetime) -> int:
    """Remove the links that have expired from the messages not sent yet; returns how many changed.

    A sent message holds none (the sender removed them); a waiting or failed one keeps a sealed link
    only while it works, so even the secret key cannot bring back an expired one from the database.
    """
    with db.reading() as session:  # most rounds find nothing: no write lock for them
        waiting = session.execute(
            select(OutboxEmail.id, OutboxEmail.body_text).where(
                OutboxEmail.status != SENT, OutboxEmail.body_text.contains(_LINK_MARK)
            )
        ).all()
    expired = {}
    for email_id, body in waiting:
        kept = _SEALED_LINK.sub(
            lambda link: _expired(link) if datetime.fromisoformat(link.group(1)) <= _utc(now) else link[0],
            body,
        )
        if kept != body:
            expired[email_id] = (body, kept)
    if expired:
        with db.transaction() as session:
            for email_id, (body, kept) in expired.items():
                # unless the sender changed it meanwhile (sent it, and removed the link itself)
                session.execute(
                    update(OutboxEmail)
                    .where(OutboxEmail.id == email_id, OutboxEmail.body_text == body)
                    .values(body_text=kept)
                )
    return len(expired)


def list_outbox(db: Database, *, limit: int) -> list[OutboxEntry]:
    """The newest ``limit`` messages, newest first, for the business's outbox screen."""
    with db.reading() as session:
        emails = session.scalars(
            select(OutboxEmail).order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc()).limit(limit)
        ).all()
        return [_entry(email) for email in emails]


def retry_now(db: Database, public_id: str, now: datetime) -> OutboxEntry:
    """Make a failed (or waiting) message due at once.

    A failed message gets one more attempt; if that fails too it is failed again, with the new
    error. Raises ``NotFound`` for an unknown id and ``InvalidStatusChange`` for a message that
    is sent or being sent.
    """
    with db.transaction() as session:
        email = session.scalars(select(OutboxEmail).where(OutboxEmail.public_id == public_id)).one_or_none()
        if email is None:
            raise NotFound("e-mail", public_id)
        if email.status not in (FAILED, PENDING):
            raise InvalidStatusChange("e-mail", public_id, email.status, "retried")
        email.status = PENDING
        email.next_attempt_at = now
        session.flush()
        return _entry(email)


def _entry(email: OutboxEmail) -> OutboxEntry:
    return OutboxEntry(
        public_id=email.public_id,
        to=tuple(email.to_addresses.split(",")),
        subject=email.subject,
        status=email.status,
        attempts=email.attempts,
        last_error=email.last_error,
        created_at=email.created_at,
        sent_at=email.sent_at,
        next_attempt_at=email.next_attempt_at,
        body=links_hidden(email.body_text, _(LINK_HIDDEN)).replace(LINK_SENT, _(LINK_SENT)),
    )


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _recipients(to: Sequence[str]) -> list[str]:
    given = [to] if isinstance(to, str) else list(to)
    if not given:
        raise InvalidEmail("to", "", "has no address")
    recipients: list[str] = []
    seen: set[str] = set()
    for value in given:
        address = _address("to", value)
        if address.lower() not in seen:
            seen.add(address.lower())
            recipients.append(address)
    return recipients


def _address(field: str, value: str) -> str:
    """One bare address (``name@example.com``), checked before it is trimmed of spaces."""
    if _CONTROL.search(value):
        raise InvalidEmail(field, value, "contains a line break or control character")
    address = value.strip()
    if not address:
        raise InvalidEmail(field, value, "is empty")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidEmail(field, value, f"is longer than {MAX_ADDRESS_LENGTH} characters")
    if _NOT_IN_ADDRESS.search(address):
        raise InvalidEmail(field, value, "is not a single e-mail address")
    local, at, domain = address.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise InvalidEmail(field, value, "must have one @ between a name and a domain")
    return address


def _check_header(field: str, value: str, max_length: int) -> None:
    if _CONTROL.search(value):
        raise InvalidEmail(field, value, "contains a line break or control character")
    if not value.strip():
        raise InvalidEmail(field, value, "is empty")
    if len(value) > max_length:
        raise InvalidEmail(field, value, f"is longer than {max_length} characters")


def _check_attachment(attachment: Attachment) -> None:
    _check_header("attachment filename", attachment.filename, MAX_FILENAME_LENGTH)
    if len(attachment.rendered_from) > MAX_RENDERED_FROM_LENGTH or (
        attachment.rendered_from and attachment.content
    ):
        raise ValueError(f"an attachment is given or rendered, not both: {attachment.rendered_from!r}")
    mime_type = attachment.mime_type.lower()
    if len(mime_type) > MAX_MIME_TYPE_LENGTH or not _MIME_TYPE.fullmatch(mime_type):
        raise InvalidEmail("attachment type", attachment.mime_type, "is not a MIME type like application/pdf")
