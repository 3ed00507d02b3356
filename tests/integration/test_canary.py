"""Weighted canary aliases: the split over 2,000 runs, what each run records,
the alias API (show, promote, drop, audited), validation, and the run list's
version filter; on both databases."""

from __future__ import annotations

import math
import random
from typing import Any

from fastapi.testclient import TestClient

from meshhook.domain.accounts import Role
from meshhook.services import runs, versions, workflows
from meshhook.services.runs import StartRequest
from meshhook.services.transactions import project_transaction
from meshhook.services.workflows import NewWorkflow
from meshhook.store.db import Database
from tests.factories import Member, add_member, assert_problem, make_user

BASE = "/api/v1/projects/alpha/workflows/split"
RUNS = 2_000
WEIGHT = 30


def definition(label: str) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "start", "type": "manual", "config": {}},
            {"id": "mark", "type": "transform", "config": {"expression": f"'{label}'"}},
        ],
        "edges": [{"from": "start", "to": "mark"}],
        "settings": {},
    }


def two_versions(db: Database, owner: Member) -> str:
    """Workflow ``split`` with published versions 1 and 2."""
    created = workflows.create(
        db, owner.actor, "alpha", NewWorkflow(name="Split"), definition=definition("one")
    )
    key = created.workflow.key
    versions.publish(db, owner.actor, "alpha", key)
    versions.save(db, owner.actor, "alpha", key, definition("two"), base_version=1)
    versions.publish(db, owner.actor, "alpha", key)
    return key


def test_the_canary_takes_its_weight_of_2000_runs_and_each_run_records_it(
    db: Database, owner: Member
) -> None:
    key = two_versions(db, owner)
    versions.set_alias(db, owner.actor, "alpha", key, "production", 1, versions.Canary(2, WEIGHT))
    draw = random.Random(20261203).random  # seeded: the same split every time
    with project_transaction(db, owner.actor, "alpha", Role.EDITOR) as scope:
        workflow = scope.find_workflow(key)
        started = [
            runs.start_in_scope(scope, owner.actor, workflow, StartRequest(), draw=draw).run
            for _ in range(RUNS)
        ]
    on_canary = [run for run in started if run.canary]
    # Within 4.5 standard deviations of the binomial mean (also true unseeded,
    # but for about one run in 150,000).
    mean = RUNS * WEIGHT / 100
    spread = 4.5 * math.sqrt(RUNS * WEIGHT / 100 * (1 - WEIGHT / 100))
    assert abs(len(on_canary) - mean) < spread, len(on_canary)
    assert all(run.version == 2 and run.alias == "production" for run in on_canary)
    assert all(run.version == 1 and not run.canary for run in started if not run.canary)
    stored = runs.get(db, owner.actor, "alpha", str(on_canary[0].id))
    assert (stored.version, stored.canary, stored.alias) == (2, True, "production")


def test_weights_0_and_100_and_a_named_alias_and_an_explicit_version(
    db: Database, owner: Member
) -> None:
    key = two_versions(db, owner)
    versions.set_alias(db, owner.actor, "alpha", key, "beta", 1, versions.Canary(2, 100))
    versions.set_alias(db, owner.actor, "alpha", key, "production", 1, versions.Canary(2, 0))
    with project_transaction(db, owner.actor, "alpha", Role.EDITOR) as scope:
        workflow = scope.find_workflow(key)
        for _ in range(50):
            via_beta = runs.resolve_version(scope, workflow, StartRequest(alias="beta"))
            assert (via_beta.number, via_beta.alias, via_beta.canary) == (2, "beta", True)
            default = runs.resolve_version(scope, workflow, StartRequest())
            assert (default.number, default.canary) == (1, False)
        pinned = runs.resolve_version(scope, workflow, StartRequest(version=2), draw=lambda: 0.0)
        assert (pinned.number, pinned.alias, pinned.canary) == (2, None, False)


