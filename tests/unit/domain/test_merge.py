from __future__ import annotations

import copy
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from meshhook.domain import pointers
from meshhook.domain.diff import field_changes
from meshhook.domain.merge import three_way_merge
from meshhook.domain.structural import structural_problems

from .strategies import definitions, edited

BASE: dict[str, Any] = {
    "nodes": [
        {"id": "hook", "type": "webhook", "config": {}, "position": {"x": 0, "y": 0}},
        {
            "id": "a",
            "type": "transform",
            "config": {"expression": "@"},
            "position": {"x": 200, "y": 0},
        },
        {
            "id": "call",
            "type": "http_call",
            "config": {
                "url": "https://a.example.com",
                "headers": {"X-Api-Key": "{{ secrets.K0 }}"},
            },
            "position": {"x": 400, "y": 0},
        },
    ],
    "edges": [{"from": "hook", "to": "a"}, {"from": "a", "to": "call"}],
    "settings": {"timeout_seconds": 60, "owner": "ops"},
}


def copy_base() -> dict[str, Any]:
    return copy.deepcopy(BASE)


def test_edits_to_different_nodes_are_both_kept() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][1]["config"]["expression"] = "body"
    yours["nodes"][2]["config"]["url"] = "https://b.example.com"
    result = three_way_merge(BASE, theirs, yours)
    assert result.conflicts == []
    assert result.definition is not None
    assert result.definition["nodes"][1]["config"]["expression"] == "body"
    assert result.definition["nodes"][2]["config"]["url"] == "https://b.example.com"


def test_the_same_field_changed_differently_conflicts_at_that_field() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"]["url"] = "https://theirs.example.com"
    yours["nodes"][2]["config"]["url"] = "https://yours.example.com"
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is None
    (conflict,) = result.conflicts
    assert conflict.path == "/nodes/2/config/url"
    assert (conflict.base, conflict.theirs, conflict.yours) == (
        "https://a.example.com",
        "https://theirs.example.com",
        "https://yours.example.com",
    )
    assert conflict.side == "yours"


def test_different_config_fields_of_one_node_are_both_kept() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"]["url"] = "https://theirs.example.com"
    yours["nodes"][2]["config"]["method"] = "POST"
    result = three_way_merge(BASE, theirs, yours)
    assert result.conflicts == []
    assert result.definition is not None
    assert result.definition["nodes"][2]["config"] == {
        "url": "https://theirs.example.com",
        "method": "POST",
        "headers": BASE["nodes"][2]["config"]["headers"],
    }


def test_nested_config_objects_merge_by_key() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"]["headers"]["Accept"] = "application/json"
    del yours["nodes"][2]["config"]["headers"]["X-Api-Key"]
    yours["nodes"][2]["name"] = "Send the order"
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is not None
    node = result.definition["nodes"][2]
    assert node["config"]["headers"] == {"Accept": "application/json"}
    assert node["name"] == "Send the order"


def test_arrays_are_one_value_so_two_edits_of_one_list_conflict() -> None:
    base = copy_base()
    base["nodes"][0]["config"]["methods"] = ["POST"]
    theirs, yours = copy.deepcopy(base), copy.deepcopy(base)
    theirs["nodes"][0]["config"]["methods"] = ["POST", "PUT"]
    yours["nodes"][0]["config"]["methods"] = ["GET", "POST"]
    (conflict,) = three_way_merge(base, theirs, yours).conflicts
    assert (conflict.path, conflict.base) == ("/nodes/0/config/methods", ["POST"])
    assert (conflict.theirs, conflict.yours) == (["POST", "PUT"], ["GET", "POST"])


def test_only_the_overlapping_field_is_reported_when_others_merge() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"].update(url="https://theirs.example.com", method="PUT")
    yours["nodes"][2]["config"].update(url="https://yours.example.com", timeout_seconds=5)
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is None
    assert [c.path for c in result.conflicts] == ["/nodes/2/config/url"]
    assert result.conflicts[0].reason == "node 'call': changed on both sides"


