"""Bundles over the API, on SQLite and PostgreSQL: byte-exact round trips,
create-only / force / dry run, and bad bundles that must write nothing."""

from __future__ import annotations

import copy
import json
import re
import tracemalloc
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from meshhook.domain import canonical
from meshhook.domain.accounts import Role
from meshhook.services import bundles
from meshhook.services import workflows as workflow_service
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from meshhook.store.tables import audit_log, workflow_versions, workflows
from meshhook.store.versions import VersionStore
from tests.definitions import edited, linear
from tests.factories import Member, add_member, assert_problem, make_project, make_user

FIXTURE = Path(__file__).parents[1] / "fixtures" / "realistic.bundle.json"
ALPHA = "/api/v1/projects/alpha"
EXPORTED_AT = re.compile(rb'"exportedAt": "[^"]+"')


def fixture_bytes() -> bytes:
    return FIXTURE.read_bytes()


def fixture_doc() -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(fixture_bytes())
    return value


def without_time(data: bytes) -> bytes:
    return EXPORTED_AT.sub(b'"exportedAt": "-"', data)


def post_import(client: TestClient, who: Member, body: bytes | dict[str, Any], **query: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"{ALPHA}/import",
        content=data,
        params=query,
        headers={**who.headers, "Content-Type": "application/json"},
    )


def counts(db: Database) -> tuple[int, int, int]:
    """Workflows, versions and audit entries: bad imports must change none."""
    with db.session() as session:
        return (
            session.execute(select(func.count()).select_from(workflows)).scalar_one(),
            session.execute(select(func.count()).select_from(workflow_versions)).scalar_one(),
            session.execute(select(func.count()).select_from(audit_log)).scalar_one(),
        )


