"""Two-factor sign-in: set-up, the second step of a sign-in, codes used once, lock-out, recovery codes,
the business's resets and the owner's requirement for staff."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pyotp
import pytest
import segno
from sqlalchemy import func, select, text

from models import AuditEvent, LoginSession, LoginThrottle, OutboxEmail, PortalUser, RecoveryCode, StaffUser
from services.auth import resolve_session, sign_in
from services.database import Database
from services.errors import (
    NotFound,
    OwnerOnly,
    OwnTwoFactorFirst,
    OwnTwoFactorReset,
    SecondStepExpired,
    SignInLocked,
    SignInRefused,
    TwoFactorAlreadyOn,
    TwoFactorRequired,
    WrongTwoFactorCode,
    WrongTwoFactorProof,
)
from services.events import Events, staff_sessions_topic
from services.passwords import hash_password
from services.principal import Principal
from services.second_step import SETUP, VERIFY, SecondStepRequired
from services.staff_auth import StaffPrincipal, resolve_staff_session, sign_in_staff
from services.two_factor import (
    RecoveryCodes,
    begin_setup,
    challenge_info,
    confirm_required_setup,
    confirm_setup,
    disable_two_factor,
    finish_required_setup,
    regenerate_recovery_codes,
    require_staff_two_factor,
    reset_contact_two_factor,
    reset_staff_two_factor,
    start_required_setup,
    two_factor_status,
    verify_second_step,
    verify_staff_second_step,
)
from tests.factories import NOW, Clock, make_client, make_organization, make_portal_user

PASSWORD = "Correct-Horse-9"
EMAIL = "ann@client.example"
IP = "10.0.0.1"


class Customer:
    def __init__(self, db: Database) -> None:
        self.organization_id = make_organization(db)
        self.client_id = make_client(db, self.organization_id)
        self.user_id = make_portal_user(db, self.client_id, EMAIL, PASSWORD)
        self.principal = Principal(self.user_id, self.client_id, self.organization_id, "Ann", EMAIL, 0)


@pytest.fixture
def customer(db) -> Customer:
    return Customer(db)


def make_staff(db: Database, organization_id: int, email: str, role: str = "staff") -> StaffPrincipal:
    with db.transaction() as session:
        user = StaffUser(
            organization_id=organization_id,
            name=email.split("@")[0].title(),
            email=email,
            password_hash=hash_password(PASSWORD, rounds=4),
            role=role,
            created_at=NOW,
        )
        session.add(user)
        session.flush()
        return StaffPrincipal(user.id, organization_id, user.name, email, role, 0)


def turn_on(db, who, clock) -> tuple[pyotp.TOTP, RecoveryCodes]:
    setup = begin_setup(db, who, clock=clock)
    totp = pyotp.TOTP(setup.secret)
    codes = confirm_setup(db, who, totp.at(clock()), clock=clock)
    clock.advance(seconds=30)  # the code of set-up is spent; the next sign-in uses the next one
    return totp, codes


def password_step(db, clock, *, email=EMAIL, ip=IP):
    with pytest.raises(SecondStepRequired) as pending:
        sign_in(db, email=email, password=PASSWORD, ip_address=ip, clock=clock)
    return pending.value.challenge


def staff_password_step(db, clock, email):
    with pytest.raises(SecondStepRequired) as pending:
        sign_in_staff(db, email=email, password=PASSWORD, ip_address=IP, clock=clock)
    return pending.value.challenge


def actions(db) -> list[str]:
    with db.reading() as session:
        return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def session_count(db) -> int:
    with db.reading() as session:
        return session.scalar(select(func.count()).select_from(LoginSession)) or 0


# --- set-up ---------------------------------------------------------------------------------------------


def test_the_qr_code_carries_the_otpauth_uri_with_the_business_as_issuer(db, customer):
    setup = begin_setup(db, customer.principal, clock=Clock())

    expected = f"otpauth://totp/Acme%20Studio:{quote(EMAIL)}?secret={setup.secret}&issuer=Acme%20Studio"
    assert setup.uri == expected
    parsed = pyotp.parse_uri(setup.uri)
    assert (parsed.issuer, parsed.name) == ("Acme Studio", EMAIL)
    assert setup.qr_data_url.startswith("data:image/svg+xml")
    assert setup.qr_data_url == segno.make(expected, error="m").svg_data_uri(scale=4, border=4)
    assert setup.issuer == "Acme Studio"
    assert "".join(setup.secret_in_groups.split()) == setup.secret


def test_confirming_with_a_current_code_turns_it_on_with_ten_recovery_codes_stored_hashed(db, customer):
    clock = Clock()
    setup = begin_setup(db, customer.principal, clock=clock)
    assert not two_factor_status(db, customer.principal).enabled
    sign_in(db, email=EMAIL, password=PASSWORD, ip_address=IP, clock=clock)  # not before it is confirmed

    codes = confirm_setup(db, customer.principal, pyotp.TOTP(setup.secret).at(clock()), clock=clock)

    assert len(codes.codes) == len(set(codes.codes)) == 10
    status = two_factor_status(db, customer.principal)
    assert (status.enabled, status.recovery_codes_left) == (True, 10)
    with db.reading() as session:
        stored_codes = " ".join(f"{c.salt} {c.code_hash}" for c in session.scalars(select(RecoveryCode)))
        raw_secret = session.scalar(text("SELECT secret FROM two_factor_credentials"))
    assert not any(code.replace("-", "") in stored_codes or code in stored_codes for code in codes.codes)
    assert raw_secret.startswith("sealed:v1:")
    assert setup.secret not in raw_secret
    assert "two_factor.enabled" in actions(db)


def test_a_wrong_code_does_not_turn_it_on(db, customer):
    clock = Clock()
    begin_setup(db, customer.principal, clock=clock)
    with pytest.raises(WrongTwoFactorCode):
        confirm_setup(db, customer.principal, "000000", clock=clock)
    assert not two_factor_status(db, customer.principal).enabled
    turn_on(db, customer.principal, clock)
    with pytest.raises(TwoFactorAlreadyOn):
        begin_setup(db, customer.principal, clock=clock)


# --- the second step ------------------------------------------------------------------------------


def test_a_customer_with_two_factor_signs_in_with_a_code_and_no_session_before_it(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    sessions = session_count(db)

    challenge = password_step(db, clock)

    assert challenge.purpose == VERIFY
    assert challenge.expires_at == clock() + timedelta(minutes=5)
    assert session_count(db) == sessions  # a right password alone opens nothing
    info = challenge_info(db, challenge.token, staff=False, clock=clock)
    assert info is not None
    assert info.email == EMAIL
    issued = verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)
    principal = resolve_session(db, issued.token, clock=clock)
    assert principal is not None
    assert principal.portal_user_id == customer.user_id
    with pytest.raises(SecondStepExpired):  # the challenge is spent
        verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)


def test_a_staff_member_with_two_factor_signs_in_with_a_code(db, customer):
    clock = Clock()
    staff = make_staff(db, customer.organization_id, "sam@business.example")
    totp, _ = turn_on(db, staff, clock)

    challenge = staff_password_step(db, clock, "sam@business.example")
    with pytest.raises(SecondStepExpired):  # a staff challenge is no customer's
        verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)
    issued = verify_staff_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)

    signed_in = resolve_staff_session(db, issued.token, clock=clock)
    assert signed_in is not None
    assert signed_in.staff_user_id == staff.staff_user_id


def test_a_code_is_never_accepted_twice(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    code = totp.at(clock())
    verify_second_step(db, password_step(db, clock).token, code, ip_address=IP, clock=clock)

    challenge = password_step(db, clock)
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(db, challenge.token, code, ip_address=IP, clock=clock)
    clock.advance(seconds=30)
    earlier = totp.at(clock() - timedelta(seconds=30))  # within the drift allowed, but used already
    assert earlier == code
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(db, challenge.token, earlier, ip_address=IP, clock=clock)
    verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)


def test_one_step_of_clock_drift_is_accepted_two_are_not(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    challenge = password_step(db, clock)
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(
            db, challenge.token, totp.at(clock() + timedelta(seconds=60)), ip_address=IP, clock=clock
        )
    ahead = totp.at(clock() + timedelta(seconds=30))
    verify_second_step(db, challenge.token, ahead, ip_address=IP, clock=clock)


def test_wrong_codes_lock_the_account_like_wrong_passwords(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    for _ in range(3):
        with pytest.raises(SignInRefused):
            sign_in(db, email=EMAIL, password="Wrong-Guess-123", ip_address=IP, clock=clock)
    challenge = password_step(db, clock)  # a right password does not forget the failures
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(db, challenge.token, "000000", ip_address=IP, clock=clock)
    with pytest.raises(SignInLocked):  # the fifth failure, a code
        verify_second_step(db, challenge.token, "000001", ip_address=IP, clock=clock)

    with pytest.raises(SignInLocked):  # even the right code now
        verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)
    with pytest.raises(SignInLocked):  # and the right password from another address
        sign_in(db, email=EMAIL, password=PASSWORD, ip_address="10.9.9.9", clock=clock)
    assert actions(db).count("sign_in.two_factor_failed") == 2
    assert "sign_in.locked" in actions(db)


def test_wrong_codes_count_against_the_address_too(db, customer):
    clock = Clock()
    turn_on(db, customer.principal, clock)
    challenge = password_step(db, clock, ip="10.7.7.7")
    for code in ("111111", "222222"):
        with pytest.raises(WrongTwoFactorCode):
            verify_second_step(db, challenge.token, code, ip_address="10.7.7.7", clock=clock)
    with db.reading() as session:
        throttles = {(t.scope, t.key): t.failures for t in session.scalars(select(LoginThrottle)).all()}
    assert throttles[("account", EMAIL)] == 2
    assert throttles[("address", "10.7.7.7")] == 2


def test_a_second_step_lasts_five_minutes(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    challenge = password_step(db, clock)
    clock.advance(minutes=5)
    with pytest.raises(SecondStepExpired):
        verify_second_step(db, challenge.token, totp.at(clock()), ip_address=IP, clock=clock)
    with pytest.raises(SecondStepExpired):
        verify_second_step(db, "made-up", totp.at(clock()), ip_address=IP, clock=clock)
    assert challenge_info(db, challenge.token, staff=False, clock=clock) is None


def test_a_recovery_code_signs_in_once(db, customer):
    clock = Clock()
    _, codes = turn_on(db, customer.principal, clock)
    code = codes.codes[3]

    issued = verify_second_step(db, password_step(db, clock).token, code.upper(), ip_address=IP, clock=clock)

    assert resolve_session(db, issued.token, clock=clock) is not None
    assert two_factor_status(db, customer.principal).recovery_codes_left == 9
    assert "two_factor.recovery_code_used" in actions(db)
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(db, password_step(db, clock).token, code, ip_address=IP, clock=clock)


# --- turning off, new codes -----------------------------------------------------------------------


def test_turning_off_takes_a_current_code_or_the_password_and_a_wrong_one_counts(db, customer):
    clock = Clock()
    totp, _ = turn_on(db, customer.principal, clock)
    with pytest.raises(WrongTwoFactorProof):
        disable_two_factor(db, customer.principal, "Not-The-Password", ip_address=IP, clock=clock)
    with db.reading() as session:
        failures = session.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == EMAIL))
    assert failures == 1

    disable_two_factor(db, customer.principal, totp.at(clock()), ip_address=IP, clock=clock)

    assert not two_factor_status(db, customer.principal).enabled
    assert "two_factor.disabled" in actions(db)
    sign_in(db, email=EMAIL, password=PASSWORD, ip_address=IP, clock=clock)  # the password is enough again


def test_new_recovery_codes_replace_the_old_ones(db, customer):
    clock = Clock()
    _, old = turn_on(db, customer.principal, clock)

    new = regenerate_recovery_codes(db, customer.principal, PASSWORD, ip_address=IP, clock=clock)

    assert set(new.codes).isdisjoint(old.codes)
    assert "two_factor.recovery_codes_regenerated" in actions(db)
    with pytest.raises(WrongTwoFactorCode):
        verify_second_step(db, password_step(db, clock).token, old.codes[0], ip_address=IP, clock=clock)
    verify_second_step(db, password_step(db, clock).token, new.codes[0], ip_address=IP, clock=clock)


# --- the business ---------------------------------------------------------------------------------


def test_the_business_resets_a_customers_two_factor_as_an_audit_event(db, customer):
    clock = Clock()
    owner = make_staff(db, customer.organization_id, "owner@business.example", role="owner")
    turn_on(db, customer.principal, clock)
    pending = password_step(db, clock)
    with db.reading() as session:
        public_id = session.scalar(select(PortalUser.public_id).where(PortalUser.id == customer.user_id))
    other_business = make_staff(db, make_organization(db, "Other"), "x@other.example", role="owner")
    with pytest.raises(NotFound):
        reset_contact_two_factor(
            db, other_business.organization_id, public_id, staff_user_id=other_business.staff_user_id
        )

    reset_contact_two_factor(
        db, customer.organization_id, public_id, staff_user_id=owner.staff_user_id, clock=clock
    )

    with db.reading() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "two_factor.reset")).one()
    assert (event.staff_user_id, event.portal_user_id, event.client_id) == (
        owner.staff_user_id,
        customer.user_id,
        customer.client_id,
    )
    assert not two_factor_status(db, customer.principal).enabled
    with db.reading() as session:  # the customer hears of it, so a reset they did not ask for is noticed
        notices = session.scalars(select(OutboxEmail.subject).where(OutboxEmail.to_addresses.contains(EMAIL)))
        assert "Your two-factor sign-in to Acme Studio's customer portal: reset" in list(notices)
    with pytest.raises(SecondStepExpired):  # a second step begun before is void
        verify_second_step(db, pending.token, "123456", ip_address=IP, clock=clock)
    assert sign_in(db, email=EMAIL, password=PASSWORD, ip_address=IP, clock=clock).token


def test_the_owner_resets_a_staff_members_two_factor_but_not_their_own(db, customer):
    clock = Clock()
    owner = make_staff(db, customer.organization_id, "owner@business.example", role="owner")
    staff = make_staff(db, customer.organization_id, "sam@business.example")
    turn_on(db, owner, clock)
    turn_on(db, staff, clock)
    with db.reading() as session:
        public_ids = dict(session.execute(select(StaffUser.email, StaffUser.public_id)).all())
    with pytest.raises(OwnerOnly):
        reset_staff_two_factor(db, staff, public_ids["owner@business.example"], clock=clock)
    with pytest.raises(OwnTwoFactorReset):
        reset_staff_two_factor(db, owner, public_ids["owner@business.example"], clock=clock)

    reset_staff_two_factor(db, owner, public_ids["sam@business.example"], clock=clock)

    assert not two_factor_status(db, staff).enabled
    assert "two_factor.reset" in actions(db)
    assert sign_in_staff(db, email="sam@business.example", password=PASSWORD, ip_address=IP, clock=clock)


def test_the_owners_requirement_sends_staff_without_it_to_set_it_up_first(db, customer):
    clock = Clock()
    owner = make_staff(db, customer.organization_id, "owner@business.example", role="owner")
    make_staff(db, customer.organization_id, "sam@business.example")
    early = sign_in_staff(db, email="sam@business.example", password=PASSWORD, ip_address=IP, clock=clock)
    with pytest.raises(OwnTwoFactorFirst):
        require_staff_two_factor(db, owner, True, clock=clock)
    turn_on(db, owner, clock)
    events = Events()

    assert require_staff_two_factor(db, owner, True, clock=clock, events=events) == 1

    assert events.version(staff_sessions_topic(early.principal.staff_user_id)) == 1  # open pages leave

    assert resolve_staff_session(db, early.token, clock=clock) is None  # their session ended
    challenge = staff_password_step(db, clock, "sam@business.example")
    assert challenge.purpose == SETUP
    with pytest.raises(SecondStepExpired):  # no session before the set-up is confirmed
        finish_required_setup(db, challenge.token, ip_address=IP, clock=clock)
    with pytest.raises(SecondStepExpired):  # and no way round it with the code page
        verify_staff_second_step(db, challenge.token, "123456", ip_address=IP, clock=clock)
    setup = start_required_setup(db, challenge.token, clock=clock)
    codes = confirm_required_setup(db, challenge.token, pyotp.TOTP(setup.secret).at(clock()), clock=clock)
    assert len(codes.codes) == 10
    issued = finish_required_setup(db, challenge.token, ip_address=IP, clock=clock)
    sam = resolve_staff_session(db, issued.token, clock=clock)
    assert sam is not None
    with pytest.raises(SecondStepExpired):  # spent
        finish_required_setup(db, challenge.token, ip_address=IP, clock=clock)
    with pytest.raises(TwoFactorRequired):
        disable_two_factor(db, sam, PASSWORD, ip_address=IP, clock=clock)
    assert "staff_two_factor.required" in actions(db)
    # customers are not concerned by the staff requirement
    assert sign_in(db, email=EMAIL, password=PASSWORD, ip_address=IP, clock=clock).token
