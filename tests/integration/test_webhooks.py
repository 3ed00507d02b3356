"""Webhooks over HTTP, on both databases: the URL, signatures and JWTs, limits,
idempotency, the delivery log, rotation, and what a 404 does not say."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from sqlalchemy import select

from meshhook.api.schemas.webhooks import Received
from meshhook.security.webhook_auth import sign
from meshhook.store.tables import runs as runs_table
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.conftest import Cli

BASE = "/api/v1/projects/alpha"
SECRET = "whsec-correct-horse-battery-staple"


def hook_definition(**config: Any) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "hook", "type": "webhook", "config": {"path": "orders", **config}},
            {"id": "echo", "type": "transform", "config": {"expression": "body"}},
        ],
        "edges": [{"from": "hook", "to": "echo"}],
        "settings": {},
    }


def put_secret(client: TestClient, owner: Member, name: str, value: str) -> None:
    response = client.put(
        f"{BASE}/secrets/{name}",
        json={"value": value, "allowed_hosts": []},
        headers=owner.headers,
    )
    assert response.status_code in (200, 201), response.text


def make_hook(
    client: TestClient,
    owner: Member,
    *,
    publish: bool = True,
    key: str = "orders",
    **config: Any,
) -> tuple[str, str]:
    """A workflow with a webhook trigger; returns (workflow key, hook URL path)."""
    created = client.post(
        f"{BASE}/workflows",
        json={"name": key.title(), "key": key, "definition": hook_definition(**config)},
        headers=owner.headers,
    )
    assert created.status_code == 201, created.text
    if publish:
        published = client.post(
            f"{BASE}/workflows/{key}/versions/publish", json={}, headers=owner.headers
        )
        assert published.status_code == 200, published.text
    shown = client.get(f"{BASE}/workflows/{key}/webhook", headers=owner.headers)
    assert shown.status_code == 200, shown.text
    url: str = shown.json()["url"]
    return key, "/hooks/" + url.split("/hooks/", 1)[1]


def signed(body: bytes, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if at is None else at
    return {
        "content-type": "application/json",
        "x-meshhook-signature": sign(secret, timestamp, body),
    }


@pytest.fixture
def hmac_hook(client: TestClient, owner: Member) -> str:
    put_secret(client, owner, "HOOK_SECRET", SECRET)
    _, path = make_hook(client, owner, hmac_secret="{{ secrets.HOOK_SECRET }}")
    return path


def run_of(client: TestClient, owner: Member, run_id: str) -> dict[str, Any]:
    response = client.get(f"{BASE}/runs/{run_id}", headers=owner.headers)
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def test_a_signed_request_starts_a_run_with_the_request_as_input(
    client: TestClient, owner: Member, hmac_hook: str
) -> None:
    body = b'{"order": 7}'

    answer = client.post(
        hmac_hook + "?source=shop", content=body, headers={**signed(body), "x-shop": "a"}
    )

    assert answer.status_code == 202, answer.text
    Received.model_validate_json(answer.content)  # the route's declared model
    run = run_of(client, owner, answer.json()["run_id"])
    assert run["trigger"] == "webhook"
    assert run["version"] == 1
    assert run["input"]["method"] == "POST"
    assert run["input"]["path"] == "orders"
    assert run["input"]["query"] == {"source": "shop"}
    assert run["input"]["body"] == {"order": 7}
    assert run["input"]["headers"]["x-shop"] == "a"
    assert "x-meshhook-signature" not in run["input"]["headers"]


def test_a_hooks_run_input_is_sealed_at_rest(
    client: TestClient, owner: Member, hmac_hook: str, db: Any
) -> None:
    """Webhook starts are written in groups by their own thread; they are
    sealed with the project's data key like every other start."""
    body = b'{"card": "marker-7c1e-webhook-input"}'

    answer = client.post(hmac_hook, content=body, headers=signed(body))

    assert answer.status_code == 202, answer.text
    with db.engine.connect() as connection:
        stored = connection.execute(
            select(runs_table.c.input).where(runs_table.c.id == uuid.UUID(answer.json()["run_id"]))
        ).scalar_one()
    assert "marker-7c1e" not in json.dumps(stored)
    assert "$sealed" in json.dumps(stored)
    assert run_of(client, owner, answer.json()["run_id"])["input"]["body"]["card"] == (
        "marker-7c1e-webhook-input"
    )


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("wrong secret", lambda b: signed(b, secret="not-the-secret")),
        ("tampered", lambda b: signed(b + b" ")),
        ("stale", lambda b: signed(b, at=int(time.time()) - 301)),
        ("future", lambda b: signed(b, at=int(time.time()) + 301)),
        ("missing", lambda b: {"content-type": "application/json"}),
        ("malformed", lambda b: {"x-meshhook-signature": "v1=abc"}),
    ],
)
def test_a_bad_signature_gets_one_generic_401_and_no_run(
    client: TestClient, owner: Member, hmac_hook: str, case: str, headers: Any
) -> None:
    body = b'{"order": 7}'

    answer = client.post(hmac_hook, content=body, headers=headers(body))

    problem = assert_problem(answer, 401)
    assert problem["detail"] == "the request could not be authenticated", case
    runs = client.get(f"{BASE}/runs", headers=owner.headers).json()
    assert runs["items"] == []


