"""Invitations and password resets: single-use links, sent by e-mail, to set a password.

A link carries a random token; only its SHA-256 is stored (``PasswordToken``) and a link is found by
that hash, and the e-mail carrying it holds it sealed until it is sent (``services.outbox.secret_link``),
so a leaked database holds no usable link. An invitation is valid for 72 hours, a reset for
one hour. A new link replaces the outstanding ones of its kind; setting a password spends its link and
replaces every other outstanding link of that person.

Pages pass ``base_url`` = ``Settings.public_url``; the link is ``{base_url}/set-password?token=...``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Client, Organization, OutboxEmail, PasswordToken, PortalUser, StaffUser
from services.audit import events_from_address, record_event
from services.auth import normalize_email, reset_account_throttle, revoke_all_sessions, token_hash
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import (
    ContactDisabled,
    ContactHasLogin,
    EmailTaken,
    InvalidDetails,
    InvalidToken,
    InvitationLimitReached,
    NotFound,
    PasswordMismatch,
    WeakPassword,
)
from services.events import Events, customer_sessions_topic
from services.i18n import _, using_language
from services.outbox import LINK_EXPIRED, SENT, queue_email, secret_link
from services.password_change import password_problems
from services.passwords import DEFAULT_ROUNDS, hash_password

INVITE = "invite"
RESET = "reset"
INVITE_VALIDITY = timedelta(hours=72)
RESET_VALIDITY = timedelta(hours=1)
RESETS_PER_ADDRESS_PER_HOUR = 3
INVITATIONS_PER_CONTACT_PER_HOUR = 5
# Counts every request from one IP address, known e-mail address or not, so nobody can probe which
# addresses have a login by asking for many; behind a proxy, the IP must be the client's.
RESET_REQUESTS_PER_IP_PER_HOUR = 20
LINK_PATH = "/set-password"  # the page that takes ?token=...

INVITED = "contact.invited"
RESET_REQUESTED = "password_reset.requested"
INVITATION_ACCEPTED = "invitation.accepted"
RESET_DONE = "password.reset"

MAX_NAME_LENGTH = 200
_MAX_TOKEN_LENGTH = 100  # token_urlsafe(32) is 43 characters; anything much longer is not one of ours


@dataclass(frozen=True)
class Invitation:
    portal_user_id: int
    email: str  # normalised: trimmed, lower case
    expires_at: datetime
    resent: bool  # an earlier invitation to this person was replaced


@dataclass(frozen=True)
class TokenInfo:
    """Whom a valid link is for, to greet them on the set-password page."""

    purpose: str  # invite | reset
    email: str
    name: str
    expires_at: datetime


def invite_contact(
    db: Database,
    client_id: int,
    *,
    name: str,
    email: str,
    invited_by_staff_id: int | None = None,
    base_url: str,
    clock: Clock = utc_now,
) -> Invitation:
    """Invite a contact person of a client to the portal: an e-mail with a link valid for 72 hours.

    Creates the login without a password, or reuses one that never set a password (then the earlier
    link stops working). Raises ``InvalidDetails`` (keys ``name``, ``email``), ``EmailTaken`` when the
    address is another client's login, ``ContactHasLogin`` when it already has a password, and
    ``NotFound`` for an unknown client or a staff user of another business.
    """
    errors: dict[str, str] = {}
    clean_name = " ".join(name.split())
    if not clean_name:
        errors["name"] = _("Enter the contact's name.")
    elif len(clean_name) > MAX_NAME_LENGTH or not clean_name.isprintable():
        errors["name"] = _("Use at most {count} characters, without special characters.").format(
            count=MAX_NAME_LENGTH
        )
    address = ""
    try:
        address = normalize_email(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        errors["email"] = _("This is not a valid e-mail address.")
    if errors:
        raise InvalidDetails(errors)
    now = clock()
    with db.transaction() as session:
        client = session.get(Client, client_id)
        if client is None:
            raise NotFound("client", client_id)
        inviter = _inviter(session, client, invited_by_staff_id)
        user = session.scalars(
            select(PortalUser).where(PortalUser.email == address).with_for_update()
        ).one_or_none()
        if user is not None and user.client_id != client.id:
            raise EmailTaken(address)
        if user is not None and user.password_hash is not None:
            raise ContactHasLogin(address)
        resent = user is not None and user.invited_at is not None
        if user is None:
            user = PortalUser(
                client_id=client.id, name=clean_name, email=address, password_hash=None, created_at=now
            )
            session.add(user)
            session.flush()
        user.name = clean_name
        user.is_active = True
        return _send_invitation(
            session, user, client, inviter, invited_by_staff_id, base_url=base_url, resent=resent, now=now
        )


def resend_invitation(
    db: Database,
    portal_user_id: int,
    *,
    invited_by_staff_id: int | None = None,
    base_url: str,
    clock: Clock = utc_now,
) -> Invitation:
    """E-mail a contact who has not set a password yet a new invitation; the earlier link stops working.

    At most ``INVITATIONS_PER_CONTACT_PER_HOUR`` invitations go to one person in an hour (the first
    one included), so a slip of the finger cannot flood their inbox. Raises ``ContactHasLogin`` once
    a password is set, ``ContactDisabled`` for a disabled contact (enable them first),
    ``InvitationLimitReached`` beyond the limit, and ``NotFound`` for an unknown person.
    """
    now = clock()
    with db.transaction() as session:
        user = session.scalars(
            select(PortalUser).where(PortalUser.id == portal_user_id).with_for_update()
        ).one_or_none()
        if user is None:
            raise NotFound("contact", portal_user_id)
        if user.password_hash is not None:
            raise ContactHasLogin(user.email)
        if not user.is_active:
            raise ContactDisabled(user.email)
        recent = sorted(
            session.scalars(
                select(PasswordToken.created_at).where(
                    PasswordToken.portal_user_id == user.id,
                    PasswordToken.purpose == INVITE,
                    PasswordToken.created_at > now - timedelta(hours=1),
                )
            )
        )
        if len(recent) >= INVITATIONS_PER_CONTACT_PER_HOUR:
            oldest = recent[-INVITATIONS_PER_CONTACT_PER_HOUR]
            raise InvitationLimitReached(INVITATIONS_PER_CONTACT_PER_HOUR, oldest + timedelta(hours=1))
        client = session.get_one(Client, user.client_id)
        inviter = _inviter(session, client, invited_by_staff_id)
        return _send_invitation(
            session,
            user,
            client,
            inviter,
            invited_by_staff_id,
            base_url=base_url,
            resent=user.invited_at is not None,
            now=now,
        )


def _inviter(session: Session, client: Client, staff_user_id: int | None) -> str:
    """The inviting staff member's name for the e-mail; ``NotFound`` for another business's staff."""
    if staff_user_id is None:
        return ""
    staff = session.get(StaffUser, staff_user_id)
    if staff is None or staff.organization_id != client.organization_id:
        raise NotFound("staff user", staff_user_id)
    return staff.name


def _send_invitation(
    session: Session,
    user: PortalUser,
    client: Client,
    inviter: str,
    invited_by_staff_id: int | None,
    *,
    base_url: str,
    resent: bool,
    now: datetime,
) -> Invitation:
    token = secrets.token_urlsafe(32)
    user.invited_at = now
    expires_at = _issue(session, user.id, INVITE, token, now)
    business = session.get_one(Organization, client.organization_id)
    with using_language(user.language or business.default_language):
        queue_email(
            session,
            to=[user.email],
            subject=_("{business} invites you to its customer portal").format(business=business.name),
            body_text=_invitation_text(
                user.name, user.email, business.name, inviter, secret_link(_link(base_url, token), expires_at)
            ),
            reply_to=business.email,
            client_id=client.id,
            now=now,
        )
    record_event(
        session,
        INVITED,
        at=now,
        portal_user_id=user.id,
        staff_user_id=invited_by_staff_id,
        client_id=client.id,
        subject=("portal_user", user.id),
        details={"email": user.email, "resent": resent},
    )
    return Invitation(user.id, user.email, expires_at, resent)


def request_password_reset(
    db: Database, email: str, *, base_url: str, ip_address: str, clock: Clock = utc_now
) -> None:
    """For "Forgot password?": e-mail a link valid for one hour, if the address is an active login.

    Always returns None, and the page says the same whatever happened, so nobody learns whether an
    address has a login. Nothing is sent for an unknown or disabled address, beyond 3 links per
    address per hour, or beyond 20 requests per IP address per hour.
    """
    address = normalize_email(email)
    if not address or len(address) > 254:
        return None
    now = clock()
    since = now - timedelta(hours=1)
    with db.transaction() as session:
        if (
            events_from_address(session, RESET_REQUESTED, ip_address, since=since)
            >= RESET_REQUESTS_PER_IP_PER_HOUR
        ):
            return None  # not even recorded: a spraying client would fill the audit trail
        user = session.scalars(
            select(PortalUser).where(PortalUser.email == address).with_for_update()
        ).one_or_none()
        sent = False
        if user is not None and user.is_active:
            recent = session.scalar(
                select(func.count()).where(
                    PasswordToken.portal_user_id == user.id,
                    PasswordToken.purpose == RESET,
                    PasswordToken.created_at > since,
                )
            )
            if (recent or 0) < RESETS_PER_ADDRESS_PER_HOUR:
                token = secrets.token_urlsafe(32)
                expires_at = _issue(session, user.id, RESET, token, now)
                client = session.get_one(Client, user.client_id)
                business = session.get_one(Organization, client.organization_id)
                with using_language(user.language or business.default_language):
                    queue_email(
                        session,
                        to=[user.email],
                        subject=_("Reset your password for {business}'s customer portal").format(
                            business=business.name
                        ),
                        body_text=_reset_text(
                            user.name,
                            user.email,
                            business.name,
                            secret_link(_link(base_url, token), expires_at),
                        ),
                        reply_to=business.email,
                        client_id=client.id,
                        now=now,
                    )
                sent = True
        record_event(
            session,
            RESET_REQUESTED,
            at=now,
            portal_user_id=user.id if user is not None else None,
            client_id=user.client_id if user is not None else None,
            ip_address=ip_address,
            details={"email": address, "sent": sent},
        )
    return None


def check_token(db: Database, token: str, *, clock: Clock = utc_now) -> TokenInfo:
    """Whom a set-password link is for; raises ``InvalidToken`` (used, expired, replaced, unknown)."""
    with db.reading() as session:
        found = _find(session, token)
        if found is None:
            raise InvalidToken("unknown")
        row, user = found
        _raise_if_unusable(row, user, clock())
        return TokenInfo(row.purpose, user.email, user.name, row.expires_at)


def set_password(
    db: Database,
    token: str,
    new: str,
    confirm: str,
    *,
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
    events: Events | None = None,
) -> int:
    """Set the password of the person a link is for, and spend the link; returns the portal user's id.

    Raises ``InvalidToken``, ``PasswordMismatch`` or ``WeakPassword``, changing nothing. On success
    every other outstanding link of the person stops working and every session of theirs ends (their
    open pages hear of it through ``events``). A link is spent at most once, even when it is used twice
    at the same moment.
    """
    info = check_token(db, token, clock=clock)
    if new != confirm:
        raise PasswordMismatch()
    problems = password_problems(new, email=info.email, name=info.name)
    if problems:
        raise WeakPassword(tuple(problems))
    new_hash = hash_password(new, rounds=rounds)  # slow on purpose: before the transaction
    now = clock()
    with db.transaction() as session:
        found = _find(session, token)
        if found is None:
            raise InvalidToken("unknown")
        row, user = found
        # The WHERE clause makes the spending atomic: of two requests at once, one updates no row.
        spent = session.execute(
            update(PasswordToken)
            .where(
                PasswordToken.id == row.id,
                PasswordToken.used_at.is_(None),
                PasswordToken.revoked_at.is_(None),
                PasswordToken.expires_at > now,
            )
            .values(used_at=now)
        )
        if getattr(spent, "rowcount", 0) != 1:
            session.refresh(row)
            _raise_if_unusable(row, user, now)
            raise InvalidToken("used", row.purpose)
        user.password_hash = new_hash
        user.password_changed_at = now
        _replace_outstanding(session, user.id, now)
        revoke_all_sessions(session, user.id, at=now)
        reset_account_throttle(session, user.email)
        record_event(
            session,
            INVITATION_ACCEPTED if row.purpose == INVITE else RESET_DONE,
            at=now,
            portal_user_id=user.id,
            client_id=user.client_id,
        )
        portal_user_id = user.id
    if events is not None:
        events.publish(customer_sessions_topic(portal_user_id))
    return portal_user_id


def _issue(session: Session, portal_user_id: int, purpose: str, token: str, now: datetime) -> datetime:
    """Store a new link's hash, replacing the person's outstanding links of that kind; its expiry."""
    _replace_outstanding(session, portal_user_id, now, purpose=purpose)
    expires_at = now + (INVITE_VALIDITY if purpose == INVITE else RESET_VALIDITY)
    session.add(
        PasswordToken(
            portal_user_id=portal_user_id,
            purpose=purpose,
            token_hash=token_hash(token),
            expires_at=expires_at,
            created_at=now,
        )
    )
    session.flush()
    return expires_at


def _replace_outstanding(session: Session, portal_user_id: int, now: datetime, *, purpose: str = "") -> None:
    statement = update(PasswordToken).where(
        PasswordToken.portal_user_id == portal_user_id,
        PasswordToken.used_at.is_(None),
        PasswordToken.revoked_at.is_(None),
        PasswordToken.expires_at > now,
    )
    if purpose:
        statement = statement.where(PasswordToken.purpose == purpose)
    session.execute(statement.values(revoked_at=now))


def _find(session: Session, token: str) -> tuple[PasswordToken, PortalUser] | None:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    row = session.execute(
        select(PasswordToken, PortalUser)
        .join(PortalUser, PortalUser.id == PasswordToken.portal_user_id)
        .where(PasswordToken.token_hash == token_hash(token))
    ).one_or_none()
    if row is None:
        return None
    found, user = row
    return found, user


def _raise_if_unusable(row: PasswordToken, user: PortalUser, now: datetime) -> None:
    if not user.is_active:
        raise InvalidToken("unknown")
    if row.used_at is not None:
        raise InvalidToken("used", row.purpose)
    if row.revoked_at is not None:
        raise InvalidToken("replaced", row.purpose)
    if now >= row.expires_at:
        raise InvalidToken("expired", row.purpose)


def seal_plain_links(db: Database, *, clock: Clock = utc_now) -> int:
    """Seal the set-password links that messages queued before sealing existed hold in clear.

    A link still valid is sealed with its expiry; a used, replaced or expired one is removed. (A sent
    message lost its link when it was sent.) Returns how many messages changed; run at start-up, like
    the sealing of the secrets saved in Settings.
    """
    now = clock()
    changed = 0
    with db.transaction() as session:
        emails = session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.status != SENT, OutboxEmail.body_text.contains(LINK_PATH + "?token=")
            )
        ).all()
        for email in emails:

            def sealed(link: re.Match[str]) -> str:
                found = _find(session, link.group(2))
                if found is None or found[0].used_at or found[0].revoked_at or now >= found[0].expires_at:
                    return LINK_EXPIRED
                return secret_link(link.group(0), found[0].expires_at)

            body = _PLAIN_LINK.sub(sealed, email.body_text)
            if body != email.body_text:
                email.body_text = body
                changed += 1
    return changed


_PLAIN_LINK = re.compile(r"(\S*" + re.escape(LINK_PATH) + r"\?token=)([A-Za-z0-9_-]+)")


def _link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}{LINK_PATH}?token={token}"


def _invitation_text(name: str, email: str, business: str, inviter: str, link: str) -> str:
    who = f"{business} ({inviter})" if inviter else business
    return "\n".join(
        [
            _("Hello {name},").format(name=name),
            "",
            _(
                "{business} invites you to its customer portal, where you can see and pay your invoices "
                "and download your statements."
            ).format(business=who),
            "",
            _("Choose your password here. The link works once, within the next 72 hours:"),
            link,
            "",
            _("Afterwards you sign in with your e-mail address, {email}, and that password.").format(
                email=email
            ),
            "",
            _("If you did not expect this invitation, you can ignore this e-mail."),
        ]
    )


def _reset_text(name: str, email: str, business: str, link: str) -> str:
    return "\n".join(
        [
            _("Hello {name},").format(name=name),
            "",
            _(
                "someone, hopefully you, asked to reset the password of your login {email} to the customer "
                "portal of {business}."
            ).format(email=email, business=business),
            "",
            _("Choose a new password here. The link works once, within the next hour:"),
            link,
            "",
            _("If you did not ask for this, ignore this e-mail: your password stays as it is."),
        ]
    )