def test_removing_an_object_the_other_side_edited_inside_conflicts_at_the_object() -> None:
    theirs, yours = copy_base(), copy_base()
    del theirs["nodes"][2]["config"]["headers"]
    yours["nodes"][2]["config"]["headers"]["Accept"] = "text/plain"
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert (conflict.path, conflict.theirs) == ("/nodes/2/config/headers", None)
    assert conflict.yours == {"X-Api-Key": "***", "Accept": "text/plain"}


def test_a_type_change_against_a_config_edit_conflicts_on_the_whole_node() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][1] = {"id": "a", "type": "delay", "config": {"duration_seconds": 5}}
    yours["nodes"][1]["name"] = "renamed"
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert conflict.path == "/nodes/1"
    assert "type changed" in conflict.reason


def test_identical_changes_on_both_sides_merge_cleanly() -> None:
    theirs, yours = copy_base(), copy_base()
    for side in (theirs, yours):
        side["nodes"][1]["config"]["expression"] = "same"
    assert three_way_merge(BASE, theirs, yours).definition == theirs


def test_conflicting_sensitive_values_are_masked() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"]["headers"]["X-Api-Key"] = "{{ secrets.K1 }}"
    yours["nodes"][2]["config"]["headers"]["X-Api-Key"] = "{{ secrets.K2 }}"
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert conflict.path == "/nodes/2/config/headers/X-Api-Key"
    assert (conflict.base, conflict.theirs, conflict.yours) == ("***", "***", "***")


def test_deleting_a_node_the_other_side_edited_conflicts_and_says_where() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][2]["config"]["url"] = "https://theirs.example.com"
    del yours["nodes"][2]
    yours["edges"].pop()
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert (conflict.path, conflict.side, conflict.yours) == ("/nodes/2", "theirs", None)
    assert "deleted in yours" in conflict.reason
    theirs_deleted = three_way_merge(BASE, yours, theirs).conflicts[0]
    assert (theirs_deleted.path, theirs_deleted.side) == ("/nodes/2", "yours")


def test_adding_the_same_id_with_different_content_conflicts() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"].append({"id": "new", "type": "delay", "config": {"duration_seconds": 1}})
    yours["nodes"].append({"id": "new", "type": "delay", "config": {"duration_seconds": 2}})
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert conflict.path == "/nodes/3/config/duration_seconds"
    assert conflict.base is None


def test_an_edge_to_a_node_the_other_side_deleted_is_a_conflict_not_a_broken_graph() -> None:
    theirs, yours = copy_base(), copy_base()
    del theirs["nodes"][2]
    theirs["edges"].pop()
    yours["nodes"].append({"id": "d", "type": "delay", "config": {"duration_seconds": 1}})
    yours["edges"].append({"from": "call", "to": "d"})
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is None
    assert [(c.path, c.side) for c in result.conflicts] == [("/edges/2", "yours")]
    assert "call" in result.conflicts[0].reason


def test_edges_from_both_sides_that_together_form_a_cycle_conflict() -> None:
    base = copy_base()
    base["nodes"].append({"id": "d", "type": "delay", "config": {"duration_seconds": 1}})
    theirs, yours = copy.deepcopy(base), copy.deepcopy(base)
    theirs["edges"].append({"from": "call", "to": "d"})
    yours["edges"].append({"from": "d", "to": "a"})
    assert structural_problems(theirs) == structural_problems(yours) == []
    result = three_way_merge(base, theirs, yours)
    assert result.definition is None
    (conflict,) = result.conflicts
    assert conflict.reason == "cycle: a → call → d → a"
    assert (conflict.path, conflict.side) == ("/edges/2", "yours")


def test_positions_never_conflict_and_your_move_wins() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"][1]["position"] = {"x": 1, "y": 1}
    yours["nodes"][1]["position"] = {"x": 2, "y": 2}
    theirs["nodes"][1]["config"]["expression"] = "body"
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is not None
    assert result.definition["nodes"][1] == {
        "id": "a",
        "type": "transform",
        "config": {"expression": "body"},
        "position": {"x": 2, "y": 2},
    }


