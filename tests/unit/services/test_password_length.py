"""Long passphrases: up to bcrypt's 72 bytes they work, beyond they get a clear message, never a crash.

bcrypt reads only the first 72 bytes of a password and zxcvbn raises beyond 72 characters. Every form
that sets a password (Change Password, a set-password link, the first-run setup, Settings > Staff) goes
through ``check_password``, so each refuses the same passwords with the same sentence.
"""

from __future__ import annotations

from dataclasses import replace

import bcrypt
import pytest
from sqlalchemy import select

from models import PortalUser
from services.auth import sign_in
from services.errors import InvalidDetails, WeakPassword, human_message
from services.invitations import invite_contact, set_password
from services.password_change import REQUIREMENTS, TOO_LONG, change_password, check_password
from services.passwords import MAX_PASSWORD_BYTES, hash_password, verify_password
from services.setup import set_up_business
from services.staff_accounts import add_staff
from services.staff_auth import sign_in_staff
from tests.factories import Clock, make_client, make_customer, make_organization
from tests.unit.services.test_invitations import BASE_URL, link_token, outbox
from tests.unit.services.test_password_change import OLD
from tests.unit.services.test_setup import FORM
from tests.unit.services.test_staff_accounts import new as new_staff
from tests.unit.services.test_staff_auth import make_staff

WORDS = "plum tractor lagoon copper orchard quartz lantern harbour violet meadow ember falcon "


def passphrase(length: int) -> str:
    """A strong passphrase of exactly ``length`` ASCII characters (as many bytes)."""
    return (WORDS * 4)[: length - 2] + "7!"


def multibyte(start: str, pad: str, size: int) -> str:
    """``start`` filled up with the characters of ``pad`` in turn (and a digit where needed) to exactly
    ``size`` bytes of UTF-8."""
    text, turn = start, 0
    while len((text + pad[turn % len(pad)]).encode()) <= size:
        text, turn = text + pad[turn % len(pad)], turn + 1
    return text + "7" * (size - len(text.encode()))


MULTIBYTE_FITS = {
    "cyrillic": multibyte("Слива трактор ", "лагунамедьсадкварц", 72),  # 2 bytes a letter
    "accents": multibyte("Prune tracteur ", "éèêëàâîïôûçœ", 72),
    "cjk": multibyte("李子", "拖拉机泻湖铜果园石英灯笼港口紫罗兰草地", 72),  # 3 bytes a character
    "emoji": multibyte("", "🌵🚜🌊🍎💎🏮⚓🌸🌾🔥🦅🪙", 72),  # 4 bytes a character
}
MULTIBYTE_TOO_LONG = {name: text + text[-1] for name, text in MULTIBYTE_FITS.items()}
EMAIL, NAME = "ann@client.example", "Ann Smith"


def test_the_samples_are_as_long_as_they_say() -> None:
    assert [len(passphrase(n).encode()) for n in (72, 73, 87, 200)] == [72, 73, 87, 200]
    assert {len(text.encode()) for text in MULTIBYTE_FITS.values()} == {72}
    assert all(len(text) < 72 < len(text.encode()) for text in MULTIBYTE_TOO_LONG.values())


@pytest.mark.parametrize("password", [passphrase(72), *MULTIBYTE_FITS.values()])
def test_a_passphrase_of_72_bytes_meets_every_requirement(password: str) -> None:
    check = check_password(password, email=EMAIL, name=NAME)
    assert check.problems == ()
    assert all(requirement.met for requirement in check.requirements)


@pytest.mark.parametrize(
    "password", [passphrase(73), passphrase(87), passphrase(200), *MULTIBYTE_TOO_LONG.values()]
)
def test_a_longer_passphrase_is_refused_with_the_stated_limit_and_no_crash(password: str) -> None:
    check = check_password(password, email=EMAIL, name=NAME)
    assert TOO_LONG in check.problems
    assert [r.text for r in check.requirements if not r.met] == [REQUIREMENTS[-1]]
    assert f"At most {MAX_PASSWORD_BYTES} characters" in REQUIREMENTS[-1]


def test_a_password_with_half_a_character_is_refused_not_crashed_on() -> None:
    check = check_password("Plum-Tractor-\ud800-Lagoon-47", email=EMAIL, name=NAME)
    assert "Type the password again: it holds a character that is not complete." in check.problems


