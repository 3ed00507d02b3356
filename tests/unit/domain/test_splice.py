"""Canonical bytes spliced from the base's (issue #15 §4): a copy-on-write patch's
bytes equal the whole serialisation, and anything that cannot be proven so is
left to it."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain.canonical import canonical_bytes
from meshhook.domain.patch import make_patch, patch_definition
from meshhook.domain.preparation import normalize_definition, prepare
from meshhook.domain.splice import MAX_SPLICED_NODES, changed_nodes, spliced_canonical
from tests.unit.domain.strategies import JSON, definitions, edited


def _base(definition: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    prepared = prepare(definition)
    return prepared.canonical, prepared.definition


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_shared_patchs_spliced_bytes_are_its_canonical_bytes(data: st.DataObject) -> None:
    text, base = _base(data.draw(definitions(max_nodes=8)))
    new = data.draw(edited(base))
    patched = normalize_definition(patch_definition(base, make_patch(base, new), shared=True))
    spliced = spliced_canonical(text, base, patched)
    if spliced is not None:
        assert spliced == canonical_bytes(patched)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), value=JSON | st.floats(-1e6, 1e6, allow_nan=False))
def test_any_config_value_is_spliced_as_the_whole_serialisation_writes_it(
    data: st.DataObject, value: Any
) -> None:
    text, base = _base(data.draw(definitions(max_nodes=6)))
    index = data.draw(st.integers(0, len(base["nodes"]) - 1))
    patch = [{"op": "add", "path": f"/nodes/{index}/config/extra", "value": value}]
    patched = normalize_definition(patch_definition(base, patch, shared=True))
    spliced = spliced_canonical(text, base, patched)
    assert spliced == canonical_bytes(patched)  # one changed node is always spliced


def test_an_integral_float_is_written_as_an_integer_in_the_spliced_text() -> None:
    text, base = _base({"nodes": [{"id": "a", "type": "manual"}], "edges": []})
    patched = patch_definition(
        base,
        [{"op": "add", "path": "/nodes/0/position", "value": {"x": 2.0, "y": -0.0}}],
        shared=True,
    )
    spliced = spliced_canonical(text, base, normalize_definition(patched))
    assert spliced is not None
    assert b'"x": 2,' in spliced
    assert spliced == canonical_bytes(normalize_definition(patched))


def test_only_edits_confined_to_existing_nodes_are_spliced() -> None:
    text, base = _base(
        {
            "nodes": [
                {"id": "a", "type": "manual"},
                {"id": "b", "type": "delay", "config": {"duration_seconds": 5}},
            ],
            "edges": [{"from": "a", "to": "b"}],
        }
    )
    renamed = patch_definition(
        base, [{"op": "add", "path": "/nodes/1/name", "value": "B"}], shared=True
    )
    assert changed_nodes(base, renamed) == [1]
    assert spliced_canonical(text, base, renamed) == canonical_bytes(renamed)
    # Anything outside the nodes, or a node added or removed: serialised whole.
    for patch in (
        [{"op": "add", "path": "/settings/owner", "value": "x"}],
        [{"op": "remove", "path": "/edges/0"}],
        [{"op": "add", "path": "/nodes/-", "value": {"id": "c", "type": "terminate"}}],
        [{"op": "remove", "path": "/nodes/1"}],
    ):
        assert spliced_canonical(text, base, patch_definition(base, patch, shared=True)) is None
    # Nothing changed: the base's own bytes.
    assert spliced_canonical(text, base, patch_definition(base, [], shared=True)) == text


def test_a_node_whose_old_text_is_not_in_the_base_bytes_is_not_spliced() -> None:
    # Bytes that are not the base's (its node changed after they were made):
    # the node's old text is not found, so the whole is serialised.
    text, base = _base({"nodes": [{"id": "a", "type": "manual"}], "edges": []})
    stale = text.replace(b'"id": "a"', b'"id": "b"')
    patched = patch_definition(
        base, [{"op": "add", "path": "/nodes/0/name", "value": "x"}], shared=True
    )
    assert spliced_canonical(stale, base, patched) is None
    assert spliced_canonical(text, base, patched) == canonical_bytes(patched)


def test_more_than_a_few_changed_nodes_are_serialised_whole() -> None:
    count = MAX_SPLICED_NODES + 1
    definition = {"nodes": [{"id": f"n{i}", "type": "manual"} for i in range(count)], "edges": []}
    text, base = _base(definition)
    patch = [{"op": "add", "path": f"/nodes/{i}/name", "value": "x"} for i in range(count)]
    patched = patch_definition(base, patch, shared=True)
    assert changed_nodes(base, patched) is None
    assert spliced_canonical(text, base, patched) is None
    fewer = patch_definition(base, patch[:-1], shared=True)
    assert spliced_canonical(text, base, fewer) == canonical_bytes(fewer)


def test_prepare_splices_an_edit_of_a_sound_base_to_the_same_version() -> None:
    text, base = _base(
        {"nodes": [{"id": "a", "type": "manual"}, {"id": "b", "type": "terminate"}], "edges": []}
    )
    patched = patch_definition(
        base, [{"op": "add", "path": "/nodes/1/name", "value": "End"}], shared=True
    )
    spliced = prepare(patched, edit_of=(text, base))
    whole = prepare(copy.deepcopy(patched))
    assert spliced.canonical == whole.canonical
    assert spliced.content_hash == whole.content_hash
