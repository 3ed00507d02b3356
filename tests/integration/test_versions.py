"""Versions over the API: saves with If-Match, merge and conflicts, publish,
revert, compare, aliases, and the immutability of published versions."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.store.db import Database
from tests.definitions import edited, linear
from tests.factories import Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows"


def setup_workflow(client: TestClient, member: Member) -> str:
    response = client.post(
        BASE, json={"name": "Sync", "definition": linear()}, headers=member.headers
    )
    assert response.status_code == 201
    return f"{BASE}/sync"


def save(
    client: TestClient, member: Member, url: str, definition: Any, base: int, message: str = ""
) -> Any:
    return client.put(
        url,
        json={"definition": definition, "message": message},
        headers={**member.headers, "If-Match": f'"{base}"'},
    )


def test_each_save_is_a_new_version_and_identical_content_creates_none(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    second = save(client, owner, url, edited(linear(), "send", "url", "https://b.example"), 1, "b")
    assert second.status_code == 200
    assert second.headers["etag"] == '"2"'
    assert second.json()["merged"] is False
    same = save(client, owner, url, edited(linear(), "send", "url", "https://b.example"), 2)
    assert same.headers["etag"] == '"2"'
    history = client.get(f"{url}/versions", headers=owner.headers).json()["items"]
    assert [(v["number"], v["message"], v["state"]) for v in history] == [
        (2, "b", "draft"),
        (1, "Created", "draft"),
    ]
    assert history[0]["created_by"] == "alice@example.com"
    assert history[0]["parent_number"] == 1


def test_a_save_without_if_match_is_428_and_with_garbage_400(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    assert_problem(client.put(url, json={"definition": linear()}, headers=owner.headers), 428)
    for value in ("*", "abc", '"x"'):
        assert_problem(
            client.put(
                url, json={"definition": linear()}, headers={**owner.headers, "If-Match": value}
            ),
            400,
        )
    assert_problem(save(client, owner, url, linear(), 7), 412)


def test_a_stale_save_touching_other_nodes_is_merged(client: TestClient, owner: Member) -> None:
    url = setup_workflow(client, owner)
    theirs = edited(linear(), "send", "url", "https://theirs.example")
    assert save(client, owner, url, theirs, 1).headers["etag"] == '"2"'
    yours = edited(linear(), "shape", "expression", "{id: id}")
    merged = save(client, owner, url, yours, 1)
    assert merged.status_code == 200
    assert merged.json()["merged"] is True
    assert merged.headers["etag"] == '"3"'
    definition = merged.json()["definition"]
    configs = {node["id"]: node["config"] for node in definition["nodes"]}
    assert configs["send"]["url"] == "https://theirs.example"
    assert configs["shape"]["expression"] == "{id: id}"


def test_overlapping_stale_saves_are_409_with_the_conflicting_pointers(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    save(client, owner, url, edited(linear(), "send", "url", "https://theirs.example"), 1)
    body = assert_problem(
        save(client, owner, url, edited(linear(), "send", "url", "https://yours.example"), 1), 409
    )
    assert body["head_version"] == 2
    conflict = body["conflicts"][0]
    assert conflict["path"] == "/nodes/2/config/url"
    assert (conflict["base"], conflict["theirs"], conflict["yours"]) == (
        "https://api.example.com/orders",
        "https://theirs.example",
        "https://yours.example",
    )
    history = client.get(f"{url}/versions", headers=owner.headers).json()["items"]
    assert len(history) == 2


def test_stale_saves_editing_different_fields_of_one_node_are_merged(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    save(client, owner, url, edited(linear(), "send", "url", "https://theirs.example"), 1)
    yours = edited(linear(), "send", "query", {"page": "1"})
    merged = save(client, owner, url, yours, 1)
    assert merged.status_code == 200, merged.text
    assert merged.json()["merged"] is True
    (send,) = [n for n in merged.json()["definition"]["nodes"] if n["id"] == "send"]
    assert send["config"] == {
        "method": "POST",
        "url": "https://theirs.example",
        "query": {"page": "1"},
    }
    # A third stale save touching the URL again is refused at exactly that field.
    body = assert_problem(
        save(client, owner, url, edited(linear(), "send", "url", "https://yours.example"), 1), 409
    )
    assert [c["path"] for c in body["conflicts"]] == ["/nodes/2/config/url"]
    assert body["head_version"] == 3


def test_publish_makes_a_version_published_and_refuses_incomplete_ones(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    published = client.post(
        f"{url}/versions/publish", json={"tag": "v1.0.0", "note": "first"}, headers=owner.headers
    )
    assert published.status_code == 200
    assert (published.json()["state"], published.json()["tag"]) == ("published", "v1.0.0")
    assert client.get(url, headers=owner.headers).json()["published_version"] == 1

    broken = edited(linear(), "shape", "expression", "{{nope")
    save(client, owner, url, broken, 1)
    refused = assert_problem(
        client.post(f"{url}/versions/publish", json={}, headers=owner.headers), 422
    )
    assert refused["errors"][0]["code"] == "config.jmespath"
    assert client.get(url, headers=owner.headers).json()["published_version"] == 1
    assert_problem(
        client.post(f"{url}/versions/publish", json={"version": 9}, headers=owner.headers), 404
    )


def test_version_tags_are_unique_and_published_versions_never_change(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    client.post(f"{url}/versions/publish", json={"tag": "v1"}, headers=owner.headers)
    before = client.get(f"{url}/versions/1", headers=owner.headers).json()
    save(client, owner, url, edited(linear(), "send", "url", "https://two.example"), 1)
    assert_problem(
        client.post(f"{url}/versions/publish", json={"tag": "v1"}, headers=owner.headers), 409
    )
    assert_problem(
        client.post(
            f"{url}/versions/publish", json={"version": 1, "tag": "v9"}, headers=owner.headers
        ),
        409,
    )
    # Re-publishing the same version is harmless; nothing about it changes.
    again = client.post(f"{url}/versions/publish", json={"version": 1}, headers=owner.headers)
    assert again.status_code == 200
    revert = client.post(f"{url}/versions/1/revert", headers=owner.headers)
    assert revert.status_code == 200
    after = client.get(f"{url}/versions/1", headers=owner.headers).json()
    assert after == before
    assert_problem(
        client.post(f"{url}/versions/publish", json={"tag": "not a tag"}, headers=owner.headers),
        422,
    )


def test_revert_creates_a_new_head_equal_to_the_old_version(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    changed = copy.deepcopy(linear())
    changed["settings"] = {"timeout_seconds": 5}
    save(client, owner, url, changed, 1)
    reverted = client.post(f"{url}/versions/1/revert?publish=true", headers=owner.headers)
    assert reverted.status_code == 200
    body = reverted.json()
    assert body["version"] == 3
    assert body["published_version"] == 3
    assert body["definition"] == linear()
    assert body["definition"]["settings"] == {"timeout_seconds": 60}
    history = client.get(f"{url}/versions", headers=owner.headers).json()["items"]
    assert history[0]["message"] == "Revert to version 1"
    assert [v["number"] for v in history] == [3, 2, 1]
    assert_problem(client.post(f"{url}/versions/42/revert", headers=owner.headers), 404)


def test_compare_reports_changes_by_node_and_layout_apart(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    changed = edited(linear(), "send", "url", "https://b.example")
    changed["nodes"][0]["position"] = {"x": 10, "y": 50}
    changed["nodes"].append(
        {
            "id": "stop",
            "type": "terminate",
            "config": {"status": "succeeded"},
            "position": {"x": 600, "y": 0},
        }
    )
    changed["edges"].append({"from": "send", "to": "stop"})
    save(client, owner, url, changed, 1)
    diff = client.get(f"{url}/versions/compare?from=1&to=2", headers=owner.headers).json()
    assert [node["id"] for node in diff["nodes"]["added"]] == ["stop"]
    [changed_node] = diff["nodes"]["changed"]
    assert changed_node["id"] == "send"
    [field] = changed_node["fields"]
    assert (field["path"], field["old"], field["new"]) == (
        "/config/url",
        "https://api.example.com/orders",
        "https://b.example",
    )
    assert [moved["id"] for moved in diff["layout"]["moved"]] == ["start"]
    assert diff["edges"]["added"] == [{"from": "send", "to": "stop"}]
    assert diff["patch"]
    assert_problem(client.get(f"{url}/versions/compare?from=1&to=99", headers=owner.headers), 404)
    assert_problem(client.get(f"{url}/versions/compare?from=1", headers=owner.headers), 422)


def test_aliases_point_at_published_versions_only(
    client: TestClient, owner: Member, db: Database
) -> None:
    url = setup_workflow(client, owner)
    assert_problem(
        client.put(f"{url}/aliases/production", json={"version": 1}, headers=owner.headers), 409
    )
    client.post(f"{url}/versions/publish", json={}, headers=owner.headers)
    moved = client.put(f"{url}/aliases/production", json={"version": 1}, headers=owner.headers)
    assert moved.status_code == 200
    assert [
        (a["name"], a["version"])
        for a in client.get(f"{url}/aliases", headers=owner.headers).json()
    ] == [("production", 1)]
    editor = make_user(db, "ed@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(
        client.put(f"{url}/aliases/production", json={"version": 1}, headers=editor.headers), 403
    )
    assert_problem(
        client.put(f"{url}/aliases/Bad Name", json={"version": 1}, headers=owner.headers), 422
    )
    audit = client.get(
        "/api/v1/projects/alpha/audit?action=alias.move", headers=owner.headers
    ).json()
    assert audit["items"][0]["summary"]["to"] == 1


def test_an_alias_is_deleted_by_an_admin_and_audited(
    client: TestClient, owner: Member, db: Database
) -> None:
    url = setup_workflow(client, owner)
    client.post(f"{url}/versions/publish", json={}, headers=owner.headers)
    client.put(f"{url}/aliases/production", json={"version": 1}, headers=owner.headers)
    editor = make_user(db, "ed@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(client.delete(f"{url}/aliases/production", headers=editor.headers), 403)
    gone = client.delete(f"{url}/aliases/production", headers=owner.headers)
    assert gone.status_code == 204
    assert client.get(f"{url}/aliases", headers=owner.headers).json() == []
    assert_problem(client.delete(f"{url}/aliases/production", headers=owner.headers), 404)
    audit = client.get(
        "/api/v1/projects/alpha/audit?action=alias.delete", headers=owner.headers
    ).json()["items"]
    assert [(a["summary"]["alias"], a["summary"]["version"]) for a in audit] == [("production", 1)]


def test_every_state_change_is_audited_with_version_numbers(
    client: TestClient, owner: Member
) -> None:
    url = setup_workflow(client, owner)
    save(client, owner, url, edited(linear(), "send", "url", "https://b.example"), 1)
    client.post(f"{url}/versions/publish", json={}, headers=owner.headers)
    client.post(f"{url}/versions/1/revert", headers=owner.headers)
    client.delete(url, headers=owner.headers)
    entries = client.get("/api/v1/projects/alpha/audit", headers=owner.headers).json()["items"]
    actions = [
        (e["action"], e["summary"].get("version"))
        for e in entries
        if e["object_type"] == "workflow"
    ]
    assert actions == [
        ("workflow.delete", None),
        ("workflow.revert", 3),
        ("workflow.publish", 2),
        ("workflow.save", 2),
        ("workflow.create", 1),
    ]


def test_history_pages_and_bad_version_numbers(client: TestClient, owner: Member) -> None:
    url = setup_workflow(client, owner)
    for number in range(2, 6):
        save(
            client,
            owner,
            url,
            edited(linear(), "send", "url", f"https://{number}.example"),
            number - 1,
        )
    first = client.get(f"{url}/versions?limit=2", headers=owner.headers).json()
    second = client.get(
        f"{url}/versions?limit=2&cursor={first['next_cursor']}", headers=owner.headers
    ).json()
    assert [v["number"] for v in first["items"] + second["items"]] == [5, 4, 3, 2]
    assert_problem(client.get(f"{url}/versions/0", headers=owner.headers), 422)
    assert_problem(client.get(f"{url}/versions/6", headers=owner.headers), 404)
    assert_problem(client.get(f"{url}/versions/abc", headers=owner.headers), 422)
    assert_problem(client.get(f"{url}/versions?cursor=zzz", headers=owner.headers), 400)


def test_problems_are_capped_and_come_with_one_version_not_with_the_history(
    client: TestClient, owner: Member
) -> None:
    nodes = [{"id": "start", "type": "manual"}] + [
        {"id": f"n{i}", "type": "transform", "config": {"expression": f"a.{i}"}} for i in range(300)
    ]
    made = client.post(
        BASE,
        json={"name": "Many", "definition": {"nodes": nodes, "edges": []}},
        headers=owner.headers,
    )
    assert made.status_code == 201
    assert len(made.json()["problems"]) == 201
    assert made.json()["problems"][-1]["code"] == "problems.truncated"
    url = f"{BASE}/many"
    history = client.get(f"{url}/versions", headers=owner.headers).json()["items"]
    assert "problems" not in history[0]
    one = client.get(f"{url}/versions/1", headers=owner.headers).json()
    assert one["problems"] == made.json()["problems"]
