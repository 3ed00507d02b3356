"""The JSON Schema validator MeshHook uses: draft 2020-12 with bounded array keywords.

jsonschema reports every error and checks ``uniqueItems`` by comparing every
pair when the items cannot be sorted (objects, mixed types): 4,000 small objects
took 26 s. This validator keeps draft 2020-12's answers (valid or not) and
changes only the work done on the way:

- an array longer than its ``maxItems`` gets that one error; its items are not
  checked one by one, nor compared;
- ``uniqueItems`` is checked only when every item has the type ``items``
  demands (otherwise those errors say enough), in one pass over a set of
  hashable keys (:func:`meshhook.domain.canonical.json_key`);
- both errors name the array by its size, never by its (possibly huge) repr.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import SchemaError, ValidationError

from meshhook.domain.canonical import TooDeep, all_unique

__all__ = ["SchemaError", "ValidationError", "Validator", "check_schema", "schema_errors"]

# The draft's own keyword functions, used when the bounded ones have no shortcut.
_draft_items: Any = Draft202012Validator.VALIDATORS["items"]
_draft_unique_items: Any = Draft202012Validator.VALIDATORS["uniqueItems"]


def _over_max_items(validator: Any, instance: Any, schema: Mapping[str, Any]) -> bool:
    limit = schema.get("maxItems")
    return isinstance(limit, int) and validator.is_type(instance, "array") and len(instance) > limit


def _max_items(
    validator: Any, limit: Any, instance: Any, _schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "array") and len(instance) > limit:
        yield ValidationError(f"has {len(instance)} items; at most {limit} are allowed")


def _items(
    validator: Any, items: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if _over_max_items(validator, instance, schema):
        return  # maxItems reports it; checking a million items would say nothing more
    yield from _draft_items(validator, items, instance, schema)


def _items_have_their_type(validator: Any, instance: list[Any], schema: Mapping[str, Any]) -> bool:
    items = schema.get("items")
    if not isinstance(items, Mapping) or "type" not in items:
        return True
    names = items["type"]
    names = [names] if isinstance(names, str) else list(names)
    return all(any(validator.is_type(item, name) for name in names) for item in instance)


def _unique_items(
    validator: Any, unique: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    if not unique or not validator.is_type(instance, "array"):
        return
    if _over_max_items(validator, instance, schema):
        return
    if not _items_have_their_type(validator, instance, schema):
        return  # items reports the wrong types; comparing them would be wasted work
    try:
        unique_enough = all_unique(instance)
    except TooDeep:  # pragma: no cover - definitions are at most 64 levels deep
        yield from _draft_unique_items(validator, unique, instance, schema)
        return
    if not unique_enough:
        yield ValidationError(f"the {len(instance)} items are not unique")


Validator: Any = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {"items": _items, "maxItems": _max_items, "uniqueItems": _unique_items},
)
"""Draft 2020-12 with the bounded ``items``, ``maxItems`` and ``uniqueItems``."""


def check_schema(schema: Mapping[str, Any]) -> None:
    """Raise the most relevant ``SchemaError`` when ``schema`` is not a valid
    draft 2020-12 schema (checked by :data:`Validator`, so bounded too)."""
    meta = Validator(
        Draft202012Validator.META_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    for error in meta.iter_errors(schema):
        raise SchemaError.create_from(error)


def schema_errors(validator: Any, instance: Any, limit: int) -> tuple[list[ValidationError], bool]:
    """At most ``limit`` errors of ``instance``, and whether there were more:
    collecting stops there, so an input with a million errors costs ``limit``."""
    found: list[ValidationError] = []
    for error in validator.iter_errors(instance):
        if len(found) == limit:
            return found, True
        found.append(error)
    return found, False
