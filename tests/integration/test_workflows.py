"""Workflow management over the API: create, read, list, metadata, trash, clone, templates."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.definitions import linear
from tests.factories import Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows"


def create(client: TestClient, member: Member, **body: Any) -> dict[str, Any]:
    body.setdefault("definition", linear())
    response = client.post(BASE, json=body, headers=member.headers)
    assert response.status_code == 201, response.text
    assert response.headers["etag"] == '"1"'
    return dict(response.json())


def test_create_then_read_returns_the_definition_with_etag(
    client: TestClient, owner: Member
) -> None:
    created = create(client, owner, name="Order sync", tags=["orders"])
    assert created["key"] == "order-sync"
    assert created["version"] == 1
    assert created["problems"] == []
    assert created["content_hash"].startswith("sha256:")
    read = client.get(f"{BASE}/order-sync", headers=owner.headers)
    assert read.headers["etag"] == '"1"'
    assert read.json()["definition"] == linear()
    by_id = client.get(f"{BASE}/{created['id']}", headers=owner.headers)
    assert by_id.json()["key"] == "order-sync"


def test_keys_are_derived_unique_and_explicit_duplicates_conflict(
    client: TestClient, owner: Member
) -> None:
    assert create(client, owner, name="Sync")["key"] == "sync"
    assert create(client, owner, name="Sync")["key"] == "sync-2"
    body = assert_problem(
        client.post(
            BASE, json={"key": "sync", "name": "x", "definition": linear()}, headers=owner.headers
        ),
        409,
    )
    assert body["errors"][0]["path"] == "/key"


def test_structural_problems_reject_the_create_and_write_nothing(
    client: TestClient, owner: Member
) -> None:
    broken = linear()
    broken["edges"].append({"from": "send", "to": "start"})
    body = assert_problem(
        client.post(BASE, json={"name": "Loop", "definition": broken}, headers=owner.headers), 422
    )
    cycle = [error for error in body["errors"] if error["code"] == "graph.cycle"]
    assert cycle
    assert cycle[0]["path"].startswith("/definition/")
    assert client.get(BASE, headers=owner.headers).json()["items"] == []


def test_completeness_problems_are_saved_and_shown(client: TestClient, owner: Member) -> None:
    draft = linear()
    draft["nodes"][1]["config"]["expression"] = "{unclosed"
    created = create(client, owner, name="Draft", definition=draft)
    codes = {problem["code"] for problem in created["problems"]}
    assert "config.jmespath" in codes
    assert created["problems"][0]["path"].startswith("/nodes/1/config")


def _names(client: TestClient, member: Member, query: str) -> list[str]:
    items = client.get(f"{BASE}?{query}", headers=member.headers).json()["items"]
    return [workflow["name"] for workflow in items]


def test_list_filters_sorts_and_pages(client: TestClient, owner: Member) -> None:
    for index, name in enumerate(["Gamma", "alpha", "Beta", "Delta billing"]):
        create(client, owner, name=name, tags=["billing"] if index % 2 else [])

    def names(query: str) -> list[str]:
        return _names(client, owner, query)

    # Names sort case-insensitively on both backends.
    assert names("sort=name") == ["alpha", "Beta", "Delta billing", "Gamma"]
    assert names("tag=billing&sort=name") == ["alpha", "Delta billing"]
    assert names("q=BILL") == ["Delta billing"]
    first = client.get(f"{BASE}?sort=-created_at&limit=3", headers=owner.headers).json()
    rest = client.get(
        f"{BASE}?sort=-created_at&limit=3&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    assert [w["name"] for w in first["items"] + rest["items"]] == [
        "Delta billing",
        "Beta",
        "alpha",
        "Gamma",
    ]
    assert rest["next_cursor"] is None
    assert "definition" not in first["items"][0]
    mixed = client.get(f"{BASE}?sort=name&cursor={first['next_cursor']}", headers=owner.headers)
    assert_problem(mixed, 400)


def test_name_sort_ignores_case_and_pages_consistently_both_ways(
    client: TestClient, owner: Member
) -> None:
    for key, name in [
        ("g", "gamma"),
        ("a2", "alpha"),
        ("b", "Beta"),
        ("a1", "Alpha"),
        ("b2", "beta2"),
        ("z", "Zeta"),
        ("u", "_under"),
    ]:
        create(client, owner, name=name, key=key)
    expected = ["_under", "Alpha", "alpha", "Beta", "beta2", "gamma", "Zeta"]

    def every_page(sort: str) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"sort": sort, "limit": "2", **({"cursor": cursor} if cursor else {})}
            page = client.get(BASE, params=params, headers=owner.headers).json()
            seen += [w["name"] for w in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                return seen

    assert every_page("name") == expected
    assert every_page("-name") == expected[::-1]


def test_search_matches_substrings_literally_and_follows_renames_and_trash(
    client: TestClient, owner: Member
) -> None:
    create(client, owner, name="Refund 50% of_orders", key="refunds")
    create(client, owner, name="Refund 50 percent", description='Says "hi" to CRM')
    create(client, owner, name="Plain", key="nightly-export")

    def names(q: str, *, deleted: bool = False) -> list[str]:
        params: dict[str, str | bool] = {"q": q, "sort": "name", "deleted": deleted}
        response = client.get(BASE, params=params, headers=owner.headers)
        return [workflow["name"] for workflow in response.json()["items"]]

    # % and _ are literal characters, not LIKE wildcards, whatever the index.
    assert names("50%") == ["Refund 50% of_orders"]
    assert names("f_o") == ["Refund 50% of_orders"]
    assert names("refund 50") == ["Refund 50 percent", "Refund 50% of_orders"]
    assert names('"hi" TO crm') == ["Refund 50 percent"]  # description, any case
    assert names("ly-exp") == ["Plain"]  # key
    assert names("50") == ["Refund 50 percent", "Refund 50% of_orders"]  # shorter than 3
    assert names("zzz") == []
    renamed = client.patch(
        f"{BASE}/nightly-export", json={"name": "Quarterly"}, headers=owner.headers
    )
    assert renamed.status_code == 200
    assert names("quarter") == ["Quarterly"]
    assert names("plain") == []
    assert client.delete(f"{BASE}/refunds", headers=owner.headers).status_code == 204
    assert names("of_orders") == []
    assert names("of_orders", deleted=True) == ["Refund 50% of_orders"]


def test_published_and_template_filters(client: TestClient, owner: Member) -> None:
    create(client, owner, name="Live")
    create(client, owner, name="Starter", is_template=True)
    client.post(f"{BASE}/live/versions/publish", json={}, headers=owner.headers)

    def names(query: str) -> list[str]:
        return _names(client, owner, query)

    assert names("published=true") == ["Live"]
    assert names("published=false") == ["Starter"]
    assert names("is_template=true") == ["Starter"]


def test_patch_changes_metadata_only(client: TestClient, owner: Member) -> None:
    create(client, owner, name="Sync")
    patched = client.patch(
        f"{BASE}/sync", json={"name": "Order sync", "tags": ["a", "b"]}, headers=owner.headers
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Order sync"
    assert patched.json()["key"] == "sync"
    assert patched.json()["version"] == 1
    assert_problem(
        client.patch(f"{BASE}/sync", json={"definition": {}}, headers=owner.headers), 422
    )
    assert_problem(
        client.patch(f"{BASE}/sync", json={"tags": ["no spaces!"]}, headers=owner.headers), 422
    )


def test_delete_moves_to_trash_and_restore_brings_it_back(
    client: TestClient, owner: Member
) -> None:
    created = create(client, owner, name="Sync")
    assert client.delete(f"{BASE}/sync", headers=owner.headers).status_code == 204
    assert_problem(client.get(f"{BASE}/sync", headers=owner.headers), 404)
    assert client.get(BASE, headers=owner.headers).json()["items"] == []
    trash = client.get(f"{BASE}?deleted=true", headers=owner.headers).json()["items"]
    assert [w["id"] for w in trash] == [created["id"]]
    restored = client.post(f"{BASE}/{created['id']}/restore", headers=owner.headers)
    assert restored.status_code == 200
    assert client.get(f"{BASE}/sync", headers=owner.headers).json()["id"] == created["id"]


def test_a_reused_key_starts_a_fresh_history_and_blocks_restore(
    client: TestClient, owner: Member
) -> None:
    old = create(client, owner, name="Sync")
    client.put(
        f"{BASE}/sync",
        json={"definition": linear("https://v2.example.com")},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    client.delete(f"{BASE}/sync", headers=owner.headers)
    new = create(client, owner, name="Sync")
    assert new["key"] == "sync"
    assert new["id"] != old["id"]
    history = client.get(f"{BASE}/sync/versions", headers=owner.headers).json()["items"]
    assert [v["number"] for v in history] == [1]
    assert_problem(client.post(f"{BASE}/{old['id']}/restore", headers=owner.headers), 409)


def test_restore_by_key_is_400_saying_the_id_is_needed_and_where_to_find_it(
    client: TestClient, owner: Member
) -> None:
    create(client, owner, name="Sync")
    client.delete(f"{BASE}/sync", headers=owner.headers)
    body = assert_problem(client.post(f"{BASE}/sync/restore", headers=owner.headers), 400)
    assert "restore needs the workflow's id, not a key like 'sync'" in body["detail"]
    assert "GET /api/v1/projects/alpha/workflows?deleted=true" in body["detail"]
    # Still 404, not 400, in a project the caller cannot see.
    assert_problem(
        client.post("/api/v1/projects/nowhere/workflows/sync/restore", headers=owner.headers), 404
    )


def test_a_deleted_workflow_whose_key_was_reused_is_restored_under_a_new_key(
    client: TestClient, owner: Member
) -> None:
    old = create(client, owner, name="Sync")
    client.delete(f"{BASE}/sync", headers=owner.headers)
    create(client, owner, name="Sync")
    refused = client.post(f"{BASE}/{old['id']}/restore", headers=owner.headers)
    assert_problem(refused, 409)
    assert refused.json()["errors"][0]["code"] == "key.taken"
    taken = client.post(f"{BASE}/{old['id']}/restore", json={"key": "sync"}, headers=owner.headers)
    assert_problem(taken, 409)
    assert_problem(
        client.post(f"{BASE}/{old['id']}/restore", json={"key": "Bad Key"}, headers=owner.headers),
        422,
    )
    restored = client.post(
        f"{BASE}/{old['id']}/restore", json={"key": "sync-old"}, headers=owner.headers
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["key"] == "sync-old"
    assert client.get(f"{BASE}/sync-old", headers=owner.headers).json()["id"] == old["id"]
    assert client.get(f"{BASE}/sync", headers=owner.headers).json()["id"] != old["id"]
    audit = client.get(
        "/api/v1/projects/alpha/audit?action=workflow.restore", headers=owner.headers
    ).json()["items"]
    assert audit[0]["summary"]["from"] == "sync"
    assert audit[0]["summary"]["to"] == "sync-old"


def test_patch_changes_the_key_and_frees_the_old_one(client: TestClient, owner: Member) -> None:
    created = create(client, owner, name="Sync")
    create(client, owner, name="Other")
    assert_problem(client.patch(f"{BASE}/sync", json={"key": "other"}, headers=owner.headers), 409)
    assert_problem(client.patch(f"{BASE}/sync", json={"key": "-bad-"}, headers=owner.headers), 422)
    renamed = client.patch(
        f"{BASE}/sync", json={"key": "order-sync", "name": "Order sync"}, headers=owner.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["key"], renamed.json()["name"]) == ("order-sync", "Order sync")
    assert renamed.json()["id"] == created["id"]
    assert_problem(client.get(f"{BASE}/sync", headers=owner.headers), 404)
    assert create(client, owner, name="Sync")["key"] == "sync"  # the old key is free
    audit = client.get(
        "/api/v1/projects/alpha/audit?action=workflow.rekey", headers=owner.headers
    ).json()["items"]
    assert [(a["summary"]["from"], a["summary"]["to"]) for a in audit] == [("sync", "order-sync")]
    # The same key again is no change and no audit entry.
    client.patch(f"{BASE}/order-sync", json={"key": "order-sync"}, headers=owner.headers)
    again = client.get(
        "/api/v1/projects/alpha/audit?action=workflow.rekey", headers=owner.headers
    ).json()["items"]
    assert len(again) == 1


def test_clone_copies_the_head_as_version_one(client: TestClient, owner: Member) -> None:
    create(client, owner, name="Sync")
    client.put(
        f"{BASE}/sync",
        json={"definition": linear("https://v2.example.com")},
        headers={**owner.headers, "If-Match": '"1"'},
    )
    cloned = client.post(f"{BASE}/sync/clone", json={"name": "Sync copy"}, headers=owner.headers)
    assert cloned.status_code == 201
    body = cloned.json()
    assert (body["key"], body["version"]) == ("sync-copy", 1)
    assert body["definition"] == linear("https://v2.example.com")


def test_builtin_and_project_templates_create_workflows(client: TestClient, owner: Member) -> None:
    templates = client.get("/api/v1/templates", headers=owner.headers).json()
    builtin = [t["key"] for t in templates if t["builtin"]]
    assert len(builtin) >= 3
    for key in builtin:
        made = client.post(
            BASE, json={"name": f"From {key}", "template": key}, headers=owner.headers
        )
        assert made.status_code == 201, made.text
        # Complete, save for the secrets they name and this project lacks (what
        # publishing would refuse, so the draft says so).
        errors = {p["code"] for p in made.json()["problems"] if p["severity"] == "error"}
        assert errors <= {"secret.unknown"}, made.json()["problems"]
    create(client, owner, name="House style", is_template=True)
    own = [
        t for t in client.get("/api/v1/templates", headers=owner.headers).json() if not t["builtin"]
    ]
    assert [t["name"] for t in own] == ["House style"]
    made = client.post(BASE, json={"name": "Mine", "template": own[0]["id"]}, headers=owner.headers)
    assert made.json()["definition"] == linear()
    assert_problem(
        client.post(BASE, json={"name": "x", "template": "nope"}, headers=owner.headers), 404
    )
    assert_problem(
        client.post(
            BASE,
            json={"name": "x", "template": "webhook-to-http", "definition": linear()},
            headers=owner.headers,
        ),
        422,
    )


def test_a_project_template_by_key_and_its_rule_against_a_builtin_of_the_same_key(
    client: TestClient, owner: Member
) -> None:
    create(client, owner, name="House style", is_template=True)
    by_key = client.post(
        BASE, json={"name": "Mine", "template": "house-style"}, headers=owner.headers
    )
    assert by_key.status_code == 201, by_key.text
    assert by_key.json()["definition"] == linear()
    history = client.get(f"{BASE}/mine/versions", headers=owner.headers).json()["items"]
    assert history[0]["message"] == "Created from template house-style"

    # The project's template wins over the built-in with its key; builtin: reaches the built-in.
    own = linear("https://own.example.com")
    create(client, owner, name="Ours", key="webhook-to-http", is_template=True, definition=own)
    shadowed = client.post(
        BASE, json={"name": "A", "template": "webhook-to-http"}, headers=owner.headers
    )
    assert shadowed.json()["definition"] == own
    builtin = client.post(
        BASE, json={"name": "B", "template": "builtin:webhook-to-http"}, headers=owner.headers
    )
    assert builtin.status_code == 201, builtin.text
    assert builtin.json()["definition"]["nodes"][0]["type"] == "webhook"

    # A workflow that is not a template does not hide the built-in of its key...
    create(client, owner, name="Plain", key="branch-on-amount")
    plain = client.post(
        BASE, json={"name": "C", "template": "branch-on-amount"}, headers=owner.headers
    )
    assert plain.status_code == 201
    assert plain.json()["definition"] != linear()
    # ...and is refused by its key when no built-in has it.
    create(client, owner, name="Not a template")
    body = assert_problem(
        client.post(BASE, json={"name": "D", "template": "not-a-template"}, headers=owner.headers),
        422,
    )
    assert body["errors"][0]["code"] == "template.not_template"
    assert_problem(
        client.post(
            BASE, json={"name": "E", "template": "builtin:house-style"}, headers=owner.headers
        ),
        404,
    )


def test_viewers_read_but_cannot_write(client: TestClient, owner: Member, db: Database) -> None:
    create(client, owner, name="Sync")
    viewer = make_user(db, "vic@example.com")
    add_member(db, "alpha", viewer, Role.VIEWER)
    assert client.get(f"{BASE}/sync", headers=viewer.headers).status_code == 200
    assert_problem(
        client.post(BASE, json={"name": "x", "definition": linear()}, headers=viewer.headers), 403
    )
    assert_problem(
        client.put(
            f"{BASE}/sync",
            json={"definition": linear()},
            headers={**viewer.headers, "If-Match": '"1"'},
        ),
        403,
    )
    assert_problem(client.delete(f"{BASE}/sync", headers=viewer.headers), 403)


def test_other_projects_workflows_are_invisible(
    client: TestClient, owner: Member, outsider: Member
) -> None:
    created = create(client, owner, name="Secret plan")
    assert_problem(
        client.get(f"/api/v1/projects/beta/workflows/{created['id']}", headers=outsider.headers),
        404,
    )
    assert_problem(client.get(f"{BASE}/{created['id']}", headers=outsider.headers), 404)
    assert (
        client.get("/api/v1/projects/beta/workflows", headers=outsider.headers).json()["items"]
        == []
    )


def test_node_types_and_validate(client: TestClient, owner: Member) -> None:
    types = {t["name"]: t for t in client.get("/api/v1/node-types", headers=owner.headers).json()}
    assert {"webhook", "manual", "transform", "http_call", "branch", "delay", "terminate"} <= set(
        types
    )
    assert types["transform"]["config_schema"]["type"] == "object"
    ok = client.post(
        "/api/v1/projects/alpha/validate", json={"definition": linear()}, headers=owner.headers
    )
    assert ok.json() == {"valid": True, "errors": [], "warnings": []}
    bad = linear()
    bad["nodes"][2]["type"] = "teleport"
    report = client.post(
        "/api/v1/projects/alpha/validate", json={"definition": bad}, headers=owner.headers
    ).json()
    assert report["valid"] is False
    assert report["errors"][0]["path"] == "/nodes/2/type"
