"""Signing in by a link sent by e-mail, for customers who would rather not type a password.

"E-mail me a sign-in link" on the sign-in page sends a link that works once, for 15 minutes. Like a
reset link, it carries a random token of which only the SHA-256 is stored (``PasswordToken``, purpose
``sign_in``), and the e-mail holds it sealed until it is sent; the same throttles as Forgot password?
apply, and the answer is the same whether or not the address has a login. The link opens a page with
a Sign in button (``pages.sign_in_link``): a mail scanner that follows links spends nothing. With
two-factor sign-in on, the link stands for the password only: the code is still asked for. The
business can turn such links off in Settings; links already sent then stop working too.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Client, Organization, PasswordToken, PortalUser
from services.audit import events_from_address, record_event
from services.auth import IssuedSession, normalize_email, open_session, token_hash
from services.branding import defaults_changed
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidToken
from services.i18n import _, using_language
from services.outbox import queue_email, secret_link
from services.second_step import SecondStepRequired, open_second_step
from services.staff_auth import StaffPrincipal, require_owner

SIGN_IN = "sign_in"
VALIDITY = timedelta(minutes=15)
LINKS_PER_ADDRESS_PER_HOUR = 3  # as reset links (services.invitations)
REQUESTS_PER_IP_PER_HOUR = 20
LINK_PATH = "/sign-in-link"  # the page that takes ?token=...
REQUESTED = "sign_in_link.requested"
USED = "sign_in_link.used"
TURNED_ON = "settings.sign_in_links_on"
TURNED_OFF = "settings.sign_in_links_off"
_MAX_TOKEN_LENGTH = 100


def request_sign_in_link(
    db: Database, email: str, *, base_url: str, ip_address: str, clock: Clock = utc_now
) -> None:
    """E-mail a sign-in link to an active login's address, if its business allows such links.

    Always returns None, and the page says the same whatever happened, so nobody learns whether an
    address has a login. Nothing is sent beyond 3 links per address per hour, or beyond 20 requests
    per IP address per hour (those are not even recorded).
    """
    address = normalize_email(email)
    if not address or len(address) > 254:
        return None
    now = clock()
    since = now - timedelta(hours=1)
    with db.transaction() as session:
        if events_from_address(session, REQUESTED, ip_address, since=since) >= REQUESTS_PER_IP_PER_HOUR:
            return None
        found = session.execute(
            select(PortalUser, Organization)
            .join(Client, Client.id == PortalUser.client_id)
            .join(Organization, Organization.id == Client.organization_id)
            .where(PortalUser.email == address)
            .with_for_update(of=PortalUser)
        ).one_or_none()
        sent = False
        if found is not None:
            user, business = found
            if (
                user.is_active
                and business.allow_sign_in_links
                and _recent(session, user.id, since) < LINKS_PER_ADDRESS_PER_HOUR
            ):
                _send(session, user, business, base_url, now)
                sent = True
        record_event(
            session,
            REQUESTED,
            at=now,
            portal_user_id=found[0].id if found is not None else None,
            client_id=found[0].client_id if found is not None else None,
            ip_address=ip_address,
            details={"email": address, "sent": sent},
        )
    return None


def check_sign_in_link(db: Database, token: str, *, clock: Clock = utc_now) -> str:
    """The address a sign-in link is for, to show on its page; raises ``InvalidToken``."""
    with db.reading() as session:
        row, user, business = _found(session, token)
        _check(row, user, business, clock())
        return user.email


def sign_in_with_link(
    db: Database, token: str, *, ip_address: str, user_agent: str = "", clock: Clock = utc_now
) -> IssuedSession:
    """Spend the link and open a session; ``InvalidToken`` if it cannot be used (used, expired,
    replaced, turned off, unknown), ``SecondStepRequired`` when the login has two-factor sign-in on."""
    now = clock()
    with db.transaction() as session:
        row, user, business = _found(session, token)
        _check(row, user, business, now)
        # The WHERE clause makes the spending atomic: of two requests at once, one updates no row.
        spent = session.execute(
            update(PasswordToken)
            .where(PasswordToken.id == row.id, PasswordToken.used_at.is_(None))
            .values(used_at=now)
        )
        if getattr(spent, "rowcount", 0) != 1:
            raise InvalidToken("used", SIGN_IN)
        record_event(
            session, USED, at=now, portal_user_id=user.id, client_id=user.client_id, ip_address=ip_address
        )
        user_id = user.id
    challenge = open_second_step(db, portal_user_id=user_id, ip_address=ip_address, clock=clock)
    if challenge is not None:  # two-factor sign-in: the link stood for the password only
        raise SecondStepRequired(challenge)
    with db.transaction() as session:
        login = session.get_one(PortalUser, user_id)
        return open_session(session, login, ip_address=ip_address, user_agent=user_agent, now=clock())


def _recent(session: Session, portal_user_id: int, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                PasswordToken.portal_user_id == portal_user_id,
                PasswordToken.purpose == SIGN_IN,
                PasswordToken.created_at > since,
            )
        )
        or 0
    )


def _send(session: Session, user: PortalUser, business: Organization, base_url: str, now: datetime) -> None:
    """A new link, replacing the person's outstanding sign-in links, in an e-mail in their language."""
    session.execute(
        update(PasswordToken)
        .where(
            PasswordToken.portal_user_id == user.id,
            PasswordToken.purpose == SIGN_IN,
            PasswordToken.used_at.is_(None),
            PasswordToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + VALIDITY
    session.add(
        PasswordToken(
            portal_user_id=user.id,
            purpose=SIGN_IN,
            token_hash=token_hash(token),
            expires_at=expires_at,
            created_at=now,
        )
    )
    with using_language(user.language or business.default_language):
        link = secret_link(f"{base_url.rstrip('/')}{LINK_PATH}?token={token}", expires_at)
        body = "\n\n".join(
            (
                _("Hello {name},").format(name=user.name or user.email),
                _("Open this link to sign in to {business}'s customer portal as {email}:").format(
                    business=business.name, email=user.email
                ),
                link,
                _("It works once, for 15 minutes. If you did not ask for it, you can ignore this e-mail."),
            )
        )
        queue_email(
            session,
            to=[user.email],
            subject=_("Your sign-in link for {business}'s customer portal").format(business=business.name),
            body_text=body,
            reply_to=business.email,
            client_id=user.client_id,
            now=now,
        )


def _found(session: Session, token: str) -> tuple[PasswordToken, PortalUser, Organization]:
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidToken("unknown", SIGN_IN)
    row = session.execute(
        select(PasswordToken, PortalUser, Organization)
        .join(PortalUser, PortalUser.id == PasswordToken.portal_user_id)
        .join(Client, Client.id == PortalUser.client_id)
        .join(Organization, Organization.id == Client.organization_id)
        .where(PasswordToken.token_hash == token_hash(token), PasswordToken.purpose == SIGN_IN)
    ).one_or_none()
    if row is None:
        raise InvalidToken("unknown", SIGN_IN)
    return row[0], row[1], row[2]


def _check(row: PasswordToken, user: PortalUser, business: Organization, now: datetime) -> None:
    if not user.is_active:
        raise InvalidToken("unknown", SIGN_IN)
    if not business.allow_sign_in_links:
        raise InvalidToken("turned_off", SIGN_IN)
    if row.used_at is not None:
        raise InvalidToken("used", SIGN_IN)
    if row.revoked_at is not None:
        raise InvalidToken("replaced", SIGN_IN)
    if now >= row.expires_at:
        raise InvalidToken("expired", SIGN_IN)


def sign_in_links_allowed(db: Database, organization_id: int) -> bool:
    """Whether the business lets its customers ask for sign-in links (Settings)."""
    with db.reading() as session:
        return bool(
            session.scalar(select(Organization.allow_sign_in_links).where(Organization.id == organization_id))
        )


def allow_sign_in_links(
    db: Database, owner: StaffPrincipal, allowed: bool, *, clock: Clock = utc_now
) -> None:
    """Let customers sign in by e-mail link, or stop it (the owner only: ``OwnerOnly``); turned off,
    the links already sent stop working at once."""
    require_owner(owner)
    now = clock()
    with db.transaction() as session:
        organization = session.scalars(
            select(Organization).where(Organization.id == owner.organization_id).with_for_update()
        ).one()
        if organization.allow_sign_in_links == allowed:
            return
        organization.allow_sign_in_links = allowed
        record_event(session, TURNED_ON if allowed else TURNED_OFF, at=now, staff_user_id=owner.staff_user_id)
    defaults_changed()  # the sign-in page offers the links, or no longer
