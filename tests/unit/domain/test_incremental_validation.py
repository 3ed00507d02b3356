"""Incremental validation (issue #15 §4): checking only what changed since a
checked base gives exactly what checking everything gives."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain.canonical import json_equal
from meshhook.domain.diff import diff_definitions
from meshhook.domain.graph_memo import graph_signature
from meshhook.domain.indexes import AllExcept, not_in
from meshhook.domain.patch import keeps_graph, make_patch, patch_definition, touched_nodes
from meshhook.domain.preparation import (
    derived_findings,
    normalize_definition,
    same_nodes,
    unchanged_nodes,
)
from meshhook.domain.structural import check_structure
from tests.unit.domain.strategies import (
    _change_config_field,
    _change_node,
    definitions,
    edited,
)

SECRETS = st.sets(st.sampled_from(["API", "TOKEN", "DB"]), max_size=2)


@st.composite
def broken(draw: st.DrawFn, definition: dict[str, Any]) -> dict[str, Any]:
    """``definition`` with perhaps one node made unsound (what a check must still find)."""
    result = copy.deepcopy(definition)
    nodes = result["nodes"]
    i = draw(st.integers(0, len(nodes) - 1))
    kind = draw(
        st.sampled_from(["none", "id", "duplicate", "type", "config", "deep", "key", "secret"])
    )
    if kind == "id":
        nodes[i]["id"] = "-bad id"
    elif kind == "duplicate" and len(nodes) > 1:
        nodes[i]["id"] = nodes[(i + 1) % len(nodes)]["id"]
    elif kind == "type":
        nodes[i]["type"] = "nope"
    elif kind == "config":
        nodes[i]["config"] = ["not", "an", "object"]
    elif kind == "deep":
        deep: Any = "x"
        for _ in range(70):
            deep = {"a": deep}
        nodes[i]["config"] = {"deep": deep}
    elif kind == "key":
        nodes[i]["surprise"] = True
    elif kind == "secret":  # a reference outside a credential field: refused at save
        nodes[i]["config"] = {**nodes[i].get("config", {}), "note": "{{ secrets.API }}"}
    return result


@st.composite
def edits(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    base = draw(definitions(max_nodes=8))
    assert not check_structure(base).problems
    return base, draw(broken(draw(edited(base))))


@settings(max_examples=200, deadline=None)
@given(pair=edits())
def test_the_structural_check_of_changed_nodes_only_equals_the_full_check(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, new = pair
    full = check_structure(new)
    incremental = check_structure(new, unchanged=same_nodes(base, new))
    assert incremental.problems == full.problems
    assert incremental.plain == full.plain
    assert incremental.graph == full.graph
    # The base passed the secret rules too: the unchanged nodes' are not rechecked.
    trusted = check_structure(new, unchanged=same_nodes(base, new), secrets_unchanged=True)
    assert trusted.problems == full.problems


@st.composite
def graph_keeping_edits(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """A checked base and a copy whose node configs and names changed (perhaps
    one node broken): mostly patches that keep the graph."""
    base = draw(definitions(max_nodes=8))
    new = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        draw(st.sampled_from([_change_node, _change_config_field]))(draw, new)
    return base, draw(broken(new))


@settings(max_examples=300, deadline=None)
@given(pair=graph_keeping_edits())
def test_a_patch_that_keeps_the_graph_checks_its_touched_nodes_as_a_full_check_does(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    """With the base's graph known, only the touched nodes are checked (their ids
    against no other): the problems, plainness and graph are the full check's."""
    base, new = pair
    patch = make_patch(base, new)
    touched = touched_nodes(patch)
    kept = keeps_graph(patch) and touched is not None
    if not kept:
        return  # an id, a type or an unknown key changed: the base's graph says nothing
    assert touched is not None
    full = check_structure(new)
    known = check_structure(
        new,
        unchanged=AllExcept(touched),
        secrets_unchanged=True,
        graph=graph_signature(base["nodes"], base["edges"]),
    )
    assert known.problems == full.problems
    assert known.plain == full.plain
    assert known.graph == full.graph


