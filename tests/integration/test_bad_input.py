"""Bad input gets a clear problem+json with the right status, and writes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Member, assert_problem


def _project_keys(client: TestClient, member: Member) -> list[str]:
    return [p["key"] for p in client.get("/api/v1/projects", headers=member.headers).json()]


def test_malformed_json_is_400(client: TestClient, owner: Member) -> None:
    response = client.post(
        "/api/v1/projects",
        content=b'{"key": "x",',
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert "not valid JSON" in assert_problem(response, 400)["detail"]
    assert _project_keys(client, owner) == ["alpha"]


def test_a_body_that_is_not_json_is_415(client: TestClient, owner: Member) -> None:
    response = client.post(
        "/api/v1/projects",
        content=b"key=x&name=y",
        headers={**owner.headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = assert_problem(response, 415)
    # Rendered like every other error: the domain's title and type, the request id.
    assert body["type"].endswith("/unsupported-media-type")
    assert body["title"] == "Unsupported media type"
    assert body["instance"] == "/api/v1/projects"
    assert body["request_id"] == response.headers["x-request-id"]


def test_a_body_over_the_limit_is_413(client: TestClient, owner: Member) -> None:
    huge = b'{"key": "big", "name": "' + b"x" * (300 * 1024) + b'"}'
    response = client.post(
        "/api/v1/projects",
        content=huge,
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413)
    assert body["type"].endswith("/payload-too-large")
    assert body["title"] == "Payload too large"
    assert body["request_id"] == response.headers["x-request-id"]
    assert _project_keys(client, owner) == ["alpha"]


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, owner: Member) -> None:
    def chunks() -> object:
        yield b'{"key": "big", "name": "'
        for _ in range(40):
            yield b"x" * 8192
        yield b'"}'

    response = client.post(
        "/api/v1/projects",
        content=chunks(),  # type: ignore[arg-type]
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert_problem(response, 413)


def test_unknown_fields_and_wrong_types_are_422_with_pointers(
    client: TestClient, owner: Member
) -> None:
    body = assert_problem(
        client.post(
            "/api/v1/projects",
            json={"key": "ok", "name": ["not", "a", "string"], "colour": "red"},
            headers=owner.headers,
        ),
        422,
    )
    paths = {error["path"] for error in body["errors"]}
    assert {"/name", "/colour"} <= paths
    wrong_role = assert_problem(
        client.put(
            "/api/v1/projects/alpha/members/alice@example.com",
            json={"role": "superuser"},
            headers=owner.headers,
        ),
        422,
    )
    assert wrong_role["errors"][0]["path"] == "/role"


def test_unknown_routes_and_methods_are_problems(client: TestClient, owner: Member) -> None:
    assert_problem(client.get("/api/v1/nothing-here", headers=owner.headers), 404)
    assert_problem(client.patch("/api/v1/me", json={}, headers=owner.headers), 405)


def test_bad_query_parameters_are_4xx(client: TestClient, owner: Member) -> None:
    too_many = assert_problem(
        client.get("/api/v1/projects/alpha/audit?limit=1000", headers=owner.headers), 422
    )
    assert too_many["errors"][0]["path"] == "query:/limit"
    for cursor in ("garbage!!", "WyJhIl0", "W3RydWVd"):
        assert_problem(
            client.get(f"/api/v1/projects/alpha/audit?cursor={cursor}", headers=owner.headers), 400
        )
