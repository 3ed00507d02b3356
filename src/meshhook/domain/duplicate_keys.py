"""Refusing JSON objects that name a member twice.

Parsers keep the last of two equal keys (orjson, the standard library), so
``{"role": "viewer", "role": "owner"}`` would quietly mean something other
than what a reviewer reads. MeshHook refuses such text instead (422, with a
pointer to the object and the key).

The check is linear and runs at C speed. Outside strings a colon only ever
separates a key from its value; inside strings a colon is written as ``:`` or
``\\u003a``. The parsed value serialised again (colons never escaped) therefore
holds exactly as many colons as the raw text when no key was dropped, and
fewer when one was: the dropped member took its key's colon with it, and its
strings' colons. Only then is the text parsed a second time, slowly, to say
where.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.errors import Problem, ValidationFailed

_ESCAPED_COLON = re.compile(rb"(?<!\\)(?:\\\\)*\\u003[aA]")


def refuse_duplicate_keys(data: bytes | bytearray | memoryview | str, value: Any) -> None:
    """Raise 422 ``json.duplicate_key`` when ``data`` (which parsed to ``value``)
    names a key twice in one object; the problem's pointer is that key."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if b":" not in raw or _colons(raw) <= _parsed_colons(value):
        return
    raise ValidationFailed(
        "a JSON object names the same key twice; send each key once",
        errors=[
            Problem(_first_duplicate(raw), "json.duplicate_key", "this key appears more than once")
        ],
    )


def _colons(raw: bytes) -> int:
    """Colons in JSON text, written as ``:`` or as the escape ``\\u003a``."""
    found = raw.count(b":")
    if b"\\u003" in raw:
        # An escape starts at a backslash that is not itself escaped.
        found += len(_ESCAPED_COLON.findall(raw))
    return found


def _parsed_colons(value: Any) -> int:
    """Colons ``value`` has when serialised: one per key, plus those in strings."""
    try:
        return orjson.dumps(value).count(b":")
    except TypeError:  # nested deeper than orjson writes: count by walking
        pass
    found = 0
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, str):
            found += current.count(":")
        elif isinstance(current, dict):
            found += len(current) + sum(key.count(":") for key in current)
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)
    return found


class _Duplicated(dict[str, Any]):
    """An object in which ``key`` appeared twice (marks the place for the walk)."""

    key = ""


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            marked = _Duplicated(result)
            marked.key = key
            return marked
        result[key] = item
    return result


def _first_duplicate(raw: bytes) -> str:
    """The pointer to the first repeated key; the root when the text is nested
    too deeply for the standard library to say."""
    try:
        value = json.loads(raw, object_pairs_hook=_pairs)
    except (ValueError, RecursionError):
        return ""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, _Duplicated):
            return path + "/" + pointers.escape(current.key)
        if isinstance(current, dict):
            stack.extend(
                (item, path + "/" + pointers.escape(key)) for key, item in reversed(current.items())
            )
        elif isinstance(current, list):
            stack.extend(
                (item, f"{path}/{index}") for index, item in reversed(list(enumerate(current)))
            )
    return ""
