"""API keys for the REST API: made and revoked by the owner, shown once, stored as a SHA-256 hash.

A key is ``ipk_`` and 43 random URL-safe characters. It is looked up by its hash, so checking one
compares no secret byte by byte and a leaked database holds no usable key. A key's scope is ``read``
(GET requests only) or ``read_write``; making and revoking a key are audit events.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ApiKey, StaffUser
from services.audit import record_event
from services.clock import Clock, utc_now
from services.database import Database
from services.errors import ApiKeyRefused, InvalidDetails, NotFound
from services.i18n import N_, _
from services.staff_auth import require_active_owner

KEY_PREFIX = "ipk_"
SHOWN_PREFIX_LENGTH = 8
MAX_NAME_LENGTH = 100
MAX_KEY_LENGTH = 100  # a real key is 47 characters; longer ones are refused without a lookup
LAST_USED_RESOLUTION = timedelta(minutes=1)  # at most one write a minute per key, however busy

READ = "read"
READ_WRITE = "read_write"
SCOPE_LABELS = {READ_WRITE: N_("Read and write"), READ: N_("Read only")}  # shown with scope_label

CREATED = "api_key.created"
REVOKED = "api_key.revoked"


@dataclass(frozen=True)
class CreatedKey:
    public_id: str
    name: str
    prefix: str
    secret: str  # shown once, never again
    scope: str = READ_WRITE


@dataclass(frozen=True)
class ApiKeyInfo:
    public_id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    scope: str = READ_WRITE


@dataclass(frozen=True)
class ApiPrincipal:
    """Who calls the API: a business, through one of its keys."""

    organization_id: int
    key_id: int
    scope: str = READ_WRITE

    @property
    def may_write(self) -> bool:
        return self.scope == READ_WRITE


def scope_label(scope: str) -> str:
    """What a key of ``scope`` may do, in the reader's language."""
    return _(SCOPE_LABELS[scope]) if scope in SCOPE_LABELS else scope


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    db: Database,
    organization_id: int,
    name: str,
    *,
    staff_user_id: int | None,
    scope: str = READ_WRITE,
    clock: Clock = utc_now,
) -> CreatedKey:
    """Make a key for the business; the returned ``secret`` is the only time the key is seen.

    ``scope`` is ``read`` (the key may only read) or ``read_write``. Raises ``InvalidDetails`` (keys
    ``name``, ``scope``), ``NotFound`` for a staff user of another business and ``OwnerOnly`` when
    ``staff_user_id`` is no longer an active owner.
    """
    if scope not in SCOPE_LABELS:
        raise InvalidDetails({"scope": _("Choose what the key may do: read only, or read and write.")})
    clean_name = " ".join(name.split())
    if not clean_name:
        raise InvalidDetails({"name": _("Give the key a name, such as the software that will use it.")})
    if len(clean_name) > MAX_NAME_LENGTH or not clean_name.isprintable():
        raise InvalidDetails(
            {
                "name": _("Use at most {count} characters, without special characters.").format(
                    count=MAX_NAME_LENGTH
                )
            }
        )
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as session:
        _check_owner(session, organization_id, staff_user_id)
        key = ApiKey(
            organization_id=organization_id,
            name=clean_name,
            prefix=secret[:SHOWN_PREFIX_LENGTH],
            key_hash=key_hash(secret),
            scope=scope,
            created_by_staff_id=staff_user_id,
            created_at=clock(),
        )
        session.add(key)
        session.flush()
        record_event(
            session,
            CREATED,
            at=key.created_at,
            staff_user_id=staff_user_id,
            subject=("api_key", key.id),
            details={"name": key.name, "prefix": key.prefix, "scope": scope},
        )
        return CreatedKey(key.public_id, key.name, key.prefix, secret, scope)


def list_api_keys(db: Database, organization_id: int) -> list[ApiKeyInfo]:
    """The business's keys, newest first, revoked ones included (marked)."""
    with db.reading() as session:
        keys = session.scalars(
            select(ApiKey).where(ApiKey.organization_id == organization_id).order_by(ApiKey.id.desc())
        )
        return [
            ApiKeyInfo(k.public_id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked_at, k.scope)
            for k in keys
        ]


def revoke_api_key(
    db: Database,
    organization_id: int,
    public_id: str,
    *,
    staff_user_id: int | None = None,
    clock: Clock = utc_now,
) -> None:
    """Stop a key from working, at once and for good. Revoking a revoked key changes nothing.

    Raises ``OwnerOnly`` when ``staff_user_id`` is no longer an active owner.
    """
    with db.transaction() as session:
        _check_owner(session, organization_id, staff_user_id)
        key = session.scalars(
            select(ApiKey).where(ApiKey.organization_id == organization_id, ApiKey.public_id == public_id)
        ).one_or_none()
        if key is None:
            raise NotFound("API key", public_id)
        if key.revoked_at is None:
            key.revoked_at = clock()
            record_event(
                session,
                REVOKED,
                at=key.revoked_at,
                staff_user_id=staff_user_id,
                subject=("api_key", key.id),
                details={"name": key.name, "prefix": key.prefix},
            )


def authenticate_api_key(db: Database, secret: str, *, clock: Clock = utc_now) -> ApiPrincipal:
    """The business a key belongs to; ``ApiKeyRefused`` for an unknown or revoked key.

    Only a successful check writes (``last_used_at``, at most once a minute); a refused one changes nothing.
    """
    if not secret.startswith(KEY_PREFIX) or len(secret) > MAX_KEY_LENGTH:
        raise ApiKeyRefused()
    digest = key_hash(secret)
    with db.reading() as session:
        found = session.execute(
            select(ApiKey.id, ApiKey.organization_id, ApiKey.last_used_at, ApiKey.scope).where(
                ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None)
            )
        ).one_or_none()
    if found is None:
        raise ApiKeyRefused()
    now = clock()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_RESOLUTION:
        with db.transaction() as session:
            key = session.get_one(ApiKey, found.id)
            if key.revoked_at is None:
                key.last_used_at = now
    return ApiPrincipal(found.organization_id, found.id, found.scope)


def _check_owner(session: Session, organization_id: int, staff_user_id: int | None) -> None:
    """The staff member who asks must still be an active owner of this business (None: not a person)."""
    if staff_user_id is None:
        return
    staff = session.get(StaffUser, staff_user_id)
    if staff is None or staff.organization_id != organization_id:
        raise NotFound("staff user", staff_user_id)
    require_active_owner(staff)
