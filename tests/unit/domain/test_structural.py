from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from meshhook.domain.errors import ValidationFailed
from meshhook.domain.validation import (
    MAX_DEFINITION_BYTES,
    MAX_DEPTH,
    MAX_EDGES,
    MAX_NODES,
    ensure_structurally_valid,
    structural_problems,
)


def node(node_id: str, node_type: str = "transform", **extra: Any) -> dict[str, Any]:
    config = {"expression": "@"} if node_type == "transform" else {}
    return {"id": node_id, "type": node_type, "config": config, **extra}


def chain(*ids: str) -> dict[str, Any]:
    return {
        "nodes": [node(ids[0], "manual"), *(node(i) for i in ids[1:])],
        "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)],
    }


def codes(definition: Any, **kwargs: Any) -> list[tuple[str, str]]:
    return [(p.code, p.path) for p in structural_problems(definition, **kwargs)]


def test_a_sound_definition_has_no_structural_problems() -> None:
    assert structural_problems(chain("a", "b", "c")) == []


@pytest.mark.parametrize("value", [[], "x", 3, None])
def test_definition_must_be_an_object(value: Any) -> None:
    assert codes(value) == [("definition.not_object", "")]


def test_unknown_top_level_key_and_missing_nodes_are_reported() -> None:
    assert codes({"edges": [], "extra": 1}) == [
        ("definition.unknown_key", "/extra"),
        ("definition.missing_key", "/nodes"),
    ]


def test_wrong_types_of_nodes_edges_and_settings() -> None:
    found = codes({"nodes": {}, "edges": "x", "settings": []})
    assert ("definition.invalid_type", "/nodes") in found
    assert ("definition.invalid_type", "/edges") in found
    assert ("definition.invalid_type", "/settings") in found


@pytest.mark.parametrize(
    ("bad_node", "code", "path"),
    [
        ("x", "node.not_object", "/nodes/1"),
        ({"id": "-bad", "type": "transform"}, "node.invalid_id", "/nodes/1/id"),
        ({"id": "a" * 65, "type": "transform"}, "node.invalid_id", "/nodes/1/id"),
        ({"id": "has space", "type": "transform"}, "node.invalid_id", "/nodes/1/id"),
        ({"id": "ok\n", "type": "transform"}, "node.invalid_id", "/nodes/1/id"),
        ({"type": "transform"}, "node.invalid_id", "/nodes/1/id"),
        ({"id": "b"}, "node.invalid_type", "/nodes/1/type"),
        ({"id": "b", "type": "teleport"}, "node.unknown_type", "/nodes/1/type"),
        ({"id": "b", "type": "delay", "name": "n" * 201}, "node.invalid_name", "/nodes/1/name"),
        (
            {"id": "b", "type": "delay", "position": {"x": 1}},
            "node.invalid_position",
            "/nodes/1/position",
        ),
        (
            {"id": "b", "type": "delay", "position": {"x": True, "y": 1}},
            "node.invalid_position",
            "/nodes/1/position",
        ),
        ({"id": "b", "type": "delay", "config": []}, "node.invalid_config", "/nodes/1/config"),
        ({"id": "b", "type": "delay", "colour": "red"}, "node.unknown_key", "/nodes/1/colour"),
    ],
)
def test_bad_nodes_are_reported_at_their_pointer(bad_node: Any, code: str, path: str) -> None:
    definition = {"nodes": [node("a", "manual"), bad_node], "edges": []}
    assert (code, path) in codes(definition)


def test_duplicate_node_id_names_the_first_use() -> None:
    definition = {"nodes": [node("a", "manual"), node("b"), node("b")], "edges": []}
    problems = structural_problems(definition)
    assert [(p.code, p.path) for p in problems] == [("node.duplicate_id", "/nodes/2/id")]
    assert "/nodes/1" in problems[0].message


@pytest.mark.parametrize(
    ("edge", "code", "path"),
    [
        ("x", "edge.not_object", "/edges/1"),
        ({"from": "a"}, "edge.invalid_endpoint", "/edges/1/to"),
        ({"from": "a", "to": "ghost"}, "edge.unknown_node", "/edges/1/to"),
        ({"from": "a", "to": "b", "when": 1}, "edge.invalid_when", "/edges/1/when"),
        ({"from": "a", "to": "b", "when": "true"}, "edge.unknown_output", "/edges/1/when"),
        ({"from": "b", "to": "b"}, "edge.self_loop", "/edges/1"),
        ({"from": "a", "to": "b"}, "edge.duplicate", "/edges/1"),
        ({"from": "a", "to": "b", "label": "x"}, "edge.unknown_key", "/edges/1/label"),
    ],
)
def test_bad_edges_are_reported_at_their_pointer(edge: Any, code: str, path: str) -> None:
    definition = chain("a", "b")
    definition["edges"].append(edge)
    assert (code, path) in codes(definition)


