"""schemathesis against docs/openapi.json: generated requests, valid and invalid, to every
operation of the ASGI app the api Lambda serves (real Postgres and Redis), authenticated as a
user who owns a project; no answer may be a 5xx or break the document (status codes, content
types, response schemas). Bounded: ``EXAMPLES`` requests an operation."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pulse.api.app import create_app
from pulse.auth import tokens
from pulse.data import projects, users

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# Every operation of the document: a new endpoint is fuzzed without a change here.
OPERATIONS = [
    (method.upper(), path)
    for path, item in json.loads(OPENAPI.read_text())["paths"].items()
    for method in item
    if method in ("get", "post", "put", "patch", "delete")
]


@pytest.fixture(scope="module")
def schema(database: str) -> Any:
    loaded = schemathesis.openapi.from_path(OPENAPI)
    loaded.app = create_app()
    return loaded


@pytest.fixture(scope="module")
def owner(schema: Any) -> dict[str, Any]:
    user = users.insert_user(email=f"fuzz-{uuid.uuid4().hex[:8]}@example.com", password_hash="x")
    project = projects.insert_project(
        owner_id=user.id, name="Fuzzed", domain=None, api_key=f"proj_{uuid.uuid4().hex}"
    )
    return {"user_id": user.id, "project_id": str(project.id)}


@pytest.mark.parametrize("method, path", OPERATIONS)
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_generated_request_gets_a_5xx_or_an_undocumented_answer(
    schema: Any, owner: dict[str, Any], method: str, path: str, mode: str
) -> None:
    operation = schema[path][method]
    generation = (
        schemathesis.GenerationMode.POSITIVE
        if mode == "positive"
        else schemathesis.GenerationMode.NEGATIVE
    )

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=generation), own=st.booleans())
    def run(case: Any, own: bool) -> None:
        # Half the requests name the owner's project, so that they get past the 404; a fresh
        # token each time, as a generated logout revokes the one it is given.
        if own and case.path_parameters and "project_id" in case.path_parameters:
            if operation.method.upper() != "DELETE":
                case.path_parameters["project_id"] = owner["project_id"]
        token = tokens.issue_pair(owner["user_id"]).access_token
        headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except (schemathesis.errors.IncorrectUsage, Unsatisfiable):
        pytest.skip("no request of this kind can be generated (nothing to make invalid)")
