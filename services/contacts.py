"""The back office's side of a client's contact persons: add and invite, resend, disable, enable.

Every function is scoped by ``organization_id``: a contact of another business's client is
``NotFound``. Contacts are named by their public id. The invitation itself (its link and e-mail) is
``services.invitations``; sign-in and sessions are ``services.auth``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Client, PortalUser
from services.audit import record_event
from services.auth import normalize_email, revoke_all_sessions
from services.clients import ContactView, client_id_for, invite_client_contact, list_contacts
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.events import Events, customer_sessions_topic
from services.invitations import resend_invitation

DISABLED = "contact.disabled"
ENABLED = "contact.enabled"


def add_contact(
    db: Database,
    organization_id: int,
    client_public_id: str,
    *,
    name: str,
    email: str,
    base_url: str,
    invited_by_staff_id: int | None = None,
    clock: Clock = utc_now,
) -> ContactView:
    """Add a contact person to the client and e-mail them an invitation to the portal.

    Unlike ``invite_client_contact`` (which re-invites a known address), an address that is already
    any contact's, of this client or another, is refused: ``InvalidDetails`` with an ``email``
    message. Bad names and addresses are ``InvalidDetails`` too (keys ``name``, ``email``).
    """
    address = normalize_email(email)
    with db.reading() as session:
        client_id_for(session, organization_id, client_public_id)
        taken = session.scalar(select(PortalUser.id).where(PortalUser.email == address))
    if address and taken is not None:
        raise InvalidDetails(
            {"email": f"{address} is already the e-mail of a contact; each contact needs their own address."}
        )
    return invite_client_contact(
        db,
        organization_id,
        client_public_id,
        name=name,
        email=email,
        base_url=base_url,
        invited_by_staff_id=invited_by_staff_id,
        clock=clock,
    )


def resend_contact_invitation(
    db: Database,
    organization_id: int,
    contact_public_id: str,
    *,
    base_url: str,
    invited_by_staff_id: int | None = None,
    clock: Clock = utc_now,
) -> ContactView:
    """Send a contact without a password a new invitation; the link in the earlier one stops working.

    Raises ``ContactHasLogin``, ``ContactDisabled`` or ``InvitationLimitReached`` (see
    ``services.invitations.resend_invitation``), and ``NotFound``.
    """
    with db.reading() as session:
        user_id, client_public_id = _contact(session, organization_id, contact_public_id)
    resend_invitation(db, user_id, invited_by_staff_id=invited_by_staff_id, base_url=base_url, clock=clock)
    return _view(db, organization_id, client_public_id, contact_public_id)


def disable_contact(
    db: Database,
    organization_id: int,
    contact_public_id: str,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> ContactView:
    """Take away a contact's portal access: sign-in is refused and their open sessions end at once.

    Their open pages hear of it through ``events``. Their invitation link, if one is out, does not
    work while they are disabled. Disabling a disabled contact changes nothing.
    """
    return _set_active(db, organization_id, contact_public_id, False, staff_user_id, clock(), events)


def enable_contact(
    db: Database,
    organization_id: int,
    contact_public_id: str,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> ContactView:
    """Give a disabled contact their portal access back (their password, or their invitation link)."""
    return _set_active(db, organization_id, contact_public_id, True, staff_user_id, clock())


def _set_active(
    db: Database,
    organization_id: int,
    contact_public_id: str,
    active: bool,
    staff_user_id: int | None,
    now: datetime,
    events: Events | None = None,
) -> ContactView:
    with db.transaction() as session:
        user, client = _locked(session, organization_id, contact_public_id)
        if user.is_active != active:
            user.is_active = active
            ended = 0 if active else revoke_all_sessions(session, user.id, at=now)
            record_event(
                session,
                ENABLED if active else DISABLED,
                at=now,
                portal_user_id=user.id,
                staff_user_id=staff_user_id,
                client_id=client.id,
                subject=("portal_user", user.id),
                details={"email": user.email} | ({} if active else {"sessions_ended": ended}),
            )
        client_public_id, portal_user_id = client.public_id, user.id
    if events is not None and not active:
        events.publish(customer_sessions_topic(portal_user_id))
    return _view(db, organization_id, client_public_id, contact_public_id)


def _contact(session: Session, organization_id: int, contact_public_id: str) -> tuple[int, str]:
    row = session.execute(
        select(PortalUser.id, Client.public_id)
        .join(Client, Client.id == PortalUser.client_id)
        .where(PortalUser.public_id == contact_public_id, Client.organization_id == organization_id)
    ).one_or_none()
    if row is None:
        raise NotFound("contact", contact_public_id)
    return row[0], row[1]


def _locked(session: Session, organization_id: int, contact_public_id: str) -> tuple[PortalUser, Client]:
    user_id, _ = _contact(session, organization_id, contact_public_id)
    user = session.scalars(select(PortalUser).where(PortalUser.id == user_id).with_for_update()).one()
    return user, session.get_one(Client, user.client_id)


def _view(db: Database, organization_id: int, client_public_id: str, contact_public_id: str) -> ContactView:
    contacts = list_contacts(db, organization_id, client_public_id)
    return next(contact for contact in contacts if contact.public_id == contact_public_id)
