"""``secrets scrub``: literal credentials out of every stored version, on both
databases, with the history otherwise byte for byte as it was."""

from __future__ import annotations

import copy
from typing import Any

import orjson
from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.domain.canonical import canonical_bytes, content_hash
from meshhook.store import version_content
from meshhook.store.db import Database
from tests.definitions import linear
from tests.factories import Member, add_member, assert_problem, make_user
from tests.integration.conftest import Cli
from tests.legacy_versions import insert_legacy_version

PROJECT = "/api/v1/projects/alpha"
WORKFLOWS = f"{PROJECT}/workflows"
SCRUB = f"{PROJECT}/secrets/scrub"
LITERALS = ("sk-live-first", "sk-live-second", "hook-literal")


def _with(headers: dict[str, str] | None = None, **config: Any) -> dict[str, Any]:
    definition = linear()
    call = definition["nodes"][2]["config"]
    call.update(copy.deepcopy(config))
    if headers is not None:
        call["headers"] = headers
    return definition


def _history(client: TestClient, owner: Member, db: Database) -> dict[str, dict[int, bytes]]:
    """sync: 1 clean, 2 and 3 literal, then enough clean saves to cross a keyframe;
    old: in the trash, its version 2 with a literal webhook secret."""
    clean = _with(headers={"Authorization": "Bearer {{ secrets.CRM_TOKEN }}"})
    client.post(WORKFLOWS, json={"name": "Sync", "definition": clean}, headers=owner.headers)
    expected = {"sync": {}, "old": {}}
    expected["sync"][1] = _version(client, owner, "sync", 1)
    expected["sync"][2] = insert_legacy_version(
        db, "alpha", "sync", _with(headers={"Authorization": f"Bearer {LITERALS[0]}"})
    )
    expected["sync"][3] = insert_legacy_version(
        db,
        "alpha",
        "sync",
        _with(
            headers={"Authorization": f"Bearer {LITERALS[0]}", "X-Api-Key": LITERALS[1]},
            auth={"type": "basic", "username": "svc", "password": LITERALS[1]},
        ),
    )
    head = 3
    for step in range(version_content.MAX_CHAIN_LENGTH + 2):
        edited = copy.deepcopy(clean)
        edited["nodes"][1]["config"]["expression"] = f"{{id: id, step: `{step}`}}"
        saved = client.put(
            f"{WORKFLOWS}/sync",
            json={"definition": edited},
            headers={**owner.headers, "If-Match": f'"{head}"'},
        )
        assert saved.status_code == 200, saved.text
        head += 1
        expected["sync"][head] = _version(client, owner, "sync", head)

    hooked = linear()
    hooked["nodes"][0] = {"id": "start", "type": "webhook", "config": {}}
    created = client.post(
        WORKFLOWS, json={"name": "Old", "definition": hooked}, headers=owner.headers
    ).json()
    expected["old"][1] = _version(client, owner, "old", 1)
    hooked["nodes"][0]["config"]["hmac_secret"] = LITERALS[2]
    client.delete(f"{WORKFLOWS}/old", headers=owner.headers)
    expected["old"][2] = insert_legacy_version(db, "alpha", created["id"], hooked, deleted=True)
    return {"sync": expected["sync"], created["id"]: expected["old"]}


def _version(client: TestClient, owner: Member, ref: str, number: int) -> bytes:
    found = client.get(f"{WORKFLOWS}/{ref}/versions/{number}", headers=owner.headers)
    assert found.status_code == 200, found.text
    return canonical_bytes(found.json()["definition"])


def _every_version(
    client: TestClient, owner: Member, refs: dict[str, dict[int, bytes]]
) -> dict[str, dict[int, bytes]]:
    return {
        ref: {n: _version(client, owner, ref, n) for n in numbers} for ref, numbers in refs.items()
    }


def _masked(data: bytes) -> bytes:
    """``data`` with each literal credential replaced as a scrub should."""
    text = data.decode()
    for literal in LITERALS:
        text = text.replace(f'"Bearer {literal}"', '"***"').replace(f'"{literal}"', '"***"')
    return text.encode()


