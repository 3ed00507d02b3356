"""HTTP hardening: who may send a body and how big, duplicate keys, response
headers, the session cookie over HTTPS, /metrics behind a token, /docs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from meshhook.api.web import CONTENT_SECURITY_POLICY
from meshhook.app import create_app
from meshhook.domain.accounts import Role
from meshhook.settings import Settings
from meshhook.store.db import Database
from tests.factories import PASSWORD, Member, add_member, assert_problem, make_user
from tests.routes import api_routes

ALPHA = "/api/v1/projects/alpha"
JSON = {"Content-Type": "application/json"}


def _client(settings: Settings, db: Database, **changes: object) -> TestClient:
    return TestClient(create_app(settings.model_copy(update=changes), db))


@pytest.fixture
def viewer(db: Database, owner: Member) -> Member:
    member = make_user(db, "victor@example.com")
    add_member(db, "alpha", member, Role.VIEWER)
    return member


# -- the role is checked before the body is read ------------------------------


def test_non_members_and_viewers_are_refused_before_their_body_is_read(
    client: TestClient, owner: Member, outsider: Member, viewer: Member
) -> None:
    garbage = b"{not json at all"
    routes = [
        ("POST", ALPHA + "/workflows"),
        ("PUT", ALPHA + "/secrets/api-key"),
        ("POST", ALPHA + "/import"),
        ("PUT", ALPHA + "/members/x@example.com"),
    ]
    for method, url in routes:
        headers = {**JSON}
        # A body the parser would reject with 400: the answer shows it was never parsed.
        stranger = client.request(
            method, url, content=garbage, headers={**headers, **outsider.headers}
        )
        assert_problem(stranger, 404)
        assert_problem(
            client.request(method, url, content=garbage, headers={**headers, **viewer.headers}),
            403,
        )
        assert_problem(
            client.request(method, url, content=garbage, headers={**headers, **owner.headers}),
            400,
        )


def test_only_the_bundle_import_takes_bundle_sized_bodies(
    client: TestClient, owner: Member
) -> None:
    # 256 KiB is the normal limit in these tests; the bundle limit is 50 MB.
    big = b'{"value": "' + b"x" * (300 * 1024) + b'"}'
    body = assert_problem(
        client.put(ALPHA + "/secrets/import", content=big, headers={**JSON, **owner.headers}),
        413,
    )
    assert str(256 * 1024) in body["detail"]
    saved = client.put(
        ALPHA + "/workflows/import",
        content=big,
        headers={**JSON, **owner.headers, "If-Match": '"1"'},
    )
    assert_problem(saved, 413)
    # A path no route serves is answered without its body being read.
    assert_problem(
        client.post(ALPHA + "/workflows/import", content=big, headers={**JSON, **owner.headers}),
        405,
    )
    # The import route reads it (and finds it is no bundle): not a 413.
    imported = client.post(ALPHA + "/import", content=big, headers={**JSON, **owner.headers})
    assert imported.status_code == 422, imported.text


# -- duplicate keys -----------------------------------------------------------


def test_duplicate_json_keys_are_refused_with_a_pointer(client: TestClient, owner: Member) -> None:
    definition = (
        b'{"name": "Dup", "definition": {"nodes": [{"id": "a", "type": "x", "id": "b"}],'
        b' "edges": []}}'
    )
    body = assert_problem(
        client.post(ALPHA + "/workflows", content=definition, headers={**JSON, **owner.headers}),
        422,
    )
    assert body["errors"][0]["code"] == "json.duplicate_key"
    assert body["errors"][0]["path"] == "/definition/nodes/0/id"
    login = b'{"email": "alice@example.com", "password": "x", "password": "' + PASSWORD.encode()
    body = assert_problem(
        client.post("/api/v1/auth/login", content=login + b'"}', headers=JSON), 422
    )
    assert body["errors"][0]["path"] == "/password"
    bundle = b'{"format": "meshhook.bundle", "format": "meshhook.bundle"}'
    body = assert_problem(
        client.post(ALPHA + "/import", content=bundle, headers={**JSON, **owner.headers}), 422
    )
    assert body["errors"][0] == {
        **body["errors"][0],
        "path": "/format",
        "code": "json.duplicate_key",
    }


# -- response headers, cookies, metrics, docs ---------------------------------


def test_api_responses_are_not_sniffed_nor_stored(client: TestClient, owner: Member) -> None:
    for response in (
        client.get("/api/v1/projects", headers=owner.headers),
        client.get(ALPHA + "/workflows/nope", headers=owner.headers),
        client.get("/api/v1/me"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    schema = client.get("/api/v1/schemas/workflow-bundle.v1.json")
    assert schema.headers["cache-control"] == "public, max-age=3600"
    assert schema.headers["x-content-type-options"] == "nosniff"


def _login_cookies(client: TestClient) -> list[str]:
    response = client.post(
        "/api/v1/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.headers.get_list("set-cookie")


def test_session_cookie_is_secure_when_the_public_url_is_https(
    client: TestClient, db: Database, owner: Member, settings: Settings
) -> None:
    assert not any("secure" in cookie.lower() for cookie in _login_cookies(client))
    with _client(settings, db, public_url="https://meshhook.example.com") as https:
        cookies = _login_cookies(https)
    assert len(cookies) == 2
    assert all(re.search(r";\s*secure\b", cookie, re.IGNORECASE) for cookie in cookies)


def test_metrics_are_open_without_a_token_setting(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "meshhook_http_requests_total" in response.text


@pytest.fixture
def guarded(settings: Settings, db: Database) -> Iterator[TestClient]:
    with _client(settings, db, metrics_token=SecretStr("scrape-me-please")) as app_client:
        yield app_client


def test_metrics_need_the_bearer_token_when_one_is_set(guarded: TestClient) -> None:
    assert_problem(guarded.get("/metrics"), 401)
    assert_problem(guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}), 401)
    ok = guarded.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert ok.status_code == 200
    assert "meshhook_http_requests_total" in ok.text


def test_docs_load_swagger_ui_from_this_server_under_the_ui_policy(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "http" not in page.text  # no CDN, no absolute URL of any kind
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.DOTALL)
    assert scripts
    assert all('src="/docs/assets/' in attrs and not body for attrs, body in scripts)
    for asset in re.findall(r'(?:src|href)="(/docs/assets/[^"]+)"', page.text):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["x-content-type-options"] == "nosniff"
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert "SwaggerUIBundle" in bundle.text
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert client.get("/docs/assets/..%2Fcore.py").status_code == 404
    assert client.get("/docs/assets/redoc.standalone.js").status_code == 404


def test_no_route_has_its_body_read_by_the_framework_before_its_checks(
    client: TestClient,
) -> None:
    """Bodies are read by ``api/bodies.py`` dependencies (after the role check on
    project routes), never by FastAPI before any dependency runs."""
    checked = 0
    for route in api_routes(client):
        assert route.body_field is None, route.path
        reads_body = [d.call.__name__ for d in route.dependant.dependencies]
        if route.path.startswith("/api/v1/projects/{project}") and (
            "read" in reads_body or "read_as_member" in reads_body
        ):
            assert "read" not in reads_body, f"{route.path} reads its body without a role check"
            checked += 1
    assert checked >= 10
