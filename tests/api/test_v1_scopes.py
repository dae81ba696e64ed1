"""API key scopes: a read-only key reads everything and writes nothing (403); creating and revoking a
key are audit events."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import ApiKey, AuditEvent, Client, Invoice, OutboxEmail, Payment, PortalUser
from services.api_keys import READ, READ_WRITE, create_api_key, list_api_keys, revoke_api_key
from services.errors import InvalidDetails
from tests.api.test_v1 import ROUTES, fill, is_problem, new_invoice

WRITES = [route for route in ROUTES if route[0] != "GET"]
READS = [route for route in ROUTES if route[0] == "GET"]


def stored(db) -> tuple[int, ...]:
    with db.reading() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Client, Invoice, Payment, PortalUser, OutboxEmail)
        )


def read_only_key(api) -> str:
    return create_api_key(
        api.db, api.organization_id, "Reports", staff_user_id=None, scope=READ, clock=api.clock
    ).secret


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_only_key_gets_403_on_every_write_and_changes_nothing(api, method, path, body):
    invoice_id = new_invoice(api)["id"]
    headers = api.headers(read_only_key(api))
    before = stored(api.db)
    with api.db.reading() as session:
        names = session.scalars(select(Client.display_name).order_by(Client.id)).all()

    response = api.anonymous.request(
        method, fill(path, api, invoice_id), json=fill(body, api, invoice_id), headers=headers
    )

    problem = is_problem(response, 403)
    assert problem["type"].endswith("read-only-key")
    assert "may only read" in problem["detail"]
    assert stored(api.db) == before
    with api.db.reading() as session:
        assert session.scalar(select(Invoice.status).where(Invoice.public_id == invoice_id)) == "draft"
        assert session.scalars(select(Client.display_name).order_by(Client.id)).all() == names


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_a_read_only_key_reads_every_list_and_object(api, method, path, body):
    invoice_id = new_invoice(api)["id"]
    payment = api.client.post(
        "/api/v1/payments",
        json={"client_id": api.client_public_id, "amount_minor": 100, "currency": "USD", "method": "cash"},
    )
    assert payment.status_code == 201, payment.text
    target = fill(path, api, invoice_id)
    if path.startswith("/api/v1/payments/"):
        target = f"/api/v1/payments/{payment.json()['id']}"
    if path.startswith("/api/v1/credit-notes/"):
        target = "/api/v1/credit-notes"

    response = api.anonymous.get(target, headers=api.headers(read_only_key(api)))

    assert response.status_code == 200, response.text


def test_the_key_made_by_the_fixture_and_keys_made_without_a_scope_may_write(api):
    (key,) = list_api_keys(api.db, api.organization_id)
    assert key.scope == READ_WRITE
    response = api.client.post("/api/v1/clients", json={"display_name": "New", "currency": "EUR"})
    assert response.status_code == 201, response.text


def test_an_unknown_scope_is_refused(api):
    with pytest.raises(InvalidDetails) as refused:
        create_api_key(api.db, api.organization_id, "Odd", staff_user_id=None, scope="admin", clock=api.clock)
    assert set(refused.value.errors) == {"scope"}


def test_creating_and_revoking_a_key_are_audit_events(api):
    made = create_api_key(
        api.db, api.organization_id, "Reports", staff_user_id=None, scope=READ, clock=api.clock
    )
    revoke_api_key(api.db, api.organization_id, made.public_id, clock=api.clock)
    revoke_api_key(api.db, api.organization_id, made.public_id, clock=api.clock)  # changes nothing

    with api.db.reading() as session:
        key_id = session.scalar(select(ApiKey.id).where(ApiKey.public_id == made.public_id))
        events = session.execute(
            select(AuditEvent.action, AuditEvent.details)
            .where(AuditEvent.subject_type == "api_key", AuditEvent.subject_id == key_id)
            .order_by(AuditEvent.id)
        ).all()
    assert [action for action, _ in events] == ["api_key.created", "api_key.revoked"]
    assert events[0][1] == {"name": "Reports", "prefix": made.prefix, "scope": "read"}
    assert made.secret not in str(events)
    response = api.anonymous.get("/api/v1/clients", headers=api.headers(made.secret))
    is_problem(response, 401)
