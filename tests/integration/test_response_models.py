"""Every JSON answer matches the model its route declares in the OpenAPI document.

Many routes build their JSON themselves for speed (``api/bodies.py``:
``model_json``, ``raw_json``), so FastAPI never checks it against the route's
``response_model``. This test calls every route of the role matrix once as the
project's owner and validates each successful JSON body against that model.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import TypeAdapter
from starlette.responses import Response

from tests.definitions import linear
from tests.factories import Member
from tests.integration import test_role_matrix as role_matrix
from tests.integration.test_role_matrix import (  # noqa: F401 (the fixture)
    RULES,
    P,
    _request,
    callers,
)
from tests.routes import api_routes


def _routes(client: TestClient) -> dict[tuple[str, str], APIRoute]:
    return {(method, route.path): route for route in api_routes(client) for method in route.methods}


def _builds_its_own_json(route: APIRoute) -> bool:
    """A declared model, but the endpoint returns a ready ``Response``."""
    returns = route.endpoint.__annotations__.get("return")
    return route.response_model is not None and returns in {"Response", Response}


def _deleted_workflow_id(client: TestClient, owner: Member) -> str:
    created = client.post(
        "/api/v1/projects/alpha/workflows",
        json={"name": "Trash me", "definition": linear()},
        headers=owner.headers,
    ).json()
    client.delete(f"/api/v1/projects/alpha/workflows/{created['id']}", headers=owner.headers)
    return str(created["id"])


def _queued_run_id(client: TestClient, owner: Member) -> str:
    run = client.post(
        "/api/v1/projects/alpha/workflows/sync/runs", json={}, headers=owner.headers
    ).json()
    return str(run["id"])


def test_every_json_answer_fits_its_declared_model(
    client: TestClient,
    callers: dict[str, Member | None],  # noqa: F811
) -> None:
    owner = callers["owner"]
    assert owner is not None
    routes = _routes(client)
    checked: set[str] = set()
    failures: list[str] = []
    order = sorted(RULES, key=lambda route: (route[0] == "DELETE", route[0] != "GET", route[1]))
    for method, path in order:
        route = routes.get((method, path))
        if route is None or route.response_model is None or path.endswith("/stream"):
            continue
        if path in {"/api/v1/auth/logout", P + "/members/me"}:
            continue
        url, body, headers = _request(method, path)
        run_part = f"/runs/{role_matrix.RUN_ID}/"
        if path.endswith("/restore"):
            url = url.replace("/sync/", f"/{_deleted_workflow_id(client, owner)}/")
        elif path.endswith("/cancel"):  # the fixture's run is over already
            url = url.replace(run_part, f"/runs/{_queued_run_id(client, owner)}/")
        response = client.request(method, url, json=body, headers={**headers, **owner.headers})
        client.cookies.clear()
        if not response.is_success:
            continue
        assert response.headers["content-type"].startswith("application/json"), (method, path)
        try:
            TypeAdapter(route.response_model).validate_json(response.content)
        except ValueError as error:
            failures.append(f"{method} {path}: {error}")
        checked.add(route.name)
    assert failures == []
    own_json = {route.name for route in routes.values() if _builds_its_own_json(route)}
    assert len(own_json) >= 15
    # The public hook answers only a signed request to a real hook id: its
    # 202 body is validated in test_webhooks.py (Received).
    hook_routes = {name for name in own_json if name.startswith("receive_webhook")}
    assert own_json - checked - hook_routes == set()
