"""Property-based checks of the live service against its own OpenAPI document.

Every operation the document declares is called with generated input (as admin, and every
read again as support).  No response may be a server error; each status code must be one the
operation declares; each response must carry a declared media type and headers and match the
schema declared for its status code; and every error must be a problem whose ``status`` is the
response's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from live_server import Live
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.specs.openapi.schemas import OpenApiSchema

from rulekit.service.app import openapi_document, role_matrix
from rulekit.service.problems import PROBLEM

# /metrics answers Prometheus text and /links/* answer HTML pages for people: neither body is
# described by a schema worth checking.
UNFUZZED = r"^/(metrics|links/.*)$"

Case = schemathesis.Case[Any]


def problem_status_is_the_responses(ctx: Any, response: Any, case: Case) -> None:
    """An error is answered as a problem, and the problem's ``status`` is the response's."""
    if response.status_code < 400:
        return
    media_type = response.headers.get("content-type", [""])[0].split(";")[0]
    assert media_type == PROBLEM, f"{response.status_code} answered as {media_type!r}"
    status = response.json().get("status")
    assert status == response.status_code, \
        f"a {response.status_code} response's problem says status {status!r}"


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, unsupported_method,
          allow_header_conformance, problem_status_is_the_responses]

BOUNDED = settings(max_examples=15, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def api(live: Live) -> OpenApiSchema:
    return schemathesis.openapi.from_url(f"{live.base}/openapi.json",
                                         headers=live.auth("admin"), timeout=10)


schema = schemathesis.pytest.from_fixture("api").exclude(path_regex=UNFUZZED)


@schema.parametrize()
@BOUNDED
def test_every_operation_as_admin(case: Case, live: Live) -> None:
    case.call_and_validate(base_url=live.base, headers=live.auth("admin"), checks=CHECKS,
                           timeout=10)


@schema.include(method="GET").parametrize()
@BOUNDED
def test_every_read_as_support(case: Case, live: Live) -> None:
    case.call_and_validate(base_url=live.base, headers=live.auth("support"), checks=CHECKS,
                           timeout=10)


def test_the_document_declares_every_problem_as_one() -> None:
    document = openapi_document()
    assert "HTTPValidationError" not in json.dumps(document)
    problem = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for method, path, roles in role_matrix():
        responses = document["paths"][path][method.lower()]["responses"]
        errors = {int(code): response for code, response in responses.items()
                  if int(code) >= 400}
        assert all(response["content"] == problem for response in errors.values()), path
        assert 503 in errors, (method, path)
        if roles is not None:
            assert {401, 403} <= errors.keys(), (method, path)
            assert errors[401]["headers"]["WWW-Authenticate"]["required"]
        if "{" in path:
            assert 404 in errors, (method, path)
    # Found in the code: reassigning a lead still in the inbox is a conflict.
    assert "409" in document["paths"]["/v1/leads/{lead_id}/reassign"]["post"]["responses"]
