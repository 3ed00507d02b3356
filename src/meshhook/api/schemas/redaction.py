"""Request and response bodies of ``api/redaction.py``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from meshhook.api.schemas.common import RequestBody
from meshhook.domain.redaction_rules import (
    MATCH_TIMEOUT,
    MAX_PATTERN_LENGTH,
    MAX_PATTERNS,
    MAX_POINTER_LENGTH,
    MAX_POINTERS,
)
from meshhook.services.redaction import RedactionRules
from meshhook.store.redaction import PatternRecord


class PatternBody(RequestBody):
    pattern: str = Field(
        description=(
            f"A regular expression (Python syntax), 1 to {MAX_PATTERN_LENGTH} characters; "
            "refused when it does not compile, matches the empty string or backtracks too "
            "much on long input."
        )
    )


class PatternOut(BaseModel):
    name: str = Field(description="Shown as `[redacted:<name>]` where the pattern matched.")
    pattern: str
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, record: PatternRecord) -> PatternOut:
        return cls(
            name=record.name,
            pattern=record.pattern,
            created_at=record.created_at,
            created_by=record.created_by,
        )


class RedactionLimitsOut(BaseModel):
    max_patterns: int = MAX_PATTERNS
    max_pattern_length: int = MAX_PATTERN_LENGTH
    max_pointers: int = MAX_POINTERS
    max_pointer_length: int = MAX_POINTER_LENGTH
    match_timeout_ms: float = MATCH_TIMEOUT * 1000


class RedactionRulesOut(BaseModel):
    patterns: list[PatternOut]
    pointers: dict[str, list[str]] = Field(
        description="Workflow key → the JSON Pointers always hidden in its runs."
    )
    limits: RedactionLimitsOut

    @classmethod
    def of(cls, rules: RedactionRules) -> RedactionRulesOut:
        return cls(
            patterns=[PatternOut.of(record) for record in rules.patterns],
            pointers=rules.pointers,
            limits=RedactionLimitsOut(),
        )


class PointersBody(RequestBody):
    pointers: list[str] = Field(
        description=(
            f"JSON Pointers (at most {MAX_POINTERS}); `*` matches every key or index at its "
            "level (`/items/*/email`). Replaces the workflow's whole list."
        )
    )


class PointersOut(BaseModel):
    workflow: str
    pointers: list[str]
