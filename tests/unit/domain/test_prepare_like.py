"""``prepare_like`` (a PUT of an edited head): the nodes sent exactly as in a
definition that passed ``prepare`` are not checked again, and the answer is
still ``prepare``'s, byte for byte."""

from __future__ import annotations

import copy
from collections.abc import Container
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain import preparation
from meshhook.domain.errors import ValidationFailed
from meshhook.domain.indexes import AllExcept
from meshhook.domain.preparation import prepare, prepare_like, same_nodes
from tests.unit.domain.strategies import definitions, edited
from tests.unit.domain.test_incremental_validation import broken


@st.composite
def sent_again(draw: st.DrawFn) -> tuple[preparation.PreparedDefinition, dict[str, Any]]:
    """A prepared base, and a definition sent after editing it (perhaps unsound)."""
    base = prepare(draw(definitions(max_nodes=8)))
    # As a client sends it back: the stored (normalised) form, edited.
    new = draw(broken(draw(edited(copy.deepcopy(base.definition)))))
    if draw(st.booleans()):
        new.pop("settings", None)  # normalising puts it back
    return base, new


def _answer(call: Any) -> Any:
    try:
        prepared = call()
    except ValidationFailed as error:
        return ("refused", error.detail, error.errors)
    return ("saved", prepared.canonical, prepared.content_hash, prepared.graph)


@settings(max_examples=300, deadline=None)
@given(pair=sent_again(), with_text=st.booleans())
def test_prepare_like_answers_what_prepare_answers(
    pair: tuple[preparation.PreparedDefinition, dict[str, Any]], with_text: bool
) -> None:
    base, new = pair
    sent = copy.deepcopy(new)
    held = copy.deepcopy(base.definition)
    text = base.canonical if with_text else None

    expected = _answer(lambda: prepare(copy.deepcopy(new)))
    found: list[Container[int]] = []

    def like() -> preparation.PreparedDefinition:
        prepared, unchanged = prepare_like(new, base.definition, text)
        found.append(unchanged)
        return prepared

    assert _answer(like) == expected
    assert new == sent, "what was sent is left as it is"
    assert base.definition == held, "the held definition is read-only"
    if found:
        same = same_nodes(base.definition, new)
        assert {i for i in range(len(new["nodes"])) if i in found[0]} == same


def _definition(count: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"id": "n0", "type": "webhook", "config": {"methods": ["POST"]}},
    ]
    for i in range(1, count):
        nodes.append(
            {
                "id": f"n{i}",
                "type": "transform",
                "name": f"Größe {i} ✓",
                "config": {"expression": "{a: a}", "ratio": 0.5, "whole": 2.0, "deep": {"x": [1]}},
                "position": {"x": i * 1.5, "y": 0},
            }
        )
    edges = [{"from": f"n{i - 1}", "to": f"n{i}"} for i in range(1, count)]
    return {"nodes": nodes, "edges": edges}


def test_only_the_changed_node_is_checked_and_the_rest_is_shared(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = prepare(_definition(20))
    new = copy.deepcopy(base.definition)
    new["nodes"][7]["config"]["ratio"] = 0.25
    checked: list[Any] = []
    real = preparation.check_structure

    def spy(definition: Any, **kwargs: Any) -> Any:
        checked.append(kwargs.get("unchanged"))
        return real(definition, **kwargs)

    monkeypatch.setattr(preparation, "check_structure", spy)
    prepared, unchanged = prepare_like(new, base.definition, base.canonical)

    assert isinstance(unchanged, AllExcept)
    assert unchanged.excluded == {7}
    assert checked == [unchanged]
    assert prepared.canonical == prepare(copy.deepcopy(new)).canonical
    pairs = zip(prepared.definition["nodes"], base.definition["nodes"], strict=True)
    shared = [a is b for a, b in pairs]
    assert shared == [i != 7 for i in range(20)]
    assert prepared.definition["edges"] is base.definition["edges"]


def test_a_value_of_another_type_is_not_taken_as_unchanged() -> None:
    """``1 == 1.0 == True`` in Python; as JSON they differ, and so may the answer."""
    base = prepare(_definition(3))
    new = copy.deepcopy(base.definition)
    new["nodes"][1]["position"]["x"] = True  # was 1.5; a boolean is no position
    new["nodes"][2]["config"]["whole"] = 2  # was 2.0 (canonically 2 already)

    assert same_nodes(base.definition, new) == {0}
    assert _answer(lambda: prepare_like(new, base.definition, base.canonical)[0]) == _answer(
        lambda: prepare(copy.deepcopy(new))
    )
    assert _answer(lambda: prepare(copy.deepcopy(new)))[0] == "refused"
