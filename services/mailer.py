"""Delivery of the e-mail outbox over SMTP, with retries; see ``services.outbox`` for the statuses.

Each message is claimed in a short transaction of its own (a conditional UPDATE to ``sending``
with a lease in ``next_attempt_at``), so two senders never take the same message; it is sent with
no transaction open; the result is recorded in a second short transaction. On PostgreSQL the claim
reads the next due message with ``FOR UPDATE SKIP LOCKED``, so senders of several instances take
different messages side by side instead of queueing for the same row; SQLite has one writer at a
time. A sender that stops between claiming and recording loses nothing: once the lease runs out
the message is due again. Delivery is therefore at least once; the Message-ID stays the same on
every attempt, so a repeat can be recognised as one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from models import EmailDeliveryAttempt, OutboxAttachment, OutboxEmail
from services.attachment_rendering import render_attachment
from services.background import Rounds
from services.clock import Clock, utc_now
from services.database import Database
from services.outbox import (
    FAILED,
    LINK_SENT,
    PENDING,
    SENDING,
    SENT,
    expire_links,
    links_for_delivery,
    links_hidden,
)
from services.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)  # far longer than one message takes with the SMTP time-out
MAX_ERROR_LENGTH = 2000

NOT_CONFIGURED_NOTICE = (
    "E-mail: no SMTP server configured (Settings > E-mail in the back office, or PORTAL_SMTP_HOST); "
    "messages wait in the outbox until one is set."
)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["starttls", "ssl", "none"]
    from_address: str  # "billing@acme.example" or "Acme Studio <billing@acme.example>"
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0  # seconds, for connecting and for each reply
    helo_name: str = ""  # the name we greet the server with; empty: this machine's FQDN

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig | None:
        """The SMTP server from ``PORTAL_SMTP_*``; None when no host is set (e-mail waits).

        The From address is ``PORTAL_SMTP_FROM``, else the login name when it is an address;
        raises ``SettingsError`` when there is neither.
        """
        if not settings.smtp_host:
            return None
        from_address = settings.smtp_from or (settings.smtp_user if "@" in settings.smtp_user else "")
        if not from_address:
            raise SettingsError(
                "Invalid setting PORTAL_SMTP_FROM: required when PORTAL_SMTP_HOST is set "
                "(the address e-mail comes from)"
            )
        if "\r" in from_address or "\n" in from_address or "@" not in parseaddr(from_address)[1]:
            raise SettingsError("Invalid setting PORTAL_SMTP_FROM: not an e-mail address")
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            from_address=from_address,
            user=settings.smtp_user,
            password=settings.smtp_password,
        )


@dataclass(frozen=True)
class RetryPolicy:
    """Wait ``first_delay`` after the first failure, twice as long after each next one, at most
    ``longest_delay``; after ``max_attempts`` failed attempts the message is failed."""

    first_delay: timedelta = timedelta(minutes=1)
    longest_delay: timedelta = timedelta(hours=1)
    max_attempts: int = 8

    def delay_after(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt (1-based)."""
        return min(self.first_delay * 2 ** min(attempts - 1, 32), self.longest_delay)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0  # failed this time, tried again later
    failed: int = 0  # failed for good

    @property
    def attempted(self) -> int:
        return self.sent + self.retrying + self.failed


class Sender(Protocol):
    """Hands messages to a mail server; ``SmtpSender`` in the app, fakes in tests."""

    def send(self, message: EmailMessage) -> Mapping[str, tuple[int, bytes]]:
        """Send one message; return the recipients refused while others were accepted."""
        ...

    def close(self) -> None: ...


