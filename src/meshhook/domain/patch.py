"""RFC 6902 JSON Patch, applied to a copy (the input is never mutated).

:func:`patch_definition` applies a patch without copying a large document:
in place to one nobody else holds, or (``shared=True``) copy-on-write, copying
only the objects and arrays along the paths it changes, so the result shares
every untouched node with a document others read (a cached base version)."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.canonical import json_equal
from meshhook.domain.errors import Problem, ValidationFailed

OPERATIONS = frozenset({"add", "remove", "replace", "move", "copy", "test"})


class _OpError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def deep_copy(value: Any) -> Any:
    """A deep copy of a JSON value (orjson round trip: several times faster than
    ``copy.deepcopy``; falls back to it for values orjson cannot serialise)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    try:
        return orjson.loads(orjson.dumps(value))
    except TypeError:
        return copy.deepcopy(value)


def _index(container: list[Any], step: str, *, for_insert: bool) -> int:
    if for_insert and step == "-":
        return len(container)
    # RFC 6901: array indexes are decimal without leading zeros.
    if not step.isdigit() or (len(step) > 1 and step[0] == "0") or not step.isascii():
        raise _OpError("patch.path_not_found", f"{step!r} is not an array index")
    index = int(step)
    limit = len(container) if for_insert else len(container) - 1
    if index > limit:
        raise _OpError("patch.path_not_found", f"index {index} is out of range")
    return index


def _walk(document: Any, tokens: list[str]) -> Any:
    current = document
    for token in tokens:
        if isinstance(current, dict):
            if token not in current:
                raise _OpError("patch.path_not_found", f"no member {token!r}")
            current = current[token]
        elif isinstance(current, list):
            current = current[_index(current, token, for_insert=False)]
        else:
            raise _OpError("patch.path_not_found", f"cannot descend into a scalar at {token!r}")
    return current


class _Writable:
    """Which containers a patch may change in place: all of them (``fresh`` is
    ``None``), or only those it made itself; any other is copied on the way down
    and its copy put in its parent's place."""

    __slots__ = ("fresh",)

    def __init__(self, fresh: set[int] | None) -> None:
        self.fresh = fresh

    def own(self, value: Any) -> Any:
        """``value`` itself when it may be changed, else a shallow copy of it
        (remembered as changeable)."""
        if self.fresh is None or id(value) in self.fresh:
            return value
        if isinstance(value, dict):
            value = dict(value)
        elif isinstance(value, list):
            value = list(value)
        else:
            return value
        self.fresh.add(id(value))
        return value

    def walk(self, document: Any, tokens: list[str]) -> Any:
        """The container at ``tokens`` (``document`` owned already), owned too."""
        if self.fresh is None:
            return _walk(document, tokens)
        current = document
        for token in tokens:
            if isinstance(current, dict):
                if token not in current:
                    raise _OpError("patch.path_not_found", f"no member {token!r}")
                child = current[token] = self.own(current[token])
            elif isinstance(current, list):
                index = _index(current, token, for_insert=False)
                child = current[index] = self.own(current[index])
            else:
                raise _OpError("patch.path_not_found", f"cannot descend into a scalar at {token!r}")
            current = child
        return current


_IN_PLACE = _Writable(None)


def _pointer(op: dict[str, Any], key: str) -> list[str]:
    value = op.get(key)
    if not isinstance(value, str):
        raise _OpError("patch.invalid_op", f"{key!r} must be a JSON Pointer string")
    try:
        return pointers.split(value)
    except ValueError as exc:
        raise _OpError("patch.invalid_op", str(exc)) from exc


def _add(document: Any, tokens: list[str], value: Any, writable: _Writable) -> Any:
    if not tokens:
        return value
    parent = writable.walk(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_insert=True), value)
    else:
        raise _OpError("patch.path_not_found", "the parent is not an object or array")
    return document


def _remove(document: Any, tokens: list[str], writable: _Writable) -> Any:
    if not tokens:
        raise _OpError("patch.invalid_op", "cannot remove the whole document")
    parent = writable.walk(document, tokens[:-1])
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise _OpError("patch.path_not_found", f"no member {last!r}")
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, for_insert=False))
    raise _OpError("patch.path_not_found", "the parent is not an object or array")


def _apply_one(document: Any, op: dict[str, Any], writable: _Writable) -> Any:
    name = op.get("op")
    if name not in OPERATIONS:
        raise _OpError("patch.invalid_op", f"unknown op {name!r}")
    path = _pointer(op, "path")
    if name in ("add", "replace", "test") and "value" not in op:
        raise _OpError("patch.invalid_op", f"{name} needs a value")
    if name == "add":
        return _add(document, path, deep_copy(op["value"]), writable)
    if name == "remove":
        _remove(document, path, writable)
        return document
    if name == "replace":
        if not path:
            return deep_copy(op["value"])
        parent = writable.walk(document, path[:-1])
        if isinstance(parent, dict) and path[-1] in parent:
            parent[path[-1]] = deep_copy(op["value"])
        elif isinstance(parent, list):
            parent[_index(parent, path[-1], for_insert=False)] = deep_copy(op["value"])
        else:
            raise _OpError("patch.path_not_found", f"nothing to replace at {path[-1]!r}")
        return document
    if name == "test":
        if not json_equal(_walk(document, path), op["value"]):
            raise _OpError("patch.test_failed", "the value differs from the expected one")
        return document
    source = _pointer(op, "from")
    if name == "copy":
        return _add(document, path, deep_copy(_walk(document, source)), writable)
    if path[: len(source)] == source and len(path) > len(source):
        raise _OpError("patch.invalid_op", "cannot move a value into one of its own children")
    if path == source:
        _walk(document, source)
        return document
    return _add(document, path, _remove(document, source, writable), writable)


