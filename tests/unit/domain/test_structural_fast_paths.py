"""The fast paths of structural validation answer exactly what the detailed
checks answer, and memoised graph answers equal fresh ones."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain import completeness, structural
from meshhook.domain.errors import Problem
from meshhook.domain.node_types import NodeType
from meshhook.domain.validation import completeness_problems, normalize_definition
from tests.unit.domain.strategies import definitions

ODD_VALUES = st.sampled_from(
    [None, True, 1, 1.5, float("inf"), "", "-bad", "n" * 201, [], {}, {"x": 1}, "webhook"]
)
NODE_KEYS = st.sampled_from(["id", "type", "name", "position", "config", "extra"])
EDGE_KEYS = st.sampled_from(["from", "to", "when", "extra"])


def _some(draw: st.DrawFn, items: list[Any]) -> Any:
    return items[draw(st.integers(0, len(items) - 1))]


def _damage(draw: st.DrawFn, definition: dict[str, Any]) -> None:
    """One targeted kind of damage (each as likely as the others)."""
    nodes, edges = definition["nodes"], definition["edges"]
    sound_nodes = [n for n in nodes if isinstance(n, dict)]
    edges_ = [e for e in edges if isinstance(e, dict)]
    if not sound_nodes:
        return
    node = _some(draw, sound_nodes)
    ids = [n.get("id") for n in sound_nodes]
    kind = draw(st.integers(0, 13))
    if kind == 0:
        node[draw(NODE_KEYS)] = draw(ODD_VALUES)
    elif kind == 1:
        node["name"] = "n" * draw(st.sampled_from([200, 201]))
    elif kind == 2:
        node["position"] = draw(
            st.sampled_from(
                [
                    {"x": True, "y": 1},
                    {"x": 1},
                    {"x": 1, "y": 2, "z": 3},
                    {"x": float("nan"), "y": 0},
                    {"x": 1.5, "y": -2},
                    {"x": 0, "y": "1"},
                    {"x": 0, "z": 1},
                ]
            )
        )
    elif kind == 3:
        node["id"] = draw(st.sampled_from(ids))  # maybe a duplicate
    elif kind == 4:
        node["type"] = draw(st.sampled_from(["nope", "branch", "terminate", "webhook"]))
    elif kind == 5:
        nodes[nodes.index(node)] = draw(ODD_VALUES)
    elif kind == 6:
        nodes.append(copy.deepcopy(node))
    elif edges_ and kind == 7:
        _some(draw, edges_)[draw(EDGE_KEYS)] = draw(ODD_VALUES | st.sampled_from(ids))
    elif edges_ and kind == 8:
        edge = _some(draw, edges_)
        edge["to"] = edge.get("from")  # a self-loop
    elif edges_ and kind == 9:
        _some(draw, edges_)["when"] = draw(st.sampled_from(["true", "false", "maybe", None]))
    elif edges_ and kind == 10:
        edges.append(copy.deepcopy(_some(draw, edges_)))
    elif edges_ and kind == 11:
        edge = _some(draw, edges_)
        edges.append({"from": edge.get("to"), "to": edge.get("from")})  # a cycle
    elif edges_ and kind == 12:
        edges[edges.index(_some(draw, edges_))] = draw(ODD_VALUES)
    elif kind == 13:
        edges.append({"from": draw(st.sampled_from(ids)), "to": draw(st.sampled_from(ids))})


@st.composite
def damaged(draw: st.DrawFn) -> dict[str, Any]:
    """A sound definition with a few kinds of damage done to it."""
    definition = copy.deepcopy(draw(definitions(max_nodes=6)))
    for _ in range(draw(st.integers(0, 3))):
        _damage(draw, definition)
    return definition


def _detailed_nodes(
    nodes: list[Any], problems: list[Problem], unchanged: Any = ()
) -> tuple[dict[str, int], dict[str, NodeType]]:
    index: dict[str, int] = {}
    types: dict[str, NodeType] = {}
    for i, node in enumerate(nodes):
        structural._one_node_problems(i, node, index, types, problems)
    return index, types


def _detailed_edges(
    edges: list[Any], index: dict[str, int], types: dict[str, NodeType], problems: list[Problem]
) -> list[tuple[str, str, int]]:
    usable: list[tuple[str, str, int]] = []
    seen: dict[tuple[str, str, str | None], int] = {}
    for k, edge in enumerate(edges):
        structural._one_edge_problems(k, edge, index, types, seen, usable, problems)
    return usable


@settings(max_examples=500)
@given(damaged())
def test_fast_paths_find_exactly_what_the_detailed_checks_find(definition: Any) -> None:
    fast = structural.structural_problems(definition)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(structural, "_node_problems", _detailed_nodes)
        patch.setattr(structural, "_edge_problems", _detailed_edges)
        patch.setattr(structural, "_GRAPH_PROBLEMS", structural.GraphMemo())
        detailed = structural.structural_problems(definition)
    assert fast == detailed


@settings(max_examples=200)
@given(st.lists(damaged(), min_size=2, max_size=4))
def test_memoised_graph_answers_equal_fresh_ones(batch: list[Any]) -> None:
    # One memo shared by the whole batch: an answer cached for one graph must
    # never be served for another.
    for definition in batch:
        remembered = structural.check_structure(definition)
        structural._GRAPH_PROBLEMS.clear()
        fresh = structural.check_structure(definition)
        assert remembered.problems == fresh.problems
        if fresh.problems:
            continue
        normalised = normalize_definition(definition)
        cached = completeness_problems(normalised, graph=remembered.graph)
        completeness._GRAPH_PROBLEMS.clear()
        assert cached == completeness_problems(normalised)


def test_a_changed_edge_changes_the_signature() -> None:
    nodes = [{"id": "a", "type": "manual"}, {"id": "b", "type": "transform"}]
    one = structural.graph_signature(nodes, [{"from": "a", "to": "b"}])
    other = structural.graph_signature(nodes, [{"from": "a", "to": "b", "when": "true"}])
    retyped = structural.graph_signature(
        [nodes[0], {**nodes[1], "type": "delay"}], [{"from": "a", "to": "b"}]
    )
    assert len({one, other, retyped}) == 3


def test_plain_means_every_free_form_scalar_is_plain_json() -> None:
    sound = {"nodes": [{"id": "a", "type": "manual", "config": {"x": [1, 2.5, "s"]}}], "edges": []}
    assert structural.check_structure(sound).plain
    odd = copy.deepcopy(sound)
    odd["nodes"][0]["config"]["x"].append(float("nan"))
    assert not structural.check_structure(odd).plain
    odd["nodes"][0]["config"]["x"][-1] = {1, 2}
    assert not structural.check_structure(odd).plain
