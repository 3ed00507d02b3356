"""A PUT of an edited head (issue #15 §4): the nodes sent exactly as in the
head this process saved are not checked again, and the answer is byte for
byte what a server that checks everything answers (a fresh process: every
cache emptied)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meshhook.domain import preparation
from meshhook.domain.preparation import SOUND, prepare
from meshhook.services import transactions, versions
from meshhook.store import version_content
from tests.factories import Member, assert_problem

BASE = "/api/v1/projects/alpha/workflows"
URL = f"{BASE}/big"
COUNT = 160  # past SOUND.MIN_BYTES of canonical text


def big() -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "start", "type": "manual", "name": "Départ ✓", "config": {}},
    ]
    for i in range(1, COUNT):
        if i % 2:
            config: dict[str, Any] = {
                "expression": "{a: a, total: sum(items[].price)}",
                "nested": {"ratio": 0.1 + i, "whole": 2.0, "list": [1, 1.5, "ü", {"z": None}]},
            }
            kind = "transform"
        else:
            config = {"method": "POST", "url": f"https://api.example.com/{i}", "body": "Größe"}
            kind = "http_call"
        nodes.append(
            {
                "id": f"n{i}",
                "type": kind,
                "name": f"Schritt {i} — 日本",
                "config": config,
                "position": {"x": i * 10.5, "y": -0.0},
            }
        )
    edges = [{"from": nodes[i - 1]["id"], "to": nodes[i]["id"]} for i in range(1, COUNT)]
    return {"nodes": nodes, "edges": edges, "settings": {"timeout_seconds": 60.0}}


def put(client: TestClient, owner: Member, definition: Any, base: int) -> Any:
    return client.put(
        URL,
        json={"definition": definition},
        headers={**owner.headers, "If-Match": f'"{base}"'},
    )


def forget_everything() -> None:
    """What a fresh server process holds: nothing."""
    SOUND.clear()
    transactions.PROBLEMS.clear()
    version_content.TEXTS.clear()
    versions._LAST_SAVED.clear()


def as_a_fresh_server(client: TestClient, owner: Member) -> Any:
    forget_everything()
    return client.get(URL, headers=owner.headers)


def test_a_put_of_the_edited_head_answers_as_a_full_check_does(
    client: TestClient, owner: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = client.post(BASE, json={"name": "Big", "definition": big()}, headers=owner.headers)
    assert created.status_code == 201, created.text
    first = big()
    first["nodes"][3]["config"]["nested"]["ratio"] = 0.75
    del first["nodes"][6]["config"]["url"]  # a draft: a completeness problem
    assert put(client, owner, first, 1).status_code == 200

    checked: list[Any] = []
    real = preparation.check_structure

    def spy(definition: Any, **kwargs: Any) -> Any:
        checked.append(kwargs.get("unchanged"))
        return real(definition, **kwargs)

    monkeypatch.setattr(preparation, "check_structure", spy)
    second = copy.deepcopy(first)
    second["nodes"][5]["name"] = "Ändern ✓ 1.0"
    second["nodes"][9]["config"]["nested"]["whole"] = 3.0
    del second["nodes"][10]["config"]["url"]  # one problem more; node 6's stays
    answer = put(client, owner, second, 2)
    assert answer.status_code == 200, answer.text
    # Only the three changed nodes were checked again.
    assert [getattr(unchanged, "excluded", None) for unchanged in checked] == [{5, 9, 10}]
    body = answer.json()
    assert [p["path"] for p in body["problems"] if p["code"] == "config.schema"] == [
        "/nodes/6/config/url",
        "/nodes/10/config/url",
    ]
    expected = prepare(copy.deepcopy(second))
    assert answer.headers["etag"] == '"3"'
    assert body["content_hash"] == expected.content_hash
    assert body["definition"] == expected.definition

    fresh = as_a_fresh_server(client, owner)
    assert fresh.status_code == 200
    assert fresh.json() == body
    assert fresh.headers["etag"] == answer.headers["etag"]
    # The definition's text in the answer is the stored canonical text itself.
    assert expected.canonical.rstrip(b"\n") in answer.content
    assert expected.canonical.rstrip(b"\n") in fresh.content


def test_a_refused_edit_of_the_head_answers_as_a_full_check_does(
    client: TestClient, owner: Member
) -> None:
    created = client.post(BASE, json={"name": "Big", "definition": big()}, headers=owner.headers)
    assert created.status_code == 201, created.text
    first = big()
    first["nodes"][2]["name"] = "edited"
    assert put(client, owner, first, 1).status_code == 200
    broken = copy.deepcopy(first)
    broken["nodes"][4]["id"] = "n8"  # takes an unchanged node's id
    broken["edges"][3]["to"] = "n8"
    broken["nodes"][7]["position"]["x"] = True  # was 73.5: no number
    refused = assert_problem(put(client, owner, broken, 2), 422)
    forget_everything()
    again = assert_problem(put(client, owner, broken, 2), 422)
    assert refused["errors"] == again["errors"]
    assert {e["path"] for e in refused["errors"]} >= {"/definition/nodes/7/position"}
    assert client.get(URL, headers=owner.headers).headers["etag"] == '"2"'
