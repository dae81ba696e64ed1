"""The running portal while its database is unavailable, and after it is back, without a restart.

``python app.py`` runs as a subprocess. PostgreSQL is taken away at the network edge
(``tests.faults.TcpGate``: the machine's shared server stays up for everyone else); SQLite's write lock
is held by another connection (``tests.faults.sqlite_lock``), so reads still work and writes fail.
While it lasts, pages, sign-in and PDF downloads answer a short 503 page, the REST API a problem+json
503, and the scheduler (which runs all background work) logs one line; afterwards the same requests
succeed and it logs that the database is back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from api.unavailable import EXPLANATION, HEADING
from models import Client, Invoice, InvoiceStatus, Organization, PortalUser
from services.api_keys import create_api_key
from services.database import Database
from services.demo import CUSTOMER_EMAIL, CUSTOMER_PASSWORD
from tests.conftest import POSTGRES_URL, postgres_test_url
from tests.faults import TcpGate, sqlite_lock
from tests.portal_process import RunningPortal, running_portal

SIGN_IN = {"email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD, "next": "/"}
# The sender claims its messages in a write transaction on every round, but only with a server to send to.
NO_SMTP_SERVER = {
    "PORTAL_SMTP_HOST": "127.0.0.1",
    "PORTAL_SMTP_PORT": "9",
    "PORTAL_SMTP_SECURITY": "none",
    "PORTAL_SMTP_FROM": "billing@business.example",
}


@contextmanager
def database(url: str) -> Iterator[Database]:
    db = Database.from_url(url)
    try:
        yield db
    finally:
        db.engine.dispose()


def api_key_and_invoice(url: str) -> tuple[str, str]:
    """A key for the demo business's API and one of the demo customer's invoices, made before the outage."""
    with database(url) as db:
        with db.reading() as session:
            organization_id = session.scalars(select(Organization.id)).first()
            invoice = session.scalars(
                select(Invoice.public_id)
                .join(Client, Client.id == Invoice.client_id)
                .join(PortalUser, PortalUser.client_id == Client.id)
                .where(PortalUser.email == CUSTOMER_EMAIL, Invoice.status != InvoiceStatus.DRAFT)
            ).first()
        assert organization_id is not None
        assert invoice is not None
        return create_api_key(db, organization_id, "Books", staff_user_id=None).secret, invoice


def unviewed_invoice(url: str) -> str:
    """A sent invoice of the demo customer's that nobody opened yet: opening it writes (it becomes Viewed)."""
    with database(url) as db, db.reading() as session:
        invoice = session.scalars(
            select(Invoice.public_id)
            .join(Client, Client.id == Invoice.client_id)
            .join(PortalUser, PortalUser.client_id == Client.id)
            .where(PortalUser.email == CUSTOMER_EMAIL, Invoice.status == InvoiceStatus.SENT)
        ).first()
    assert invoice is not None
    return invoice


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout} s for {what}")
        time.sleep(0.1)


def log_of(running: RunningPortal) -> str:
    return running.output.read_text()


def logged(running: RunningPortal, line: str) -> Callable[[], bool]:
    return lambda: line in log_of(running)


def assert_unavailable_page(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.headers["content-type"].startswith("text/html")
    assert HEADING in response.text
    assert EXPLANATION in response.text
    assert "Traceback" not in response.text


def assert_unavailable_problem(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert problem["status"] == 503
    assert problem["type"].endswith("database-unavailable")
    assert "nothing was changed" in problem["detail"]


def sign_in(client: httpx.Client) -> httpx.Response:
    return client.post("/auth/login", data=SIGN_IN)


def assert_one_line_per_outage(running: RunningPortal, *loops: str) -> None:
    output = log_of(running)
    assert "Traceback" not in output, output
    for name in loops:
        assert output.count(f"{name}: database unavailable") == 1, output
        assert output.count(f"{name}: database available again") == 1, output


def test_while_sqlite_is_locked_writes_answer_503_and_all_works_again_after(tmp_path: Path):
    settings = {"PORTAL_SQLITE_BUSY_TIMEOUT": "0.3", "PORTAL_BCRYPT_ROUNDS": "4", **NO_SMTP_SERVER}
    with running_portal(tmp_path / "data", settings=settings) as running:
        path = running.data_dir / "portal.db"
        key, _ = api_key_and_invoice(f"sqlite:///{path}")
        invoice = unviewed_invoice(f"sqlite:///{path}")
        customer = httpx.Client(base_url=running.url)
        api = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {key}"})
        signed_in = httpx.Client(base_url=running.url)
        assert sign_in(signed_in).status_code == 303

        with sqlite_lock(path):
            assert_unavailable_page(sign_in(customer))  # a sign-in writes the session
            assert_unavailable_page(signed_in.get(f"/invoices/{invoice}"))  # the page's first look writes
            assert_unavailable_problem(api.get("/api/v1/clients"))  # a key's first use is recorded
            wait_for(logged(running, "Scheduler: database unavailable"), "the scheduler's line")

        assert sign_in(customer).status_code == 303
        assert customer.get("/").status_code == 200
        assert signed_in.get(f"/invoices/{invoice}").status_code == 200
        assert api.get("/api/v1/clients").status_code == 200
        wait_for(logged(running, "Scheduler: database available again"), "the scheduler's recovery")
        assert_one_line_per_outage(running, "Scheduler", "Pages and API")


@pytest.fixture
def gated_postgres() -> Iterator[tuple[TcpGate, str, str]]:
    """A fresh PostgreSQL database of this test's own, and its URL through a gate the test can close."""
    if not POSTGRES_URL:
        pytest.skip("PORTAL_TEST_DATABASE_URL is not set: no PostgreSQL server to test on")
    url = postgres_test_url("outage")
    with database(url) as db, db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    gate, gated = TcpGate.for_url(url)
    yield gate, url, gated
    gate.stop()


def test_while_postgresql_is_away_everything_answers_503_and_all_works_again_after(
    tmp_path: Path, gated_postgres: tuple[TcpGate, str, str]
):
    gate, url, gated = gated_postgres
    settings = {"DATABASE_URL": gated, "PORTAL_BCRYPT_ROUNDS": "4"}
    with running_portal(tmp_path / "data", settings=settings) as running:
        key, invoice = api_key_and_invoice(url)
        customer = httpx.Client(base_url=running.url)
        api = httpx.Client(base_url=running.url, headers={"Authorization": f"Bearer {key}"})
        assert sign_in(customer).status_code == 303

        def everything() -> dict[str, httpx.Response]:
            return {
                "page": customer.get("/invoices"),
                "pdf": customer.get(f"/invoices/{invoice}/pdf"),
                "api": api.get("/api/v1/clients"),
                "sign-in": sign_in(httpx.Client(base_url=running.url)),
            }

        gate.close()
        answers = everything()
        assert_unavailable_page(answers["page"])
        assert 'href="/invoices"' in answers["page"].text  # Try again: the page asked for
        assert_unavailable_page(answers["pdf"])
        assert_unavailable_page(answers["sign-in"])
        assert_unavailable_problem(answers["api"])
        wait_for(logged(running, "Scheduler: database unavailable"), "the scheduler's line")
        time.sleep(2.5)  # more rounds of the scheduler, which must not log again

        gate.open()
        answers = everything()
        assert answers["page"].status_code == 200
        assert answers["pdf"].content.startswith(b"%PDF")
        assert answers["api"].status_code == 200
        assert answers["sign-in"].status_code == 303
        wait_for(logged(running, "Scheduler: database available again"), "the scheduler's end")
        assert_one_line_per_outage(running, "Scheduler", "Pages and API")
