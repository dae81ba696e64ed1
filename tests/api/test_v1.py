"""Every route of REST API v1: success, no key, a revoked key, another business's object, bad bodies."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import ApiKey, Client, Invoice, OutboxEmail, Payment
from services.api_keys import create_api_key, revoke_api_key
from services.outbox import links_for_delivery
from tests.factories import make_sent_invoice

PROBLEM = "application/problem+json"
LINE = {"description": "Design work", "quantity": "2", "unit_price_minor": 5000, "tax_rate_percent": "10"}


def is_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    return body


def counts(db) -> tuple[int, ...]:
    with db.reading() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(m)) or 0 for m in (Client, Invoice, Payment)
        )


def new_invoice(api, **overrides) -> dict:
    body = {"client_id": api.client_public_id, "lines": [LINE], "issue_date": "2026-06-15"} | overrides
    response = api.client.post("/api/v1/invoices", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def other_business_invoice(api) -> str:
    with api.db.reading() as session:
        other_client = session.scalars(
            select(Client).where(Client.public_id == api.other_client_public_id)
        ).one()
    return make_sent_invoice(api.db, other_client.id, 1000).public_id


ROUTES = [
    ("GET", "/api/v1/clients", None),
    ("POST", "/api/v1/clients", {"display_name": "New", "currency": "EUR"}),
    ("GET", "/api/v1/clients/{client}", None),
    ("PATCH", "/api/v1/clients/{client}", {"display_name": "Renamed"}),
    ("GET", "/api/v1/clients/{client}/contacts", None),
    ("POST", "/api/v1/clients/{client}/contacts", {"name": "Ann", "email": "ann@client.example"}),
    ("GET", "/api/v1/invoices", None),
    ("POST", "/api/v1/invoices", {"client_id": "{client}", "lines": [LINE]}),
    ("GET", "/api/v1/invoices/{invoice}", None),
    ("POST", "/api/v1/invoices/{invoice}/send", None),
    ("POST", "/api/v1/invoices/{invoice}/void", None),
    ("GET", "/api/v1/credit-notes", None),
    ("POST", "/api/v1/credit-notes", {"client_id": "{client}", "lines": [LINE]}),
    ("GET", "/api/v1/credit-notes/{invoice}", None),
    ("POST", "/api/v1/credit-notes/{invoice}/void", None),
    ("GET", "/api/v1/payments", None),
    (
        "POST",
        "/api/v1/payments",
        {"client_id": "{client}", "amount_minor": 100, "currency": "USD", "method": "cash"},
    ),
    ("GET", "/api/v1/payments/{invoice}", None),
]


def fill(value, api, invoice_id):
    if isinstance(value, str):
        return value.replace("{client}", api.client_public_id).replace("{invoice}", invoice_id)
    if isinstance(value, dict):
        return {k: fill(v, api, invoice_id) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, api, invoice_id) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
@pytest.mark.parametrize("key", ["none", "revoked", "unknown", "malformed"])
def test_a_request_without_a_live_key_gets_401_and_changes_nothing(api, method, path, body, key):
    invoice_id = new_invoice(api)["id"]
    revoked = create_api_key(api.db, api.organization_id, "Old", staff_user_id=None, clock=api.clock)
    revoke_api_key(api.db, api.organization_id, revoked.public_id, clock=api.clock)
    headers = {
        "none": {},
        "revoked": api.headers(revoked.secret),
        "unknown": api.headers("ipk_" + "x" * 43),
        "malformed": {"Authorization": f"Basic {api.key}"},
    }[key]
    before = counts(api.db)
    with api.db.reading() as session:
        used_before = session.scalars(select(ApiKey.last_used_at).order_by(ApiKey.id)).all()
    response = api.anonymous.request(
        method, fill(path, api, invoice_id), json=fill(body, api, invoice_id), headers=headers
    )
    is_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"
    assert counts(api.db) == before
    with api.db.reading() as session:
        assert session.scalars(select(ApiKey.last_used_at).order_by(ApiKey.id)).all() == used_before
        assert session.scalar(select(Invoice.status).where(Invoice.public_id == invoice_id)) == "draft"


def test_a_malformed_body_without_a_key_is_401_not_400(api):
    response = api.anonymous.post(
        "/api/v1/invoices", content=b"{not json", headers={"content-type": "application/json"}
    )
    is_problem(response, 401)


# Clients


def test_clients_are_created_listed_read_and_updated(api):
    created = api.client.post(
        "/api/v1/clients",
        json={
            "display_name": "  Globex  ",
            "currency": "eur",
            "email": "AP@Globex.example",
            "address": {"line1": "1 Road", "city": "Berlin", "postal_code": "10115", "country": "de"},
        },
    )
    assert created.status_code == 201, created.text
    client = created.json()
    assert client["display_name"] == "Globex"
    assert client["currency"] == "EUR"
    assert client["address"]["country"] == "DE"
    assert client["balances"] == {
        "currency": "EUR",
        "outstanding_minor": 0,
        "credits_minor": 0,
        "retainer_minor": 0,
    }
    assert api.client.get(f"/api/v1/clients/{client['id']}").json() == client
    updated = api.client.patch(f"/api/v1/clients/{client['id']}", json={"company_name": "Globex GmbH"}).json()
    assert updated["company_name"] == "Globex GmbH"
    assert updated["display_name"] == "Globex"
    listed = api.client.get("/api/v1/clients").json()
    assert [c["id"] for c in listed["data"]] == [api.client_public_id, client["id"]]
    assert listed["next_cursor"] is None


def test_clients_are_paged_by_cursor(api):
    for number in range(4):
        api.client.post("/api/v1/clients", json={"display_name": f"Client {number}", "currency": "USD"})
    seen, cursor = [], None
    while True:
        page = api.client.get(
            "/api/v1/clients", params={"limit": 2} | ({"cursor": cursor} if cursor else {})
        ).json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5


def test_a_bad_cursor_is_400(api):
    is_problem(api.client.get("/api/v1/clients", params={"cursor": "not-ours!"}), 400)


def test_the_client_balances_show_what_is_owed(api):
    invoice = new_invoice(api)
    api.client.post(f"/api/v1/invoices/{invoice['id']}/send")
    balances = api.client.get(f"/api/v1/clients/{api.client_public_id}").json()["balances"]
    assert balances["outstanding_minor"] == invoice["total_minor"] == 11000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"display_name": "X", "currency": "XYZ"}, "currency"),
        ({"display_name": "", "currency": "USD"}, "display_name"),
        ({"display_name": "X", "currency": "USD", "email": "nope"}, "email"),
        (
            {"display_name": "X", "currency": "USD", "address": {"line1": "a", "city": "b", "country": "ZZ"}},
            "address.country",
        ),
    ],
)
def test_a_client_with_bad_details_is_422_naming_the_field(api, body, field):
    before = counts(api.db)
    problem = is_problem(api.client.post("/api/v1/clients", json=body), 422)
    assert field in [error["field"] for error in problem["errors"]]
    assert counts(api.db) == before


def test_a_client_body_with_an_unknown_field_or_nul_is_422(api):
    is_problem(api.client.post("/api/v1/clients", json={"display_name": "X", "currency": "USD", "x": 1}), 422)
    is_problem(api.client.post("/api/v1/clients", json={"display_name": "X\x00", "currency": "USD"}), 422)


def test_the_currency_is_fixed_once_the_client_has_a_document(api):
    assert (
        api.client.patch(f"/api/v1/clients/{api.client_public_id}", json={"currency": "EUR"}).status_code
        == 200
    )
    api.client.patch(f"/api/v1/clients/{api.client_public_id}", json={"currency": "USD"})
    new_invoice(api)
    is_problem(api.client.patch(f"/api/v1/clients/{api.client_public_id}", json={"currency": "EUR"}), 409)


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"display_name": "Mine now"}),
        ("GET", "/contacts", None),
        ("POST", "/contacts", {"name": "Eve", "email": "eve@example.com"}),
    ],
)
def test_another_business_client_is_404(api, method, suffix, body):
    before = counts(api.db)
    response = api.client.request(method, f"/api/v1/clients/{api.other_client_public_id}{suffix}", json=body)
    is_problem(response, 404)
    assert counts(api.db) == before


def test_a_malformed_id_in_a_path_is_404(api):
    is_problem(api.client.get("/api/v1/clients/%00bad"), 404)


# Contacts


def test_a_contact_is_invited_by_email_and_listed(api):
    created = api.client.post(
        f"/api/v1/clients/{api.client_public_id}/contacts",
        json={"name": "Ann Smith", "email": "Ann@Client.example"},
    )
    assert created.status_code == 201, created.text
    contact = created.json()
    assert contact["email"] == "ann@client.example"
    assert contact["has_login"] is False
    assert contact["invited_at"]
    listed = api.client.get(f"/api/v1/clients/{api.client_public_id}/contacts").json()["data"]
    assert [c["id"] for c in listed] == [contact["id"]]
    with api.db.reading() as session:
        email = session.scalars(select(OutboxEmail)).one()
    assert "https://billing.example.com/set-password?token=" in links_for_delivery(
        email.body_text, email.created_at
    )


def test_inviting_with_a_bad_address_is_422(api):
    problem = is_problem(
        api.client.post(
            f"/api/v1/clients/{api.client_public_id}/contacts", json={"name": "Ann", "email": "nope"}
        ),
        422,
    )
    assert [e["field"] for e in problem["errors"]] == ["email"]


# Invoices and retainer invoices


def test_an_invoice_is_created_as_draft_sent_and_voided(api):
    invoice = new_invoice(api, notes="Thanks")
    assert invoice["status"] == "draft"
    assert invoice["kind"] == "invoice"
    assert (invoice["subtotal_minor"], invoice["tax_minor"], invoice["total_minor"]) == (10000, 1000, 11000)
    assert invoice["currency"] == "USD"
    assert invoice["client_id"] == api.client_public_id
    assert invoice["due_date"] == "2026-07-15"  # the business's 30 days of terms
    assert api.client.get(f"/api/v1/invoices/{invoice['id']}").json() == invoice
    sent = api.client.post(f"/api/v1/invoices/{invoice['id']}/send").json()
    assert sent["status"] == "sent"
    assert sent["sent_at"]
    is_problem(api.client.post(f"/api/v1/invoices/{invoice['id']}/send"), 409)
    voided = api.client.post(f"/api/v1/invoices/{invoice['id']}/void").json()
    assert voided["status"] == "void"
    assert voided["balance_due_minor"] == 0


def test_a_draft_cannot_be_voided(api):
    is_problem(api.client.post(f"/api/v1/invoices/{new_invoice(api)['id']}/void"), 409)


def test_invoices_are_listed_with_filters(api):
    draft = new_invoice(api)
    retainer = new_invoice(api, kind="retainer")
    sent = new_invoice(api)
    api.client.post(f"/api/v1/invoices/{sent['id']}/send")
    other_business_invoice(api)

    def ids(**params):
        return [i["id"] for i in api.client.get("/api/v1/invoices", params=params).json()["data"]]

    assert ids() == [draft["id"], retainer["id"], sent["id"]]
    assert ids(status="sent") == [sent["id"]]
    assert ids(kind="retainer") == [retainer["id"]]
    assert ids(client_id=api.other_client_public_id) == []
    first = api.client.get("/api/v1/invoices", params={"limit": 2}).json()
    second = api.client.get("/api/v1/invoices", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [i["id"] for i in first["data"] + second["data"]] == ids()
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"lines": [LINE | {"quantity": "-1"}]}, 422),
        ({"lines": [LINE | {"quantity": "0"}]}, 422),
        ({"lines": [LINE | {"unit_price_minor": 12.5}]}, 422),
        ({"lines": [LINE | {"description": "  "}]}, 422),
        ({"lines": []}, 422),  # an invoice with no lines can be neither made nor sent
        ({"due_date": "2026-01-01"}, 422),
        ({"kind": "quote"}, 422),
        ({"client_id": "unknownclient"}, 404),
    ],
)
def test_a_bad_invoice_is_refused_and_nothing_is_stored(api, change, status):
    before = counts(api.db)
    body = {"client_id": api.client_public_id, "lines": [LINE], "issue_date": "2026-06-15"} | change
    is_problem(api.client.post("/api/v1/invoices", json=body), status)
    assert counts(api.db) == before


def test_an_invoice_for_another_business_client_is_404(api):
    is_problem(
        api.client.post("/api/v1/invoices", json={"client_id": api.other_client_public_id, "lines": [LINE]}),
        404,
    )


@pytest.mark.parametrize(("method", "suffix"), [("GET", ""), ("POST", "/send"), ("POST", "/void")])
def test_another_business_invoice_is_404_and_unchanged(api, method, suffix):
    invoice_id = other_business_invoice(api)
    is_problem(api.client.request(method, f"/api/v1/invoices/{invoice_id}{suffix}"), 404)
    with api.db.reading() as session:
        assert session.scalar(select(Invoice.status).where(Invoice.public_id == invoice_id)) == "sent"


# Credit notes


def test_a_credit_note_is_issued_listed_read_and_voided(api):
    created = api.client.post(
        "/api/v1/credit-notes",
        json={"client_id": api.client_public_id, "lines": [LINE], "reason": "Discount"},
    )
    assert created.status_code == 201, created.text
    note = created.json()
    assert note["status"] == "open"
    assert note["remaining_minor"] == note["total_minor"] == 11000
    assert api.client.get(f"/api/v1/credit-notes/{note['id']}").json() == note
    assert [n["id"] for n in api.client.get("/api/v1/credit-notes").json()["data"]] == [note["id"]]
    balances = api.client.get(f"/api/v1/clients/{api.client_public_id}").json()["balances"]
    assert balances["credits_minor"] == 11000
    assert api.client.post(f"/api/v1/credit-notes/{note['id']}/void").json()["status"] == "void"


def test_a_bad_credit_note_is_422_and_another_business_one_is_404(api):
    is_problem(
        api.client.post("/api/v1/credit-notes", json={"client_id": api.client_public_id, "lines": []}), 422
    )
    is_problem(
        api.client.post(
            "/api/v1/credit-notes", json={"client_id": api.other_client_public_id, "lines": [LINE]}
        ),
        404,
    )
    is_problem(api.client.get("/api/v1/credit-notes/somebodyelses"), 404)


# Payments


def test_an_offline_payment_is_recorded_against_invoices(api):
    invoice = new_invoice(api)
    api.client.post(f"/api/v1/invoices/{invoice['id']}/send")
    created = api.client.post(
        "/api/v1/payments",
        json={
            "client_id": api.client_public_id,
            "amount_minor": 15000,
            "currency": "USD",
            "method": "bank_transfer",
            "reference": "TRX-1",
            "allocations": {invoice["id"]: 11000},
        },
    )
    assert created.status_code == 201, created.text
    payment = created.json()
    assert payment["status"] == "succeeded"
    assert payment["receipt_number"]
    assert payment["allocations"] == [
        {"invoice_id": invoice["id"], "invoice_number": invoice["number"], "amount_minor": 11000}
    ]
    assert payment["unapplied_minor"] == 4000
    assert api.client.get(f"/api/v1/invoices/{invoice['id']}").json()["status"] == "paid"
    assert api.client.get(f"/api/v1/payments/{payment['id']}").json() == payment
    assert [p["id"] for p in api.client.get("/api/v1/payments").json()["data"]] == [payment["id"]]
    balances = api.client.get(f"/api/v1/clients/{api.client_public_id}").json()["balances"]
    assert (balances["outstanding_minor"], balances["credits_minor"]) == (0, 4000)


def test_a_retainer_invoice_is_paid_into_retainer(api):
    retainer = new_invoice(api, kind="retainer")
    api.client.post(f"/api/v1/invoices/{retainer['id']}/send")
    payment = api.client.post(
        "/api/v1/payments",
        json={
            "client_id": api.client_public_id,
            "amount_minor": 11000,
            "currency": "USD",
            "method": "cheque",
            "retainer_invoice_id": retainer["id"],
        },
    ).json()
    assert payment["kind"] == "retainer"
    assert payment["retainer_invoice_id"] == retainer["id"]
    assert (
        api.client.get(f"/api/v1/clients/{api.client_public_id}").json()["balances"]["retainer_minor"]
        == 11000
    )


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"amount_minor": 20000, "allocations": {"INVOICE": 20000}}, 422),  # more than owed
        ({"amount_minor": 100, "allocations": {"INVOICE": 200}}, 422),  # more allocated than paid
        ({"currency": "EUR"}, 422),  # not the client's currency
        ({"currency": "XYZ"}, 422),
        ({"amount_minor": 0}, 422),
        ({"amount_minor": -5}, 422),
        ({"method": "card"}, 422),
        ({"allocations": {"nosuchinvoice": 100}}, 404),
        ({"client_id": "OTHER"}, 404),
    ],
)
def test_a_bad_payment_is_refused_and_nothing_is_stored(api, change, status):
    invoice = new_invoice(api)
    api.client.post(f"/api/v1/invoices/{invoice['id']}/send")
    body = {
        "client_id": api.client_public_id,
        "amount_minor": 1000,
        "currency": "USD",
        "method": "cash",
    } | change
    body = fill(body, api, invoice["id"])
    if "allocations" in body:
        body["allocations"] = {k.replace("INVOICE", invoice["id"]): v for k, v in body["allocations"].items()}
    if body["client_id"] == "OTHER":
        body["client_id"] = api.other_client_public_id
    before = counts(api.db)
    is_problem(api.client.post("/api/v1/payments", json=body), status)
    assert counts(api.db) == before


def test_paying_another_business_invoice_is_404(api):
    invoice_id = other_business_invoice(api)
    body = {
        "client_id": api.client_public_id,
        "amount_minor": 1000,
        "currency": "USD",
        "method": "cash",
        "allocations": {invoice_id: 1000},
    }
    is_problem(api.client.post("/api/v1/payments", json=body), 404)
    is_problem(api.client.get(f"/api/v1/payments/{invoice_id}"), 404)


# Docs and errors


def test_the_docs_and_schema_are_served_without_a_key(api):
    schema = api.anonymous.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Invoicing Portal API"
    assert schema["servers"] == [{"url": "/api/v1"}]
    assert "/invoices/{invoice_id}/send" in schema["paths"]
    assert "swagger" in api.anonymous.get("/api/docs").text.lower()


def test_an_unknown_route_is_a_404_problem(api):
    is_problem(api.client.get("/api/v1/nothing-here"), 404)
    is_problem(api.client.delete("/api/v1/clients"), 405)


# The portal and the API keep apart


def portal_host(api):
    """The portal's session guard in front of a page, the docs and the API, as app.py wires them."""
    from fastapi import FastAPI
    from fastapi.responses import PlainTextResponse
    from fastapi.testclient import TestClient

    from api.auth import SessionGuard
    from api.v1 import mount

    host = FastAPI()
    host.add_api_route("/", lambda: PlainTextResponse("the portal"))
    mount(host)
    host.add_middleware(SessionGuard)
    return TestClient(host, follow_redirects=False)


def test_an_api_key_cannot_open_the_portal(api):
    response = portal_host(api).get("/", headers=api.headers())
    assert response.is_redirect  # to the sign-in page (or, before set-up, to the set-up page)
    assert "the portal" not in response.text
