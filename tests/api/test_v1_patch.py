"""PATCH changes only the fields it sends: every other field, and every address field not sent, stays.

A field sent as null, where null is no value the field can have, is refused with 422 and changes nothing.
Runs on SQLite and, with PORTAL_TEST_DATABASE_URL, on PostgreSQL (the ``db`` fixture).
"""

from __future__ import annotations

import pytest

from services.clients import get_client
from tests.api.test_v1 import is_problem

FULL_CLIENT = {
    "display_name": "Globex",
    "currency": "EUR",
    "company_name": "Globex GmbH",
    "email": "ap@globex.example",
    "phone": "+49 30 1234567",
    "website": "https://globex.example",
    "tax_number": "DE123456789",
    "address": {
        "line1": "1 Road",
        "line2": "Floor 2",
        "city": "Berlin",
        "region": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    },
}
ONE_FIELD_CHANGES = [
    {"display_name": "Globex Europe"},
    {"currency": "USD"},
    {"company_name": "Globex AG"},
    {"company_name": ""},  # cleared: an empty text is a value, unlike a field not sent
    {"email": "billing@globex.example"},
    {"phone": "+49 30 7654321"},
    {"website": "https://globex.example/eu"},
    {"tax_number": "DE987654321"},
    {"address": {"city": "Hamburg"}},
    {"address": {"line2": ""}},
]


@pytest.fixture
def client_id(api) -> str:
    created = api.client.post("/api/v1/clients", json=FULL_CLIENT)
    assert created.status_code == 201, created.text
    return created.json()["id"]


def read(api, client_id: str) -> dict:
    response = api.client.get(f"/api/v1/clients/{client_id}")
    assert response.status_code == 200, response.text
    return response.json()


def merged(before: dict, sent: dict) -> dict:
    """``before`` with what was sent, an address field by field (JSON merge patch)."""
    after = {**before, **{key: value for key, value in sent.items() if key != "address"}}
    if "address" in sent:
        after["address"] = {**before["address"], **sent["address"]}
    if "currency" in sent:
        after["balances"] = {**before["balances"], "currency": sent["currency"]}
    return after


@pytest.mark.parametrize("sent", ONE_FIELD_CHANGES, ids=lambda sent: str(sent))
def test_a_patch_of_one_field_leaves_every_other_field_as_it_was(api, client_id, sent):
    before = read(api, client_id)
    shipping_before = get_client(api.db, api.organization_id, client_id).shipping

    response = api.client.patch(f"/api/v1/clients/{client_id}", json=sent)

    assert response.status_code == 200, response.text
    expected = merged(before, sent)
    assert response.json() == expected
    assert read(api, client_id) == expected
    assert get_client(api.db, api.organization_id, client_id).shipping == shipping_before


def test_a_patch_that_sends_nothing_changes_nothing(api, client_id):
    before = read(api, client_id)
    assert api.client.patch(f"/api/v1/clients/{client_id}", json={}).json() == before
    assert read(api, client_id) == before


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"display_name": None}, "body.display_name"),
        ({"currency": None}, "body.currency"),
        ({"email": None}, "body.email"),
        ({"address": None}, "body.address"),
        ({"address": {"city": None}}, "body.address.city"),
        ({"company_name": "Globex AG", "tax_number": None}, "body.tax_number"),
    ],
)
def test_a_field_sent_as_null_is_422_naming_it_and_nothing_changes(api, client_id, sent, field):
    before = read(api, client_id)
    problem = is_problem(api.client.patch(f"/api/v1/clients/{client_id}", json=sent), 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    assert read(api, client_id) == before


def test_a_patch_with_a_value_that_is_not_allowed_is_422_and_changes_nothing(api, client_id):
    before = read(api, client_id)
    problem = is_problem(api.client.patch(f"/api/v1/clients/{client_id}", json={"display_name": ""}), 422)
    assert "display_name" in [error["field"] for error in problem["errors"]]
    assert read(api, client_id) == before
