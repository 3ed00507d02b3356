"""What every node type declares, and the sensitive-field pattern language."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jsonschema import Draft202012Validator

from meshhook.domain import pointers
from meshhook.domain.schema_check import Check, compile_check

Category = Literal["trigger", "action", "logic"]


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """A type-specific finding about a config, placed by a pointer inside the config."""

    pointer: str
    code: str
    message: str


ConfigCheck = Callable[[Mapping[str, Any]], list[ConfigIssue]]

# Header and query-parameter names that carry credentials. Matching is
# case-insensitive; "!" patterns carve out names that merely look like one.
CREDENTIAL_NAME_GLOBS = (
    "*auth*",
    "*cookie*",
    "*token*",
    "*secret*",
    "*key*",
    "*password*",
    "*credential*",
)
NOT_CREDENTIAL_NAMES = ("idempotency-key",)


def credential_patterns(container: str) -> tuple[str, ...]:
    """Sensitive-field patterns for a map of names to values (headers, query)."""
    positive = tuple(f"{container}/{glob}" for glob in CREDENTIAL_NAME_GLOBS)
    return positive + tuple(f"!{container}/{name}" for name in NOT_CREDENTIAL_NAMES)


def _segment_regex(segment: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in segment.split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Pattern:
    negative: bool
    segments: tuple[re.Pattern[str], ...]

    def matches_prefix_of(self, tokens: list[str]) -> bool:
        if len(self.segments) > len(tokens):
            return False
        return all(seg.fullmatch(tok) for seg, tok in zip(self.segments, tokens, strict=False))


def _compile_pattern(pattern: str) -> _Pattern:
    negative = pattern.startswith("!")
    body = pattern[1:] if negative else pattern
    # Split raw: "*" and literal names never contain "/" or "~" in our patterns.
    return _Pattern(negative, tuple(_segment_regex(seg) for seg in pointers.split(body)))


@dataclass(frozen=True, eq=False)
class NodeType:
    """One entry of the node-type registry.

    ``sensitive_fields`` are JSON Pointer patterns inside ``config``: a segment
    ``*`` matches any key, ``*`` inside a segment is a wildcard (``/headers/*token*``),
    matching is case-insensitive, and a pattern starting with ``!`` excludes what
    it matches. A pointer is sensitive when a positive pattern matches it or one of
    its ancestors and no exclusion does.
    """

    name: str
    title: str
    description: str
    category: Category
    config_schema: Mapping[str, Any]
    sensitive_fields: tuple[str, ...] = ()
    is_trigger: bool = False
    max_inputs: int | None = None
    outputs: tuple[str, ...] | None = None
    jmespath_fields: tuple[str, ...] = ()
    # Rules a JSON Schema cannot say well (cross-field, parsing), run after the schema.
    check_config: ConfigCheck | None = None
    validator: Draft202012Validator = field(init=False, repr=False, compare=False)
    fast_check: Check | None = field(init=False, repr=False, compare=False)
    _patterns: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A broken schema is a programming error: fail at import, not per request.
        Draft202012Validator.check_schema(self.config_schema)
        object.__setattr__(self, "validator", Draft202012Validator(self.config_schema))
        object.__setattr__(self, "fast_check", compile_check(self.config_schema))
        compiled = tuple(_compile_pattern(p) for p in self.sensitive_fields)
        object.__setattr__(self, "_patterns", compiled)

    def is_sensitive(self, pointer_in_config: str) -> bool:
        """Whether the value at ``pointer_in_config`` (or an ancestor) is sensitive."""
        tokens = pointers.split(pointer_in_config)
        hit = False
        for pattern in self._patterns:
            if pattern.matches_prefix_of(tokens):
                if pattern.negative:
                    return False
                hit = True
        return hit

    def sensitive_values(self, config: Any) -> Iterator[tuple[str, Any]]:
        """Each ``(pointer, value)`` in ``config`` that is sensitive, outermost only."""
        stack: list[tuple[Any, str]] = [(config, "")]
        while stack:
            value, pointer = stack.pop()
            if pointer and self.is_sensitive(pointer):
                yield pointer, value
            elif isinstance(value, dict) and self._may_contain_sensitive(pointer):
                stack.extend((v, pointers.join(pointer, k)) for k, v in value.items())
            elif isinstance(value, list) and self._may_contain_sensitive(pointer):
                stack.extend((v, pointers.join(pointer, i)) for i, v in enumerate(value))

    def _may_contain_sensitive(self, pointer: str) -> bool:
        tokens = pointers.split(pointer)
        depth = len(tokens)
        return any(
            not p.negative
            and len(p.segments) > depth
            and all(seg.fullmatch(tok) for seg, tok in zip(p.segments, tokens, strict=False))
            for p in self._patterns
        )

    def as_json(self) -> dict[str, Any]:
        """The public description served by ``GET /api/v1/node-types``."""
        return {
            "name": self.name,
            "title": self.title,
            "description": self.description,
            "category": self.category,
            # A copy: callers serialise it, and some may add UI hints to it.
            "config_schema": copy.deepcopy(dict(self.config_schema)),
            "sensitive_fields": list(self.sensitive_fields),
            "jmespath_fields": list(self.jmespath_fields),
            "is_trigger": self.is_trigger,
            "max_inputs": self.max_inputs,
            "outputs": None if self.outputs is None else list(self.outputs),
        }
