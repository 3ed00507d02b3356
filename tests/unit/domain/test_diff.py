from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain.diff import apply_patch, changed_units, diff_definitions

from .strategies import JSON, definitions, edited

BASE: dict[str, Any] = {
    "nodes": [
        {
            "id": "hook",
            "type": "webhook",
            "config": {"hmac_secret": "{{ secrets.HOOK }}"},
            "position": {"x": 0, "y": 0},
        },
        {
            "id": "call",
            "type": "http_call",
            "name": "Call",
            "config": {
                "url": "https://a.example.com",
                "headers": {"Authorization": "old-token", "Accept": "a"},
            },
            "position": {"x": 200, "y": 0},
        },
    ],
    "edges": [{"from": "hook", "to": "call"}],
    "settings": {"timeout_seconds": 60},
}


def modified(**changes: Any) -> dict[str, Any]:
    new = copy.deepcopy(BASE)
    for key, value in changes.items():
        new[key] = value
    return new


def test_identical_definitions_have_an_empty_diff() -> None:
    diff = diff_definitions(BASE, copy.deepcopy(BASE))
    assert diff["patch"] == []
    assert diff["summary"]["identical"] is True
    assert diff["nodes"] == {"added": [], "removed": [], "changed": []}


def test_changed_fields_are_pointers_relative_to_the_node() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][1]["config"]["url"] = "https://b.example.com"
    new["nodes"][1]["name"] = "Renamed"
    diff = diff_definitions(BASE, new)
    (changed,) = diff["nodes"]["changed"]
    assert changed["id"] == "call"
    assert {(f["path"], f["old"], f["new"]) for f in changed["fields"]} == {
        ("/config/url", "https://a.example.com", "https://b.example.com"),
        ("/name", "Call", "Renamed"),
    }


def test_layout_only_changes_are_reported_apart_from_changes() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][1]["position"] = {"x": 300, "y": 50}
    diff = diff_definitions(BASE, new)
    assert diff["nodes"]["changed"] == []
    assert diff["layout"]["moved"] == [
        {"id": "call", "old": {"x": 200, "y": 0}, "new": {"x": 300, "y": 50}}
    ]
    assert diff["summary"]["nodes_moved"] == 1


def test_sensitive_values_are_masked_everywhere_but_the_change_is_reported() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][1]["config"]["headers"]["Authorization"] = "new-token"
    new["nodes"].append(
        {
            "id": "extra",
            "type": "http_call",
            "config": {"url": "https://x", "auth": {"type": "bearer", "token": "added-token"}},
        }
    )
    new["edges"].append({"from": "call", "to": "extra"})
    diff = diff_definitions(BASE, new)
    text = repr(diff)
    for secret in ("old-token", "new-token", "added-token"):
        assert secret not in text
    (field,) = diff["nodes"]["changed"][0]["fields"]
    assert field == {
        "path": "/config/headers/Authorization",
        "op": "replace",
        "old": "***",
        "new": "***",
        "masked": True,
    }
    assert diff["nodes"]["added"][0]["config"]["auth"] == {"type": "bearer", "token": "***"}
    assert any(op.get("masked") for op in diff["patch"])


def test_removing_a_whole_sensitive_container_masks_inside_it() -> None:
    new = copy.deepcopy(BASE)
    del new["nodes"][1]["config"]["headers"]
    (field,) = diff_definitions(BASE, new)["nodes"]["changed"][0]["fields"]
    assert field["old"] == {"Authorization": "***", "Accept": "a"}
    assert field["masked"] is True


def test_unmasked_diff_shows_the_values() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][1]["config"]["headers"]["Authorization"] = "new-token"
    assert "new-token" in repr(diff_definitions(BASE, new, mask=False))


def test_edges_are_matched_by_from_to_and_when() -> None:
    new = modified(edges=[{"from": "hook", "to": "call", "when": "x"}])
    diff = diff_definitions(BASE, new)
    assert diff["edges"] == {
        "added": [{"from": "hook", "to": "call", "when": "x"}],
        "removed": [{"from": "hook", "to": "call"}],
    }


def test_settings_changes_are_pointers_relative_to_settings() -> None:
    diff = diff_definitions(BASE, modified(settings={"timeout_seconds": 90, "owner": "ops"}))
    assert diff["settings"]["changed"] == [
        {"path": "/owner", "op": "add", "old": None, "new": "ops"},
        {"path": "/timeout_seconds", "op": "replace", "old": 60, "new": 90},
    ]


def test_the_patch_edits_nodes_in_place_instead_of_replacing_the_document() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][1]["config"]["url"] = "https://b.example.com"
    assert diff_definitions(BASE, new)["patch"] == [
        {"op": "replace", "path": "/nodes/1/config/url", "value": "https://b.example.com"}
    ]


def test_changed_units_name_nodes_positions_edges_and_settings() -> None:
    new = copy.deepcopy(BASE)
    new["nodes"][0]["position"] = {"x": 1, "y": 1}
    new["nodes"][1]["name"] = "x"
    new["edges"] = []
    new["settings"]["owner"] = "me"
    assert changed_units(BASE, new) == {
        ("position", "hook"),
        ("node", "call"),
        ("edge", "hook", "call", ""),
        ("setting", "owner"),
    }


@settings(max_examples=150, deadline=None)
@given(definitions().flatmap(lambda d: st.tuples(st.just(d), edited(d))))
def test_unmasked_patch_turns_old_into_new(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    old, new = pair
    patch = diff_definitions(old, new, mask=False)["patch"]
    assert apply_patch(old, patch) == new


@settings(max_examples=100, deadline=None)
@given(definitions(), definitions())
def test_patch_between_unrelated_definitions_is_exact(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    assert apply_patch(old, diff_definitions(old, new, mask=False)["patch"]) == new


@settings(max_examples=100, deadline=None)
@given(definitions(), st.randoms(use_true_random=False))
def test_patch_handles_reordered_nodes_and_edges(old: dict[str, Any], rnd: random.Random) -> None:
    new = copy.deepcopy(old)
    rnd.shuffle(new["nodes"])
    rnd.shuffle(new["edges"])
    assert apply_patch(old, diff_definitions(old, new, mask=False)["patch"]) == new


@settings(max_examples=100, deadline=None)
@given(JSON, JSON)
def test_patch_is_exact_even_for_arbitrary_json(old: Any, new: Any) -> None:
    assert apply_patch(old, diff_definitions(old, new, mask=False)["patch"]) == new