def test_their_move_is_kept_when_you_did_not_move_the_node() -> None:
    theirs = copy_base()
    theirs["nodes"][1]["position"] = {"x": 1, "y": 1}
    result = three_way_merge(BASE, theirs, copy_base())
    assert result.definition == theirs


def test_settings_merge_by_key() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["settings"]["timeout_seconds"] = 90
    yours["settings"]["owner"] = "dev"
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is not None
    assert result.definition["settings"] == {"timeout_seconds": 90, "owner": "dev"}
    yours["settings"]["timeout_seconds"] = 30
    (conflict,) = three_way_merge(BASE, theirs, yours).conflicts
    assert (conflict.path, conflict.theirs, conflict.yours) == ("/settings/timeout_seconds", 90, 30)


def test_result_order_is_theirs_then_your_additions() -> None:
    theirs, yours = copy_base(), copy_base()
    theirs["nodes"].append({"id": "t-new", "type": "delay", "config": {"duration_seconds": 1}})
    yours["nodes"].append({"id": "y-new", "type": "delay", "config": {"duration_seconds": 1}})
    result = three_way_merge(BASE, theirs, yours)
    assert result.definition is not None
    assert [n["id"] for n in result.definition["nodes"]] == ["hook", "a", "call", "t-new", "y-new"]


def test_the_result_does_not_share_objects_with_the_inputs() -> None:
    theirs = copy_base()
    result = three_way_merge(BASE, theirs, copy_base())
    assert result.definition is not None
    result.definition["nodes"][0]["config"]["path"] = "changed"
    assert "path" not in theirs["nodes"][0]["config"]


def edited_pair() -> st.SearchStrategy[tuple[dict[str, Any], dict[str, Any]]]:
    return definitions().flatmap(lambda d: st.tuples(st.just(d), edited(d)))