def test_hashing_refuses_more_than_72_bytes_rather_than_cut_them() -> None:
    with pytest.raises(ValueError, match="73 bytes"):
        hash_password(passphrase(73), rounds=4)
    assert verify_password(passphrase(72), hash_password(passphrase(72), rounds=4))


def test_a_hash_made_before_the_limit_from_a_longer_password_still_verifies() -> None:
    """Such hashes were made from the password's first 72 bytes; signing in with the whole still works."""
    long = "Слива трактор лагуна медь сад кварц и ещё немного слов"
    legacy = bcrypt.hashpw(long.encode()[:72], bcrypt.gensalt(4)).decode()
    assert verify_password(long, legacy)
    assert not verify_password("Слива трактор лагуна", legacy)


# --- every place that sets a password ---------------------------------------------------------------


@pytest.mark.parametrize("length", [73, 87, 200])
def test_change_password_refuses_a_long_passphrase_with_the_message(db, length: int) -> None:
    make_customer(db)
    laptop = sign_in(db, email=EMAIL, password=OLD, ip_address="10.0.0.1", clock=Clock())
    new = passphrase(length)
    with pytest.raises(WeakPassword) as refused:
        change_password(db, laptop.principal, OLD, new, new, ip_address="10.0.0.1", clock=Clock(), rounds=4)
    assert TOO_LONG in human_message(refused.value)
    assert sign_in(db, email=EMAIL, password=OLD, ip_address="10.0.0.1", clock=Clock()).token


@pytest.mark.parametrize("new", [passphrase(72), MULTIBYTE_FITS["cyrillic"]])
def test_change_password_takes_a_72_byte_passphrase_and_it_signs_in(db, new: str) -> None:
    make_customer(db)
    laptop = sign_in(db, email=EMAIL, password=OLD, ip_address="10.0.0.1", clock=Clock())
    change_password(db, laptop.principal, OLD, new, new, ip_address="10.0.0.1", clock=Clock(), rounds=4)
    assert sign_in(db, email=EMAIL, password=new, ip_address="10.0.0.1", clock=Clock()).token


def test_a_set_password_link_refuses_a_long_passphrase_and_takes_72_bytes(db) -> None:
    clock = Clock()
    client_id = make_client(db, make_organization(db))
    invite_contact(
        db, client_id, name="Cleo Jones", email="cleo@client.example", base_url=BASE_URL, clock=clock
    )
    token = link_token(outbox(db)[-1])
    with pytest.raises(WeakPassword) as refused:
        set_password(db, token, passphrase(87), passphrase(87), clock=clock, rounds=4)
    assert TOO_LONG in human_message(refused.value)
    with db.reading() as session:
        assert session.scalars(select(PortalUser.password_hash)).one() is None
    set_password(db, token, passphrase(72), passphrase(72), clock=clock, rounds=4)
    assert sign_in(
        db, email="cleo@client.example", password=passphrase(72), ip_address="10.0.0.1", clock=clock
    )


def test_the_first_run_setup_refuses_a_long_passphrase_and_takes_72_bytes(db) -> None:
    form = replace(FORM, password=passphrase(200), confirm=passphrase(200))
    with pytest.raises(InvalidDetails) as refused:
        set_up_business(db, form, clock=Clock(), rounds=4)
    assert TOO_LONG in refused.value.errors["password"]
    set_up_business(
        db, replace(FORM, password=passphrase(72), confirm=passphrase(72)), clock=Clock(), rounds=4
    )
    owner = sign_in_staff(
        db, email=FORM.owner_email.lower(), password=passphrase(72), ip_address="10.0.0.1", clock=Clock()
    )
    assert owner.token


def test_a_new_staff_account_refuses_a_long_passphrase_and_takes_72_bytes(db) -> None:
    organization = make_organization(db)
    owner = make_staff(db, organization, "olivia@business.example")
    with pytest.raises(InvalidDetails) as refused:
        add_staff(
            db, organization, new_staff(password=passphrase(87)), added_by=owner, clock=Clock(), rounds=4
        )
    assert TOO_LONG in refused.value.errors["password"]
    add_staff(db, organization, new_staff(password=passphrase(72)), added_by=owner, clock=Clock(), rounds=4)
    assert sign_in_staff(
        db, email="sam@business.example", password=passphrase(72), ip_address="10.0.0.1", clock=Clock()
    ).token
