"""Settings > E-mail: the SMTP server the owner enters, a test e-mail through it, and the sender's source.

The owner's server is kept in ``IntegrationSettings`` (an empty host means: use the ``PORTAL_SMTP_*``
environment settings). ``smtp_config_provider`` gives the background sender the server to use on
each round, so a saved change applies without a restart. The password is never handed back to a
page: an empty password in a change keeps the stored one, but only for the server it was saved with.

A stored password is only ever sent to the host, port, security and user name it was saved with (the
row's own): a change of any of them, saved or only tested, needs the password typed again, or, where
no user name is left to sign in with, drops it. Otherwise whoever can open Settings could send it to
a server of their own.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Literal, cast

from babel.numbers import format_decimal
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import IntegrationSettings, Organization
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, SmtpTestFailed
from services.events import SETTINGS_TOPIC, Events
from services.i18n import _, formatting_locale
from services.mailer import SmtpConfig, SmtpSender
from services.settings import Settings, SettingsError

SECURITY_CHOICES = ("starttls", "ssl", "none")
SECURITY_LABELS = {
    "starttls": "STARTTLS (usually port 587)",
    "ssl": "SSL/TLS (usually port 465)",
    "none": "None (unencrypted, usually port 25)",
}
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TEST_TIMEOUT = 10.0  # seconds: the owner waits for the answer
MAX_FIELD_LENGTH = 255
MAX_ADDRESS_LENGTH = 254

SAVED_ACTION = "settings.smtp_changed"
TEST_SENT_ACTION = "settings.smtp_test_sent"

RETYPE_FOR_NEW_SERVER = (
    "Type the password again: the stored password is only sent to the server, port, security and user "
    "name it was saved with."
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOST = re.compile(r"[A-Za-z0-9.\-:\[\]_]+")  # a name, an IPv4 or a bracketed IPv6 address


@dataclass(frozen=True)
class SmtpSettingsView:
    """What the E-mail settings form shows; the password only as whether one is stored."""

    host: str  # "" when the environment's settings are used
    port: int
    security: str
    user: str
    from_address: str
    has_password: bool
    environment_host: str  # PORTAL_SMTP_HOST, shown when no host is entered here


@dataclass(frozen=True)
class SmtpChange:
    """The form as typed; ``port`` is text as typed, ``password`` empty keeps the stored one."""

    host: str
    port: str
    security: str
    user: str
    password: str
    from_address: str


def get_smtp_settings(db: Database, organization_id: int, *, fallback: SmtpConfig | None) -> SmtpSettingsView:
    """The business's SMTP settings for the form (``fallback``: the environment's server, if any)."""
    with db.reading() as session:
        row = _row(session, organization_id)
        environment_host = fallback.host if fallback else ""
        if row is None:
            return SmtpSettingsView("", 587, "starttls", "", "", False, environment_host)
        return SmtpSettingsView(
            host=row.smtp_host,
            port=row.smtp_port,
            security=row.smtp_security,
            user=row.smtp_user,
            from_address=row.smtp_from,
            has_password=bool(row.smtp_password),
            environment_host=environment_host,
        )


def save_smtp_settings(
    db: Database,
    organization_id: int,
    change: SmtpChange,
    *,
    staff_user_id: int | None,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> SmtpSettingsView:
    """Store the business's SMTP server; every instance's background sender uses it from its next round
    (it reads the server each round); ``SETTINGS_TOPIC`` is published after the commit.

    Raises ``InvalidDetails`` (per field: host, port, security, user, password, from_address) and
    changes nothing when a value is wrong, or when the host, port, security or user name changes while
    a password is stored and none is typed (``RETYPE_FOR_NEW_SERVER``). An empty host means the environment's
    settings apply.
    """
    port = _validate(change)
    now = clock()
    with db.transaction() as session:
        row = _row(session, organization_id)
        if row is None:
            row = IntegrationSettings(organization_id=organization_id)
            session.add(row)
        # a stored password, none typed, and the server it was saved with changed
        moved = not change.password and _stored_password_for(row, _endpoint_of(change, port)) is None
        if moved and change.host.strip() and change.user.strip():
            raise InvalidDetails({"password": RETYPE_FOR_NEW_SERVER})
        before = (row.smtp_host, row.smtp_port, row.smtp_security, row.smtp_user, row.smtp_from)
        row.smtp_host = change.host.strip()
        row.smtp_port = port
        row.smtp_security = change.security
        row.smtp_user = change.user.strip()
        row.smtp_from = change.from_address.strip()
        if change.password:
            row.smtp_password = change.password
        elif moved:  # without a user name to sign in with, or for the environment's server: not needed
            row.smtp_password = ""
        row.updated_at = now
        after = (row.smtp_host, row.smtp_port, row.smtp_security, row.smtp_user, row.smtp_from)
        names = ("host", "port", "security", "user", "from_address")
        changed = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
        if change.password or moved:
            changed.append("password")
        record_event(
            session,
            SAVED_ACTION,
            at=now,
            staff_user_id=staff_user_id,
            subject=("organization", organization_id),
            details={"changed": changed},  # names only: never a password
        )
        session.flush()
        saved = SmtpSettingsView(
            host=row.smtp_host,
            port=row.smtp_port,
            security=row.smtp_security,
            user=row.smtp_user,
            from_address=row.smtp_from,
            has_password=bool(row.smtp_password),
            environment_host="",
        )
    if events is not None:
        events.publish(SETTINGS_TOPIC)
    return saved


def send_test_email(
    db: Database,
    organization_id: int,
    change: SmtpChange,
    to: str,
    *,
    fallback: SmtpConfig | None,
    staff_user_id: int | None,
    timeout: float = TEST_TIMEOUT,
    clock: Clock = utc_now,
) -> str:
    """Send one message now, not through the outbox, with the settings as typed; return the recipient.

    Blocking for at most about ``timeout`` seconds per step: call it from a worker thread. An empty
    host tests the environment's server (``fallback``). The stored password goes along only when no
    password is typed and the host, port, security and user name are the ones it was saved with; for
    another server with a user name and no password typed, ``InvalidDetails`` (``RETYPE_FOR_NEW_SERVER``)
    is raised before anything is sent. Raises ``InvalidDetails`` for a wrong field or recipient and
    ``SmtpTestFailed`` with the server's answer in plain words.
    """
    recipient = to.strip()
    if not _is_address(recipient):
        raise InvalidDetails({"test_to": _("Enter the e-mail address to send the test to.")})
    config = _config_to_test(db, organization_id, change, fallback)
    config = replace(config, timeout=timeout)
    with db.reading() as session:
        business = session.get_one(Organization, organization_id).name
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = recipient
    message["Subject"] = _("Test e-mail from the invoicing portal of {business}").format(business=business)
    message["Date"] = format_datetime(clock())
    message["Message-ID"] = make_msgid(domain=parseaddr(config.from_address)[1].rpartition("@")[2] or None)
    message.set_content(
        _("This is a test e-mail from the invoicing portal of {business}.").format(business=business)
        + "\n\n"
        + _(
            "It was sent through {server}. If you can read it, the portal can send invoices, receipts and "
            "invitations to your customers."
        ).format(server=f"{config.host}:{config.port}")
        + "\n"
    )
    sender = SmtpSender(config)
    try:
        refused = sender.send(message)
    except Exception as error:  # every failure becomes a sentence for the owner
        raise SmtpTestFailed(explain_smtp_error(error, config)) from error
    finally:
        sender.close()
    if refused:
        raise SmtpTestFailed(_("The server refused the address {address}.").format(address=recipient))
    with db.transaction() as session:
        record_event(
            session,
            TEST_SENT_ACTION,
            at=clock(),
            staff_user_id=staff_user_id,
            subject=("organization", organization_id),
            details={"to": recipient, "host": config.host, "port": config.port},
        )
    return recipient


def explain_smtp_error(error: BaseException, config: SmtpConfig) -> str:
    """What went wrong talking to the SMTP server, in words an owner can act on."""
    server = f"{config.host}:{config.port}"
    match error:
        case smtplib.SMTPAuthenticationError(smtp_code=code, smtp_error=reply):
            return _("The server did not accept the user name and password ({reply}).").format(
                reply=f"{code} {_reply(reply)}"
            )
        case smtplib.SMTPNotSupportedError():
            return _(
                "The server {server} does not support what was asked ({reason}). "
                "Check the security setting and whether the server needs a user name."
            ).format(server=server, reason=error)
        case smtplib.SMTPSenderRefused(smtp_code=code, smtp_error=reply, sender=sender):
            return _("The server refused the sender address {address} ({reply}).").format(
                address=sender, reply=f"{code} {_reply(reply)}"
            )
        case smtplib.SMTPRecipientsRefused(recipients=recipients):
            refusals = "; ".join(
                f"{address} ({code} {_reply(reply)})" for address, (code, reply) in recipients.items()
            )
            return _("The server refused the recipient: {refusals}.").format(refusals=refusals)
        case smtplib.SMTPServerDisconnected():
            return _(
                "The server {server} closed the connection. Check the port and the security setting "
                "(SSL/TLS for port 465, STARTTLS for 587)."
            ).format(server=server)
        case smtplib.SMTPResponseException(smtp_code=code, smtp_error=reply):
            return _("The server {server} answered with an error: {reply}.").format(
                server=server, reply=f"{code} {_reply(reply)}"
            )
        case ssl.SSLError():
            return _(
                "A secure connection to {server} could not be made ({reason}). "
                "Check the security setting (SSL/TLS for port 465, STARTTLS for 587)."
            ).format(server=server, reason=error.reason or error)
        case socket.gaierror():
            return _("The server name {host} could not be found. Check the host name.").format(
                host=config.host
            )
        case ConnectionRefusedError():
            return _(
                "Nothing answered at {server}: the connection was refused. Check the host and the port."
            ).format(server=server)
        case TimeoutError():
            return _(
                "The server {server} did not answer in time. Check the host, the port and any firewall."
            ).format(server=server)
        case OSError(strerror=reason) if reason:
            return _("Could not connect to {server}: {reason}.").format(server=server, reason=reason)
        case _:
            return _("The e-mail could not be sent through {server}: {reason}.").format(
                server=server, reason=error
            )


def current_smtp_config(db: Database, *, fallback: SmtpConfig | None) -> SmtpConfig | None:
    """The server e-mail goes through now: the one entered in Settings, else ``fallback`` (the environment's).

    The outbox belongs to the whole portal, so the first business with a server entered decides.
    """
    with db.reading() as session:
        row = session.scalars(
            select(IntegrationSettings)
            .where(IntegrationSettings.smtp_host != "")
            .order_by(IntegrationSettings.organization_id)
            .limit(1)
        ).first()
        if row is None:
            return fallback
        return SmtpConfig(
            host=row.smtp_host,
            port=row.smtp_port,
            security=_security(row.smtp_security),
            from_address=row.smtp_from,
            user=row.smtp_user,
            password=row.smtp_password,
        )


def smtp_config_provider(db: Database, *, fallback: SmtpConfig | None) -> Callable[[], SmtpConfig | None]:
    """For ``BackgroundSender``: read on every round, so saved settings apply without a restart."""

    def provide() -> SmtpConfig | None:
        return current_smtp_config(db, fallback=fallback)

    return provide


def environment_smtp_config(settings: Settings) -> SmtpConfig | None:
    """The server set by ``PORTAL_SMTP_*``; None when there is none (a wrong one stopped the start)."""
    try:
        return SmtpConfig.from_settings(settings)
    except SettingsError:
        return None


def _config_to_test(
    db: Database, organization_id: int, change: SmtpChange, fallback: SmtpConfig | None
) -> SmtpConfig:
    if not change.host.strip():
        if fallback is None:
            raise InvalidDetails({"host": _("Enter the SMTP server's host name first.")})
        return fallback
    port = _validate(change)
    password = change.password
    if not password and change.user.strip():
        with db.reading() as session:
            row = _row(session, organization_id)
            stored = _stored_password_for(row, _endpoint_of(change, port)) if row is not None else ""
        if stored is None:
            raise InvalidDetails({"password": RETYPE_FOR_NEW_SERVER})
        password = stored
    return SmtpConfig(
        host=change.host.strip(),
        port=port,
        security=_security(change.security),
        from_address=change.from_address.strip(),
        user=change.user.strip(),
        password=password,
    )


def _endpoint_of(change: SmtpChange, port: int) -> tuple[str, int, str, str]:
    return (change.host.strip(), port, change.security, change.user.strip())


def _stored_password_for(row: IntegrationSettings, endpoint: tuple[str, int, str, str]) -> str | None:
    """The row's password if ``endpoint`` is the server it was saved with ("" when none is stored);
    None when one is stored for another server, so it must not go to this one."""
    if not row.smtp_password:
        return ""
    saved_for = (row.smtp_host, row.smtp_port, row.smtp_security, row.smtp_user)
    return row.smtp_password if saved_for == endpoint else None


def _validate(change: SmtpChange) -> int:
    """The port as a number; raises ``InvalidDetails`` with a sentence per wrong field."""
    errors: dict[str, str] = {}
    host = change.host.strip()
    if host and (len(host) > MAX_FIELD_LENGTH or not _HOST.fullmatch(host)):
        errors["host"] = _("Enter a host name such as smtp.example.com, without spaces or a scheme.")
    port = 0
    text = change.port.strip() if isinstance(change.port, str) else str(change.port)
    if text.isdecimal() and 1 <= int(text) <= 65535:  # not isdigit: "²".isdigit() is true, int("²") raises
        port = int(text)
    else:
        errors["port"] = _("Enter a port number from 1 to 65535 (usually 587, 465 or 25).")
    if change.security not in SECURITY_CHOICES:
        errors["security"] = _("Choose STARTTLS, SSL/TLS or none.")
    plain = _("Use at most {count} characters, without special characters.").format(
        count=format_decimal(MAX_FIELD_LENGTH, locale=formatting_locale())
    )
    if len(change.user) > MAX_FIELD_LENGTH or _CONTROL.search(change.user):
        errors["user"] = plain
    if len(change.password) > MAX_FIELD_LENGTH or _CONTROL.search(change.password):
        errors["password"] = plain
    from_address = change.from_address.strip()
    if (from_address or host) and not _is_sender(from_address):
        errors["from_address"] = _(
            "Enter the address e-mail comes from, such as billing@example.com "
            "or Acme Studio <billing@example.com>."
        )
    if errors:
        raise InvalidDetails(errors)
    return port


def _is_sender(value: str) -> bool:
    """A bare address, or a display name with the address in angle brackets."""
    if not value or len(value) > MAX_ADDRESS_LENGTH or _CONTROL.search(value):
        return False
    name, address = parseaddr(value)
    if not address or (not name and address != value and f"<{address}>" != value):
        return False
    return _is_address(address)


def _is_address(value: str) -> bool:
    if not value or len(value) > MAX_ADDRESS_LENGTH or re.search(r"[\s,;<>()\[\]\"\\\x00-\x1f\x7f]", value):
        return False
    local, at, domain = value.partition("@")
    return bool(at and local and domain and "@" not in domain and "." in domain.strip("."))


def _row(session: Session, organization_id: int) -> IntegrationSettings | None:
    return session.scalars(
        select(IntegrationSettings).where(IntegrationSettings.organization_id == organization_id)
    ).one_or_none()


def _security(value: str) -> Literal["starttls", "ssl", "none"]:
    return cast(Literal["starttls", "ssl", "none"], value if value in SECURITY_CHOICES else "starttls")


def _reply(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
