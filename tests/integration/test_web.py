"""The web UI is served at / without shadowing the API, docs, health or metrics."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from meshhook.api.web import UI_DIST
from tests.factories import assert_problem


def _an_asset() -> str:
    return next(p.name for p in (UI_DIST / "assets").iterdir() if p.suffix == ".js")


def test_the_app_shell_is_served_at_the_root_and_revalidated_on_each_load(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<div id="app">' in response.text


def test_client_routes_answer_the_app_shell(client: TestClient) -> None:
    for path in ("/login", "/p/default", "/p/default/w/order-sync?version=2"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert '<div id="app">' in response.text


def test_hashed_assets_are_cached_for_a_year(client: TestClient) -> None:
    response = client.get(f"/assets/{_an_asset()}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "javascript" in response.headers["content-type"]


def test_a_missing_asset_is_404_not_the_app_shell(client: TestClient) -> None:
    assert client.get("/assets/index-missing.js").status_code == 404


def test_the_build_references_only_its_own_files(client: TestClient) -> None:
    index = client.get("/").text
    assert "http://" not in index
    assert "https://" not in index
    for asset in (UI_DIST / "assets").iterdir():
        assert client.get(f"/assets/{asset.name}").status_code == 200


def test_api_docs_health_and_metrics_are_not_shadowed(client: TestClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/api/v1/auth/login"), 405)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")
    assert "swagger" in client.get("/docs").text.lower()
    assert client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.")


def test_paths_cannot_escape_the_build_directory(client: TestClient) -> None:
    response = client.get("/..%2F..%2Fsettings.py")
    assert "BaseSettings" not in response.text
    assert '<div id="app">' in response.text


def test_the_build_is_shipped_as_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"ui_dist/**/*"' in pyproject
    assert (UI_DIST / "index.html").is_file()
