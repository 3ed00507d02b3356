"""What every node type declares, and the sensitive-field pattern language."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from meshhook.domain import json_schema, pointers
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


Segment = re.Pattern[str] | str


def _segment(segment: str) -> Segment:
    if "*" not in segment:
        return segment.lower()  # the common case: a literal, compared without regex
    parts = (re.escape(part) for part in segment.split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Pattern:
    negative: bool
    segments: tuple[Segment, ...]

    def matches(self, depth: int, token: str) -> bool:
        segment = self.segments[depth]
        if isinstance(segment, str):
            return segment == token.lower()
        return segment.fullmatch(token) is not None


def _compile_pattern(pattern: str) -> _Pattern:
    negative = pattern.startswith("!")
    body = pattern[1:] if negative else pattern
    return _Pattern(negative, tuple(_segment(seg) for seg in pointers.split(body)))


def _step(candidates: tuple[_Pattern, ...], depth: int, token: str) -> bool | tuple[_Pattern, ...]:
    """Match one more pointer token: ``True`` sensitive here, ``False`` never below,
    else the patterns still alive one level deeper."""
    matched = [p for p in candidates if p.matches(depth, token)]
    ending = [p for p in matched if len(p.segments) == depth + 1]
    if any(p.negative for p in ending):
        return False
    if ending:
        return True
    deeper = tuple(p for p in matched if len(p.segments) > depth + 1)
    return deeper or False


@dataclass(frozen=True, eq=False)
class NodeType:
    """One entry of the node-type registry.

    ``sensitive_fields`` are JSON Pointer patterns inside ``config``, the only
    places where ``{{ secrets.NAME }}`` references may appear (and must, instead
    of literal values). A segment
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
    # Pointer inside ``config`` of the URL a node sends its sensitive values to:
    # the secrets it references must allow that URL's host (domain/secrets.py).
    destination_field: str | None = None
    is_trigger: bool = False
    max_inputs: int | None = None
    outputs: tuple[str, ...] | None = None
    error_output: bool = False
    """Whether an edge may leave by ``when: "error"``, followed when a step of
    this type fails for good (after its retries) instead of failing the run."""
    jmespath_fields: tuple[str, ...] = ()
    # Rules a JSON Schema cannot say well (cross-field, parsing), run after the schema.
    check_config: ConfigCheck | None = None
    validator: Any = field(init=False, repr=False, compare=False)
    fast_check: Check | None = field(init=False, repr=False, compare=False)
    _patterns: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False)
    # Patterns by their first segment when it is a literal: most config keys then
    # cost one dict lookup instead of a test against every pattern.
    _by_first: dict[str, tuple[_Pattern, ...]] = field(init=False, repr=False, compare=False)
    _wild_first: tuple[_Pattern, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # A broken schema is a programming error: fail at import, not per request.
        json_schema.check_schema(self.config_schema)
        object.__setattr__(self, "validator", json_schema.Validator(self.config_schema))
        object.__setattr__(self, "fast_check", compile_check(self.config_schema))
        compiled = tuple(_compile_pattern(p) for p in self.sensitive_fields)
        object.__setattr__(self, "_patterns", compiled)
        wild = tuple(p for p in compiled if not isinstance(p.segments[0], str))
        by_first: dict[str, tuple[_Pattern, ...]] = {}
        for p in compiled:
            if isinstance(p.segments[0], str):
                by_first[p.segments[0]] = (*by_first.get(p.segments[0], wild), p)
        object.__setattr__(self, "_by_first", by_first)
        object.__setattr__(self, "_wild_first", wild)

    def _first_candidates(self, token: str) -> tuple[_Pattern, ...]:
        return self._by_first.get(token.lower(), self._wild_first)

    def is_sensitive(self, pointer_in_config: str) -> bool:
        """Whether the value at ``pointer_in_config`` (or an ancestor) is sensitive."""
        tokens = pointers.split(pointer_in_config)
        candidates = self._first_candidates(tokens[0]) if tokens else ()
        for depth, token in enumerate(tokens):
            state = _step(candidates, depth, token)
            if isinstance(state, bool):
                return state
            candidates = state
        return False

    def sensitive_values(self, config: Any) -> Iterator[tuple[str, Any]]:
        """Each ``(pointer, value)`` in ``config`` that is sensitive, outermost only.

        Walks only the branches some pattern can still match, so a config with
        no sensitive-looking keys costs one step per top-level key.
        """
        if not self._patterns:
            return
        stack: list[tuple[Any, str, tuple[_Pattern, ...], int]] = [(config, "", self._patterns, 0)]
        while stack:
            value, pointer, candidates, depth = stack.pop()
            if isinstance(value, dict):
                items: Iterable[tuple[Any, Any]] = value.items()
            elif isinstance(value, list):
                items = enumerate(value)
            else:
                continue
            for key, child in items:
                token = str(key)
                alive = candidates if depth else self._first_candidates(token)
                state = _step(alive, depth, token) if alive else False
                if state is True:
                    yield pointers.join(pointer, token), child
                elif state is not False:
                    stack.append((child, pointers.join(pointer, token), state, depth + 1))

    def has_output(self, when: str) -> bool:
        """Whether an edge may leave a node of this type with ``when``."""
        return when in (self.outputs or ()) or (self.error_output and when == "error")

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
            "error_output": self.error_output,
        }