def test_when_must_name_an_output_of_a_branch() -> None:
    definition = {
        "nodes": [node("a", "manual"), {"id": "c", "type": "branch", "config": {}}, node("d")],
        "edges": [
            {"from": "a", "to": "c"},
            {"from": "c", "to": "d", "when": "true"},
            {"from": "c", "to": "d", "when": "maybe"},
        ],
    }
    problems = structural_problems(definition)
    assert [(p.code, p.path) for p in problems] == [("edge.unknown_output", "/edges/2/when")]
    assert "'true', 'false'" in problems[0].message


def test_a_cycle_is_reported_with_the_nodes_on_it_in_order() -> None:
    definition = chain("start", "a", "b", "c", "d")
    definition["edges"].append({"from": "c", "to": "a"})
    problems = structural_problems(definition)
    assert [p.code for p in problems] == ["graph.cycle"]
    assert problems[0].message == "cycle: a → b → c → a"
    assert problems[0].path == "/edges/4"  # the edge c → a that closes it


def test_two_separate_cycles_are_both_named() -> None:
    definition = chain("s", "a", "b", "x", "y")
    definition["edges"] += [{"from": "b", "to": "a"}, {"from": "y", "to": "x"}]
    messages = sorted(p.message for p in structural_problems(definition))
    assert messages == ["cycle: a → b → a", "cycle: x → y → x"]


def test_nodes_downstream_of_a_cycle_are_not_named_as_on_it() -> None:
    definition = chain("s", "a", "b", "tail")
    definition["edges"].append({"from": "b", "to": "a"})
    (problem,) = structural_problems(definition)
    assert problem.message == "cycle: a → b → a"


def test_a_5000_node_chain_cycle_does_not_exhaust_the_stack() -> None:
    ids = [f"n{i}" for i in range(MAX_NODES)]
    definition = chain(*ids)
    definition["edges"].append({"from": ids[-1], "to": ids[1]})
    (problem,) = structural_problems(definition)
    assert problem.code == "graph.cycle"
    assert problem.message.startswith("cycle: n1 → n2 → ")


def test_limits_on_nodes_edges_size_and_depth() -> None:
    too_many = {"nodes": [node(f"n{i}") for i in range(MAX_NODES + 1)], "edges": []}
    assert codes(too_many) == [("limit.nodes", "/nodes")]
    edges = [{"from": "a", "to": "b"}] * (MAX_EDGES + 1)
    assert codes({"nodes": [], "edges": edges}) == [("limit.edges", "/edges")]
    assert codes(chain("a"), size_bytes=MAX_DEFINITION_BYTES + 1) == [("limit.size", "")]
    assert codes(chain("a"), size_bytes=MAX_DEFINITION_BYTES) == []


def test_nesting_deeper_than_64_levels_is_refused_with_a_pointer() -> None:
    definition = chain("a", "b")
    deep: Any = "leaf"
    for _ in range(MAX_DEPTH):
        deep = {"k": deep}
    definition["nodes"][1]["config"]["deep"] = deep
    (problem,) = structural_problems(definition)
    assert problem.code == "limit.depth"
    assert problem.path.startswith("/nodes/1/config/deep/k/k")


def test_nesting_of_exactly_64_levels_is_accepted() -> None:
    definition = chain("a", "b")
    deep: Any = 1
    for _ in range(MAX_DEPTH - 4):  # definition, nodes, node, config are 4 levels
        deep = [deep]
    definition["nodes"][1]["config"]["deep"] = deep
    assert structural_problems(definition) == []


def test_structural_validation_does_not_touch_completeness() -> None:
    definition = chain("a", "b")
    definition["nodes"][1]["config"] = {"expression": "(((", "typo": 1}
    definition["nodes"].append(node("island"))
    assert structural_problems(definition) == []


def test_ensure_structurally_valid_raises_422_with_every_problem() -> None:
    definition = copy.deepcopy(chain("a", "b"))
    definition["edges"].append({"from": "b", "to": "zzz"})
    with pytest.raises(ValidationFailed) as caught:
        ensure_structurally_valid(definition)
    assert caught.value.status == 422
    assert [p.code for p in caught.value.errors] == ["edge.unknown_node"]