def test_several_signatures_are_accepted_when_one_matches(
    client: TestClient, hmac_hook: str
) -> None:
    body = b"{}"
    now = int(time.time())
    old = sign("the-old-secret", now, body).split(",")[1]
    header = sign(SECRET, now, body) + "," + old

    answer = client.post(
        hmac_hook, content=body, headers={"x-meshhook-signature": header.replace("t=", "t=", 1)}
    )

    assert answer.status_code == 202, answer.text


def test_the_idempotency_key_returns_the_first_run(client: TestClient, hmac_hook: str) -> None:
    body = b'{"n": 1}'
    first = client.post(hmac_hook, content=body, headers={**signed(body), "idempotency-key": "k1"})
    again = client.post(hmac_hook, content=body, headers={**signed(body), "idempotency-key": "k1"})

    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["run_id"] == first.json()["run_id"]


def test_a_non_json_body_is_kept_as_text(client: TestClient, owner: Member) -> None:
    _, path = make_hook(client, owner)

    answer = client.post(path, content=b"a=1&b=2", headers={"content-type": "text/plain"})

    assert answer.status_code == 202, answer.text
    run = run_of(client, owner, answer.json()["run_id"])
    assert run["input"]["body"] == "a=1&b=2"
    assert run["input"]["headers"]["content-type"] == "text/plain"


def test_methods_outside_the_nodes_list_get_405(client: TestClient, owner: Member) -> None:
    _, path = make_hook(client, owner, methods=["PUT"])

    refused = client.post(path, json={})
    accepted = client.put(path, json={})

    assert_problem(refused, 405)
    assert refused.headers["allow"] == "PUT"
    assert accepted.status_code == 202


def test_a_404_says_nothing_about_why(client: TestClient, owner: Member) -> None:
    _, draft = make_hook(client, owner, publish=False, key="draft-only")
    _, trashed = make_hook(client, owner, key="trashed")
    assert client.delete(f"{BASE}/workflows/trashed", headers=owner.headers).status_code == 204
    _, live = make_hook(client, owner, key="live")
    unknown = "/hooks/" + "A" * 32 + "/orders"
    wrong_path = live.rsplit("/", 1)[0] + "/elsewhere"

    answers = [client.post(url, json={}) for url in (draft, trashed, unknown, wrong_path)]

    bodies = [assert_problem(answer, 404) for answer in answers]
    assert {(b["title"], b["detail"]) for b in bodies} == {
        ("Not found", "there is no webhook at this URL")
    }


def test_rotation_retires_the_old_id_after_the_grace_period(
    client: TestClient, owner: Member
) -> None:
    _, old = make_hook(client, owner)
    rotated = client.post(
        f"{BASE}/workflows/orders/webhook/rotate", json={"grace_seconds": 60}, headers=owner.headers
    )
    assert rotated.status_code == 200, rotated.text
    new = "/hooks/" + rotated.json()["url"].split("/hooks/", 1)[1]
    assert new != old

    assert client.post(old, json={}).status_code == 202  # in its grace period
    assert client.post(new, json={}).status_code == 202
    again = client.post(
        f"{BASE}/workflows/orders/webhook/rotate", json={}, headers=owner.headers
    ).json()
    assert_problem(client.post(new, json={}), 404)
    assert client.post("/hooks/" + again["url"].split("/hooks/", 1)[1], json={}).status_code == 202
    audit = client.get(f"{BASE}/audit", headers=owner.headers).json()
    assert any(entry["action"] == "webhook.rotate" for entry in audit["items"])


def test_rotation_needs_the_admin_role(client: TestClient, owner: Member, db: Any) -> None:
    make_hook(client, owner)
    editor = make_user(db, "ed@example.com")
    add_member(db, "alpha", editor, role_of("editor"))

    refused = client.post(
        f"{BASE}/workflows/orders/webhook/rotate", json={}, headers=editor.headers
    )

    assert_problem(refused, 403)


def role_of(name: str) -> Any:
    from meshhook.domain.accounts import Role

    return Role(name)


