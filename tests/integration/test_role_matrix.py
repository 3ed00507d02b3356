"""Every endpoint x {anonymous, non-member, viewer, editor, admin, owner}.

The table below is the authorisation rule of each route. It is compared with
the app's route table, so an endpoint added without a rule here fails
``test_every_route_has_an_authorisation_rule``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Route

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.definitions import linear
from tests.factories import PASSWORD, Member, add_member, make_user
from tests.routes import leaf_routes

PUBLIC, SIGNED_IN, SERVER_ADMIN = "public", "signed-in", "server-admin"
P = "/api/v1/projects/{project}"
W = P + "/workflows/{workflow}"
R = P + "/runs/{run}"
A = P + "/alerts"
RUN_ID = "set-by-the-callers-fixture"
ALERT_URL = "https://alerts.invalid/hook"

RULES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/{name}"): PUBLIC,
    ("GET", "/{path:path}"): PUBLIC,  # the web UI (index.html for client routes)
    ("POST", "/api/v1/auth/login"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): SIGNED_IN,
    ("GET", "/api/v1/me"): SIGNED_IN,
    ("GET", "/api/v1/me/tokens"): SIGNED_IN,
    ("POST", "/api/v1/me/tokens"): SIGNED_IN,
    ("DELETE", "/api/v1/me/tokens/{token_id}"): SIGNED_IN,
    ("GET", "/api/v1/me/sessions"): SIGNED_IN,
    ("DELETE", "/api/v1/me/sessions"): SIGNED_IN,
    ("DELETE", "/api/v1/me/sessions/{session_id}"): SIGNED_IN,
    ("POST", "/api/v1/users/{email}/disable"): SERVER_ADMIN,
    ("POST", "/api/v1/users/{email}/enable"): SERVER_ADMIN,
    ("GET", "/api/v1/projects"): SIGNED_IN,
    ("POST", "/api/v1/projects"): SIGNED_IN,
    ("GET", "/api/v1/node-types"): SIGNED_IN,
    ("GET", "/api/v1/templates"): SIGNED_IN,
    ("POST", "/api/v1/jmespath/evaluate"): SIGNED_IN,
    ("GET", P): Role.VIEWER,
    ("GET", P + "/members"): Role.VIEWER,
    ("PUT", P + "/members/{email}"): Role.OWNER,
    ("DELETE", P + "/members/{email}"): Role.OWNER,
    ("DELETE", P + "/members/me"): Role.VIEWER,
    ("GET", P + "/audit"): Role.ADMIN,
    ("POST", P + "/validate"): Role.VIEWER,
    ("GET", P + "/workflows"): Role.VIEWER,
    ("POST", P + "/workflows"): Role.EDITOR,
    ("GET", W): Role.VIEWER,
    ("PUT", W): Role.EDITOR,
    ("PATCH", W): Role.EDITOR,
    ("PATCH", W + "/definition"): Role.EDITOR,
    ("DELETE", W): Role.EDITOR,
    ("POST", W + "/restore"): Role.EDITOR,
    ("POST", W + "/clone"): Role.EDITOR,
    ("GET", W + "/versions"): Role.VIEWER,
    ("GET", W + "/versions/compare"): Role.VIEWER,
    ("POST", W + "/versions/publish"): Role.EDITOR,
    ("GET", W + "/versions/{number}"): Role.VIEWER,
    ("POST", W + "/versions/{number}/revert"): Role.EDITOR,
    ("GET", W + "/aliases"): Role.VIEWER,
    ("GET", W + "/schedule"): Role.VIEWER,
    ("PUT", W + "/aliases/{name}"): Role.ADMIN,
    ("DELETE", W + "/aliases/{name}"): Role.ADMIN,
    ("GET", P + "/secrets"): Role.ADMIN,
    ("PUT", P + "/secrets/{name}"): Role.ADMIN,
    ("GET", P + "/secrets/{name}"): Role.ADMIN,
    ("DELETE", P + "/secrets/{name}"): Role.ADMIN,
    ("PATCH", P + "/secrets/{name}"): Role.ADMIN,
    ("POST", P + "/secrets/scrub"): Role.ADMIN,
    ("GET", "/api/v1/schemas/workflow-bundle.v1.json"): PUBLIC,
    ("GET", W + "/export"): Role.ADMIN,
    ("GET", P + "/export"): Role.ADMIN,
    ("POST", P + "/import"): Role.ADMIN,
    ("POST", W + "/runs"): Role.EDITOR,
    ("GET", P + "/runs"): Role.VIEWER,
    ("GET", P + "/redaction"): Role.ADMIN,
    ("PUT", P + "/redaction/patterns/{name}"): Role.ADMIN,
    ("DELETE", P + "/redaction/patterns/{name}"): Role.ADMIN,
    ("GET", W + "/redaction"): Role.ADMIN,
    ("PUT", W + "/redaction"): Role.ADMIN,
    ("GET", P + "/stats"): Role.VIEWER,
    ("GET", P + "/stats/series"): Role.VIEWER,
    ("GET", W + "/stats/series"): Role.VIEWER,
    ("GET", W + "/stats"): Role.VIEWER,
    ("GET", P + "/retention"): Role.VIEWER,
    ("PUT", P + "/retention"): Role.ADMIN,
    ("POST", P + "/retention/run"): Role.ADMIN,
    ("GET", R): Role.VIEWER,
    ("GET", R + "/events"): Role.VIEWER,
    ("GET", R + "/events/stream"): Role.VIEWER,
    ("GET", R + "/replay"): Role.VIEWER,
    ("POST", R + "/cancel"): Role.EDITOR,
    ("POST", R + "/resume"): Role.EDITOR,
    ("GET", W + "/webhook"): Role.VIEWER,
    ("POST", W + "/webhook/rotate"): Role.ADMIN,
    ("GET", W + "/webhook/deliveries"): Role.VIEWER,
    ("POST", W + "/webhook/test"): Role.EDITOR,
    ("GET", A + "/destinations"): Role.VIEWER,
    ("POST", A + "/destinations"): Role.ADMIN,
    ("GET", A + "/destinations/{destination}"): Role.VIEWER,
    ("PATCH", A + "/destinations/{destination}"): Role.ADMIN,
    ("DELETE", A + "/destinations/{destination}"): Role.ADMIN,
    ("POST", A + "/destinations/{destination}/test"): Role.ADMIN,
    ("GET", A + "/rules"): Role.VIEWER,
    ("POST", A + "/rules"): Role.ADMIN,
    ("GET", A + "/rules/{rule}"): Role.VIEWER,
    ("PATCH", A + "/rules/{rule}"): Role.ADMIN,
    ("DELETE", A + "/rules/{rule}"): Role.ADMIN,
    ("GET", A + "/deliveries"): Role.VIEWER,
    # The hook itself needs no token: its id (and signature) are the credentials.
    **{
        (method, "/hooks/{hook_id}/{path:path}"): PUBLIC
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
    },
}

CALLERS = ["anonymous", "non-member", "viewer", "editor", "admin", "owner"]
RANK = {"viewer": Role.VIEWER, "editor": Role.EDITOR, "admin": Role.ADMIN, "owner": Role.OWNER}


def _app_routes(client: TestClient) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in leaf_routes(client)
        if isinstance(route, APIRoute | Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_every_route_has_an_authorisation_rule(client: TestClient) -> None:
    assert _app_routes(client) == set(RULES)


def _request(method: str, path: str) -> tuple[str, Any, dict[str, str]]:
    """The concrete URL, a valid body and extra headers for a route."""
    url = (
        path.replace("{project}", "alpha")
        .replace("{workflow}", "sync")
        .replace("{number}", "1")
        .replace("{email}", "vera@example.com")
        .replace("{token_id}", str(uuid.uuid4()))
        .replace("{run}", RUN_ID)
        .replace("{session_id}", str(uuid.uuid4()))
        .replace("{destination}", "ops")
        .replace("{rule}", "fails")
    )
    url = (
        url.replace("/aliases/{name}", "/aliases/production")
        .replace("/secrets/{name}", "/secrets/TOKEN")
        .replace("/patterns/{name}", "/patterns/ticket")
    )
    if url.endswith("/compare"):
        url += "?from=1&to=1"
    headers: dict[str, str] = {}
    body: Any = None
    if method in {"POST", "PUT", "PATCH"}:
        body = {}
    if (method, path) == ("PUT", W):
        body, headers = {"definition": linear()}, {"If-Match": '"1"'}
    elif (method, path) == ("POST", P + "/workflows"):
        body = {"name": f"New {uuid.uuid4().hex[:6]}", "definition": linear()}
    elif path.endswith("/validate"):
        body = {"definition": linear()}
    elif (method, path) == ("PATCH", W):
        body = {"description": "changed"}
    elif (method, path) == ("PATCH", W + "/definition"):
        body = []
        headers = {"If-Match": '"1"', "Content-Type": "application/json-patch+json"}
    elif path.endswith("/clone"):
        body = {"name": f"Copy {uuid.uuid4().hex[:6]}"}
    elif path.endswith("/aliases/{name}"):
        body = {"version": 1}
    elif path.endswith("/members/{email}") and method == "PUT":
        body = {"role": "viewer"}
    elif path.endswith("/secrets/{name}") and method == "PUT":
        body = {"value": "s3cret-value"}
    elif path.endswith("/patterns/{name}") and method == "PUT":
        body = {"pattern": r"TCK-\d+"}
    elif (method, path) == ("PUT", W + "/redaction"):
        body = {"pointers": ["/ssn"]}
    elif path.endswith("/resume"):
        body = {"from_node": "start"}
    elif path == "/api/v1/me/tokens":
        body = {"name": "matrix"}
    elif path == "/api/v1/projects" and method == "POST":
        body = {"key": f"p-{uuid.uuid4().hex[:8]}", "name": "Matrix"}
    elif path == "/api/v1/jmespath/evaluate":
        body = {"expression": "a", "data": {"a": 1}}
    elif (method, path) == ("POST", A + "/destinations"):
        body = {"name": f"d-{uuid.uuid4().hex[:6]}", "kind": "slack", "url": ALERT_URL}
    elif (method, path) == ("PATCH", A + "/destinations/{destination}"):
        body = {"url": ALERT_URL + "/changed"}
    elif (method, path) == ("POST", A + "/rules"):
        body = {"name": f"r-{uuid.uuid4().hex[:6]}", "kind": "run.failed"}
    elif (method, path) == ("PATCH", A + "/rules/{rule}"):
        body = {"enabled": False}
    elif path == "/api/v1/auth/login":
        body = {"email": "alice@example.com", "password": PASSWORD}
    return url, body, headers


@pytest.fixture
def callers(
    client: TestClient, owner: Member, outsider: Member, db: Database
) -> dict[str, Member | None]:
    client.post(
        "/api/v1/projects/alpha/workflows",
        json={"name": "Sync", "definition": linear()},
        headers=owner.headers,
    )
    client.post(
        "/api/v1/projects/alpha/workflows/sync/versions/publish", json={}, headers=owner.headers
    )
    client.put("/api/v1/projects/alpha/secrets/TOKEN", json={"value": "x"}, headers=owner.headers)
    # A finished run (cancelled): its event stream ends at once.
    run = client.post(
        "/api/v1/projects/alpha/workflows/sync/runs", json={}, headers=owner.headers
    ).json()
    client.post(f"/api/v1/projects/alpha/runs/{run['id']}/cancel", headers=owner.headers)
    global RUN_ID
    RUN_ID = run["id"]
    # An alert destination (whose name fails to resolve: a test alert fails fast) and rule.
    client.post(
        "/api/v1/projects/alpha/alerts/destinations",
        json={"name": "ops", "kind": "slack", "url": ALERT_URL},
        headers=owner.headers,
    )
    client.post(
        "/api/v1/projects/alpha/alerts/rules",
        json={"name": "fails", "kind": "run.failed", "destinations": ["ops"]},
        headers=owner.headers,
    )
    make_user(db, "vera@example.com")
    found: dict[str, Member | None] = {"anonymous": None, "non-member": outsider, "owner": owner}
    for name in ("viewer", "editor", "admin"):
        member = make_user(db, f"{name}@example.com")
        add_member(db, "alpha", member, RANK[name])
        found[name] = member
    return found


def _expected(rule: str, caller: str) -> str:
    if rule == PUBLIC:
        return "allowed"
    if caller == "anonymous":
        return "401"
    if rule == SIGNED_IN:
        return "allowed"
    if rule == SERVER_ADMIN:
        return "403"  # no caller here is a server admin (users create --admin)
    if caller == "non-member":
        return "404"
    return "allowed" if RANK[caller].includes(Role(rule)) else "403"


def test_each_caller_gets_the_status_its_role_allows(
    client: TestClient, callers: dict[str, Member | None]
) -> None:
    mismatches = []
    # Mutating routes last, so reads see the fixture intact.
    order = sorted(RULES, key=lambda route: (route[0] == "DELETE", route[0] != "GET", route[1]))
    for method, path in order:
        if path in {"/api/v1/auth/logout", P + "/members/me"}:
            # Would end the session / the membership later requests use;
            # covered in test_auth and test_members.
            continue
        for caller in CALLERS:
            member = callers[caller]
            url, body, headers = _request(method, path)
            if member is not None:
                headers = {**headers, **member.headers}
            response = client.request(method, url, json=body, headers=headers)
            client.cookies.clear()  # a login must not sign in the next "anonymous" caller
            expected = _expected(RULES[(method, path)], caller)
            status = response.status_code
            ok = status not in {401, 403} if expected == "allowed" else str(status) == expected
            if not ok:
                mismatches.append(f"{method} {path} as {caller}: {status}, expected {expected}")
    assert mismatches == []