def test_a_broken_config_in_a_graph_keeping_patch_is_found() -> None:
    base = bulk_definition(10)
    graph = check_structure(base).graph
    patch = [
        {"op": "replace", "path": "/nodes/4/config", "value": ["not", "an", "object"]},
        {"op": "add", "path": "/nodes/7/name", "value": "x" * 1_000},
    ]
    assert keeps_graph(patch)
    patched = patch_definition(copy.deepcopy(base), patch)
    known = check_structure(
        patched, unchanged=AllExcept(touched_nodes(patch) or set()), graph=graph
    )
    assert [problem.path for problem in known.problems] == ["/nodes/4/config", "/nodes/7/name"]
    assert known.problems == check_structure(patched).problems


@settings(max_examples=200, deadline=None)
@given(pair=edits(), names=SECRETS)
def test_problems_of_changed_nodes_only_equal_the_full_problems(
    pair: tuple[dict[str, Any], dict[str, Any]], names: set[str]
) -> None:
    base, new = pair
    if check_structure(new).problems:
        return  # completeness runs only on sound definitions
    before = derived_findings(base, secret_names=names, allowed_hosts=None)
    known = unchanged_nodes(same_nodes(base, new), new, before.by_node)
    incremental = derived_findings(new, secret_names=names, allowed_hosts=None, known_nodes=known)
    full = derived_findings(new, secret_names=names, allowed_hosts=None)
    assert incremental == full


