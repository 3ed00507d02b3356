"""Duplicate keys in JSON text are refused with a pointer, quickly."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshhook.domain.duplicate_keys import refuse_duplicate_keys
from meshhook.domain.errors import ValidationFailed


def _pointer(text: bytes) -> str:
    with pytest.raises(ValidationFailed) as raised:
        refuse_duplicate_keys(text, orjson.loads(text))
    problem = raised.value.errors[0]
    assert problem.code == "json.duplicate_key"
    return problem.path


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        (b'{"a": 1, "a": 2}', "/a"),
        (b'{"x": [{"b": 1}, {"k": "v", "k": "w"}]}', "/x/1/k"),
        (b'{"a/b": {"~": 1, "~": 1}}', "/a~1b/~0"),
        # Escaped colons elsewhere must not hide the duplicate.
        (b'{"a": 1, "a": 2, "x": "\\u003a\\u003A"}', "/a"),
        # Equal keys spelled differently are still the same key.
        (b'{"ab": 1, "a\\u0062": 2}', "/ab"),
        # Nested deeper than the slow parse can follow: still refused, at the root.
        (b'{"x": ' + b"[" * 1000 + b'{"a": 1, "a": 2}' + b"]" * 1000 + b"}", ""),
    ],
)
def test_duplicates_are_refused_with_a_pointer(text: bytes, pointer: str) -> None:
    assert _pointer(text) == pointer


@pytest.mark.parametrize(
    "text",
    [
        b'{"url": "https://x.example:8080/a:b", "t": "12:00"}',
        b'{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}',
        b'{"k": "\\\\u003a", "j": "\\\\\\u003a"}',  # a backslash, then text or an escape
        b'{"x": ' + b"[" * 1000 + b'{"a": 1}' + b"]" * 1000 + b"}",  # deeper than orjson writes
        b"[1, 2, 3]",
        b'"just a string: yes"',
    ],
)
def test_text_without_duplicates_passes(text: bytes) -> None:
    refuse_duplicate_keys(text, orjson.loads(text))


_text = st.text(st.characters(exclude_categories=["Cs"]))
_json: Any = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_any_serialised_value_passes(value: Any) -> None:
    text = orjson.dumps(value, option=orjson.OPT_INDENT_2)
    refuse_duplicate_keys(text, orjson.loads(text))


def test_the_check_is_cheap_next_to_parsing_a_big_definition() -> None:
    nodes = [
        {"id": f"n{i}", "config": {"url": f"https://e.example/{i}:x", "body": "y" * 100}}
        for i in range(20_000)
    ]
    text = orjson.dumps({"nodes": nodes})
    started = time.perf_counter()
    value = orjson.loads(text)
    parsed = time.perf_counter()
    refuse_duplicate_keys(text, value)
    checked = time.perf_counter()
    # A generous budget (shared machines): the check must not dwarf the parse.
    assert checked - parsed < max(5 * (parsed - started), 0.5)