@settings(max_examples=120, deadline=None)
@given(edited_pair())
def test_merge_law_only_theirs_changed(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, x = pair
    assert three_way_merge(base, x, base).definition == x


@settings(max_examples=120, deadline=None)
@given(edited_pair())
def test_merge_law_only_yours_changed(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, x = pair
    assert three_way_merge(base, base, x).definition == x


@settings(max_examples=120, deadline=None)
@given(edited_pair())
def test_merge_law_both_made_the_same_change(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    base, x = pair
    assert three_way_merge(base, x, copy.deepcopy(x)).definition == x


@settings(max_examples=120, deadline=None)
@given(definitions(max_nodes=8), st.data())
def test_disjoint_edits_are_both_in_the_merge(base: dict[str, Any], data: st.DataObject) -> None:
    assume(len(base["nodes"]) >= 3)
    i, j = data.draw(
        st.lists(st.integers(0, len(base["nodes"]) - 1), min_size=2, max_size=2, unique=True)
    )
    theirs, yours = copy.deepcopy(base), copy.deepcopy(base)
    theirs["nodes"][i]["name"] = "changed by theirs"
    yours["nodes"][j]["name"] = "changed by yours"
    yours["nodes"].append(
        {"id": "added-by-yours", "type": "delay", "config": {"duration_seconds": 5}}
    )
    yours["edges"].append({"from": yours["nodes"][0]["id"], "to": "added-by-yours"})
    theirs.setdefault("settings", {})["theirs-key"] = 1
    result = three_way_merge(base, theirs, yours)
    assert result.conflicts == []
    assert result.definition is not None
    merged = {n["id"]: n for n in result.definition["nodes"]}
    assert merged[base["nodes"][i]["id"]]["name"] == "changed by theirs"
    assert merged[base["nodes"][j]["id"]]["name"] == "changed by yours"
    assert "added-by-yours" in merged
    assert {"from": yours["nodes"][0]["id"], "to": "added-by-yours"} in result.definition["edges"]
    assert result.definition["settings"]["theirs-key"] == 1
    assert structural_problems(result.definition) == []


@settings(max_examples=120, deadline=None)
@given(definitions().flatmap(lambda d: st.tuples(st.just(d), edited(d), edited(d))))
def test_any_clean_merge_is_structurally_valid(triple: tuple[dict[str, Any], ...]) -> None:
    base, theirs, yours = triple
    result = three_way_merge(base, theirs, yours)
    if result.definition is not None:
        assert structural_problems(result.definition) == []
    else:
        assert result.conflicts


def _node_fields(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: {k: v for k, v in n.items() if k != "position"} for n in definition["nodes"]}


def _value_at(value: Any, where: str) -> Any:
    for token in pointers.split(where):
        if not isinstance(value, dict) or token not in value:
            return "<absent>"
        value = value[token]
    return value


def _changed_paths(old: Any, new: Any) -> list[str]:
    return [where for _, where, _, _ in field_changes(old, new)]


def _within(path: str, others: list[str]) -> bool:
    return any(path == o or path.startswith(o + "/") or o.startswith(path + "/") for o in others)


@settings(max_examples=150, deadline=None)
@given(definitions().flatmap(lambda d: st.tuples(st.just(d), edited(d), edited(d))))
def test_merge_law_fields_changed_on_one_side_keep_that_sides_value(
    triple: tuple[dict[str, Any], ...],
) -> None:
    base, theirs, yours = triple
    result = three_way_merge(base, theirs, yours)
    b, t, y = _node_fields(base), _node_fields(theirs), _node_fields(yours)
    if result.definition is None:
        # Every conflict inside a node kept on all three sides sits where both changed.
        for conflict in result.conflicts:
            tokens = pointers.split(conflict.path)
            if conflict.side != "yours" or tokens[0] != "nodes" or len(tokens) < 3:
                continue
            node_id = yours["nodes"][int(tokens[1])]["id"]
            inner = pointers.join("", *tokens[2:])
            if node_id in b and node_id in t and b[node_id]["type"] == t[node_id]["type"]:
                assert _within(inner, _changed_paths(b[node_id], t[node_id]))
                assert _within(inner, _changed_paths(b[node_id], y[node_id]))
        return
    merged = _node_fields(result.definition)
    for node_id in merged.keys() & b.keys() & t.keys() & y.keys():
        theirs_paths = _changed_paths(b[node_id], t[node_id])
        yours_paths = _changed_paths(b[node_id], y[node_id])
        for where in theirs_paths:
            assert _value_at(merged[node_id], where) == _value_at(t[node_id], where)
        for where in yours_paths:
            assert _value_at(merged[node_id], where) == _value_at(y[node_id], where)
        untouched = _changed_paths(b[node_id], merged[node_id])
        assert all(_within(p, theirs_paths + yours_paths) for p in untouched)


@settings(max_examples=100, deadline=None)
@given(definitions(max_nodes=6), st.data())
def test_disjoint_config_fields_of_one_node_are_both_in_the_merge(
    base: dict[str, Any], data: st.DataObject
) -> None:
    base = copy.deepcopy(base)
    i = data.draw(st.integers(0, len(base["nodes"]) - 1))
    base["nodes"][i]["config"]["zz_theirs"] = 0
    theirs, yours = copy.deepcopy(base), copy.deepcopy(base)
    theirs["nodes"][i]["config"]["zz_theirs"] = data.draw(st.integers(1, 9))
    yours["nodes"][i]["config"]["zz_yours"] = data.draw(st.text(max_size=4))
    result = three_way_merge(base, theirs, yours)
    assert result.conflicts == []
    assert result.definition is not None
    config = result.definition["nodes"][i]["config"]
    assert config["zz_theirs"] == theirs["nodes"][i]["config"]["zz_theirs"]
    assert config["zz_yours"] == yours["nodes"][i]["config"]["zz_yours"]