class SmtpSender:
    """One SMTP connection, opened on the first message and reused for the next ones."""

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> Mapping[str, tuple[int, bytes]]:
        reused = self._smtp is not None
        try:
            return self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused:
            raise  # the server reset the transaction; the connection is still good
        except smtplib.SMTPServerDisconnected:
            self._discard()
            if not reused:
                raise
        except Exception:
            self._discard()
            raise
        # the server closed a connection kept from an earlier message: one fresh try
        return self._connection().send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            # every message was accepted or refused already; a rude goodbye changes nothing
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
            self._discard()

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = _connect(self._config)
        return self._smtp

    def _discard(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    helo = config.helo_name or None
    smtp: smtplib.SMTP
    if config.security == "ssl":
        smtp = smtplib.SMTP_SSL(
            config.host,
            config.port,
            local_hostname=helo,
            timeout=config.timeout,
            context=ssl.create_default_context(),
        )
    else:
        smtp = smtplib.SMTP(config.host, config.port, local_hostname=helo, timeout=config.timeout)
    try:
        if config.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.user:
            smtp.login(config.user, config.password)
    except BaseException:
        smtp.close()
        raise
    return smtp


@dataclass(frozen=True)
class _ClaimedAttachment:
    id: int
    filename: str
    mime_type: str
    content: bytes
    rendered_from: str  # still to render when ``content`` is empty


@dataclass(frozen=True)
class _ClaimedEmail:
    id: int
    public_id: str
    to: tuple[str, ...]
    reply_to: str
    subject: str
    body_text: str
    attachments: tuple[_ClaimedAttachment, ...]


def deliver_due(
    db: Database,
    config: SmtpConfig,
    *,
    clock: Clock,
    batch: int = 20,
    policy: RetryPolicy = RetryPolicy(),
    sender: Sender | None = None,
) -> DeliveryReport:
    """Send up to ``batch`` due messages, one at a time, and record each attempt.

    Blocking: call it from a worker thread (``BackgroundSender`` does). A failed attempt is
    retried after ``policy``'s back-off and failed for good after ``policy.max_attempts``, or at
    once when the server refuses every recipient permanently (5xx). ``sender`` defaults to an
    ``SmtpSender`` for ``config``, closed at the end.
    """
    own_sender = sender is None
    active: Sender = SmtpSender(config) if sender is None else sender
    sent = retrying = failed = 0
    try:
        for _ in range(batch):
            started = clock()
            email = _claim_next(db, started)
            if email is None:
                break
            try:
                email = _rendered(db, email)
            except Exception as error:  # retried like a failed send: the next attempt renders again
                logger.exception("E-mail %s: an attachment could not be rendered", email.public_id)
                result = _Result(False, f"an attachment could not be rendered: {_error_text(error)}")
            else:
                result = _attempt(active, email, config, started)
            outcome = _record(db, email.id, started, clock(), result, policy)
            if outcome == SENT:
                sent += 1
            elif outcome == FAILED:
                failed += 1
            else:
                retrying += 1
    finally:
        if own_sender:
            active.close()
    return DeliveryReport(sent=sent, retrying=retrying, failed=failed)


def _claim_next(db: Database, now: datetime) -> _ClaimedEmail | None:
    due = or_(
        and_(OutboxEmail.status == PENDING, OutboxEmail.next_attempt_at <= now),
        and_(OutboxEmail.status == SENDING, OutboxEmail.next_attempt_at <= now),  # lease ran out
    )
    with db.transaction() as session:
        for email_id in session.scalars(
            select(OutboxEmail.id)
            .where(due)
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
            .limit(5)
            .with_for_update(skip_locked=True)  # another sender's claim in progress is passed over
        ):
            # Only the sender whose UPDATE still finds the message due gets it: the WHERE clause is
            # checked again under the row lock (PostgreSQL) or the write lock (SQLite).
            claimed = session.connection().execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == email_id, due)
                .values(status=SENDING, next_attempt_at=now + CLAIM_LEASE)
            )
            if claimed.rowcount == 1:
                return _load(session, email_id)
    return None


def _load(session: Session, email_id: int) -> _ClaimedEmail:
    email = session.get_one(OutboxEmail, email_id, populate_existing=True)
    attachments = session.scalars(
        select(OutboxAttachment).where(OutboxAttachment.email_id == email_id).order_by(OutboxAttachment.id)
    ).all()
    return _ClaimedEmail(
        id=email.id,
        public_id=email.public_id,
        to=tuple(email.to_addresses.split(",")),
        reply_to=email.reply_to,
        subject=email.subject,
        body_text=email.body_text,
        attachments=tuple(
            _ClaimedAttachment(a.id, a.filename, a.mime_type, a.content, a.rendered_from) for a in attachments
        ),
    )


def _rendered(db: Database, email: _ClaimedEmail) -> _ClaimedEmail:
    """The message with every attachment it names rendered, each kept so that a retry sends the same.

    Outside the claim's transaction: rendering a PDF takes a while, and the claim (its lease) is ours.
    """
    if not any(a.rendered_from and not a.content for a in email.attachments):
        return email
    attachments = []
    for attachment in email.attachments:
        if attachment.rendered_from and not attachment.content:
            content = render_attachment(db, attachment.rendered_from)
            with db.transaction() as session:
                session.execute(
                    update(OutboxAttachment)
                    .where(OutboxAttachment.id == attachment.id)
                    .values(content=content)
                )
            attachment = replace(attachment, content=content)
        attachments.append(attachment)
    return replace(email, attachments=tuple(attachments))