def test_the_alias_api_shows_promotes_and_drops_the_canary_audited(
    client: TestClient, db: Database, owner: Member
) -> None:
    two_versions(db, owner)
    put = client.put(
        f"{BASE}/aliases/production",
        json={"version": 1, "canary": {"version": 2, "weight": 25}},
        headers=owner.headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["canary"] == {"version": 2, "weight": 25}
    listed = client.get(f"{BASE}/aliases", headers=owner.headers).json()
    assert [(a["name"], a["version"], a["canary"]) for a in listed] == [
        ("production", 1, {"version": 2, "weight": 25})
    ]
    promoted = client.put(
        f"{BASE}/aliases/production", json={"version": 2}, headers=owner.headers
    ).json()
    assert (promoted["version"], promoted["canary"]) == (2, None)
    client.put(
        f"{BASE}/aliases/production",
        json={"version": 2, "canary": {"version": 1, "weight": 10}},
        headers=owner.headers,
    )
    dropped = client.put(
        f"{BASE}/aliases/production", json={"version": 2, "canary": None}, headers=owner.headers
    ).json()
    assert (dropped["version"], dropped["canary"]) == (2, None)
    audit = client.get("/api/v1/projects/alpha/audit", headers=owner.headers).json()["items"]
    actions = [e["action"] for e in audit if e["action"].startswith("alias.")]
    assert actions == ["alias.canary_drop", "alias.canary", "alias.canary_promote", "alias.canary"]
    promote = next(e for e in audit if e["action"] == "alias.canary_promote")
    assert promote["summary"]["canary_before"] == {"version": 2, "weight": 25}
    assert promote["summary"]["to"] == 2


def test_a_bad_canary_is_a_problem_with_a_pointer(
    client: TestClient, db: Database, owner: Member
) -> None:
    two_versions(db, owner)
    url = f"{BASE}/aliases/production"
    for weight in (-1, 101, "half"):
        problem = assert_problem(
            client.put(
                url,
                json={"version": 1, "canary": {"version": 2, "weight": weight}},
                headers=owner.headers,
            ),
            422,
        )
        assert problem["errors"][0]["path"] == "/canary/weight"
    same = assert_problem(
        client.put(
            url, json={"version": 1, "canary": {"version": 1, "weight": 5}}, headers=owner.headers
        ),
        422,
    )
    assert same["errors"][0] == {
        **same["errors"][0],
        "path": "/canary/version",
        "code": "alias.canary_same",
    }
    unknown = assert_problem(
        client.put(
            url, json={"version": 1, "canary": {"version": 9, "weight": 5}}, headers=owner.headers
        ),
        422,
    )
    assert unknown["errors"][0]["path"] == "/canary/version"
    client.put(
        f"{BASE}",
        json={"definition": definition("three")},
        headers={**owner.headers, "If-Match": '"2"'},
    )
    draft = assert_problem(
        client.put(
            url, json={"version": 1, "canary": {"version": 3, "weight": 5}}, headers=owner.headers
        ),
        409,
    )
    assert draft["errors"][0]["path"] == "/canary/version"
    editor = make_user(db, "eve@example.com")
    add_member(db, "alpha", editor, Role.EDITOR)
    assert_problem(
        client.put(
            url, json={"version": 1, "canary": {"version": 2, "weight": 5}}, headers=editor.headers
        ),
        403,
    )


def test_the_run_list_filters_by_version(client: TestClient, db: Database, owner: Member) -> None:
    key = two_versions(db, owner)
    versions.set_alias(db, owner.actor, "alpha", key, "production", 1, versions.Canary(2, 50))
    with project_transaction(db, owner.actor, "alpha", Role.EDITOR) as scope:
        workflow = scope.find_workflow(key)
        draws = iter([0.1, 0.9, 0.2, 0.8, 0.7])  # canary below 0.5: 2, 1, 2, 1, 1
        for _ in range(5):
            runs.start_in_scope(
                scope, owner.actor, workflow, StartRequest(), draw=lambda: next(draws)
            )
    for number, count in ((1, 3), (2, 2)):
        page = client.get(
            f"/api/v1/projects/alpha/runs?workflow={key}&version={number}", headers=owner.headers
        ).json()["items"]
        assert len(page) == count
        assert {(run["version"], run["canary"]) for run in page} == {(number, number == 2)}
    bad = assert_problem(
        client.get("/api/v1/projects/alpha/runs?version=0", headers=owner.headers), 422
    )
    assert bad["errors"][0]["path"]
