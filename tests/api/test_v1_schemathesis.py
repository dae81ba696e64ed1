"""Schemathesis over the published OpenAPI schema: no request, valid or not, gets a server error.

Its pytest plugin (``from_fixture``) does not run under this pytest, so the operations' Hypothesis
strategies are drawn from directly, one operation after another, on the test's own database.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

EXAMPLES_PER_OPERATION = 30


def test_no_request_gets_a_server_error(api):
    # Something to find, so that ids in paths sometimes exist.
    line = {"description": "Work", "quantity": "1", "unit_price_minor": 1000}
    invoice = api.client.post(
        "/api/v1/invoices", json={"client_id": api.client_public_id, "lines": [line]}
    ).json()
    api.client.post(f"/api/v1/invoices/{invoice['id']}/send")
    real = {"client_id": api.client_public_id, "invoice_id": invoice["id"]}
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", api.app)
    operations = [result.ok() for result in schema.get_all_operations() if isinstance(result, Ok)]
    assert len(operations) == 18

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case):
            # Real ids, so that generated bodies get past the lookups into the services and the database.
            if isinstance(case.body, dict) and "client_id" in case.body:
                case.body["client_id"] = api.client_public_id
            if case.path_parameters:
                case.path_parameters = {
                    name: real.get(name, value) for name, value in case.path_parameters.items()
                }
            case.call_and_validate(headers=api.headers(), checks=[not_a_server_error])

        no_server_error()
