from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshhook.domain.canonical import canonical_bytes, content_hash, json_equal, parse_json
from meshhook.domain.errors import BadRequest, ValidationFailed

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)


def test_canonical_form_sorts_keys_indents_two_spaces_and_ends_with_newline() -> None:
    assert canonical_bytes({"b": 1, "a": [True, None]}) == (
        b'{\n  "a": [\n    true,\n    null\n  ],\n  "b": 1\n}\n'
    )


def test_non_ascii_text_is_written_as_utf8_not_escaped() -> None:
    assert canonical_bytes("café") == '"café"\n'.encode()


def test_integral_floats_are_written_like_integers_so_hashes_agree() -> None:
    assert canonical_bytes({"t": 30.0}) == canonical_bytes({"t": 30})
    assert canonical_bytes(-0.0) == b"0\n"
    assert canonical_bytes(0.5) == b"0.5\n"


def test_floats_beyond_the_safe_integer_range_stay_floats() -> None:
    assert canonical_bytes(1e300) == b"1e+300\n"


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_with_a_pointer(bad: float) -> None:
    with pytest.raises(ValidationFailed) as caught:
        canonical_bytes({"nodes": [{"x": bad}]})
    assert caught.value.errors[0].path == "/nodes/0/x"
    assert caught.value.errors[0].code == "json.not_canonical"


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"a": {1: "x"}}, "/a"),
        ({"when": datetime(2024, 1, 1, tzinfo=UTC)}, "/when"),
        ({"id": uuid.uuid4()}, "/id"),
        ({"s": {1, 2}}, "/s"),
        ({"n": 2**70}, "/n"),
        ({"b": b"bytes"}, "/b"),
    ],
)
def test_values_json_cannot_hold_are_refused(value: Any, path: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        canonical_bytes(value)
    assert caught.value.errors[0].path == path


def test_very_deep_values_are_refused_instead_of_crashing() -> None:
    deep: Any = 1
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(ValidationFailed):
        canonical_bytes(deep)


def test_content_hash_is_sha256_of_the_canonical_bytes() -> None:
    value = {"b": 1, "a": 2}
    digest = content_hash(value)
    assert digest.startswith("sha256:")
    assert len(digest) == len("sha256:") + 64
    assert digest == content_hash(canonical_bytes(value))
    assert digest == content_hash({"a": 2, "b": 1.0})
    assert digest != content_hash({"a": 2, "b": True})


def test_parse_json_reports_line_and_column_of_malformed_json() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_json(b'{"nodes": [\n  1,\n]}')
    assert "line 2, column 4" in caught.value.detail
    assert caught.value.errors[0].code == "json.malformed"


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "", "{'a': 1}", b"\xff"])
def test_parse_json_refuses_what_is_not_json(text: str | bytes) -> None:
    with pytest.raises(BadRequest):
        parse_json(text)


def test_json_equal_tells_booleans_from_numbers_but_not_1_from_1_0() -> None:
    assert json_equal({"a": [1]}, {"a": [1.0]})
    assert not json_equal({"a": [1]}, {"a": [True]})
    assert not json_equal({"a": 0}, {"a": False})


@settings(max_examples=150)
@given(JSON_VALUES)
def test_canonicalisation_is_idempotent(value: Any) -> None:
    once = canonical_bytes(value)
    assert canonical_bytes(parse_json(once)) == once


@settings(max_examples=150)
@given(st.dictionaries(st.text(max_size=5), JSON_VALUES, max_size=6), st.randoms())
def test_canonical_bytes_ignore_key_order(value: dict[str, Any], rnd: Any) -> None:
    items = list(value.items())
    rnd.shuffle(items)
    assert canonical_bytes(dict(items)) == canonical_bytes(value)


@settings(max_examples=100)
@given(JSON_VALUES)
def test_canonical_bytes_parse_back_to_an_equal_value(value: Any) -> None:
    assert json_equal(orjson.loads(canonical_bytes(value)), value)


@settings(max_examples=300)
@given(JSON_VALUES | st.lists(st.floats(-1e17, 1e17, allow_nan=False)))
def test_the_plain_fast_path_writes_the_same_bytes(value: Any) -> None:
    assert canonical_bytes(value, plain=True) == canonical_bytes(value)


@pytest.mark.parametrize("value", [{"a": 30.0}, [-0.0], {"deep": [[[1.0]]]}, 2.0**53, [1e16, 3.0]])
def test_the_plain_fast_path_still_rewrites_integral_floats(value: Any) -> None:
    assert canonical_bytes(value, plain=True) == canonical_bytes(value)
    assert b".0\n" not in canonical_bytes([value], plain=True).replace(b"9007199254740992.0", b"")


def test_the_plain_fast_path_falls_back_for_what_orjson_cannot_write() -> None:
    with pytest.raises(ValidationFailed) as caught:
        canonical_bytes({"a": [2**70]}, plain=True)
    assert caught.value.errors[0].path == "/a/0"
