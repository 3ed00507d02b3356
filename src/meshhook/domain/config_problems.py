"""Problems in one node's ``config``: schema, JMESPath, type rules, scrubbed secrets.

Messages never echo a value from a sensitive field (a mistyped token must not end
up in the problems stored on a draft), and name fields by pointer so the UI can
place them next to the right form input.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from meshhook.domain import pointers
from meshhook.domain.errors import Problem
from meshhook.domain.expressions import jmespath_error
from meshhook.domain.json_schema import ValidationError, schema_errors
from meshhook.domain.limits import MAX_CONFIG_SCHEMA_ERRORS, TRUNCATED_CODE
from meshhook.domain.node_types import NodeType
from meshhook.domain.secret_fields import scrubbed_problems

_MAX_SHOWN = 60


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode()
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _name(key: str) -> str:
    return repr(key) if len(key) <= _MAX_SHOWN else repr(key[: _MAX_SHOWN - 1]) + "…"


def _message(error: ValidationError, sensitive: bool) -> str:
    override = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    keyword = str(error.validator)
    argument: Any = error.validator_value
    if keyword in override:
        text = str(override[keyword])
    elif keyword == "type":
        names = [argument] if isinstance(argument, str) else list(argument)
        text = "must be of type " + " or ".join(names)
    elif keyword == "enum":
        text = "must be one of " + ", ".join(_show(option) for option in argument)
    elif keyword == "const":
        text = f"must be {_show(argument)}"
    elif keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        sign = {"minimum": "≥", "maximum": "≤", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
        text = f"must be {sign[keyword]} {argument}"
    elif keyword == "minLength":
        text = "must not be empty" if argument == 1 else f"needs at least {argument} characters"
    elif keyword == "maxLength":
        text = f"must have at most {argument} characters"
    elif keyword == "minItems":
        text = f"needs at least {argument} item(s)"
    elif keyword == "maxItems":
        text = f"must have at most {argument} items"
    elif keyword == "uniqueItems":
        text = "must not contain duplicates"
    elif keyword == "pattern":
        text = f"must match {argument}"
    elif keyword in ("oneOf", "anyOf"):
        text = "does not match any of the allowed forms"
    else:
        text = f"fails the {keyword!r} rule"
    shown = not sensitive and isinstance(error.instance, str | int | float | bool)
    return text + (f" (got {_show(error.instance)})" if shown else "")


def _schema_problems(node_type: NodeType, config: Any, base: str) -> Iterator[Problem]:
    # Collecting stops at the cap: `methods: [7] * 350000` has 700,000 errors.
    errors, more = schema_errors(node_type.validator, config, MAX_CONFIG_SCHEMA_ERRORS)
    yield from _described(node_type, errors, base)
    if more:
        yield Problem(
            base,
            TRUNCATED_CODE,
            f"this config has more than {MAX_CONFIG_SCHEMA_ERRORS} schema problems; "
            "the first ones are listed",
        )


def _described(node_type: NodeType, errors: list[ValidationError], base: str) -> Iterator[Problem]:
    for error in errors:
        path = pointers.join(base, *error.absolute_path)
        inner = pointers.from_tokens(error.absolute_path)
        instance = error.instance
        if error.validator == "additionalProperties" and isinstance(instance, dict):
            known = (
                list(error.schema.get("properties", {})) if isinstance(error.schema, dict) else []
            )
            for key in instance:
                if key in known:
                    continue
                # Only a short key can be a typo of a known one (and matching is
                # quadratic in the key's length).
                close = difflib.get_close_matches(key, known, n=1) if len(key) <= 64 else []
                hint = f"; did you mean {close[0]!r}?" if close else ""
                yield Problem(
                    pointers.join(path, key),
                    "config.unknown_field",
                    f"unknown field {_name(key)} for a {node_type.name} node{hint}",
                )
            continue
        if error.validator == "required" and isinstance(instance, dict):
            required: Any = error.validator_value
            for name in required:
                if name not in instance and repr(name) in error.message:
                    yield Problem(pointers.join(path, name), "config.schema", f"{name} is required")
            continue
        if "propertyNames" in error.schema_path:
            text = _message(error, sensitive=True)
            yield Problem(path, "config.schema", f"name {_show(instance)} {text}")
            continue
        label = inner.rsplit("/", 1)[-1] or "config"
        sensitive = node_type.is_sensitive(inner) if inner else False
        yield Problem(path, "config.schema", f"{label} {_message(error, sensitive)}")


def _resolve(config: Mapping[str, Any], inner: str) -> Any:
    current: Any = config
    for token in pointers.split(inner):
        if not isinstance(current, dict):
            return None
        current = current.get(token)
    return current


def config_problems(node_type: NodeType, config: Any, base: str) -> list[Problem]:
    """Every completeness problem of one config; ``base`` is ``/nodes/<i>/config``."""
    problems: list[Problem] = []
    valid = (
        node_type.fast_check(config)
        if node_type.fast_check is not None
        else node_type.validator.is_valid(config)
    )
    if not valid:
        problems.extend(_schema_problems(node_type, config, base))
    if not isinstance(config, dict):
        return problems
    for inner in node_type.jmespath_fields:
        expression = _resolve(config, inner)
        if isinstance(expression, str) and expression:
            error = jmespath_error(expression)
            if error is not None:
                problems.append(
                    Problem(base + inner, "config.jmespath", f"invalid JMESPath: {error}")
                )
    if node_type.check_config is not None:
        for issue in node_type.check_config(config):
            problems.append(Problem(base + issue.pointer, issue.code, issue.message))
    if node_type.sensitive_fields:
        problems.extend(scrubbed_problems(node_type, config, base))
    return problems
