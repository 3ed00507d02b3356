"""POST /api/v1/jmespath/evaluate: the editor's preview, as problem+json on error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from meshhook.domain import jmespath_preview
from tests.factories import Member

URL = "/api/v1/jmespath/evaluate"


def test_evaluates_an_expression_on_the_sample(client: TestClient, owner: Member) -> None:
    body = {"expression": "items[?qty > `1`].sku", "data": {"items": [{"sku": "a", "qty": 2}]}}
    response = client.post(URL, json=body, headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"result": ["a"]}


def test_a_null_result_is_returned_as_null(client: TestClient, owner: Member) -> None:
    response = client.post(URL, json={"expression": "nothing"}, headers=owner.headers)
    assert response.json() == {"result": None}


def test_a_syntax_error_is_a_problem_with_its_position(client: TestClient, owner: Member) -> None:
    response = client.post(URL, json={"expression": "a.", "data": {}}, headers=owner.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "expression.invalid"
    assert problem["position"] == 2
    assert problem["errors"][0]["path"] == "/expression"


def test_a_runtime_error_is_a_problem(client: TestClient, owner: Member) -> None:
    body = {"expression": "abs(name)", "data": {"name": "x"}}
    response = client.post(URL, json=body, headers=owner.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "expression.failed"
    assert "position" not in response.json()


def test_a_large_sample_is_refused(
    client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jmespath_preview, "MAX_SAMPLE_BYTES", 1_000)
    body = {"expression": "@", "data": "x" * 1_000}
    response = client.post(URL, json=body, headers=owner.headers)
    assert response.status_code == 413
    assert response.json()["errors"][0]["path"] == "/data"


def test_a_result_blown_up_from_a_small_sample_is_refused(
    client: TestClient, owner: Member
) -> None:
    expression = "@"
    for _ in range(12):
        expression = f"[{expression}, {expression}]"
    body = {"expression": expression, "data": "y" * 1_000}
    response = client.post(URL, json=body, headers=owner.headers)
    assert response.status_code in {413, 422}
    assert response.headers["content-type"] == "application/problem+json"


def test_a_long_expression_and_unknown_fields_are_refused(
    client: TestClient, owner: Member
) -> None:
    long = client.post(URL, json={"expression": "a" * 5_000}, headers=owner.headers)
    assert long.status_code == 422
    unknown = client.post(URL, json={"expression": "a", "sample": 1}, headers=owner.headers)
    assert unknown.status_code == 422


def test_needs_a_signed_in_caller(client: TestClient) -> None:
    assert client.post(URL, json={"expression": "a"}).status_code == 401