def test_scrub_replaces_every_literal_in_history_and_keeps_the_rest_byte_for_byte(
    client: TestClient, owner: Member, db: Database
) -> None:
    before = _history(client, owner, db)
    trashed_id = next(ref for ref in before if ref != "sync")
    # the trash is read back through restore after the scrub
    dry = client.post(f"{SCRUB}?dry_run=true", headers=owner.headers)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True
    assert [(i["workflow_key"], i["version"], i["deleted"]) for i in report["scrubbed"]] == [
        ("old", 2, True),
        ("sync", 2, False),
        ("sync", 3, False),
    ]
    assert sorted(report["scrubbed"][2]["pointers"]) == [
        "/nodes/2/config/auth/password",
        "/nodes/2/config/headers/Authorization",
        "/nodes/2/config/headers/X-Api-Key",
    ]
    assert _version(client, owner, "sync", 2) == before["sync"][2]  # nothing written

    listed = client.get(f"{WORKFLOWS}/sync/versions?limit=200", headers=owner.headers).json()
    hashes = {item["number"]: item["content_hash"] for item in listed["items"]}
    done = client.post(SCRUB, headers=owner.headers).json()
    assert done["dry_run"] is False
    assert done["scrubbed"] == report["scrubbed"]
    assert done["workflows_checked"] == 2
    assert done["versions_checked"] == sum(len(v) for v in before.values())

    client.post(f"{WORKFLOWS}/{trashed_id}/restore", headers=owner.headers)
    after = _every_version(client, owner, {"sync": before["sync"], "old": before[trashed_id]})
    assert after["sync"] == {n: _masked(data) for n, data in before["sync"].items()}
    assert after["old"] == {n: _masked(data) for n, data in before[trashed_id].items()}
    for ref in after:
        for data in after[ref].values():
            assert not any(literal in data.decode() for literal in LITERALS)
    history = client.get(f"{WORKFLOWS}/sync/versions?limit=200", headers=owner.headers).json()
    for item in history["items"]:
        data = after["sync"][item["number"]]
        assert item["content_hash"] == content_hash(data)
        changed = item["number"] in (2, 3)
        assert (item["content_hash"] != hashes[item["number"]]) is changed
    scrubbed_v3 = client.get(f"{WORKFLOWS}/sync/versions/3", headers=owner.headers).json()
    assert {p["code"] for p in scrubbed_v3["problems"]} == {"secret.scrubbed"}

    bundle = client.get(f"{PROJECT}/export", headers=owner.headers)
    assert bundle.status_code == 200
    assert not any(literal in bundle.text for literal in LITERALS)
    compare = client.get(
        f"{WORKFLOWS}/sync/versions/compare?from=1&to=3", headers=owner.headers
    ).json()
    assert compare["nodes"]["changed"]

    # history keeps working: the head saves and a second scrub finds nothing
    head = max(after["sync"])
    saved = client.put(
        f"{WORKFLOWS}/sync",
        json={"definition": orjson.loads(after["sync"][head]) | {"settings": {"x": 1}}},
        headers={**owner.headers, "If-Match": f'"{head}"'},
    )
    assert saved.status_code == 200, saved.text
    assert _version(client, owner, "sync", head + 1) == canonical_bytes(saved.json()["definition"])
    assert _every_version(client, owner, {"sync": before["sync"]})["sync"] == after["sync"]
    assert client.post(SCRUB, headers=owner.headers).json()["scrubbed"] == []

    audit = client.get(f"{PROJECT}/audit?action=secret.scrub", headers=owner.headers).json()
    summaries = [(e["object_type"], e["summary"]) for e in audit["items"]]
    assert ("project", {"workflows": 2, "versions": 3, "fields": 5}) in summaries
    assert ("workflow", {"key": "sync", "versions": [2, 3], "fields": 4}) in summaries
    assert not any(literal in str(audit) for literal in LITERALS)


def test_only_admins_scrub(client: TestClient, owner: Member, db: Database) -> None:
    editor = make_user(db, "ed@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(client.post(SCRUB, headers=editor.headers), 403)


def test_the_cli_reports_then_scrubs(
    cli: Cli, client: TestClient, owner: Member, db: Database
) -> None:
    _history(client, owner, db)
    dry = cli("secrets", "scrub", "--dry-run", code=None)
    assert dry.exit_code == 0, dry.output
    assert "would replace 5 literal value(s) in 3 version(s)" in dry.output
    assert "old (trash)" in dry.output
    done = cli("secrets", "scrub", code=None)
    assert "replaced 5 literal value(s)" in done.output
    again = cli("secrets", "scrub", "--json", code=None)
    assert orjson.loads(again.stdout)["scrubbed"] == []
