"""Canonical JSON: one byte sequence per JSON value, used for hashing and bundles.

The canonical form is orjson with sorted keys, 2-space indentation, UTF-8 and a
trailing newline. Numbers follow JavaScript's model, because the web UI speaks
JavaScript: an integral float inside the exactly-representable range (|x| < 2**53)
is written as an integer, so ``1.0`` and ``1`` (and ``-0.0`` and ``0``) produce the
same bytes and the same hash. Any other float keeps orjson's shortest round-trip
form (``0.5``, ``1e+16``). Booleans are never numbers.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.errors import BadRequest, Problem, ValidationFailed

CANONICAL_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
HASH_PREFIX = "sha256:"

# Floats at or beyond 2**53 are not all integers a JavaScript client can hold, so
# they stay floats rather than turning into integers nobody can round-trip.
_SAFE_INTEGRAL = float(2**53)
_INT_MIN = -(2**63)
_INT_MAX = 2**64 - 1
# orjson refuses deeper values itself; refusing first gives a pointer and a 422.
MAX_CANONICAL_DEPTH = 250


def _refuse(path: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        f"Not canonical JSON: {message}",
        errors=[Problem(path, "json.not_canonical", message)],
    )


def _quick_scan(value: Any) -> bool | None:
    """The common case at C-ish speed: plain dicts, lists and scalars, no pointers kept.

    Returns whether an integral float needs rewriting, or ``None`` when something
    needs the careful scan (an odd type, a non-finite float, great depth). Bad keys
    and oversized integers are left to orjson, which refuses them.
    """
    needs_rewrite = False
    stack: list[tuple[Any, int]] = [(value, 1)] if type(value) in (dict, list) else []
    if not stack:
        return None
    while stack:
        current, depth = stack.pop()
        if depth > MAX_CANONICAL_DEPTH:
            return None
        for item in current.values() if type(current) is dict else current:
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            if kind is dict or kind is list:
                stack.append((item, depth + 1))
            elif kind is float and math.isfinite(item):
                if item.is_integer() and abs(item) < _SAFE_INTEGRAL:
                    needs_rewrite = True
            else:
                return None
    return needs_rewrite


def _scan(value: Any) -> bool:
    """Refuse what JSON cannot hold; return whether an integral float needs rewriting.

    Iterative so arbitrarily deep input fails with a message, not a RecursionError.
    """
    needs_rewrite = False
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        current, path, depth = stack.pop()
        if isinstance(current, dict):
            if depth > MAX_CANONICAL_DEPTH:
                raise _refuse(path, f"nested deeper than {MAX_CANONICAL_DEPTH} levels")
            for key, item in current.items():
                if not isinstance(key, str):
                    raise _refuse(path, f"object key {key!r} is not a string")
                stack.append((item, path + "/" + pointers.escape(key), depth + 1))
        elif isinstance(current, list | tuple):
            if depth > MAX_CANONICAL_DEPTH:
                raise _refuse(path, f"nested deeper than {MAX_CANONICAL_DEPTH} levels")
            for index, item in enumerate(current):
                stack.append((item, f"{path}/{index}", depth + 1))
        elif isinstance(current, str) or current is None or isinstance(current, bool):
            continue
        elif isinstance(current, int):
            if not _INT_MIN <= current <= _INT_MAX:
                raise _refuse(path, f"integer {current} is outside the 64-bit range")
        elif isinstance(current, float):
            if not math.isfinite(current):
                raise _refuse(path, f"{current!r} is not a finite number")
            if current.is_integer() and abs(current) < _SAFE_INTEGRAL:
                needs_rewrite = True
        else:
            raise _refuse(path, f"a {type(current).__name__} is not a JSON value")
    return needs_rewrite


def _rewrite_integral_floats(value: Any) -> Any:
    # Depth is bounded by MAX_CANONICAL_DEPTH (checked by _scan), so recursion is safe.
    if isinstance(value, dict):
        return {key: _rewrite_integral_floats(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_rewrite_integral_floats(item) for item in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < _SAFE_INTEGRAL:
        return int(value)
    return value


def _refuse_unknown(value: Any) -> Any:
    # Reached only for types orjson would otherwise serialise on its own terms
    # (datetimes, dataclasses, ...) after _scan let them through, which it does not.
    raise TypeError(f"{type(value).__name__} is not a JSON value")


# In the indented output every scalar ends its line, and a string's line ends in
# '"': a line ending in ".0" is an integral float (orjson writes those below 2**53
# as "<digits>.0"); one indented this far is nested deeper than the limit.
_INTEGRAL_FLOAT_LINE = re.compile(rb"\.0,?\n")
_TOO_DEEP_INDENT = b"\n" + b"  " * MAX_CANONICAL_DEPTH


def _plain_canonical_bytes(value: Any) -> bytes | None:
    """The canonical bytes of a value known to hold only plain JSON scalars, or
    ``None`` when the careful path must decide (integral floats, depth, errors)."""
    try:
        data = orjson.dumps(value, option=CANONICAL_OPTIONS)
    except TypeError:  # a non-string key, an integer beyond 64 bits, great depth
        return None
    if _INTEGRAL_FLOAT_LINE.search(data) is not None or _TOO_DEEP_INDENT in data:
        return None
    return data


def canonical_bytes(value: Any, *, plain: bool = False) -> bytes:
    """Serialise a JSON value (dicts, lists, str, int, float, bool, None) canonically.

    Raises ``ValidationFailed`` (code ``json.not_canonical``, with a pointer) for
    non-finite floats, non-string keys, integers beyond 64 bits and non-JSON types.

    ``plain=True`` promises that every scalar is an exact ``str``, ``int``,
    ``bool``, ``None`` or finite ``float`` (what structural validation
    establishes): the value is then serialised without a walk of its own, and
    only the output is inspected.
    """
    if plain and (data := _plain_canonical_bytes(value)) is not None:
        return data
    needs_rewrite = _quick_scan(value)
    if needs_rewrite is None:
        needs_rewrite = _scan(value)
    if needs_rewrite:
        value = _rewrite_integral_floats(value)
    try:
        return orjson.dumps(
            value,
            default=_refuse_unknown,
            option=CANONICAL_OPTIONS
            | orjson.OPT_PASSTHROUGH_DATETIME
            | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    except TypeError as exc:  # orjson.JSONEncodeError subclasses TypeError
        _scan(value)  # raises with a pointer to the culprit (a key or a huge integer)
        raise _refuse("", str(exc)) from exc


def content_hash(value: Any) -> str:
    """``"sha256:<hex>"`` of a value's canonical bytes.

    ``bytes`` are taken to be canonical bytes already (hash of what is stored);
    anything else is canonicalised first.
    """
    data = bytes(value) if isinstance(value, bytes | bytearray | memoryview) else None
    if data is None:
        data = canonical_bytes(value)
    return HASH_PREFIX + hashlib.sha256(data).hexdigest()


def parse_json(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text, raising ``BadRequest`` (code ``json.malformed``) when it is not.

    The message carries orjson's reason and, when known, the line and column.
    """
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        where = f" at line {exc.lineno}, column {exc.colno}" if exc.lineno else ""
        message = f"Malformed JSON: {exc.msg}{where}"
        raise BadRequest(message, errors=[Problem("", "json.malformed", message)]) from exc