def _build_message(email: _ClaimedEmail, config: SmtpConfig, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = ", ".join(email.to)
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(now)
    domain = parseaddr(config.from_address)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{email.public_id}@{domain}>"  # the same on every attempt
    message.set_content(links_for_delivery(email.body_text, now))  # a secret link opened only here
    for attachment in email.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


@dataclass(frozen=True)
class _Result:
    accepted: bool
    error: str = ""  # for an accepted message: the recipients the server refused
    permanent: bool = False  # retrying cannot help


def _attempt(sender: Sender, email: _ClaimedEmail, config: SmtpConfig, now: datetime) -> _Result:
    try:
        refused = sender.send(_build_message(email, config, now))
    except smtplib.SMTPRecipientsRefused as error:
        logger.warning("E-mail %s refused: %s", email.public_id, _error_text(error))
        codes = [code for code, _ in error.recipients.values()]
        return _Result(False, _error_text(error), bool(codes) and all(500 <= code < 600 for code in codes))
    except Exception as error:  # anything at all: the attempt is recorded and retried
        logger.warning("E-mail %s not sent: %s", email.public_id, _error_text(error))
        return _Result(False, _error_text(error))
    if refused:
        partly = _error_text(smtplib.SMTPRecipientsRefused(dict(refused)))
        logger.warning("E-mail %s sent, but %s", email.public_id, partly)
        return _Result(True, partly)
    return _Result(True)


def _error_text(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = "; ".join(
            f"{address}: {code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
            for address, (code, reply) in error.recipients.items()
        )
        return f"recipients refused: {refusals}"[:MAX_ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]


def _record(
    db: Database,
    email_id: int,
    started: datetime,
    finished: datetime,
    result: _Result,
    policy: RetryPolicy,
) -> str:
    with db.transaction() as session:
        email = session.get_one(OutboxEmail, email_id)
        session.add(
            EmailDeliveryAttempt(
                email_id=email_id, succeeded=result.accepted, error=result.error, attempted_at=started
            )
        )
        email.attempts += 1
        email.last_error = result.error
        if result.accepted:
            email.status = SENT
            email.sent_at = finished
            # A sent set-password link lives on only in the recipient's mailbox, not in our database.
            email.body_text = links_hidden(email.body_text, LINK_SENT)
        elif result.permanent or email.attempts >= policy.max_attempts:
            email.status = FAILED
            email.next_attempt_at = finished
        else:
            email.status = PENDING
            email.next_attempt_at = finished + policy.delay_after(email.attempts)
        return email.status


def startup_notice(config: SmtpConfig | None) -> str | None:
    """The line to log at start when e-mail cannot go out yet; None when an SMTP server is set."""
    return NOT_CONFIGURED_NOTICE if config is None else None


class BackgroundSender:
    """Drains the outbox: one round at a time as the scheduler's ``outbox`` job (``services.jobs``),
    or every ``interval`` seconds on its own (``run``, for a sender without the scheduler).

    ``config`` is a provider, called on every round in the worker thread: it returns the SMTP server
    to use now, or None to leave the outbox waiting until one is set (so a server saved in Settings
    applies without a restart).

    ``deliver_round`` is one round, blocking. ``run`` sends through it in a worker thread
    (``asyncio.to_thread``), so the event loop never waits for the mail server; an error is logged and
    the loop goes on (a database outage in one line when it begins and one when it ends:
    ``services.background.Rounds``). It returns when ``stop()`` is called or ``stop_event`` is set, at
    the latest once the current batch is done. A message claimed but not sent when a sender stops is
    retried after its lease, by whichever sender runs then.
    """

    def __init__(
        self,
        db: Database,
        config: Callable[[], SmtpConfig | None],
        *,
        clock: Clock = utc_now,
        interval: float = 5.0,
        batch: int = 20,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.db = db
        self.config = config
        self.clock = clock
        self.interval = interval
        self.batch = batch
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.policy = policy
        self._stop = asyncio.Event()
        self._server: tuple[str, int] | None = None  # the last one announced in the log
        self._rounds = Rounds("E-mail sender", interval=interval)

    def stop(self) -> None:
        """Ask ``run`` to return; safe to call before, during or after it."""
        self._stop.set()

    async def run(self, stop_event: asyncio.Event | None = None) -> None:
        """Deliver due messages until stopped; ``stop_event``, if given, stops it as well."""
        if stop_event is not None:
            if self._stop.is_set():
                stop_event.set()
            self._stop = stop_event
        while not self._stop.is_set():
            report = await self._deliver_once()
            if report is not None and report.attempted == self.batch:
                continue  # more may be due: no pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)

    async def _deliver_once(self) -> DeliveryReport | None:
        with self._rounds.guard():
            return await asyncio.to_thread(self.deliver_round)
        return None  # the round failed; Rounds logged it

    def deliver_round(self) -> DeliveryReport | None:
        """One round, blocking: expire the links of messages still waiting, then send up to ``batch`` due
        messages through the SMTP server set now; None while none is set."""
        expire_links(self.db, self.clock())  # also while no server is set: waiting is no reason to keep them
        config = self.config()
        server = None if config is None else (config.host, config.port)
        if server != self._server:
            self._server = server
            if config is None:
                logger.info("E-mail: no SMTP server set; messages wait in the outbox")
            else:
                logger.info("E-mail: sending through %s:%s", config.host, config.port)
        if config is None:
            return None
        return deliver_due(self.db, config, clock=self.clock, batch=self.batch, policy=self.policy)
