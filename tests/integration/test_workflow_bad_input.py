"""Bad input on the workflow endpoints: a clear 4xx problem+json, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.definitions import linear
from tests.factories import Member, assert_problem

BASE = "/api/v1/projects/alpha/workflows"


def _with(change: Any) -> dict[str, Any]:
    definition = linear()
    change(definition)
    return definition


def _deep(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


BAD_DEFINITIONS = {
    "not an object": [1, 2, 3],
    "nodes not a list": {"nodes": {}, "edges": []},
    "unknown node type": _with(lambda d: d["nodes"][1].update(type="teleport")),
    "duplicate node id": _with(lambda d: d["nodes"][2].update(id="shape")),
    "edge to a missing node": _with(lambda d: d["edges"].append({"from": "send", "to": "ghost"})),
    "cycle": _with(lambda d: d["edges"].append({"from": "send", "to": "shape"})),
    "bad node id": _with(lambda d: d["nodes"][0].update(id="has space")),
    "unknown top-level key": _with(lambda d: d.update(extra=True)),
    "deep nesting": _with(lambda d: d["nodes"][2]["config"].update(body=_deep(100))),
}


@pytest.fixture
def existing(client: TestClient, owner: Member) -> str:
    client.post(BASE, json={"name": "Sync", "definition": linear()}, headers=owner.headers)
    return f"{BASE}/sync"


@pytest.mark.parametrize("case", sorted(BAD_DEFINITIONS))
def test_bad_definitions_are_422_on_create_save_and_validate(
    client: TestClient, owner: Member, existing: str, case: str
) -> None:
    definition = BAD_DEFINITIONS[case]
    created = assert_problem(
        client.post(BASE, json={"name": "Bad", "definition": definition}, headers=owner.headers),
        422,
    )
    assert all(error["path"].startswith("/definition") for error in created["errors"])
    assert_problem(
        client.put(
            existing, json={"definition": definition}, headers={**owner.headers, "If-Match": '"1"'}
        ),
        422,
    )
    names = [w["name"] for w in client.get(BASE, headers=owner.headers).json()["items"]]
    assert names == ["Sync"]
    assert client.get(existing, headers=owner.headers).headers["etag"] == '"1"'


def test_wrong_field_types_are_422_with_pointers(client: TestClient, owner: Member) -> None:
    body = assert_problem(
        client.post(
            BASE, json={"name": 5, "tags": "x", "definition": linear()}, headers=owner.headers
        ),
        422,
    )
    assert {"/name", "/tags"} <= {error["path"] for error in body["errors"]}
    assert_problem(client.post(BASE, json={"name": "x"}, headers=owner.headers), 422)


def test_malformed_and_huge_bodies(client: TestClient, owner: Member, existing: str) -> None:
    assert_problem(
        client.put(
            existing,
            content=b'{"definition": {',
            headers={**owner.headers, "If-Match": '"1"', "Content-Type": "application/json"},
        ),
        400,
    )
    huge = linear()
    huge["nodes"][2]["config"]["body"] = "x" * (300 * 1024)
    assert_problem(
        client.put(
            existing, json={"definition": huge}, headers={**owner.headers, "If-Match": '"1"'}
        ),
        413,
    )
    assert client.get(existing, headers=owner.headers).headers["etag"] == '"1"'


@pytest.mark.parametrize(
    "path",
    [
        "/nope",
        "/nope/versions",
        "/sync/versions/999",
        "/sync/versions/compare?from=1&to=2",
        "/00000000-0000-0000-0000-000000000000",
    ],
)
def test_unknown_workflows_and_versions_are_404(
    client: TestClient, owner: Member, existing: str, path: str
) -> None:
    assert_problem(client.get(BASE + path, headers=owner.headers), 404)


@pytest.mark.parametrize(
    "query", ["sort=colour", "limit=0", "limit=201", "cursor=%%%", "published=maybe"]
)
def test_bad_list_parameters_are_4xx(client: TestClient, owner: Member, query: str) -> None:
    response = client.get(f"{BASE}?{query}", headers=owner.headers)
    assert response.status_code in {400, 422}
    assert response.headers["content-type"] == "application/problem+json"


def test_restore_needs_an_id(client: TestClient, owner: Member, existing: str) -> None:
    # A key in place of the id is a malformed request (400), not a missing workflow.
    body = assert_problem(client.post(f"{existing}/restore", headers=owner.headers), 400)
    assert "needs the workflow's id" in body["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/sync/versions/99999999999999999999", None),
        ("post", "/sync/versions/99999999999999999999/revert", None),
        ("get", "/sync/versions/compare?from=1&to=99999999999999999999", None),
        ("post", "/sync/versions/publish", {"version": 99999999999999999999}),
        ("put", "/sync/aliases/production", {"version": 99999999999999999999}),
    ],
)
def test_huge_version_numbers_are_422_not_500(
    client: TestClient, owner: Member, existing: str, method: str, path: str, body: Any
) -> None:
    response = client.request(method, BASE + path, json=body, headers=owner.headers)
    assert_problem(response, 422)


def test_a_huge_if_match_is_400(client: TestClient, owner: Member, existing: str) -> None:
    response = client.put(
        existing,
        json={"definition": linear()},
        headers={**owner.headers, "If-Match": '"99999999999999999999"'},
    )
    assert_problem(response, 400)


def test_patch_with_null_fields_changes_nothing(
    client: TestClient, owner: Member, existing: str
) -> None:
    response = client.patch(existing, json={"name": None, "tags": None}, headers=owner.headers)
    assert response.status_code == 200
    assert response.json()["name"] == "Sync"


def test_nul_characters_are_422_with_a_pointer_not_a_500(
    client: TestClient, owner: Member, existing: str
) -> None:
    """PostgreSQL text cannot hold U+0000; it is refused before it reaches a column."""
    named = client.post(
        BASE, json={"name": "bad\u0000name", "definition": linear()}, headers=owner.headers
    )
    assert assert_problem(named, 422)["errors"][0]["path"] == "/name"
    definition = linear()
    definition["nodes"][1]["config"]["expression"] = "a\u0000"
    saved = client.put(
        f"{BASE}/sync",
        json={"definition": definition},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    problem = assert_problem(saved, 422)
    assert problem["errors"][0] == {
        "path": "/definition/nodes/1/config/expression",
        "code": "json.nul_character",
        "message": "remove the U+0000 character",
        "severity": "error",
    }
    # A literal backslash before u0000 is ordinary text.
    escaped = client.patch(f"{BASE}/sync", json={"description": "C:\\u0000"}, headers=owner.headers)
    assert escaped.status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}?q=%00",
        f"{BASE}?tag=a%00",
        f"{BASE}/a%00b",
        "/api/v1/projects/al%00pha/workflows",
        "/api/v1/projects/alpha/export?keys=a%00",
    ],
)
def test_nul_in_a_url_is_400_not_500(client: TestClient, owner: Member, url: str) -> None:
    assert_problem(client.get(url, headers=owner.headers), 400)
