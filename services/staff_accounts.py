"""Settings > Staff: the owner adds staff accounts, disables and enables them, and changes their roles.

The owner gives a new staff member an initial password, held to the same rules as every password.
Disabling an account ends its open sessions at once (``resolve_staff_session`` also refuses a
disabled account). The business always keeps an active owner: the last one can be neither disabled
nor made staff, and nobody disables themselves or changes their own role, so an owner cannot lock
themselves out halfway through a click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import LoginSession, StaffUser
from services.audit import record_event
from services.auth import normalize_email
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import InvalidDetails, NotFound
from services.events import Events, staff_sessions_topic
from services.i18n import N_, _
from services.password_change import password_problems
from services.passwords import DEFAULT_ROUNDS, hash_password
from services.staff_auth import OWNER, ROLES

MAX_NAME_LENGTH = 200

ADDED = "staff.added"
DISABLED = "staff.disabled"
ENABLED = "staff.enabled"
ROLE_CHANGED = "staff.role_changed"

ROLE_LABELS = {OWNER: N_("Owner"), "staff": N_("Staff")}  # shown with role_label


def role_label(role: str) -> str:
    """A role's name in the reader's language: Owner, Staff."""
    return _(ROLE_LABELS[role]) if role in ROLE_LABELS else role


@dataclass(frozen=True)
class StaffAccount:
    public_id: str
    name: str
    email: str
    role: str  # owner | staff
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime
    staff_user_id: int


@dataclass(frozen=True)
class NewStaff:
    """The "Add staff member" form as typed."""

    name: str
    email: str
    role: str
    password: str
    confirm: str


class CannotChangeYourself(InvalidDetails):
    """Nobody disables their own account or changes their own role."""

    def __init__(self, field: str) -> None:
        message = (
            _("You cannot disable your own account; another owner can.")
            if field == "active"
            else _("You cannot change your own role; another owner can.")
        )
        super().__init__({field: message})
        self.field = field


class LastActiveOwner(InvalidDetails):
    """The business's only active owner can be neither disabled nor made staff."""

    def __init__(self, name: str, field: str) -> None:
        super().__init__(
            {
                field: _("{name} is the only active owner. Make another staff member an owner first.").format(
                    name=name
                )
            }
        )
        self.name = name
        self.field = field


class StaffEmailTaken(InvalidDetails):
    def __init__(self, email: str) -> None:
        super().__init__(
            {
                "email": _("{email} already has a staff account; each person needs their own.").format(
                    email=email
                )
            }
        )
        self.email = email


def list_staff(db: Database, organization_id: int) -> list[StaffAccount]:
    """The business's staff accounts: active ones first, then by name."""
    with db.reading() as session:
        users = session.scalars(
            select(StaffUser)
            .where(StaffUser.organization_id == organization_id)
            .order_by(StaffUser.is_active.desc(), func.lower(StaffUser.name), StaffUser.id)
        )
        return [_account(user) for user in users]


