"""Two-factor sign-in: TOTP secrets, single-use recovery codes, and the second step of a sign-in.

A credential belongs to one customer login (``portal_user_id``) or one staff account
(``staff_user_id``), never both. Its secret is sealed under the portal's secret key; a recovery code
and a second-step token are stored only as hashes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.sealed import SealedString


class TwoFactorCredential(Base):
    """An authenticator app's secret. ``confirmed_at`` is None while it is being set up.

    ``last_used_step`` is the TOTP time step (30 seconds) of the last code accepted: a code of that
    step or an earlier one is refused, so no code works twice.
    """

    __tablename__ = "two_factor_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id"), default=None, unique=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None, unique=True)
    secret: Mapped[str] = mapped_column(SealedString(300))
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime]


class RecoveryCode(Base):
    """One of the ten codes shown once at set-up; only a salted SHA-256 is kept, and each works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("two_factor_credentials.id"), index=True)
    salt: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]


class SignInChallenge(Base):
    """The second step of a sign-in: a password was right, a session is not issued yet.

    The browser holds a random token in a cookie; only its SHA-256 is stored. ``purpose`` is
    ``verify`` (enter a code) or ``setup`` (a staff member the owner requires two-factor sign-in
    of sets it up first; ``verified_at`` marks that done). It is spent (``used_at``) by the session
    it leads to, and worthless after ``expires_at``.
    """

    __tablename__ = "sign_in_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    portal_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("portal_users.id"), default=None, index=True
    )
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), default=None, index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # verify | setup
    failures: Mapped[int] = mapped_column(Integer, default=0)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
