"""Back-office UI tests: the demo portal with its owner (or a plain staff member) signed in at /admin."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from nicegui.elements.mixins.value_element import ValueElement
from nicegui.testing import User
from sqlalchemy import select

from models import Organization, StaffUser
from services import portal
from services.demo import OWNER_EMAIL, OWNER_PASSWORD
from services.passwords import hash_password

STAFF_EMAIL = "sam@business.example"
STAFF_PASSWORD = "Counter-Ledger-Pine-31"


async def sign_in_staff(user: User, email: str = OWNER_EMAIL, password: str = OWNER_PASSWORD) -> None:
    """Post the /admin sign-in form as the browser does; the simulated browser keeps the cookie."""
    response: httpx.Response = await user.http_client.post(
        "/admin/auth/login", data={"email": email, "password": password, "next": "/admin"}
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/admin"


@pytest.fixture
async def owner(user: User) -> User:
    """The demo business's owner, signed in to the back office."""
    await sign_in_staff(user)
    return user


@pytest.fixture
async def staff(user: User) -> User:
    """A staff member (not the owner) of the demo business, signed in to the back office."""
    add_staff_user(STAFF_EMAIL, STAFF_PASSWORD)
    await sign_in_staff(user, STAFF_EMAIL, STAFF_PASSWORD)
    return user


def add_staff_user(email: str, password: str, *, role: str = "staff", name: str = "Sam Counter") -> None:
    db = portal.current().db
    with db.transaction() as session:
        organization_id = session.scalars(select(Organization.id).order_by(Organization.id)).first()
        assert organization_id is not None
        session.add(
            StaffUser(
                organization_id=organization_id,
                name=name,
                email=email,
                password_hash=hash_password(password, rounds=4),
                role=role,
                created_at=portal.current().clock(),
            )
        )


def set_value(user: User, marker: str, value: object) -> None:
    """Type into every element carrying ``marker`` (a NiceGUI ``.mark``)."""
    elements = user.find(marker=marker).elements
    assert elements, f"no element marked {marker!r}"
    for element in elements:
        assert isinstance(element, ValueElement)
        element.value = value


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until ``condition()`` holds (a background write finished); fail after ``seconds``."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the change did not happen")
