"""The one bound on amounts through the REST API: at the bound is accepted, one minor unit over is a
422 naming the field and stores nothing, and documents at the bound still add up for the business."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Client, CreditNote, Invoice, Payment
from services.amount_bounds import MAX_AMOUNT_MINOR
from services.business_overview import business_overview
from services.clients import list_clients
from services.money import Money
from tests.api.test_v1 import is_problem
from tests.factories import TODAY, make_client

MAX = MAX_AMOUNT_MINOR


def a_line(unit_price_minor: int, quantity: str = "1", tax: str = "0") -> dict[str, Any]:
    return {
        "description": "Work",
        "quantity": quantity,
        "unit_price_minor": unit_price_minor,
        "tax_rate_percent": tax,
    }


def stored(api) -> tuple[int, ...]:
    with api.db.reading() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) or 0 for m in (Invoice, CreditNote, Payment)
        )


@pytest.mark.parametrize("path", ["/api/v1/invoices", "/api/v1/credit-notes"])
def test_a_document_at_the_bound_is_created(api, path):
    for lines in ([a_line(MAX)], [a_line(MAX - 1), a_line(1)], [a_line(MAX // 2, "1", "100")]):
        response = api.client.post(path, json={"client_id": api.client_public_id, "lines": lines})
        assert response.status_code == 201, response.text
        assert response.json()["total_minor"] == MAX


@pytest.mark.parametrize("path", ["/api/v1/invoices", "/api/v1/credit-notes"])
@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([a_line(10**15, "100000")], "body.lines.0.unit_price_minor"),  # the 500 of issue 13
        ([a_line(MAX + 1)], "body.lines.0.unit_price_minor"),
        ([a_line(MAX, "100000")], "lines.0.amount_minor"),
        ([a_line(MAX // 2 + 1, "2")], "lines.0.amount_minor"),
        ([a_line(8 * 10**12 + 1, "1.25")], "lines.0.amount_minor"),  # rounds to 10^13 + 1
        ([a_line(MAX), a_line(1)], "subtotal_minor"),
        ([a_line(MAX, "1", "0.0001")], "total_minor"),
    ],
)
def test_one_minor_unit_over_the_bound_is_a_422_naming_the_field(api, path, lines, field):
    before = stored(api)
    body = is_problem(api.client.post(path, json={"client_id": api.client_public_id, "lines": lines}), 422)
    assert field in {error["field"] for error in body["errors"]}
    assert stored(api) == before


def test_a_payment_at_the_bound_is_recorded_and_one_unit_over_is_a_422(api):
    payment = {"client_id": api.client_public_id, "currency": "USD", "method": "bank_transfer"}
    response = api.client.post("/api/v1/payments", json=payment | {"amount_minor": MAX})
    assert response.status_code == 201, response.text
    assert response.json()["unapplied_minor"] == MAX
    before = stored(api)
    body = is_problem(api.client.post("/api/v1/payments", json=payment | {"amount_minor": MAX + 1}), 422)
    assert body["errors"][0]["field"] == "body.amount_minor"
    assert stored(api) == before


DOCUMENTS = 20_000  # invoices at the bound over two clients: 2 x 10^17 owed to the business
CREDIT_NOTES = 1_000


def copies(session: Session, model: type, template: Any, count: int) -> None:
    """``count`` more rows like ``template``, each with its own number, in one statement."""
    columns = {c.key: getattr(template, c.key) for c in model.__table__.columns}  # type: ignore[attr-defined]
    del columns["id"], columns["public_id"]
    session.execute(insert(model), [columns | {"number": f"{template.number}-{n}"} for n in range(count)])


def test_many_documents_at_the_bound_still_add_up_on_the_dashboard_clients_list_and_api(api):
    """These sum documents in SQL: SQLite's SUM stops with an error past 2^63, PostgreSQL's does not."""
    with api.db.reading() as session:
        first = session.scalars(select(Client.id).where(Client.public_id == api.client_public_id)).one()
    second = make_client(api.db, api.organization_id, name="Second Ltd")
    for client_id in (first, second):
        with api.db.reading() as session:
            public_id = session.get_one(Client, client_id).public_id
        lines = {"client_id": public_id, "lines": [a_line(MAX)]}
        invoice = api.client.post("/api/v1/invoices", json=lines).json()
        api.client.post(f"/api/v1/invoices/{invoice['id']}/send")
        note = api.client.post("/api/v1/credit-notes", json=lines).json()
        with api.db.transaction() as session:
            template = session.scalars(select(Invoice).where(Invoice.public_id == invoice["id"])).one()
            copies(session, Invoice, template, DOCUMENTS // 2 - 1)
            template = session.scalars(select(CreditNote).where(CreditNote.public_id == note["id"])).one()
            copies(session, CreditNote, template, CREDIT_NOTES // 2 - 1)
    # Issue 13: two invoices of 5 x 10^18, each within the old per-field limits, overflowed every sum.
    for _ in range(2):
        over = {"client_id": api.client_public_id, "lines": [a_line(10**15, "5000")]}
        is_problem(api.client.post("/api/v1/invoices", json=over), 422)
    each = {"outstanding_minor": DOCUMENTS // 2 * MAX, "credits_minor": CREDIT_NOTES // 2 * MAX}

    [receivables] = business_overview(api.db, api.organization_id, today=TODAY).receivables
    assert (receivables.outstanding, receivables.open_count) == (Money(DOCUMENTS * MAX, "USD"), DOCUMENTS)
    listed = list_clients(api.db, api.organization_id).clients
    assert [(c.balances.outstanding.minor, c.balances.credits.minor) for c in listed] == [
        (each["outstanding_minor"], each["credits_minor"])
    ] * 2
    response = api.client.get("/api/v1/clients")
    assert response.status_code == 200, response.text
    for client in response.json()["data"]:
        assert client["balances"] | each == client["balances"]
