"""The OpenAPI document of the hub service, and a schemathesis run against the real service.

The document is made from the declared endpoints (:mod:`terralab.service.openapi`); every
endpoint is in it, and the running service answers what it says: a bounded number of
generated requests per operation (schemathesis), none answered 500, none answered with a
status, content type or body its schema does not allow.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks as st_checks
from schemathesis.specs.openapi import checks as openapi_checks

from terralab.service.openapi import openapi_document
from terralab.service.registry import endpoints

EXAMPLES = 12  # per operation: bounded, so the run stays a few seconds per endpoint
USER = "openapi-fuzzer"  # its own user: the generated calls change only its data


def test_the_document_lists_every_declared_endpoint():
    document = openapi_document()
    operations = {op["operationId"]: (path, method)
                  for path, methods in document["paths"].items()
                  for method, op in methods.items()}
    assert set(operations) == {found.name for found in endpoints()}
    for found in endpoints():
        path, method = operations[found.name]
        assert (path, method) == ("/" + found.path, found.method.lower())
    schema = schemathesis.openapi.from_dict(document)  # a valid OpenAPI 3.1 document
    assert len([op for op in schema.get_all_operations() if op.ok()]) == len(operations)


def test_each_error_of_an_endpoint_has_its_status_in_the_document():
    paths = openapi_document()["paths"]
    change = paths["/projects/{project_id}/layers/{layer}"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404"} <= set(change)
    assert {"200", "400", "401", "403", "404"} <= set(paths["/quota"]["get"]["responses"])
    assert paths["/health"]["get"]["security"] == []


def test_the_service_serves_its_document(hub):
    answer = requests.get(f"{hub.url}/services/terralab/openapi.json", timeout=30)
    assert answer.status_code == 200
    served = answer.json()
    assert set(served["paths"]) == set(openapi_document()["paths"])


def _operations() -> list:
    schema = schemathesis.openapi.from_dict(openapi_document())
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", _operations(), ids=lambda op: f"{op.method.upper()} "
                                                                     f"{op.path}")
def test_generated_requests_get_no_500_and_answers_that_fit_the_schema(hub, operation):
    token = hub.token(USER)
    base = f"{hub.url}/services/terralab"
    session = requests.Session()
    session.headers["Authorization"] = f"token {token}"
    checks = [st_checks.not_a_server_error, openapi_checks.status_code_conformance,
              openapi_checks.content_type_conformance,
              openapi_checks.response_schema_conformance]

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def run(case) -> None:
        response = case.call(base_url=base, session=session, timeout=60,
                             allow_redirects=False)
        case.validate_response(response, checks=checks)

    run()
