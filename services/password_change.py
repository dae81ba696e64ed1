"""Change Password, and the password rules every new password meets (here and for set-password links).

A wrong current password counts towards the sign-in throttle, so a borrowed session cannot be used to
guess it. A changed password signs out every other browser of that login and tells its owner by e-mail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from models import Client, Organization, PortalUser
from services.audit import record_event
from services.auth import (
    password_locked_until,
    record_failed_password,
    reset_account_throttle,
    revoke_all_sessions,
)
from services.clock import Clock, utc_now
from services.database import Database
from services.dates import format_moment
from services.errors import (
    NotFound,
    PasswordMismatch,
    PasswordUnchanged,
    SignInLocked,
    WeakPassword,
    WrongCurrentPassword,
)
from services.events import Events, customer_sessions_topic
from services.i18n import N_, _, formatting_locale, using_language
from services.outbox import queue_email
from services.password_advice import advice
from services.passwords import DEFAULT_ROUNDS, MAX_PASSWORD_BYTES, hash_password, verify_password
from services.principal import Principal

MIN_LENGTH = 10
MIN_SCORE = 3  # zxcvbn: 3 is "safely unguessable", about 10^10 guesses
# zxcvbn refuses more than 72 characters (a ValueError) and its run time grows quickly with length:
# beyond this the start decides the score. A password that long is refused for bcrypt's sake anyway.
_ZXCVBN_MAX_LENGTH = 72
_TOO_LONG = N_("Use at most {count} characters (letters with accents or in other scripts count as 2 to 4).")
TOO_LONG = _TOO_LONG.format(count=MAX_PASSWORD_BYTES)  # as English readers see it

CHANGED_ACTION = "password.changed"
WRONG_CURRENT_ACTION = "password_change.wrong_current"

_REQUIREMENTS = (
    N_("At least {count} characters."),
    N_("Not your e-mail address or your name."),
    N_("Not a common or easily guessed password."),
    # bcrypt reads 72 bytes of a password (services/passwords.py): refused beyond, never cut silently
    N_("At most {count} characters (accented letters and other scripts count as 2 to 4)."),
)
_COUNTS = (MIN_LENGTH, 0, 0, MAX_PASSWORD_BYTES)
REQUIREMENTS = tuple(text.format(count=count) for text, count in zip(_REQUIREMENTS, _COUNTS, strict=True))


@dataclass(frozen=True)
class Requirement:
    text: str  # one of REQUIREMENTS
    met: bool


@dataclass(frozen=True)
class PasswordCheck:
    """The requirements with a tick each, for the list shown while typing, and what is wrong."""

    requirements: tuple[Requirement, ...]
    problems: tuple[str, ...]  # sentences; empty when the password is good

    @property
    def acceptable(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class PasswordChanged:
    other_sessions_signed_out: int
    notice_sent_to: str


def check_password(password: str, *, email: str, name: str) -> PasswordCheck:
    """Check a new password against the rules; fast enough to run on every keystroke, and whatever
    its length or characters it answers, never raises."""
    long_enough = len(password) >= MIN_LENGTH
    short_enough = len(password.encode(errors="replace")) <= MAX_PASSWORD_BYTES
    personal = _is_personal(password, email=email, name=name)
    hard_to_guess, advice = (False, []) if personal else _strength(password, email=email, name=name)
    problems: list[str] = []
    if not long_enough:
        problems.append(_("Use at least {count} characters.").format(count=MIN_LENGTH))
    if not short_enough:
        problems.append(_(_TOO_LONG).format(count=MAX_PASSWORD_BYTES))
    if any("\ud800" <= char <= "\udfff" for char in password):  # half a character: no browser types it
        problems.append(_("Type the password again: it holds a character that is not complete."))
    if personal:
        problems.append(_("Do not use your e-mail address or your name as the password."))
    elif password and not hard_to_guess:
        problems += [_("This password is easy to guess."), *advice]
    # Nothing typed meets nothing: an empty field shows no ticks, not "Not your e-mail" already met.
    met = (long_enough, not personal, hard_to_guess, short_enough) if password else (False,) * 4
    shown = (_(text).format(count=count) for text, count in zip(_REQUIREMENTS, _COUNTS, strict=True))
    return PasswordCheck(
        tuple(Requirement(text, ok) for text, ok in zip(shown, met, strict=True)), tuple(problems)
    )


def password_problems(password: str, *, email: str, name: str) -> list[str]:
    """What is wrong with a new password, in plain sentences; empty when it meets every requirement."""
    return list(check_password(password, email=email, name=name).problems)


def change_password(
    db: Database,
    principal: Principal,
    old: str,
    new: str,
    confirm: str,
    *,
    ip_address: str,
    clock: Clock = utc_now,
    rounds: int = DEFAULT_ROUNDS,
    events: Events | None = None,
) -> PasswordChanged:
    """Change the signed-in customer's password.

    Refusals, each changing nothing: ``SignInLocked`` while the sign-in throttle locks the account or
    address; ``PasswordMismatch``; ``WeakPassword`` with its problems; ``WrongCurrentPassword`` (which
    counts as a failed sign-in, and the failure that reaches the limit raises ``SignInLocked``
    instead); ``PasswordUnchanged``. On success the other sessions of this login end (the one in
    ``principal.session_id`` stays; the others' open pages hear of it through ``events``), and a notice
    goes to the login's e-mail address.
    """
    with db.reading() as session:
        user = _user(session, principal)
        email, name, current_hash = user.email, user.name, user.password_hash
    locked_until = password_locked_until(db, email=email, ip_address=ip_address, clock=clock)
    if locked_until is not None:
        raise SignInLocked(locked_until)
    if new != confirm:
        raise PasswordMismatch()
    problems = password_problems(new, email=email, name=name)
    if problems:
        raise WeakPassword(tuple(problems))
    # bcrypt takes a quarter of a second on purpose; no transaction is held open meanwhile
    if not verify_password(old, current_hash):
        locked = record_failed_password(
            db, email=email, ip_address=ip_address, action=WRONG_CURRENT_ACTION, clock=clock
        )
        raise locked or WrongCurrentPassword()
    if new.encode()[:MAX_PASSWORD_BYTES] == old.encode()[:MAX_PASSWORD_BYTES]:
        raise PasswordUnchanged()
    new_hash = hash_password(new, rounds=rounds)
    now = clock()
    with db.transaction() as session:
        user = _user(session, principal, lock=True)
        if user.password_hash != current_hash:  # changed by another browser since it was checked
            raise WrongCurrentPassword()
        user.password_hash = new_hash
        user.password_changed_at = now
        signed_out = revoke_all_sessions(session, user.id, at=now, except_session_id=principal.session_id)
        reset_account_throttle(session, user.email)
        client = session.get_one(Client, user.client_id)
        business = session.get_one(Organization, client.organization_id)
        zone = user.time_zone or business.time_zone
        with using_language(user.language or business.default_language, time_zone=zone):
            locale = formatting_locale(business.locale)
            queue_email(
                session,
                to=[user.email],
                subject=_("Your password for {business}'s customer portal was changed").format(
                    business=business.name
                ),
                # The moment in the reader's time zone, named: an e-mail is read anywhere.
                body_text=_notice(user.name, user.email, business, f"{format_moment(now, locale)} ({zone})"),
                reply_to=business.email,
                client_id=client.id,
                now=now,
            )
        record_event(
            session,
            CHANGED_ACTION,
            at=now,
            portal_user_id=user.id,
            client_id=client.id,
            ip_address=ip_address,
            details={"other_sessions_signed_out": signed_out},
        )
        changed = PasswordChanged(signed_out, user.email)
    if events is not None:
        events.publish(customer_sessions_topic(principal.portal_user_id))
    return changed


def _user(session: Session, principal: Principal, *, lock: bool = False) -> PortalUser:
    query = select(PortalUser).where(
        PortalUser.id == principal.portal_user_id,
        PortalUser.client_id == principal.client_id,
        PortalUser.is_active.is_(True),
    )
    user = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if user is None:
        raise NotFound("portal user", principal.portal_user_id)
    return user


def _notice(name: str, email: str, business: Organization, when: str) -> str:
    advice = (
        _(
            "If this was not you, someone else knows your password: choose a new one right away with "
            "“Forgot password?” on the sign-in page or write to {business} at {email}."
        )
        if business.email
        else _(
            "If this was not you, someone else knows your password: choose a new one right away with "
            "“Forgot password?” on the sign-in page."
        )
    )
    return "\n".join(
        [
            _("Hello {name},").format(name=name),
            "",
            _(
                "the password of your login {email} to the customer portal of {business} was changed on "
                "{moment}. Every other browser signed in with it was signed out."
            ).format(email=email, business=business.name, moment=when),
            "",
            _("If this was you, there is nothing more to do."),
            "",
            advice.format(business=business.name, email=business.email),
        ]
    )


def _is_personal(password: str, *, email: str, name: str) -> bool:
    """The password is the e-mail address, its local part or the name, ignoring case and spacing."""
    candidate = _squeeze(password)
    if not candidate:
        return False
    local_part = email.partition("@")[0]
    personal = {_squeeze(email), _squeeze(local_part), _squeeze(name)} - {""}
    return candidate in personal or (len(_squeeze(email)) >= 6 and _squeeze(email) in candidate)


def _strength(password: str, *, email: str, name: str) -> tuple[bool, list[str]]:
    """Whether zxcvbn rates the password hard to guess, and its advice in sentences if not."""
    if not password:
        return False, []
    result = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=_user_inputs(email, name))
    if result["score"] >= MIN_SCORE:
        return True, []
    return False, advice(result["feedback"])


def _user_inputs(email: str, name: str) -> list[str]:
    """Words an attacker would try first for this person, for zxcvbn to penalise."""
    local_part, _, domain = email.lower().partition("@")
    parts = re.split(r"[^\w]+", f"{local_part} {name.lower()}")
    # "annsmith" as well as "ann" and "smith": zxcvbn matches each input as one dictionary word.
    words = [email.lower(), local_part, _squeeze(local_part), _squeeze(name), domain, *parts]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


def _squeeze(text: str) -> str:
    return "".join(character for character in text.casefold() if character.isalnum())
