"""The OpenAPI document declares the problem+json body on every operation, and
the error answers really have that shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.testclient import TestClient

from meshhook.api.errors import PROBLEM_MEDIA_TYPE
from meshhook.api.openapi import add_problem_responses
from meshhook.app import create_app
from meshhook.domain import limits
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.factories import Member, assert_problem

PROBLEM = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = {"get", "put", "post", "delete", "patch"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_declares_problem_answers(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operations = _operations(document)
    assert len(operations) > 40
    for path, method, operation in operations:
        responses = operation["responses"]
        assert responses["4XX"]["content"] == PROBLEM, (method, path)
        assert responses["5XX"]["content"] == PROBLEM, (method, path)
        for status, response in responses.items():
            if status[0] in "45":
                assert response["content"] == PROBLEM, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's body, never sent
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/ProblemOut"}


def test_a_route_added_later_is_covered_too(settings: Settings, db: Database) -> None:
    app = create_app(settings, db)
    router = APIRouter()

    @router.get("/api/v1/later/{thing}", name="later")
    def later(thing: int) -> dict[str, int]:
        return {"thing": thing}

    app.include_router(router)
    responses = app.openapi()["paths"]["/api/v1/later/{thing}"]["get"]["responses"]
    assert responses["422"]["content"] == PROBLEM
    assert responses["4XX"]["content"] == PROBLEM


def test_a_declared_error_keeps_its_description() -> None:
    document = {
        "paths": {"/x": {"post": {"responses": {"401": {"description": "Wrong password."}}}}}
    }
    responses = add_problem_responses(document)["paths"]["/x"]["post"]["responses"]
    assert responses["401"] == {"description": "Wrong password.", "content": PROBLEM}


def test_request_fields_take_their_limits_from_the_domain(client: TestClient) -> None:
    document = client.get("/api/v1/openapi.json").json()
    operations = {op["operationId"]: op for _, _, op in _operations(document)}

    def body(operation: str) -> dict[str, Any]:
        content = operations[operation]["requestBody"]["content"]["application/json"]
        properties: dict[str, Any] = content["schema"]["properties"]
        return properties

    create = body("create_workflow")
    assert create["name"]["maxLength"] == limits.MAX_NAME_LENGTH
    assert create["description"]["maxLength"] == limits.MAX_DESCRIPTION_LENGTH
    assert create["tags"]["maxItems"] == limits.MAX_TAGS
    assert body("create_project")["key"]["maxLength"] == limits.MAX_KEY_LENGTH
    assert body("set_alias")["version"]["maximum"] == limits.MAX_VERSION
    limit = next(p for p in operations["list_workflows"]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == limits.MAX_PAGE_SIZE


def test_error_answers_have_the_declared_shape(client: TestClient, owner: Member) -> None:
    workflows = "/api/v1/projects/alpha/workflows"
    # assert_problem validates each body against the Problem model.
    assert_problem(client.get(workflows), 401)
    assert_problem(client.get(workflows + "/nope", headers=owner.headers), 404)
    invalid = assert_problem(
        client.post(
            workflows, json={"name": "x" * (limits.MAX_NAME_LENGTH + 1)}, headers=owner.headers
        ),
        422,
    )
    assert invalid["errors"][0]["path"] == "/name"
    assert_problem(
        client.post(
            workflows, content=b"name=x", headers={**owner.headers, "Content-Type": "text/plain"}
        ),
        415,
    )
