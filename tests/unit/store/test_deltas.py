"""Version content packing: any delta rebuilds the new text byte for byte, and a
small edit of a large canonical text makes a small delta."""

from __future__ import annotations

import copy

from bench.workloads import definition, set_edit
from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain.canonical import canonical_bytes
from meshhook.store import deltas, version_content
from tests.unit.domain.strategies import definitions, edited

LINES = st.lists(
    st.sampled_from([b"{\n", b"  },\n", b'    "x": 1\n', b"\n", b"\r\n", b"a", b"b\n", b"\xff"])
    | st.binary(max_size=12),
    max_size=40,
).map(b"".join)


@given(LINES, LINES)
def test_a_delta_rebuilds_any_new_text_from_the_old_one(old: bytes, new: bytes) -> None:
    assert deltas.apply_delta(old, deltas.pack_delta(deltas.diff_texts(old, new))) == new


@given(st.data())
def test_a_delta_between_edited_definitions_rebuilds_the_edited_one(data: st.DataObject) -> None:
    before = data.draw(definitions(max_nodes=12))
    after = data.draw(edited(before))
    old, new = canonical_bytes(before), canonical_bytes(after)
    assert deltas.apply_delta(old, deltas.pack_delta(deltas.diff_texts(old, new))) == new


@given(st.binary(max_size=2_000))
def test_a_keyframe_unpacks_to_its_text(text: bytes) -> None:
    packed = deltas.pack_keyframe(text)
    assert deltas.is_keyframe(packed)
    assert deltas.unpack_keyframe(packed) == text


def test_a_one_node_edit_of_a_large_definition_is_a_delta_of_a_few_lines() -> None:
    base = definition(1_000)
    old = canonical_bytes(base)
    changed = copy.deepcopy(base)
    set_edit(changed, 3)
    new = canonical_bytes(changed)
    ops = deltas.diff_texts(old, new)
    assert len(ops) == 1
    assert len(deltas.pack_delta(ops)) < 200


def test_edits_far_apart_stay_separate_small_ops() -> None:
    base = definition(1_000)
    changed = copy.deepcopy(base)
    changed["nodes"].append({"id": "extra", "type": "delay", "config": {"duration_seconds": 5}})
    changed["edges"].append({"from": "n5", "to": "extra"})
    ops = deltas.diff_texts(canonical_bytes(base), canonical_bytes(changed))
    assert len(ops) == 2
    assert sum(len(data) for _start, _end, data in ops) < 300


def test_a_chain_replays_from_its_keyframe_whatever_the_numbering() -> None:
    lines = [f'  "line {index}": {index},\n'.encode() for index in range(200)]
    texts = {1: b"".join(lines), 4: b"".join(lines[:50] + lines[51:]), 9: b"".join(lines[:199])}
    head = None
    chain: dict[int, tuple[int | None, bytes]] = {}
    for number, text in texts.items():
        packed, new_head = version_content.pack(head, number, text)
        head = new_head or head
        chain[number] = (packed.base_number, packed.content)
    assert chain[4][0] == 1
    assert chain[9][0] == 4
    assert {number: version_content.replay(chain, number) for number in texts} == texts


def test_a_version_older_than_the_head_is_a_keyframe_and_leaves_the_head() -> None:
    first, head = version_content.pack(None, 5, b"five\n")
    older, unchanged = version_content.pack(head, 3, b"three\n")
    assert older.base_number is None
    assert older.keyframe == 3
    assert unchanged is None
    assert first.keyframe == 5
