"""A fast yes/no JSON Schema check for the subset the node-type schemas use.

jsonschema's validator costs ~40 µs per small config, which is 200 ms for a
5,000-node definition. This compiles a schema once into plain Python closures that
answer "valid?" in a few µs; only configs it rejects go through jsonschema again
for the detailed, pointer-carrying errors. A schema using any keyword outside the
subset compiles to ``None`` and the caller uses jsonschema alone, so the answer is
never different from jsonschema's, only faster (a property test holds them equal).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from meshhook.domain.canonical import TooDeep, all_unique, json_equal

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "format",  # an annotation only in 2020-12 unless a format checker is given
        "$comment",
        "$schema",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)


class _Unsupported(Exception):
    pass


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Check] = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and math.isfinite(v) and v.is_integer())
    ),
    "number": _is_number,
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def run(value: Any) -> bool:
        # An explicit loop: all() over a generator costs a frame per config.
        for check in checks:  # noqa: SIM110
            if not check(value):
                return False
        return True

    return run


def _unique(items: list[Any]) -> bool:
    # One pass over a set: comparing every pair took 26 s for 4,000 small objects.
    try:
        return all_unique(items)
    except TooDeep:
        return not any(json_equal(a, b) for i, a in enumerate(items) for b in items[i + 1 :])


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda _value: True
    if schema is False:
        return lambda _value: False
    if not isinstance(schema, Mapping):
        raise _Unsupported(repr(schema))
    checks: list[Check] = []
    for keyword, argument in schema.items():
        if keyword in _ANNOTATIONS or keyword.startswith("x-"):
            continue
        if keyword in _HANDLED_ELSEWHERE and _HANDLED_ELSEWHERE[keyword] in schema:
            continue
        builder = _KEYWORDS.get(keyword)
        if builder is None:
            raise _Unsupported(keyword)
        checks.append(builder(argument, schema))
    return _all(checks) if checks else (lambda _value: True)


def _type(argument: Any, _schema: Mapping[str, Any]) -> Check:
    names = [argument] if isinstance(argument, str) else list(argument)
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        return tests[0]
    return lambda value: any(test(value) for test in tests)


def _enum(argument: Any, _schema: Mapping[str, Any]) -> Check:
    options = list(argument)
    return lambda value: any(json_equal(value, option) for option in options)


def _const(argument: Any, _schema: Mapping[str, Any]) -> Check:
    return lambda value: json_equal(value, argument)


def _properties(argument: Any, schema: Mapping[str, Any]) -> Check:
    compiled = {name: _compile(sub) for name, sub in argument.items()}
    extra = schema.get("additionalProperties", True)
    extra_check = None if extra is True else _compile(extra)
    if "patternProperties" in schema:
        raise _Unsupported("patternProperties")

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            sub = compiled.get(key)
            if sub is not None:
                if not sub(item):
                    return False
            elif extra_check is not None and not extra_check(item):
                return False
        return True

    return check


def _additional_properties(argument: Any, schema: Mapping[str, Any]) -> Check:
    if "patternProperties" in schema:
        raise _Unsupported("patternProperties")
    sub = _compile(argument)
    return lambda value: not isinstance(value, dict) or all(sub(v) for v in value.values())


def _required(argument: Any, _schema: Mapping[str, Any]) -> Check:
    names = frozenset(argument)
    return lambda value: not isinstance(value, dict) or value.keys() >= names


def _property_names(argument: Any, _schema: Mapping[str, Any]) -> Check:
    sub = _compile(argument)
    return lambda value: not isinstance(value, dict) or all(sub(key) for key in value)


def _items(argument: Any, schema: Mapping[str, Any]) -> Check:
    if "prefixItems" in schema:
        raise _Unsupported("prefixItems")
    sub = _compile(argument)
    return lambda value: not isinstance(value, list) or all(sub(item) for item in value)


def _sized(kind: type, measure: Callable[[Any], int], accept: Callable[[int, Any], bool]) -> Any:
    def builder(argument: Any, _schema: Mapping[str, Any]) -> Check:
        return lambda value: not isinstance(value, kind) or accept(measure(value), argument)

    return builder


def _numeric(accept: Callable[[Any, Any], bool]) -> Any:
    def builder(argument: Any, _schema: Mapping[str, Any]) -> Check:
        return lambda value: not _is_number(value) or accept(value, argument)

    return builder


def _pattern(argument: Any, _schema: Mapping[str, Any]) -> Check:
    regex = re.compile(argument)
    return lambda value: not isinstance(value, str) or regex.search(value) is not None


def _unique_items(argument: Any, _schema: Mapping[str, Any]) -> Check:
    if not argument:
        return lambda _value: True
    return lambda value: not isinstance(value, list) or _unique(value)


def _all_of(argument: Any, _schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in argument]
    return lambda value: all(sub(value) for sub in subs)


def _any_of(argument: Any, _schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in argument]
    return lambda value: any(sub(value) for sub in subs)


def _one_of(argument: Any, _schema: Mapping[str, Any]) -> Check:
    subs = [_compile(sub) for sub in argument]
    return lambda value: sum(1 for sub in subs if sub(value)) == 1


def _not(argument: Any, _schema: Mapping[str, Any]) -> Check:
    sub = _compile(argument)
    return lambda value: not sub(value)


def _if(argument: Any, schema: Mapping[str, Any]) -> Check:
    condition = _compile(argument)
    then = _compile(schema.get("then", True))
    otherwise = _compile(schema.get("else", True))
    return lambda value: then(value) if condition(value) else otherwise(value)


# Keywords compiled by a sibling: (keyword, the sibling that handles it).
_HANDLED_ELSEWHERE = {"additionalProperties": "properties", "then": "if", "else": "if"}


def _ignored(_argument: Any, _schema: Mapping[str, Any]) -> Check:
    # then/else without if: 2020-12 ignores them.
    return lambda _value: True


_KEYWORDS: dict[str, Callable[[Any, Mapping[str, Any]], Check]] = {
    "type": _type,
    "enum": _enum,
    "const": _const,
    "properties": _properties,
    "additionalProperties": _additional_properties,
    "required": _required,
    "propertyNames": _property_names,
    "items": _items,
    "minItems": _sized(list, len, lambda size, limit: size >= limit),
    "maxItems": _sized(list, len, lambda size, limit: size <= limit),
    "minLength": _sized(str, len, lambda size, limit: size >= limit),
    "maxLength": _sized(str, len, lambda size, limit: size <= limit),
    "minProperties": _sized(dict, len, lambda size, limit: size >= limit),
    "maxProperties": _sized(dict, len, lambda size, limit: size <= limit),
    "pattern": _pattern,
    "uniqueItems": _unique_items,
    "minimum": _numeric(lambda value, limit: value >= limit),
    "maximum": _numeric(lambda value, limit: value <= limit),
    "exclusiveMinimum": _numeric(lambda value, limit: value > limit),
    "exclusiveMaximum": _numeric(lambda value, limit: value < limit),
    "allOf": _all_of,
    "anyOf": _any_of,
    "oneOf": _one_of,
    "not": _not,
    "if": _if,
    "then": _ignored,
    "else": _ignored,
}


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A predicate equivalent to ``Draft202012Validator(schema).is_valid``, or ``None``
    when the schema uses a keyword this subset does not implement."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None
