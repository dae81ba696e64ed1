"""UI tests run app.py in NiceGUI's simulated browser on a fresh data folder filled with the demo."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from nicegui import Client as PageClient
from nicegui.testing import User
from sqlalchemy import select

from models import Client, PortalUser
from services import portal
from services.balances import ClientBalances, client_balances
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD

_demo_folders: dict[date, Path] = {}


def demo_data_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the migrated demo, made once a day (the demo's dates follow today's).

    Copying it costs milliseconds; migrating and filling a database takes most of a second, which
    each of the UI tests would otherwise pay when app.py starts.
    """
    from services.demo import seed_demo
    from services.settings import Settings

    today = datetime.now(UTC).date()
    if today not in _demo_folders:
        folder = tmp_path_factory.mktemp("demo-data") / "data"
        started = portal.start(Settings(data_dir=folder, demo=True))
        seed_demo(started.db, clock=started.clock, password_rounds=4)
        started.db.engine.dispose()
        _demo_folders[today] = folder
    return _demo_folders[today]


@pytest.fixture
async def user(user: User) -> AsyncIterator[User]:
    """NiceGUI's simulated browser, whose pages' outbox loops are stopped before the app shuts down.

    A loop cancelled by the shutdown while it waits for news can miss the cancellation on Python 3.11,
    and the shutdown then waits its full two seconds for it; stopping them first spares each test that.
    """
    yield user
    for client in list(PageClient.instances.values()):
        client.outbox.stop()
    await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def demo_portal_env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """app.py's settings for a UI test: the demo in a fresh data folder (none for ``empty_portal``)."""
    data = tmp_path / "data"
    monkeypatch.setenv("PORTAL_DATA_DIR", str(data))
    monkeypatch.setenv("PORTAL_DEMO", "true")
    monkeypatch.setenv("PORTAL_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if "empty_portal" not in request.fixturenames:
        shutil.copytree(demo_data_folder(tmp_path_factory), data)
    return data


async def post_login(
    user: User, email: str = CUSTOMER_EMAIL, password: str = CUSTOMER_PASSWORD, next_path: str = "/"
) -> httpx.Response:
    """Submit the sign-in form as the browser does (a plain form post)."""
    return await user.http_client.post(
        "/auth/login", data={"email": email, "password": password, "next": next_path}
    )


async def open_home(user: User) -> None:
    """Open Home signed in and wait for its content, which follows the page over its connection."""
    await user.open("/")
    await user.should_see("My Account Details")


def location(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def balances_of(email: str) -> ClientBalances:
    """What the accounting core says of the client whose contact signs in with ``email``."""
    with portal.current().db.reading() as session:
        client = session.scalars(
            select(Client)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == email)
        ).one()
        return client_balances(session, client.id, client.currency)
