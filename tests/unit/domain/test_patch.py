from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain.diff import apply_patch
from meshhook.domain.errors import ValidationFailed

from .strategies import JSON

DOC = {"a": {"b~c": 1, "d/e": [1, 2, 3]}, "list": ["x", "y"]}


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ({"op": "add", "path": "/list/-", "value": "z"}, ["x", "y", "z"]),
        ({"op": "add", "path": "/list/0", "value": "w"}, ["w", "x", "y"]),
        ({"op": "add", "path": "/list/2", "value": "z"}, ["x", "y", "z"]),
        ({"op": "remove", "path": "/list/0"}, ["y"]),
        ({"op": "replace", "path": "/list/1", "value": "Y"}, ["x", "Y"]),
        ({"op": "move", "from": "/list/0", "path": "/list/1"}, ["y", "x"]),
        ({"op": "copy", "from": "/list/1", "path": "/list/0"}, ["y", "x", "y"]),
        ({"op": "test", "path": "/list/0", "value": "x"}, ["x", "y"]),
    ],
)
def test_each_operation_on_arrays(op: dict[str, Any], expected: list[str]) -> None:
    assert apply_patch(DOC, [op])["list"] == expected


def test_pointer_escapes_tilde_and_slash() -> None:
    result = apply_patch(
        DOC,
        [
            {"op": "replace", "path": "/a/b~0c", "value": 2},
            {"op": "remove", "path": "/a/d~1e/1"},
        ],
    )
    assert result["a"] == {"b~c": 2, "d/e": [1, 3]}


def test_whole_document_replace_and_add() -> None:
    assert apply_patch(DOC, [{"op": "replace", "path": "", "value": [1]}]) == [1]


def test_move_between_objects_and_copy_is_deep() -> None:
    result = apply_patch(
        DOC,
        [
            {"op": "move", "from": "/a/d~1e", "path": "/moved"},
            {"op": "copy", "from": "/moved", "path": "/copy"},
        ],
    )
    result["copy"].append(9)
    assert result["moved"] == [1, 2, 3]
    assert "d/e" not in result["a"]


def test_the_input_document_and_the_patch_are_never_mutated() -> None:
    doc, value = copy.deepcopy(DOC), {"k": [1]}
    patch = [{"op": "add", "path": "/new", "value": value}, {"op": "remove", "path": "/a"}]
    result = apply_patch(doc, patch)
    result["new"]["k"].append(2)
    assert doc == DOC
    assert value == {"k": [1]}


@pytest.mark.parametrize(
    ("op", "code", "path"),
    [
        ({"op": "remove", "path": "/nope"}, "patch.path_not_found", "/nope"),
        ({"op": "replace", "path": "/list/2", "value": 1}, "patch.path_not_found", "/list/2"),
        ({"op": "add", "path": "/list/3", "value": 1}, "patch.path_not_found", "/list/3"),
        ({"op": "add", "path": "/list/01", "value": 1}, "patch.path_not_found", "/list/01"),
        ({"op": "remove", "path": "/list/-"}, "patch.path_not_found", "/list/-"),
        ({"op": "test", "path": "/list/0", "value": "no"}, "patch.test_failed", "/list/0"),
        ({"op": "jump", "path": "/a"}, "patch.invalid_op", "/a"),
        ({"op": "add", "path": "/a"}, "patch.invalid_op", "/a"),
        ({"op": "add", "path": "a", "value": 1}, "patch.invalid_op", "a"),
        ({"op": "move", "from": "/a", "path": "/a/b"}, "patch.invalid_op", "/a/b"),
        ({"op": "copy", "from": "/zzz", "path": "/b"}, "patch.path_not_found", "/b"),
        (
            {"op": "add", "path": "/list/0/deeper", "value": 1},
            "patch.path_not_found",
            "/list/0/deeper",
        ),
    ],
)
def test_bad_operations_fail_with_the_ops_pointer(op: dict[str, Any], code: str, path: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        apply_patch(DOC, [{"op": "test", "path": "/list/1", "value": "y"}, op])
    (problem,) = caught.value.errors
    assert (problem.code, problem.path) == (code, path)
    assert caught.value.extra == {"op_index": 1}


def test_a_patch_must_be_an_array_of_objects() -> None:
    with pytest.raises(ValidationFailed):
        apply_patch(DOC, {"op": "add"})
    with pytest.raises(ValidationFailed):
        apply_patch(DOC, ["add"])


def test_test_op_tells_true_from_1() -> None:
    with pytest.raises(ValidationFailed):
        apply_patch({"a": 1}, [{"op": "test", "path": "/a", "value": True}])


@settings(max_examples=100)
@given(st.dictionaries(st.text(max_size=3), JSON, max_size=4), st.text(max_size=3), JSON)
def test_add_then_remove_restores_an_object(doc: dict[str, Any], key: str, value: Any) -> None:
    from meshhook.domain.pointers import join

    if key in doc:
        return
    path = join("", key)
    added = apply_patch(doc, [{"op": "add", "path": path, "value": value}])
    assert apply_patch(added, [{"op": "remove", "path": path}]) == doc
