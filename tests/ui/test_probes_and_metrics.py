"""The load balancer's probes and the operator's metrics on the running app: /healthz answers without the
database, /readyz says whether the database is there and migrated, /metrics is for allowed addresses only
and names routes by their templates, never by the ids in a path."""

from __future__ import annotations

import re
from contextvars import ContextVar

import psycopg
import pytest
from nicegui.testing import User
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from services import portal
from services.outbox import queue_email
from tests.conftest import MIGRATION_HEAD
from tests.ui.conftest import post_login


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of the series ``name{labels}`` (labels in any order), None when it is not there."""
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match[1] != name:
            continue
        found = dict(re.findall(r'([a-z_]+)="([^"]*)"', match[2] or ""))
        if found == labels:
            return float(match[3])
    return None


# set only around the probe's request: its handler and any thread it starts inherit it, while the
# background loops (settling, the outbox), started before, keep their own context and are not counted
_asked_by_the_probe: ContextVar[bool] = ContextVar("asked_by_the_probe", default=False)


async def test_healthz_answers_without_a_session_and_without_the_database(user: User, monkeypatch) -> None:
    engine = portal.current().db.engine
    queries: list[str] = []

    def record(*args) -> None:
        if _asked_by_the_probe.get():
            queries.append(args[2])

    event.listen(engine, "before_cursor_execute", record)  # (removed with the engine)
    monkeypatch.setattr(engine, "connect", unavailable)  # were it to ask, it would fail

    token = _asked_by_the_probe.set(True)
    try:
        response = await user.http_client.get("/healthz")
    finally:
        _asked_by_the_probe.reset(token)

    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["cache-control"] == "no-store"
    assert queries == []


async def test_readyz_is_ready_on_a_migrated_database(user: User) -> None:
    response = await user.http_client.get("/readyz")

    assert (response.status_code, response.json()) == (200, {"status": "ready"})


async def test_readyz_is_503_while_the_database_cannot_be_reached(user: User, monkeypatch) -> None:
    monkeypatch.setattr(portal.current().db.engine, "connect", unavailable)

    response = await user.http_client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "database unavailable"}


async def test_readyz_is_503_while_the_database_is_at_another_revision(user: User) -> None:
    with portal.current().db.transaction() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0011'"))

    response = await user.http_client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["reason"] == f"database at revision 0011, this version needs {MIGRATION_HEAD}"


@pytest.fixture
def empty_portal(demo_portal_env, monkeypatch):
    """A fresh data folder without the demo (``tests.ui.conftest`` copies none in for this name)."""
    monkeypatch.setenv("PORTAL_DEMO", "false")


async def test_the_probes_answer_before_the_first_run_setup(empty_portal, user: User) -> None:
    assert (await user.http_client.get("/healthz")).status_code == 200
    assert (await user.http_client.get("/readyz")).status_code == 200
    assert (await user.http_client.get("/metrics")).status_code == 200
    assert (await user.http_client.get("/")).headers["location"] == "/setup"  # the rest leads to setup


async def test_metrics_count_requests_by_route_template_and_status(user: User) -> None:
    # The counters belong to the process, which ran other tests before this one: compare with before.
    before = (await user.http_client.get("/metrics")).text
    await user.http_client.get("/invoices/first-secret-id")  # no session: redirected to sign in
    await user.http_client.get("/invoices/second-secret-id")
    await post_login(user)
    await user.http_client.get("/invoices/third-secret-id")  # no such invoice
    await user.http_client.get("/no/such/page-with-an-id")

    response = await user.http_client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    metrics = response.text
    route = {"method": "GET", "route": "/invoices/{public_id}"}

    def grown(name: str, **labels: str) -> float:
        return (sample(metrics, name, **labels) or 0) - (sample(before, name, **labels) or 0)

    assert grown("portal_http_requests_total", **route, status="303") == 2
    assert grown("portal_http_requests_total", **route, status="404") == 1
    assert grown("portal_http_request_duration_seconds_count", **route, status="303") == 2
    login = {"method": "POST", "route": "/auth/login", "status": "303"}
    assert grown("portal_http_requests_total", **login) == 1
    assert "secret-id" not in metrics
    assert "page-with-an-id" not in metrics  # a path no route serves is <unmatched>, not itself
    assert sample(metrics, "portal_http_requests_total", method="GET", route="<unmatched>", status="404")


async def test_metrics_show_payments_outbox_job_lag_and_pages(user: User) -> None:
    current = portal.current()
    with current.db.transaction() as session:
        queue_email(
            session, to=["ann@client.example"], subject="Waiting", body_text="Hi", now=current.clock()
        )
    await user.open("/login")

    metrics = (await user.http_client.get("/metrics")).text

    assert sample(metrics, "portal_database_up") == 1
    assert sample(metrics, "portal_payments", gateway="sandbox", status="succeeded") == 8  # the demo's
    assert sample(metrics, "portal_payments", gateway="offline", status="succeeded") == 1
    assert sample(metrics, "portal_outbox_emails", status="pending") == 1
    assert sample(metrics, "portal_outbox_emails", status="failed") == 0
    assert 0 <= (sample(metrics, "portal_oldest_waiting_email_seconds") or -1) < 60
    assert sample(metrics, "portal_oldest_unanswered_payment_seconds") == 0
    for job in ("e_mail_sender", "payment_settling", "scheduled_backups"):
        assert 0 <= (sample(metrics, "portal_job_seconds_since_success", job=job) or -1) < 120
    assert sample(metrics, "portal_job_leader", job="payment_settling") == 1  # SQLite: always
    assert (sample(metrics, "portal_nicegui_pages") or 0) >= 1
    assert sample(metrics, "portal_nicegui_clients") is not None
    assert sample(metrics, "process_resident_memory_bytes")


async def test_metrics_while_the_database_is_away_say_so(user: User, monkeypatch) -> None:
    monkeypatch.setattr(portal.current().db, "reading", unavailable)

    response = await user.http_client.get("/metrics")

    assert response.status_code == 200
    assert sample(response.text, "portal_database_up") == 0
    assert sample(response.text, "portal_outbox_emails", status="pending") is None


@pytest.fixture
def metrics_for_the_office(monkeypatch):
    monkeypatch.setenv("PORTAL_METRICS_ALLOW", "10.0.0.0/8")
    monkeypatch.setenv("PORTAL_TRUSTED_PROXIES", "127.0.0.1")  # (listed before ``user``: app.py reads them)


async def test_metrics_are_a_404_for_an_address_not_allowed(metrics_for_the_office, user: User) -> None:
    from_the_proxy_itself = await user.http_client.get("/metrics")
    from_outside = await user.http_client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"})

    for response in (from_the_proxy_itself, from_outside):
        assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})
        assert "portal_" not in response.text


async def test_metrics_believe_the_address_a_trusted_proxy_gives(metrics_for_the_office, user: User) -> None:
    response = await user.http_client.get("/metrics", headers={"X-Forwarded-For": "10.1.2.3"})

    assert response.status_code == 200
    assert "portal_http_requests_total" in response.text


def unavailable(*_args, **_kwargs):
    """What a database server that went away answers (services.database_faults calls it an outage)."""
    raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed: Connection refused"))