def test_a_body_over_the_hooks_limit_gets_413_while_streaming(
    client: TestClient, owner: Member
) -> None:
    _, path = make_hook(client, owner, max_body_bytes=1024)

    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 512

    streamed = client.post(path, content=chunks(), headers={"content-type": "text/plain"})
    declared = client.post(path, content=b"x" * 2000, headers={"content-type": "text/plain"})

    assert_problem(streamed, 413)
    assert_problem(declared, 413)
    assert client.get(f"{BASE}/runs", headers=owner.headers).json()["items"] == []


def test_requests_over_the_rate_limit_get_429_with_retry_after(
    client: TestClient, owner: Member
) -> None:
    _, path = make_hook(client, owner, rate_per_second=0.5, burst=2)

    answers = [client.post(path, json={}) for _ in range(3)]

    assert [a.status_code for a in answers[:2]] == [202, 202]
    assert_problem(answers[2], 429)
    assert int(answers[2].headers["retry-after"]) >= 1


def test_a_body_failing_the_body_schema_gets_422_with_pointers(
    client: TestClient, owner: Member
) -> None:
    schema = {
        "type": "object",
        "properties": {"amount": {"type": "integer"}},
        "required": ["amount"],
    }
    _, path = make_hook(client, owner, body_schema=schema)

    refused = client.post(path, json={"amount": "ten"})
    accepted = client.post(path, json={"amount": 10})

    problem = assert_problem(refused, 422)
    assert [e["path"] for e in problem["errors"]] == ["/body/amount"]
    assert accepted.status_code == 202


def test_deliveries_list_refusals_and_runs_without_bodies(
    client: TestClient, owner: Member, hmac_hook: str
) -> None:
    body = b'{"card": "4111"}'
    ok = client.post(hmac_hook, content=body, headers=signed(body))
    client.post(hmac_hook, content=body, headers=signed(body, secret="wrong"))

    listed = client.get(f"{BASE}/workflows/orders/webhook/deliveries", headers=owner.headers)

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {(i["status"], i["failure"]) for i in items} == {
        (202, None),
        (401, "signature.mismatch"),
    }
    assert next(i for i in items if i["status"] == 202)["run_id"] == ok.json()["run_id"]
    assert "4111" not in listed.text
    assert SECRET not in listed.text


def test_the_test_action_sends_a_signed_request_to_the_hook(
    client: TestClient, owner: Member, hmac_hook: str
) -> None:
    answer = client.post(
        f"{BASE}/workflows/orders/webhook/test", json={"body": {"x": 1}}, headers=owner.headers
    )

    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["status"] == 202
    assert run_of(client, owner, result["run_id"])["input"]["body"] == {"x": 1}


def test_show_gives_the_url_methods_and_signing(
    client: TestClient, owner: Member, hmac_hook: str
) -> None:
    shown = client.get(f"{BASE}/workflows/orders/webhook", headers=owner.headers).json()

    assert shown["url"].startswith("http://")
    hook_id = shown["url"].split("/hooks/", 1)[1].split("/")[0]
    assert len(hook_id) >= 22  # at least 128 bits, base64url
    assert shown["methods"] == ["POST"]
    assert shown["signing"] == "hmac"
    assert shown["target"] == {"version": 1, "alias": None}


def test_hooks_deliveries_and_runs_are_not_visible_to_another_project(
    client: TestClient, owner: Member, outsider: Member, hmac_hook: str
) -> None:
    body = b"{}"
    run_id = client.post(hmac_hook, content=body, headers=signed(body)).json()["run_id"]

    for url in (
        f"{BASE}/workflows/orders/webhook",
        f"{BASE}/workflows/orders/webhook/deliveries",
        f"{BASE}/runs/{run_id}",
    ):
        assert_problem(client.get(url, headers=outsider.headers), 404)
    beta = client.get(f"/api/v1/projects/beta/runs/{run_id}", headers=outsider.headers)
    assert_problem(beta, 404)


# -- JWT ----------------------------------------------------------------------


def hs_token(key: str, **claims: Any) -> str:
    payload = {"exp": int(time.time()) + 60, "aud": "meshhook", "iss": "shop", **claims}
    return jwt.encode(payload, key, algorithm="HS256")


@pytest.fixture
def hs_hook(client: TestClient, owner: Member) -> str:
    put_secret(client, owner, "JWT_KEY", "a-shared-hs256-key-of-decent-length!")
    _, path = make_hook(
        client,
        owner,
        jwt={
            "algorithm": "HS256",
            "key": "{{ secrets.JWT_KEY }}",
            "issuer": "shop",
            "audience": "meshhook",
        },
    )
    return path


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_valid_hs256_token_starts_a_run(client: TestClient, owner: Member, hs_hook: str) -> None:
    answer = client.post(
        hs_hook, json={}, headers=bearer(hs_token("a-shared-hs256-key-of-decent-length!"))
    )

    assert answer.status_code == 202, answer.text
    run = run_of(client, owner, answer.json()["run_id"])
    assert "authorization" not in run["input"]["headers"]