def add_staff(
    db: Database,
    organization_id: int,
    new: NewStaff,
    *,
    added_by: int,
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
) -> StaffAccount:
    """Create a staff account that can sign in at /admin with the given initial password.

    Raises ``InvalidDetails`` with a sentence per wrong field (name, email, role, password, confirm),
    ``StaffEmailTaken`` when another staff account has the address; nothing is created then.
    """
    errors: dict[str, str] = {}
    name = " ".join(new.name.split())
    if not name:
        errors["name"] = _("Enter the staff member's name.")
    elif len(name) > MAX_NAME_LENGTH or not name.isprintable():
        errors["name"] = _("Use at most {count} characters, without special characters.").format(
            count=MAX_NAME_LENGTH
        )
    email = ""
    try:
        email = normalize_email(validate_email(new.email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError:
        errors["email"] = _("This is not a valid e-mail address.")
    if new.role not in ROLES:
        errors["role"] = _("Choose Owner or Staff.")
    problems = password_problems(new.password, email=email or new.email, name=name)
    if problems:
        errors["password"] = " ".join(problems)
    elif new.password != new.confirm:
        errors["confirm"] = _("The two passwords do not match.")
    if errors:
        raise InvalidDetails(errors)
    if _email_taken(db, email):  # checked before bcrypt's quarter of a second, and again on insert
        raise StaffEmailTaken(email)
    password_hash = hash_password(new.password, rounds=rounds)
    now = clock()
    try:
        with db.transaction() as session:
            user = StaffUser(
                organization_id=organization_id,
                name=name,
                email=email,
                password_hash=password_hash,
                role=new.role,
                is_active=True,
                created_at=now,
            )
            session.add(user)
            session.flush()
            record_event(
                session,
                ADDED,
                at=now,
                staff_user_id=added_by,
                subject=("staff_user", user.id),
                details={"email": email, "role": new.role},
            )
            return _account(user)
    except IntegrityError:  # added by someone else between the check and the insert
        raise StaffEmailTaken(email) from None


def set_staff_active(
    db: Database,
    organization_id: int,
    public_id: str,
    active: bool,
    *,
    changed_by: int,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> StaffAccount:
    """Disable (ending every open session of the account at once) or enable a staff account.

    The disabled member's open pages hear of it through ``events``. Raises ``CannotChangeYourself``
    for one's own account, ``LastActiveOwner`` for the only active owner, ``NotFound`` for an account
    of another business. Doing what is already done changes nothing.
    """
    now = clock()
    with db.transaction() as session:
        user = _locked_user(session, organization_id, public_id)
        if user.is_active == active:
            return _account(user)
        if user.id == changed_by:
            raise CannotChangeYourself("active")
        if not active and user.role == OWNER and _other_active_owners(session, user) == 0:
            raise LastActiveOwner(user.name, "active")
        user.is_active = active
        ended = 0
        if not active:
            result = session.execute(
                update(LoginSession)
                .where(LoginSession.staff_user_id == user.id, LoginSession.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            ended = int(getattr(result, "rowcount", 0) or 0)
        record_event(
            session,
            ENABLED if active else DISABLED,
            at=now,
            staff_user_id=changed_by,
            subject=("staff_user", user.id),
            details={"sessions_ended": ended} if not active else {},
        )
        account, user_id = _account(user), user.id
    if events is not None and not active:
        events.publish(staff_sessions_topic(user_id))
    return account


def change_staff_role(
    db: Database,
    organization_id: int,
    public_id: str,
    role: str,
    *,
    changed_by: int,
    clock: Clock = utc_now,
    events: Events | None = None,
) -> StaffAccount:
    """Make a staff member an owner, or an owner staff.

    Their open pages hear of it through ``events`` (a former owner's Settings page leaves). Raises
    ``InvalidDetails`` for an unknown role, ``CannotChangeYourself`` for one's own account,
    ``LastActiveOwner`` when the only active owner would become staff, ``NotFound`` for an account
    of another business.
    """
    if role not in ROLES:
        raise InvalidDetails({"role": _("Choose Owner or Staff.")})
    now = clock()
    with db.transaction() as session:
        user = _locked_user(session, organization_id, public_id)
        if user.role == role:
            return _account(user)
        if user.id == changed_by:
            raise CannotChangeYourself("role")
        if user.role == OWNER and user.is_active and _other_active_owners(session, user) == 0:
            raise LastActiveOwner(user.name, "role")
        previous, user.role = user.role, role
        record_event(
            session,
            ROLE_CHANGED,
            at=now,
            staff_user_id=changed_by,
            subject=("staff_user", user.id),
            details={"from": previous, "to": role},
        )
        account, user_id = _account(user), user.id
    if events is not None:
        events.publish(staff_sessions_topic(user_id))
    return account


def _email_taken(db: Database, email: str) -> bool:
    with db.reading() as session:
        return session.scalars(select(StaffUser.id).where(StaffUser.email == email)).first() is not None


def _locked_user(session: Session, organization_id: int, public_id: str) -> StaffUser:
    # The business's owners are locked together (PostgreSQL; SQLite writes one at a time anyway), so
    # two owners disabling each other at the same moment cannot leave the business without one.
    session.execute(
        select(StaffUser.id)
        .where(StaffUser.organization_id == organization_id, StaffUser.role == OWNER)
        .with_for_update()
    ).all()
    user = session.scalars(
        select(StaffUser)
        .where(StaffUser.organization_id == organization_id, StaffUser.public_id == public_id)
        .with_for_update()
    ).one_or_none()
    if user is None:
        raise NotFound("staff user", public_id)
    return user


def _other_active_owners(session: Session, user: StaffUser) -> int:
    return int(
        session.scalar(
            select(func.count(StaffUser.id)).where(
                StaffUser.organization_id == user.organization_id,
                StaffUser.role == OWNER,
                StaffUser.is_active.is_(True),
                StaffUser.id != user.id,
            )
        )
        or 0
    )


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(
        public_id=user.public_id,
        name=user.name,
        email=user.email,
        role=user.role,
        is_active=user.is_active,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        staff_user_id=user.id,
    )