def nul_pointer(value: Any) -> str | None:
    """The pointer to the first string or key of ``value`` holding U+0000, if any."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        current, path = stack.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return path
        elif isinstance(current, dict):
            for key, item in current.items():
                where = path + "/" + pointers.escape(key)
                if "\x00" in key:
                    return where
                stack.append((item, where))
        elif isinstance(current, list):
            stack.extend((item, f"{path}/{index}") for index, item in enumerate(current))
    return None


def refuse_nul(data: bytes | bytearray | memoryview | str, value: Any) -> None:
    """Refuse U+0000 in any string or key of parsed JSON (PostgreSQL text cannot
    hold it, and no workflow needs it): 422 with a pointer to the first one.

    ``data`` is the raw text ``value`` came from: only text containing the
    escape ``\\u0000`` (the one way JSON can carry U+0000) is walked.
    """
    raw = data.encode() if isinstance(data, str) else bytes(data)
    if b"\\u0000" not in raw:
        return
    path = nul_pointer(value)
    if path is not None:
        raise ValidationFailed(
            "text must not contain the NUL character (U+0000)",
            errors=[Problem(path, "json.nul_character", "remove the U+0000 character")],
        )


def json_equal(left: Any, right: Any) -> bool:
    """Equality of JSON values as canonical JSON sees it.

    Python's ``==`` already treats ``1 == 1.0`` (as the canonical form does) but
    also ``True == 1``, which JSON does not; this walks only when ``==`` says equal.
    """
    if left is right:
        return True
    if left != right:
        return False
    stack: list[tuple[Any, Any]] = [(left, right)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, bool) or isinstance(b, bool):
            if type(a) is not type(b):
                return False
        elif isinstance(a, dict):
            # == has already proven the key sets equal and the values ==-equal.
            stack.extend((item, b[key]) for key, item in a.items())
        elif isinstance(a, list | tuple):
            stack.extend(zip(a, b, strict=True))
    return True


class TooDeep(ValueError):
    """A value nested deeper than :func:`json_key` follows."""


_KEY_DEPTH = 128


def json_key(value: Any, _depth: int = 0) -> Any:
    """A hashable key with ``json_key(a) == json_key(b)`` exactly when
    ``json_equal(a, b)``: what makes a uniqueness check one pass over a set
    instead of a comparison of every pair.

    Numbers keep Python's equality (``1 == 1.0``, equal hashes); booleans,
    strings and null are tagged apart from them. Raises :class:`TooDeep` past
    128 levels (definitions stop at 64), never a ``RecursionError``.
    """
    if _depth > _KEY_DEPTH:
        raise TooDeep("value nested too deeply to compare")
    if value is None:
        return ("z",)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list | tuple):
        return ("l", tuple(json_key(item, _depth + 1) for item in value))
    if isinstance(value, dict):
        return ("d", frozenset((key, json_key(item, _depth + 1)) for key, item in value.items()))
    raise TypeError(f"a {type(value).__name__} is not a JSON value")


def all_unique(items: list[Any]) -> bool:
    """Whether no two of ``items`` are equal as JSON (``json_equal``), in one pass.

    Raises :class:`TooDeep` for items nested more than 128 levels.
    """
    seen: set[Any] = set()
    for item in items:
        key = json_key(item)
        if key in seen:
            return False
        seen.add(key)
    return True
