"""Refusing JSON objects that name a member twice.

Parsers keep the last of two equal keys (orjson, the standard library), so
``{"role": "viewer", "role": "owner"}`` would quietly mean something other
than what a reviewer reads. MeshHook refuses such text instead (422, with a
pointer to the object and the key).

The check is linear and runs at C speed. Outside strings a colon only ever
separates a key from its value; inside strings a colon is written as ``:`` or
``\u003a``. The parsed value serialised again (colons never escaped) therefore
holds exactly as many colons as the raw text when no key was dropped, and
fewer when one was: the dropped member took its key's colon with it, and its
strings' colons. Only then is the text parsed a second time, slowly, to say
where. (Text like ``"\\u003a"`` is over-counted; that only costs the slow
parse, which then finds nothing.)
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.errors import Problem, ValidationFailed


def refuse_duplicate_keys(data: bytes | bytearray | memoryview | str, value: Any) -> None:
    """Raise 422 ``json.duplicate_key`` when ``data`` (which parsed to ``value``)
    names a key twice in one object; the problem's pointer is that key."""
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if b":" not in raw or _colons(raw) <= orjson.dumps(value).count(b":"):
        return
    path = _first_duplicate(raw)
    if path is None:  # the counts disagreed for a reason other than a duplicate
        return
    raise ValidationFailed(
        "a JSON object names the same key twice; send each key once",
        errors=[Problem(path, "json.duplicate_key", "this key appears more than once")],
    )


def _colons(raw: bytes) -> int:
    return raw.count(b":") + raw.count(b"\\u003a") + raw.count(b"\\u003A")


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


def _first_duplicate(raw: bytes) -> str | None:
    try:
        value = json.loads(raw, object_pairs_hook=_pairs)
    except ValueError:
        return None
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
    return None