def create(client: TestClient, who: Member, key: str, definition: Any | None = None) -> Any:
    response = client.post(
        f"{ALPHA}/workflows",
        json={"key": key, "name": key.title(), "definition": definition or linear()},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


# -- round trip ---------------------------------------------------------------------


def test_fixture_imports_into_an_empty_project_and_exports_to_the_same_bytes(
    client: TestClient, owner: Member
) -> None:
    response = post_import(client, owner, fixture_bytes())
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is False
    assert (report["created"], report["replaced"]) == (4, 0)
    assert {item["key"]: item["action"] for item in report["workflows"]} == {
        "follow-up-template": "create",
        "inventory-check": "create",
        "order-sync": "create",
        "refund-approval": "create",
    }
    # alpha has none of the secrets the definitions reference: warnings, not errors.
    missing = sorted(re.findall(r"'([A-Z_]+)'", " ".join(w["message"] for w in report["warnings"])))
    assert missing == fixture_doc()["dependencies"]["secrets"]
    assert {w["code"] for w in report["warnings"]} == {"secret.unknown"}

    exported = client.get(f"{ALPHA}/export", headers=owner.headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("application/json")
    assert 'filename="alpha.bundle.json"' in exported.headers["content-disposition"]
    assert without_time(exported.content) == without_time(fixture_bytes())
    assert exported.content != fixture_bytes()  # exportedAt is now, not the fixture's


def test_imported_history_keeps_numbers_tags_aliases_and_the_published_pointer(
    client: TestClient, owner: Member
) -> None:
    assert post_import(client, owner, fixture_bytes()).status_code == 200
    url = f"{ALPHA}/workflows/order-sync"
    workflow = client.get(url, headers=owner.headers)
    assert workflow.headers["etag"] == '"4"'
    assert workflow.json()["published_version"] == 3
    history = client.get(f"{url}/versions", headers=owner.headers).json()["items"]
    assert [(v["number"], v["state"], v["tag"]) for v in history] == [
        (4, "draft", None),
        (3, "published", "v1.2.0"),
        (2, "published", "v1.1.0"),
        (1, "published", "v1.0.0"),
    ]
    assert history[0]["created_by"] == owner.email
    aliases = client.get(f"{url}/aliases", headers=owner.headers).json()
    assert {a["name"]: a["version"] for a in aliases} == {"production": 2, "staging": 3}
    # The imported workflow carries on like any other: the next save is version 5.
    definition = workflow.json()["definition"]
    saved = client.put(
        url,
        json={"definition": edited(definition, "upsert-contact", "timeout_seconds", 40)},
        headers={**owner.headers, "If-Match": '"4"'},
    )
    assert saved.status_code == 200
    assert saved.headers["etag"] == '"5"'


def test_round_trip_of_a_project_built_through_the_api(client: TestClient, owner: Member) -> None:
    create(client, owner, "billing")
    client.post(
        f"{ALPHA}/workflows/billing/versions/publish", json={"tag": "v1"}, headers=owner.headers
    )
    first = client.get(f"{ALPHA}/export", headers=owner.headers).content
    client.post("/api/v1/projects", json={"key": "gamma", "name": "Gamma"}, headers=owner.headers)
    imported = client.post(
        "/api/v1/projects/gamma/import",
        content=first,
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    assert imported.status_code == 200, imported.text
    again = client.get("/api/v1/projects/gamma/export", headers=owner.headers).content
    assert without_time(again) == without_time(first)
    ids = {
        client.get(f"/api/v1/projects/{project}/workflows/billing", headers=owner.headers).json()[
            "id"
        ]
        for project in ("alpha", "gamma")
    }
    assert len(ids) == 2  # new ids are generated


def test_export_one_workflow_or_chosen_keys(client: TestClient, owner: Member) -> None:
    for key in ("a-one", "b-two", "c-three"):
        create(client, owner, key)
    one = client.get(f"{ALPHA}/workflows/b-two/export", headers=owner.headers)
    assert one.status_code == 200
    assert 'filename="alpha-b-two.bundle.json"' in one.headers["content-disposition"]
    assert [w["key"] for w in one.json()["workflows"]] == ["b-two"]
    chosen = client.get(f"{ALPHA}/export", params={"keys": "c-three,a-one"}, headers=owner.headers)
    assert [w["key"] for w in chosen.json()["workflows"]] == ["a-one", "c-three"]
    missing = client.get(f"{ALPHA}/export", params={"keys": "a-one,nope"}, headers=owner.headers)
    body = assert_problem(missing, 404)
    assert body["missing_keys"] == ["nope"]
    assert_problem(
        client.get(f"{ALPHA}/export", params={"keys": " , "}, headers=owner.headers), 422
    )
    assert_problem(
        client.get(f"{ALPHA}/export", params={"keys": "Not A Key"}, headers=owner.headers), 422
    )


def test_a_bundle_never_holds_ids_audit_data_or_secret_values(
    client: TestClient, owner: Member
) -> None:
    value = "s3cr3t-value-that-must-never-leave-the-vault"
    client.put(f"{ALPHA}/secrets/CRM_TOKEN", json={"value": value}, headers=owner.headers)
    definition = linear()
    definition["nodes"][2]["config"]["auth"] = {
        "type": "bearer",
        "token": "{{ secrets.CRM_TOKEN }}",
    }
    created = create(client, owner, "with-secret", definition)
    published = client.post(
        f"{ALPHA}/workflows/with-secret/versions/publish", json={}, headers=owner.headers
    )
    assert published.status_code == 200, published.text
    data = client.get(f"{ALPHA}/export", headers=owner.headers).content
    assert value.encode() not in data
    assert created["id"].encode() not in data
    assert owner.email.encode() not in data  # no created_by / published_by
    assert b"created_at" not in data
    assert b"published_at" not in data
    assert orjson.loads(data)["dependencies"]["secrets"] == ["CRM_TOKEN"]


def test_an_exported_bundle_matches_the_served_json_schema(
    client: TestClient, owner: Member
) -> None:
    from jsonschema import Draft202012Validator

    schema_response = client.get("/api/v1/schemas/workflow-bundle.v1.json")  # no auth
    assert schema_response.status_code == 200
    assert schema_response.content == bundles.schema_bytes()
    schema = schema_response.json()
    Draft202012Validator.check_schema(schema)
    Draft202012Validator(schema).validate(fixture_doc())
    create(client, owner, "plain")
    Draft202012Validator(schema).validate(
        client.get(f"{ALPHA}/export", headers=owner.headers).json()
    )


# -- create-only, force, dry run -------------------------------------------------------


def test_existing_keys_are_refused_with_409_listing_them_and_nothing_is_written(
    client: TestClient, owner: Member, db: Database
) -> None:
    create(client, owner, "order-sync")
    create(client, owner, "refund-approval")
    before = counts(db)
    response = post_import(client, owner, fixture_bytes())
    body = assert_problem(response, 409)
    assert body["existing_keys"] == ["order-sync", "refund-approval"]
    assert {e["path"] for e in body["errors"]} == {"/workflows/2/key", "/workflows/3/key"}
    assert {e["code"] for e in body["errors"]} == {"bundle.key_exists"}
    assert counts(db) == before


def test_a_trashed_workflow_does_not_block_its_key(client: TestClient, owner: Member) -> None:
    create(client, owner, "order-sync")
    client.delete(f"{ALPHA}/workflows/order-sync", headers=owner.headers)
    response = post_import(client, owner, fixture_bytes())
    assert response.status_code == 200
    assert response.json()["created"] == 4
    trash = client.get(f"{ALPHA}/workflows", params={"deleted": "true"}, headers=owner.headers)
    assert [w["key"] for w in trash.json()["items"]] == ["order-sync"]


def test_force_replaces_exactly_the_named_workflows(
    client: TestClient, owner: Member, db: Database
) -> None:
    old = create(client, owner, "order-sync")
    for n in range(2, 5):
        client.put(
            f"{ALPHA}/workflows/order-sync",
            json={"definition": edited(linear(), "send", "url", f"https://x{n}.example")},
            headers={**owner.headers, "If-Match": f'"{n - 1}"'},
        )
    bystander = create(client, owner, "unrelated")
    bundle = fixture_doc()
    bundle["workflows"] = [w for w in bundle["workflows"] if w["key"] == "order-sync"]
    bundle["dependencies"] = {"nodeTypes": ["http_call", "transform", "webhook"], "secrets": []}
    response = post_import(client, owner, bundle, force="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["replaced"]) == (0, 1)
    item = report["workflows"][0]
    assert item["replaced_id"] == old["id"]
    assert item["id"] != old["id"]
    replaced = client.get(f"{ALPHA}/workflows/order-sync", headers=owner.headers).json()
    assert replaced["id"] == item["id"]
    history = client.get(f"{ALPHA}/workflows/order-sync/versions", headers=owner.headers)
    assert [v["number"] for v in history.json()["items"]] == [4, 3, 2, 1]
    assert [v["tag"] for v in history.json()["items"]] == [None, "v1.2.0", "v1.1.0", "v1.0.0"]
    # The old workflow and its history are gone for good, not in the trash.
    trash = client.get(f"{ALPHA}/workflows", params={"deleted": "true"}, headers=owner.headers)
    assert trash.json()["items"] == []
    assert_problem(client.get(f"{ALPHA}/workflows/{old['id']}", headers=owner.headers), 404)
    # The workflow not named in the bundle is untouched.
    still = client.get(f"{ALPHA}/workflows/unrelated", headers=owner.headers).json()
    assert (still["id"], still["version"]) == (bystander["id"], 1)
    assert [w["key"] for w in report["workflows"]] == ["order-sync"]
    # A stale dependency summary was reported, the definitions won.
    assert "bundle.dependencies_stale" in {w["code"] for w in report["warnings"]}


def test_dry_run_reports_and_writes_nothing(
    client: TestClient, owner: Member, db: Database
) -> None:
    create(client, owner, "order-sync")
    before = counts(db)
    refused = post_import(client, owner, fixture_bytes(), dry_run="true")
    assert_problem(refused, 409)  # a dry run says what a real import would say
    response = post_import(client, owner, fixture_bytes(), dry_run="true", force="true")
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["dry_run"] is True
    assert (report["created"], report["replaced"]) == (3, 1)
    by_key = {item["key"]: item for item in report["workflows"]}
    assert by_key["order-sync"]["action"] == "replace"
    assert by_key["order-sync"]["id"] is None
    diff = by_key["order-sync"]["diff"]
    assert diff["summary"]["identical"] is False
    assert {n["id"] for n in diff["nodes"]["added"]} == {
        "order-received",
        "to-contact",
        "upsert-contact",
    }
    assert by_key["inventory-check"]["diff"] is None
    assert counts(db) == before


# -- bad bundles: a clear 4xx, nothing written --------------------------------------------


def _mutate(change: Any) -> bytes:
    bundle = fixture_doc()
    change(bundle)
    return orjson.dumps(bundle)


def _order_sync(bundle: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(w for w in bundle["workflows"] if w["key"] == "order-sync")
    return found


def _cycle_in_draft(bundle: dict[str, Any]) -> None:
    draft = _order_sync(bundle)["versions"][-1]["definition"]
    draft["edges"].append({"from": "upsert-contact", "to": "order-received"})


def _incomplete_published(bundle: dict[str, Any]) -> None:
    published = _order_sync(bundle)["versions"][0]["definition"]
    del published["nodes"][2]["config"]["url"]


def _unknown_type(bundle: dict[str, Any]) -> None:
    _order_sync(bundle)["versions"][1]["definition"]["nodes"][1]["type"] = "teleport"


def _duplicate_key(bundle: dict[str, Any]) -> None:
    bundle["workflows"][1]["key"] = bundle["workflows"][0]["key"]


def _missing_field(bundle: dict[str, Any]) -> None:
    del _order_sync(bundle)["versions"][0]["definition"]


def _bad_key(bundle: dict[str, Any]) -> None:
    bundle["workflows"][0]["key"] = "Not A Slug"


def _deep(depth: int) -> bytes:
    return (
        b'{"format": "meshhook.workflow-bundle", "formatVersion": 1, "x": '
        + (b"[" * depth + b"]" * depth)
        + b"}"
    )


BAD_BUNDLES: list[tuple[str, Any, int, str, str]] = [
    # (name, body, status, path, code)
    ("truncated", lambda: fixture_bytes()[:-200], 400, "", "json.malformed"),
    ("not an object", lambda: b"[1, 2, 3]", 422, "", "bundle.schema"),
    (
        "wrong format",
        lambda: _mutate(lambda b: b.update(format="n8n")),
        422,
        "/format",
        "bundle.format",
    ),
    (
        "format version 2",
        lambda: _mutate(lambda b: b.update(formatVersion=2)),
        422,
        "/formatVersion",
        "bundle.format_version",
    ),
    (
        "missing field",
        lambda: _mutate(_missing_field),
        422,
        "/workflows/2/versions/0",
        "bundle.schema",
    ),
    (
        "duplicate key",
        lambda: _mutate(_duplicate_key),
        422,
        "/workflows/1/key",
        "bundle.duplicate_key",
    ),
    (
        "unknown node type",
        lambda: _mutate(_unknown_type),
        422,
        "/workflows/2/versions/1/definition/nodes/1/type",
        "node.unknown_type",
    ),
    (
        "cycle in a draft",
        lambda: _mutate(_cycle_in_draft),
        422,
        "/workflows/2/versions/3/definition/edges",
        "graph.cycle",
    ),
    (
        "incomplete published version",
        lambda: _mutate(_incomplete_published),
        422,
        "/workflows/2/versions/0/definition/nodes/2/config",
        "config.schema",
    ),
    ("key not a slug", lambda: _mutate(_bad_key), 422, "/workflows/0/key", "bundle.schema"),
    (
        "nul in a name",
        lambda: _mutate(lambda b: b["workflows"][1].update(name="a\u0000b")),
        422,
        "/workflows/1/name",
        "json.nul_character",
    ),
    (
        "version number beyond 32 bits",
        lambda: _mutate(lambda b: b["workflows"][0]["versions"][0].update(number=2**40)),
        422,
        "/workflows/0/versions/0/number",
        "bundle.schema",
    ),
    ("nested 10,000 deep", lambda: _deep(10_000), 400, "", "json.malformed"),
    ("nested 1,000 deep", lambda: _deep(1_000), 422, "", "bundle.schema"),
]


@pytest.mark.parametrize(
    ("body", "status", "path", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_BUNDLES],
)
def test_bad_bundles_get_a_clear_4xx_and_write_nothing(
    client: TestClient,
    owner: Member,
    db: Database,
    body: Any,
    status: int,
    path: str,
    code: str,
) -> None:
    before = counts(db)
    problem = assert_problem(post_import(client, owner, body()), status)
    assert any(
        error["code"] == code and error["path"].startswith(path) for error in problem["errors"]
    ), problem
    assert counts(db) == before


def test_a_60_mb_bundle_is_refused_with_413(client: TestClient, owner: Member) -> None:
    huge = b'{"format": "meshhook.workflow-bundle", "pad": "' + b"x" * (60 * 1024 * 1024) + b'"}'
    assert_problem(post_import(client, owner, huge), 413)


def test_a_failure_halfway_through_an_import_rolls_everything_back(
    db: Database, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_insert = VersionStore.insert
    calls = 0

    def failing_insert(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:  # inside the third workflow, after two were complete
            raise RuntimeError("disk on fire")
        real_insert(*args, **kwargs)

    monkeypatch.setattr(VersionStore, "insert", failing_insert)
    before = counts(db)
    with pytest.raises(RuntimeError, match="disk on fire"):
        bundles.import_bundle(db, owner.actor, "alpha", fixture_bytes())
    assert calls == 5
    assert counts(db) == before


def _chain(length: int) -> dict[str, Any]:
    """A manual trigger and ``length`` transforms in a row (~150 bytes a node)."""
    nodes: list[dict[str, Any]] = [
        {
            "id": "start",
            "type": "manual",
            "name": "Start",
            "config": {},
            "position": {"x": 0, "y": 0},
        }
    ]
    edges = []
    for index in range(length):
        nodes.append(
            {
                "id": f"t{index}",
                "type": "transform",
                "name": f"Transform {index}",
                "config": {"expression": "{id: id, total: total}"},
                "position": {"x": 200 * (index + 1), "y": 0},
            }
        )
        edges.append({"from": nodes[-2]["id"], "to": nodes[-1]["id"]})
    return {"nodes": nodes, "edges": edges, "settings": {"timeout_seconds": 60}}


def _peak_bytes(action: Any) -> int:
    """The most Python memory ``action()`` held at once, beyond what was held before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        action()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _import_peaks(db: Database, owner: Member, template: dict[str, Any], count: int) -> list[int]:
    """Peak Python memory of importing ``count`` copies of ``template`` into a
    project of their own: created, then a dry run replacing them, then replaced."""
    project = f"p{count}"
    make_project(db, project, owner)
    document = {
        **template,
        "workflows": [
            {**template["workflows"][0], "key": f"w-{index:04d}"} for index in range(count)
        ],
    }
    data = orjson.dumps(document)
    return [
        _peak_bytes(lambda: bundles.import_bundle(db, owner.actor, project, data)),
        _peak_bytes(
            lambda: bundles.import_bundle(db, owner.actor, project, data, force=True, dry_run=True)
        ),
        _peak_bytes(lambda: bundles.import_bundle(db, owner.actor, project, data, force=True)),
    ]


def test_an_import_holds_one_workflow_at_a_time_not_the_bundle(db: Database, owner: Member) -> None:
    """Writing the workflows (and, in a dry run, reading the heads they would
    replace) in the one transaction keeps no definition per workflow: four
    times the workflows cost far less than four times the memory. (The
    transaction's head cache kept every head's text until it committed.)"""
    definition = _chain(60)
    size = len(canonical.canonical_bytes(definition))
    workflow_service.create(
        db, owner.actor, "alpha", NewWorkflow(name="c", key="c"), definition=definition
    )
    template = orjson.loads(bundles.export_workflow(db, owner.actor, "alpha", "c").data)
    small, large = 30, 120
    few = _import_peaks(db, owner, template, small)
    many = _import_peaks(db, owner, template, large)
    extra_definitions = (large - small) * size
    for low, high in zip(few, many, strict=True):
        assert high - low < extra_definitions / 4, (low, high, extra_definitions)


def test_only_admins_import_and_export(client: TestClient, owner: Member, db: Database) -> None:
    editor = make_user(db, "eddie@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(post_import(client, editor, fixture_bytes()), 403)
    assert_problem(client.get(f"{ALPHA}/export", headers=editor.headers), 403)
    admin = make_user(db, "ada@example.com")
    add_member(db, "alpha", admin, Role.ADMIN)
    assert post_import(client, admin, fixture_bytes()).status_code == 200


def test_import_and_export_are_audited(client: TestClient, owner: Member) -> None:
    post_import(client, owner, fixture_bytes())
    client.get(f"{ALPHA}/export", headers=owner.headers)
    entries = client.get(f"{ALPHA}/audit", headers=owner.headers).json()["items"]
    actions = [entry["action"] for entry in entries]
    assert actions.count("workflow.import") == 4
    assert actions[0] == "bundle.export"
    imported = next(e for e in entries if e["action"] == "workflow.import")
    assert imported["summary"]["action"] == "create"


def test_the_fixture_is_what_the_generator_writes() -> None:
    """The committed fixture is canonical bytes (sorted, indented, newline-terminated)."""
    data = fixture_bytes()
    assert data.endswith(b"}\n")
    reparsed = orjson.dumps(
        orjson.loads(data),
        option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
    )
    assert reparsed == data
    assert len(copy.deepcopy(fixture_doc())["workflows"]) == 4