@settings(max_examples=200, deadline=None)
@given(pair=edits())
def test_a_patch_leaves_every_node_it_does_not_touch_as_it_was(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, new = pair
    patch = diff_definitions(base, new, mask=False)["patch"]
    patched = patch_definition(copy.deepcopy(base), patch)
    assert patched == new
    touched = touched_nodes(patch)
    if touched is None:
        return
    assert len(patched["nodes"]) == len(base["nodes"])
    keep = AllExcept(touched)
    for i, node in enumerate(patched["nodes"]):
        if i in keep:
            assert node == base["nodes"][i]
    full = check_structure(patched)
    assert check_structure(patched, unchanged=keep).problems == full.problems
    trusted = check_structure(patched, unchanged=keep, secrets_unchanged=True)
    assert trusted.problems == full.problems
    assert trusted.plain == full.plain
    if keeps_graph(patch):
        # The base's graph signature is the patched definition's.
        assert graph_signature(patched["nodes"], patched["edges"]) == check_structure(base).graph
        kept = check_structure(
            patched, unchanged=keep, secrets_unchanged=True, graph=check_structure(base).graph
        )
        assert (kept.problems, kept.plain, kept.graph) == (full.problems, full.plain, full.graph)


@settings(max_examples=200, deadline=None)
@given(pair=edits(), names=SECRETS)
def test_a_patchs_untouched_nodes_keep_their_problems(
    pair: tuple[dict[str, Any], dict[str, Any]], names: set[str]
) -> None:
    base, new = pair
    patch = diff_definitions(base, new, mask=False)["patch"]
    touched = touched_nodes(patch)
    if touched is None or check_structure(new).problems:
        return
    before = derived_findings(base, secret_names=names, allowed_hosts=None)
    known = unchanged_nodes(AllExcept(touched), new, before.by_node)
    count = min(len(before.by_node), len(new["nodes"]))
    assert known == {i: before.by_node[i] for i in range(count) if i not in touched}
    incremental = derived_findings(new, secret_names=names, allowed_hosts=None, known_nodes=known)
    assert incremental == derived_findings(new, secret_names=names, allowed_hosts=None)


def test_keeps_graph_reads_the_pointers() -> None:
    def op(path: str, name: str = "replace", **extra: Any) -> list[dict[str, Any]]:
        return [{"op": name, "path": path, "value": 1, **extra}]

    assert keeps_graph(op("/nodes/3/config/url"))
    assert keeps_graph(op("/nodes/3/config"))
    assert keeps_graph(op("/nodes/3/name", "add"))
    assert keeps_graph(op("/nodes/3/position/x"))
    assert keeps_graph(op("/settings/timeout"))
    assert keeps_graph(op("/nodes/0/config/a", "copy", **{"from": "/edges/0"}))
    assert keeps_graph([{"op": "test", "path": "/edges", "value": []}])
    assert not keeps_graph(op("/nodes/3/id"))
    assert not keeps_graph(op("/nodes/3/type"))
    assert not keeps_graph(op("/nodes/3"))
    assert not keeps_graph(op("/nodes/-", "add"))
    assert not keeps_graph(op("/nodes"))
    assert not keeps_graph(op("/edges/0/to"))
    assert not keeps_graph(op(""))
    assert not keeps_graph(op("/nodes/0/config/a", "move", **{"from": "/nodes/1/id"}))
    assert not keeps_graph(op("/nodes/0/config/a", "move", **{"from": "/edges/0"}))
    assert not keeps_graph([{"op": "replace", "value": 1}])
    assert not keeps_graph({"op": "replace"})
    assert not keeps_graph(["not an operation"])
    assert not keeps_graph(op("no-leading-slash"))


def test_not_in_lists_the_indexes_left_to_check() -> None:
    assert list(not_in((), 3)) == [0, 1, 2]
    assert list(not_in({1}, 3)) == [0, 2]
    assert list(not_in(AllExcept({5, 1, -1, 3}), 4)) == [1, 3]
    assert list(not_in(AllExcept(set()), 4)) == []


def test_touched_nodes_reads_the_pointers() -> None:
    assert touched_nodes([{"op": "replace", "path": "/nodes/3/config/url", "value": 1}]) == {3}
    assert touched_nodes([{"op": "replace", "path": "/nodes/3", "value": {}}]) == {3}
    assert touched_nodes([{"op": "add", "path": "/nodes/3", "value": {}}]) is None
    assert touched_nodes([{"op": "remove", "path": "/nodes/3"}]) is None
    assert touched_nodes([{"op": "add", "path": "/nodes/-", "value": {}}]) is None
    assert touched_nodes([{"op": "move", "from": "/nodes/1", "path": "/nodes/2"}]) is None
    assert touched_nodes([{"op": "replace", "path": "", "value": {}}]) is None
    assert touched_nodes([{"op": "replace", "path": "/edges/0/to", "value": "x"}]) == set()
    assert touched_nodes([{"op": "test", "path": "/nodes", "value": []}]) == set()
    assert touched_nodes({"op": "add"}) is None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(alphabet="ab/~", max_size=3), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(old=JSON, new=JSON)
def test_make_patch_takes_any_json_value_to_any_other(old: Any, new: Any) -> None:
    patched = patch_definition(copy.deepcopy(old), make_patch(old, new))
    assert json_equal(patched, new)
    assert make_patch(new, new) == []


def test_a_one_field_edit_is_one_small_operation() -> None:
    old = {"nodes": [{"id": "a", "config": {"url": "x", "n": 1}}], "edges": []}
    new = copy.deepcopy(old)
    new["nodes"][0]["config"]["url"] = "y"
    assert make_patch(old, new) == [{"op": "replace", "path": "/nodes/0/config/url", "value": "y"}]


@settings(max_examples=200, deadline=None)
@given(pair=edits())
def test_a_shared_patch_leaves_its_base_alone_and_shares_what_it_does_not_change(
    pair: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    base, new = pair
    before = copy.deepcopy(base)
    patch = diff_definitions(base, new, mask=False)["patch"]
    patched = patch_definition(base, patch, shared=True)
    assert patched == new
    assert base == before  # copy-on-write: the shared base is untouched
    touched = touched_nodes(patch)
    if touched is not None:
        for i, node in enumerate(patched["nodes"]):
            if i not in touched:
                assert node is base["nodes"][i]


def test_a_shared_patch_copies_only_along_its_paths() -> None:
    base = {
        "nodes": [{"id": "a", "config": {"url": "x", "h": {"k": 1}}}, {"id": "b"}],
        "edges": [],
    }
    before = copy.deepcopy(base)
    patched = patch_definition(
        base,
        [
            {"op": "replace", "path": "/nodes/0/config/h/k", "value": 2},
            {"op": "move", "from": "/nodes/0/config/url", "path": "/nodes/1/url"},
            {"op": "add", "path": "/edges/-", "value": {"from": "a", "to": "b"}},
        ],
        shared=True,
    )
    assert base == before
    assert patched["nodes"][0]["config"] == {"h": {"k": 2}}
    assert patched["nodes"][1] == {"id": "b", "url": "x"}
    assert patched["edges"] == [{"from": "a", "to": "b"}]


@pytest.mark.parametrize("taker", [0, 5, 9])
@pytest.mark.parametrize("taken", [0, 4, 9])
def test_a_touched_node_taking_an_untouched_nodes_id_is_found_as_by_a_full_check(
    taker: int, taken: int
) -> None:
    """Untouched runs join the id index in bulk; a touched node that took one of
    their ids (before or after it) is reported exactly where a full check does."""
    base = bulk_definition(10)
    assert not check_structure(base).problems
    patch = [{"op": "replace", "path": f"/nodes/{taker}/id", "value": f"n{taken}"}]
    patched = patch_definition(copy.deepcopy(base), patch)
    keep = AllExcept(touched_nodes(patch) or set())
    full = check_structure(patched)
    assert (taker == taken) == (not full.problems)
    assert check_structure(patched, unchanged=keep).problems == full.problems
    assert check_structure(patched, unchanged=keep, secrets_unchanged=True).problems == (
        full.problems
    )


def bulk_definition(count: int) -> dict[str, Any]:
    nodes = [{"id": f"n{i}", "type": "transform", "config": {}} for i in range(count)]
    edges = [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(count - 1)]
    return {"nodes": nodes, "edges": edges}


def test_a_node_whose_number_became_true_is_checked_again() -> None:
    """``==`` takes ``true`` for ``1``: the node would pass as unchanged and keep
    the base's clean bill, though ``max_attempts: true`` is not an integer."""
    node = {
        "id": "call",
        "type": "http_call",
        "config": {"method": "GET", "url": "https://example.com/", "retry": {"max_attempts": 1}},
    }
    base = {"nodes": [{"id": "start", "type": "manual", "config": {}}, node], "edges": []}
    new = copy.deepcopy(base)
    new["nodes"][1]["config"]["retry"]["max_attempts"] = True

    assert same_nodes(base, new) == {0}
    before = derived_findings(base, secret_names=set(), allowed_hosts=None)
    full = derived_findings(new, secret_names=set(), allowed_hosts=None)
    assert len(full.problems) > len(before.problems), "a boolean is not an integer"
    known = unchanged_nodes(same_nodes(base, new), new, before.by_node)
    incremental = derived_findings(new, secret_names=set(), allowed_hosts=None, known_nodes=known)
    assert incremental == full


def test_normalising_an_edit_looks_only_at_its_touched_nodes() -> None:
    base = normalize_definition(bulk_definition(5))
    edited = patch_definition(base, [{"op": "remove", "path": "/nodes/3/config"}], shared=True)
    assert normalize_definition(edited, only=[3]) == normalize_definition(edited)
    assert normalize_definition(edited, only=[3])["nodes"][3]["config"] == {}
    untouched = patch_definition(base, [{"op": "add", "path": "/nodes/1/name", "value": "A"}])
    same = normalize_definition(untouched, only=[1])
    assert same == normalize_definition(untouched)
    assert same is not untouched
    assert same["nodes"] is untouched["nodes"]
