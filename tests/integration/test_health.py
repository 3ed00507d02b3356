from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_and_readyz_answer_without_auth(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] in {"sqlite", "postgresql"}


def test_openapi_has_stable_operation_ids(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    operation_ids = {
        operation["operationId"] for path in spec["paths"].values() for operation in path.values()
    }
    assert {"get_me", "list_projects", "create_project", "set_member"} <= operation_ids
    assert client.get("/docs").status_code == 200


def test_every_response_carries_a_request_id_and_echoes_a_given_one(client: TestClient) -> None:
    generated = client.get("/healthz").headers["x-request-id"]
    assert len(generated) == 32
    echoed = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert echoed.headers["x-request-id"] == "trace-42"
    problem = client.get("/api/v1/me", headers={"X-Request-ID": "trace-43"}).json()
    assert problem["request_id"] == "trace-43"


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/api/v1/projects/alpha")
    text = client.get("/metrics").text
    assert 'route="/api/v1/projects/{project}",status="401"' in text
    assert "meshhook_http_request_duration_seconds_bucket" in text