@pytest.mark.parametrize(
    "token",
    [
        hs_token("a-shared-hs256-key-of-decent-length!", exp=int(time.time()) - 10),  # expired
        hs_token("a-shared-hs256-key-of-decent-length!", aud="someone-else"),  # wrong aud
        hs_token("a-shared-hs256-key-of-decent-length!", iss="other"),  # wrong iss
        hs_token("another-key-entirely-of-decent-length"),  # wrong key
        jwt.encode(
            {"exp": int(time.time()) + 60, "aud": "meshhook", "iss": "shop"}, None, algorithm="none"
        ),
        "not-a-jwt",
    ],
)
def test_a_bad_token_gets_401(client: TestClient, hs_hook: str, token: str) -> None:
    assert_problem(client.post(hs_hook, json={}, headers=bearer(token)), 401)


def test_an_rs256_hook_refuses_an_hs256_token_signed_with_its_public_key(
    client: TestClient, owner: Member
) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    put_secret(client, owner, "RSA_PUBLIC", public_pem)
    _, path = make_hook(
        client, owner, jwt={"algorithm": "RS256", "key": "{{ secrets.RSA_PUBLIC }}"}
    )
    claims = {"exp": int(time.time()) + 60}
    good = jwt.encode(claims, private, algorithm="RS256")
    # Algorithm confusion: the public key (known to anyone) as an HMAC secret.
    import base64
    import hashlib
    import hmac as hmac_module
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims).encode())
    mac = hmac_module.new(public_pem.encode(), f"{head}.{payload}".encode(), hashlib.sha256)
    forged = f"{head}.{payload}.{b64(mac.digest())}"

    assert client.post(path, json={}, headers=bearer(good)).status_code == 202
    assert_problem(client.post(path, json={}, headers=bearer(forged)), 401)


def test_an_es256_hook_accepts_its_tokens(client: TestClient, owner: Member) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    put_secret(client, owner, "EC_PUBLIC", public_pem)
    _, path = make_hook(client, owner, jwt={"algorithm": "ES256", "key": "{{ secrets.EC_PUBLIC }}"})

    token = jwt.encode({"exp": int(time.time()) + 60}, private, algorithm="ES256")

    assert client.post(path, json={}, headers=bearer(token)).status_code == 202


# -- CLI ----------------------------------------------------------------------


def test_the_cli_shows_tests_and_lists_deliveries(
    client: TestClient, owner: Member, cli: Cli, tmp_path: Any
) -> None:
    put_secret(client, owner, "HOOK_SECRET", SECRET)
    make_hook(client, owner, hmac_secret="{{ secrets.HOOK_SECRET }}")
    body = tmp_path / "body.json"
    body.write_text('{"hello": "cli"}')

    shown = cli("hooks", "show", "orders")
    tested = cli("hooks", "test", "orders", "--body", str(body), "--json")
    listed = cli("hooks", "deliveries", "orders")

    assert "/hooks/" in shown.output
    assert "signing hmac" in shown.output
    run_id = json.loads(tested.output)["run_id"]
    assert run_of(client, owner, run_id)["input"]["body"] == {"hello": "cli"}
    assert "202" in listed.output


def test_the_access_log_does_not_hold_the_hook_id(client: TestClient, owner: Member) -> None:
    import structlog.testing

    _, path = make_hook(client, owner)
    hook_id = path.split("/")[2]

    with structlog.testing.capture_logs() as logs:
        assert client.post(path, json={}).status_code == 202

    logged = [entry["path"] for entry in logs if entry.get("event") == "request"]
    assert logged == [f"/hooks/{hook_id[:4]}…/orders"]


def test_deliveries_older_than_the_retention_are_pruned(
    client: TestClient, owner: Member, db: Any
) -> None:
    import uuid
    from datetime import UTC, datetime, timedelta

    from meshhook.domain.accounts import Actor, Role
    from meshhook.services.transactions import project_transaction
    from meshhook.store.webhooks import Delivery

    _, path = make_hook(client, owner)
    with project_transaction(db, Actor.cli(), "alpha", Role.OWNER) as scope:
        workflow = scope.find_workflow("orders")
        old = datetime.now(UTC) - timedelta(days=8)
        scope.webhooks.add_deliveries(
            [Delivery(uuid.uuid4(), workflow.id, old, "POST", 202, None, 1.0, "10.0.0.9", None)]
        )
    assert client.post(path, json={}).status_code == 202

    listed = client.get(f"{BASE}/workflows/orders/webhook/deliveries", headers=owner.headers)

    assert [item["client"] for item in listed.json()["items"]] == ["testclient"]