def _run(document: Any, patch: Any, *, into_patch: bool, writable: _Writable = _IN_PLACE) -> Any:
    if not isinstance(patch, list):
        message = "a JSON Patch is an array of operations"
        raise ValidationFailed(message, errors=[Problem("", "patch.invalid_op", message)])
    result = document
    for i, op in enumerate(patch):
        try:
            if not isinstance(op, dict):
                raise _OpError("patch.invalid_op", "an operation must be an object")
            result = _apply_one(writable.own(result), op, writable)
        except _OpError as exc:
            if into_patch:
                path = f"/{i}"
            else:
                where = op.get("path") if isinstance(op, dict) else None
                path = where if isinstance(where, str) else ""
            message = f"patch operation {i} ({op.get('op') if isinstance(op, dict) else op!r}) "
            message += f"failed: {exc.message}"
            raise ValidationFailed(
                message, errors=[Problem(path, exc.code, message)], extra={"op_index": i}
            ) from None
    return result


def apply_patch(document: Any, patch: Any) -> Any:
    """Apply an RFC 6902 patch to a copy of ``document`` and return the copy.

    Raises ``ValidationFailed`` whose problem path is the failing op's ``path``
    (codes ``patch.invalid_op``, ``patch.path_not_found``, ``patch.test_failed``).
    """
    return _run(deep_copy(document), patch, into_patch=False)


def patch_definition(document: Any, patch: Any, *, shared: bool = False) -> Any:
    """Apply an RFC 6902 patch to ``document`` *in place* (a definition just
    parsed, which nothing else holds: no copy of a large definition per save),
    or with ``shared`` copy-on-write: ``document`` is left as it was and the
    result shares with it every object and array the patch does not change.

    A patch that does not apply raises ``ValidationFailed`` whose problem path
    points into the *patch*: ``/3`` is its fourth operation (``op_index`` 3 in
    the problem's extras too), ``""`` when the patch is not an array.
    """
    writable = _Writable(set()) if shared else _IN_PLACE
    return _run(document, patch, into_patch=True, writable=writable)


def touched_nodes(patch: Any) -> set[int] | None:
    """The indexes of the nodes a patch may change, when every other node keeps
    its index and content; ``None`` when it may add, remove or move nodes (or
    replace the whole list or document), or is not a list of operations.

    Incremental validation checks only these nodes again; what the patch does
    not touch is as it was in the base version.
    """
    if not isinstance(patch, list):
        return None
    touched: set[int] = set()
    for op in patch:
        if not isinstance(op, dict):
            return None
        name = op.get("op")
        if name == "test":
            continue
        for key in ("path", "from"):
            value = op.get(key)
            if value is None and key == "from":
                continue
            if not isinstance(value, str):
                return None
            try:
                tokens = pointers.split(value)
            except ValueError:
                return None
            if not tokens:
                return None
            if tokens[0] != "nodes":
                continue
            if len(tokens) == 1:
                return None
            step = tokens[1]
            if not step.isdigit() or not step.isascii():
                return None
            if len(tokens) == 2 and name != "replace":
                return None  # adds, removes or moves a node: later indexes shift
            touched.add(int(step))
    return touched


# What a node may have changed without changing the graph (its id, its type, and
# the edges are the graph: domain/graph_memo.py).
_OFF_GRAPH = frozenset({"config", "name", "position"})


def keeps_graph(patch: Any) -> bool:
    """Whether a patch, if it applies, leaves the graph as it was: node ids and
    types in order, and the edges (what ``graph_signature`` reads). True when
    every operation that writes (and a ``move``'s source) is inside a node's
    ``config``, ``name`` or ``position``, or outside ``nodes`` and ``edges``."""
    if not isinstance(patch, list):
        return False
    for op in patch:
        if not isinstance(op, dict):
            return False
        name = op.get("op")
        if name == "test":
            continue
        for key in ("path", "from") if name == "move" else ("path",):
            value = op.get(key)
            if not isinstance(value, str):
                return False
            try:
                tokens = pointers.split(value)
            except ValueError:
                return False
            if not tokens or tokens[0] == "edges":
                return False
            if tokens[0] == "nodes" and (len(tokens) < 3 or tokens[2] not in _OFF_GRAPH):
                return False
    return True


def make_patch(old: Any, new: Any) -> list[dict[str, Any]]:
    """An RFC 6902 patch taking ``old`` to ``new`` (any JSON values): objects key
    by key, arrays of equal length index by index, anything else replaced whole.
    Not minimal, but a one-field edit of a large definition is one small
    operation. A value whose JSON type changes (``1`` to ``1.0`` too) is replaced."""
    ops: list[dict[str, Any]] = []
    _diff_into(old, new, "", ops)
    return ops


def _diff_into(old: Any, new: Any, path: str, ops: list[dict[str, Any]]) -> None:
    if type(old) is dict and type(new) is dict:
        for key in old:
            if key not in new:
                ops.append({"op": "remove", "path": pointers.join(path, key)})
        for key, value in new.items():
            if key not in old:
                ops.append({"op": "add", "path": pointers.join(path, key), "value": value})
            else:
                _diff_into(old[key], value, pointers.join(path, key), ops)
        return
    if type(old) is list and type(new) is list and len(old) == len(new):
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            _diff_into(before, after, pointers.join(path, index), ops)
        return
    if type(old) is not type(new) or not json_equal(old, new):
        ops.append({"op": "replace", "path": path, "value": new})
